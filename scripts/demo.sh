#!/usr/bin/env bash
# make demo: vigil fails a service over.
#
# As root (and unless VIGIL_DEMO=loopback): two nodes and a client in network
# namespaces, a VIP and an LSB service moving when the active node crashes and
# coming back with it, as the client sees it (scripts/netns_demo.py).
#
# Otherwise: three vigil daemons on loopback notice a crash, a restart and a
# clean stop, and move their vigil:dummy resources. Uses
# examples/native/loopback-3node.toml (127.0.0.1-3, UDP port 6940) in a
# temporary state directory. Every daemon it starts is stopped on exit,
# whatever happens (trap). Each node serves the dashboard on 127.0.0.N:9941
# (user demo, a password made up now and printed first); with chromium
# installed, screenshots go to docs/img/ (scripts/dashboard_shots.py).
set -euo pipefail
cd "$(dirname "$0")/.."
VIGIL=$PWD/.venv/bin/vigil
PY=$PWD/.venv/bin/python

if [ "$(id -u)" -eq 0 ] && [ "${VIGIL_DEMO:-netns}" != loopback ] &&
   command -v ip >/dev/null && command -v unshare >/dev/null; then
  exec "$PY" scripts/netns_demo.py  # cleans up after itself, Ctrl-C included
fi
EXAMPLE=examples/native/loopback-3node.toml

work=$(mktemp -d /tmp/vigil-demo.XXXXXX)
declare -A PID=()
cleanup() {
  for n in "${!PID[@]}"; do
    kill -KILL "${PID[$n]}" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

if [ -t 1 ]; then B=$'\033[1m' N=$'\033[0m'; else B='' N=''; fi
step() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
say() { printf '   %s\n' "$*"; }
run() { printf '$ %s\n' "$*" | sed "s#$work#\$DEMO#g"; "$@" 2>&1 | sed "s#$work#\$DEMO#g"; }

install -m 600 "$EXAMPLE" "$work/cluster.toml"
CONFIG=$work/cluster.toml
WEB_PORT=${VIGIL_DEMO_WEB_PORT:-9941}
DEMO_PASSWORD=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(12))')
{
  printf '\n[web]\naddresses = { node1 = "127.0.0.1:%s", node2 = "127.0.0.2:%s", node3 = "127.0.0.3:%s" }\n\n' \
    "$WEB_PORT" "$WEB_PORT" "$WEB_PORT"
  "$VIGIL" web passwd demo --role operator --stdin <<<"$DEMO_PASSWORD"
} >>"$CONFIG"
shot() {  # shot NAME NODE CSS: a screenshot of NODE's dashboard once CSS matches
  "$PY" scripts/dashboard_shots.py "http://127.0.0.${2#node}:$WEB_PORT/" demo "$DEMO_PASSWORD" "$1" "$3" || true
}

start() {  # start NODE in the background, logging to $work/NODE.log
  "$VIGIL" daemon --config "$CONFIG" --node "$1" --state-dir "$work/state" \
    --socket "$work/$1.sock" >>"$work/$1.log" 2>&1 &
  PID[$1]=$!
}

# q NODE EXPR: evaluate a Python expression over NODE's status JSON (as d)
q() {
  "$VIGIL" status --json --socket "$work/$1.sock" 2>/dev/null |
    "$PY" -c "import json,sys; d=json.load(sys.stdin); n={x['name']: x for x in d['nodes']}; print($2)"
}

