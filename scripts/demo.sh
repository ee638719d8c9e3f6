#!/usr/bin/env bash
# make demo: three vigil daemons on loopback notice a crash, a restart and a clean stop.
#
# Uses examples/native/loopback-3node.toml (127.0.0.1-3, UDP port 6940) in a
# temporary state directory; needs no root. Every daemon it starts is stopped
# on exit, whatever happens (trap).
set -euo pipefail
cd "$(dirname "$0")/.."
VIGIL=$PWD/.venv/bin/vigil
PY=$PWD/.venv/bin/python
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

step "1. The configuration: three nodes on 127.0.0.1-3, keepalive 100 ms, deadtime 1 s"
run "$VIGIL" config check "$CONFIG" | head -n 6

step "2. Start three daemons (vigil daemon --node nodeN, one state dir, one control socket each)"
for n in node1 node2 node3; do start $n; say "$n: pid ${PID[$n]}"; done
wait_for 15 "three nodes agree" node1 "$agreed"
wait_for 5 "node3 agrees too" node3 "$agreed"
say "They heard each other, agreed on one view, elected node1 DC (first in config order)."
run "$VIGIL" status --socket "$work/node1.sock"

step "3. Crash node3 (SIGKILL: no goodbye, its heartbeats just stop)"
kill -KILL "${PID[node3]}"
wait "${PID[node3]}" 2>/dev/null || true
unset 'PID[node3]'
t0=$(date +%s%N)
wait_for 10 "node1 sees node3 dead" node1 'n["node3"]["state"] == "dead"'
wait_for 10 "node2 sees node3 dead" node2 'n["node3"]["state"] == "dead"'
ms=$((($(date +%s%N) - t0) / 1000000))
silent=$(q node1 'n["node3"]["last_heard_ms"] - n["node3"]["state_since_ms"]')
say "Both survivors report node3 dead (seen by this script ${ms} ms after the kill, polling)."
say "node1 declared it dead after ${silent} ms of silence: deadtime is 1000 ms."
say "Votes present: $(q node1 'd["quorum"]["votes"]') of 3, quorate: $(q node1 'd["quorate"]'), DC: $(q node1 'd["dc"]')."
run "$VIGIL" status --socket "$work/node1.sock"
say "node1's log says why:"
grep -E "peer dead node=node3|view changed.*gone node3" "$work/node1.log" | sed 's/^/     /'

step "4. Restart node3: the same node, a new incarnation"
start node3
wait_for 15 "node3 back in the view" node1 "$agreed"
say "node3 came back with incarnation $(q node1 'n["node3"]["incarnation"]') (it was 1): peers know it restarted,"
say "so nothing from its previous life is trusted."
run "$VIGIL" status --socket "$work/node2.sock"

step "5. Stop node2 cleanly (SIGTERM): it tells the others it is leaving"
kill -TERM "${PID[node2]}"
rc=0; wait "${PID[node2]}" || rc=$?
unset 'PID[node2]'
wait_for 5 "node1 sees node2 left" node1 'n["node2"]["left"]'
say "node2 exited with status $rc; node1 marked it dead after $(q node1 'n["node2"]["last_heard_ms"] - n["node2"]["state_since_ms"]') ms of silence,"
say "not after the 1 s deadtime, because node2 said goodbye."
grep -E "peer left node=node2" "$work/node1.log" | sed 's/^/     /'

step "6. Stop the rest"
for n in node1 node3; do
  kill -TERM "${PID[$n]}"
  rc=0; wait "${PID[$n]}" || rc=$?
  unset "PID[$n]"
  say "$n stopped (exit status $rc)"
done
say "Done. Every daemon logs one event per line; see vigil daemon --help and docs/status.md."