wait_for() {  # wait_for SECONDS WHAT NODE EXPR: poll until EXPR is True on NODE
  local until=$((SECONDS + $1)) what=$2
  while [ "$(q "$3" "$4" 2>/dev/null || true)" != "True" ]; do
    if [ $SECONDS -ge $until ]; then
      echo "demo: gave up waiting for: $what" >&2
      tail -n 20 "$work"/*.log >&2
      exit 1
    fi
    sleep 0.1
  done
}

agreed='d["quorate"] and d["view"]["stable"] and len(d["view"]["members"]) == 3'
# group_on GROUP NODE: every member of GROUP running on NODE
group_on() {
  printf 'all(r["node"] == "%s" and r["state"] == "running" for r in d["resources"] if r["group"] == "%s")' "$2" "$1"
}
where() {  # where NODE GROUP: the node GROUP runs on, as NODE reports it
  q "$1" "next(r['node'] for r in d['resources'] if r['group'] == '$2')"
}

step "0. The dashboard: http://127.0.0.1:$WEB_PORT/ (node1), :$WEB_PORT on 127.0.0.2 and .3 for node2 and node3"
say "${B}log in as demo, password $DEMO_PASSWORD${N} (watch node1's: node2 is the one that crashes)"

step "1. The configuration: three nodes on 127.0.0.1-3, keepalive 100 ms, deadtime 1 s"
run "$VIGIL" config check "$CONFIG" | head -n 6

step "2. Start three daemons (vigil daemon --node nodeN, one state dir, one control socket each)"
for n in node1 node2 node3; do start $n; say "$n: pid ${PID[$n]}"; done
wait_for 15 "three nodes agree" node1 "$agreed"
wait_for 5 "node3 agrees too" node3 "$agreed"
say "They heard each other, agreed on one view, elected node1 DC (first in config order)."
wait_for 15 "web-group on node1" node1 "$(group_on web-group node1)"
wait_for 15 "db-group on node2" node1 "$(group_on db-group node2)"
say "Each group runs on its preferred node (vigil:dummy resources: a state file per node)."
run "$VIGIL" status --socket "$work/node1.sock"
shot healthy node1 'tr[data-resource="db"][data-state="running"]'

step "3. Crash node2, which runs db-group (SIGKILL: no goodbye, its heartbeats just stop)"
kill -KILL "${PID[node2]}"
wait "${PID[node2]}" 2>/dev/null || true
unset 'PID[node2]'
t0=$(date +%s%N)
wait_for 10 "node1 sees node2 dead" node1 'n["node2"]["state"] == "dead"'
ms=$((($(date +%s%N) - t0) / 1000000))
silent=$(q node1 'n["node2"]["last_heard_ms"] - n["node2"]["state_since_ms"]')
say "node1 reports node2 dead (seen by this script ${ms} ms after the kill, polling)."
shot node-down node1 'tr[data-node="node2"][data-state="dead"]'
say "node1 declared it dead after ${silent} ms of silence: deadtime is 1000 ms."
wait_for 10 "db-group running again" node1 \
  'all(r["state"] == "running" and r["node"] != "node2" for r in d["resources"] if r["group"] == "db-group")'
ms=$((($(date +%s%N) - t0) / 1000000))
db=$(where node1 db-group)
say "db-group runs on $db now (seen ${ms} ms after the kill); web-group did not move."
shot failover node1 "tr[data-resource=\"db\"][data-node=\"$db\"][data-state=\"running\"]"
say "Votes present: $(q node1 'd["quorum"]["votes"]') of 3, quorate: $(q node1 'd["quorate"]'), DC: $(q node1 'd["dc"]')."
run "$VIGIL" status --socket "$work/node1.sock"
say "node1's log says why:"
grep -E "peer dead node=node2|Start db on" "$work/node1.log" | sed 's/^/     /'

step "4. Restart node2: the same node, a new incarnation"
start node2
wait_for 15 "node2 back in the view" node1 "$agreed"
say "node2 came back with incarnation $(q node1 'n["node2"]["incarnation"]') (it was 1): peers know it restarted,"
say "so nothing from its previous life is trusted."
sleep 1
say "auto_failback is off in this example: db-group stays on $(where node2 db-group)."
run "$VIGIL" status --socket "$work/node2.sock"

if [ "$db" = node3 ]; then other=node1; else other=node3; fi
step "5. Stop $db cleanly (SIGTERM): it hands db-group over and tells the others it is leaving"
kill -TERM "${PID[$db]}"
rc=0; wait "${PID[$db]}" || rc=$?
unset "PID[$db]"
wait_for 5 "$other sees $db left" $other "n['$db']['left']"
wait_for 5 "db-group running again" $other "$(group_on db-group node2)"
say "$db exited with status $rc after db-group was started on $(where $other db-group);"
say "$other marked $db dead after $(q $other "n['$db']['last_heard_ms'] - n['$db']['state_since_ms']") ms of silence,"
say "not after the 1 s deadtime, because $db said goodbye."
grep -E "peer left node=$db" "$work/$other.log" | sed 's/^/     /'
run "$VIGIL" status --socket "$work/$other.sock"

step "6. Stop the rest"
for n in "${!PID[@]}"; do
  kill -TERM "${PID[$n]}"
  rc=0; wait "${PID[$n]}" || rc=$?
  unset "PID[$n]"
  say "$n stopped (exit status $rc)"
done
say "Done. Every daemon logs one event per line; see vigil daemon --help and docs/status.md."
