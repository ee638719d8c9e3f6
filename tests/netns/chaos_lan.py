"""A chaos schedule run against a ClusterLan, with records of every start and stop (issue 7).

The cluster is cluster_lan's (a VIP then an ``lsb:`` service per group), with
two changes made between building and starting it (``prepare``):

- the service's init script appends every start and stop to the node's record
  file (``NODE/run/records``) with its CLOCK_MONOTONIC time, before a start
  and after a stop is complete (bench/chaos_check.py reads them);
- optionally a fence device: a script speaking the fence-agents protocol that
  "powers a node off" as a power switch would, from outside: the node's switch
  port down, every process of its namespace killed (as
  tests/integration/test_integration_fencing.py does with a pid file), then
  ``killed fence`` in its record file.

A schedule is a list of ``Step``: a fault held for a while then undone, and
the cluster brought back to health (``recover``: dead nodes rebooted, one
stable view, every group placed) before the next. Faults: a partition of one
node from the others with all alive, a crash (every process frozen, cable
pulled; the node reboots), a pause (SIGSTOP of the daemon only, longer than
deadtime), packet loss on one node. ``bench/chaos.py`` runs long schedules
with the same code.
"""

from __future__ import annotations

import contextlib
import dataclasses
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import faults
from bench import chaos_check
from cluster_lan import SERVICE_PORT, ClusterLan
from watched_lan import Watched

#: As cluster_lan.INIT_SCRIPT, recording every start and stop (see bench/chaos_check.py).
RECORDING_INIT_SCRIPT = """\
#!/bin/sh
### BEGIN INIT INFO
# Provides:          {service}
# Short-Description: answers UDP questions on {vip}:{port}; records starts and stops
### END INIT INFO
PIDFILE={run}/{service}.pid
REC={run}/records
now() {{ {python} -I -S -c 'import time; print("%.6f" % time.monotonic())'; }}
rec() {{ echo "$(now) $*" >> "$REC"; }}
alive() {{ [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status"; }}
running() {{ [ -f "$PIDFILE" ] && alive "$(cat "$PIDFILE")"; }}
case "$1" in
  start)
    running && exit 0
    rec start-begin
    rm -f "$PIDFILE"
    setsid {python} -I -S {server} {node} {vip} {port} "$PIDFILE" \\
        </dev/null >>{run}/{service}.log 2>&1 &
    i=0
    while [ ! -f "$PIDFILE" ]; do
      i=$((i + 1)); [ $i -gt 500 ] && {{ rec start-end 1; exit 1; }}
      sleep 0.01
    done
    rec start-end 0
    exit 0 ;;
  stop)
    rec stop-begin
    if [ -f "$PIDFILE" ]; then
      pid=$(cat "$PIDFILE"); kill "$pid" 2>/dev/null
      while alive "$pid"; do sleep 0.01; done
      rm -f "$PIDFILE"
    fi
    rec stop-end 0
    exit 0 ;;
  status)
    if running; then echo "{service} is running"; exit 0; fi
    if [ -f "$PIDFILE" ]; then echo "{service} is dead but its pid file exists"; exit 1; fi
    echo "{service} is stopped"; exit 3 ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
"""

#: A fence agent (options as key=value lines on stdin) that powers PLUG off from outside.
FENCE_AGENT = """\
#!/bin/sh
opts=$(cat)
get() {{ printf '%s\\n' "$opts" | sed -n "s/^$1=//p" | tail -n 1; }}
action=$(get action)
plug=$(get plug)
dir=$(get dir)
case "$action" in
  off|reboot)
    ns=$(cat "$dir/$plug/netns")
    ip -n "$(cat "$dir/sw.netns")" link set "p$plug" down
    i=0
    while pids=$(ip netns pids "$ns") && [ -n "$pids" ] && [ $i -lt 250 ]; do
      kill -KILL $pids 2>/dev/null; i=$((i + 1)); sleep 0.02
    done
    echo "$({python} -I -S -c 'import time; print("%.6f" % time.monotonic())') killed fence" \\
        >> "$dir/$plug/run/records"
    echo "powered $plug off" ;;
  monitor|status|list) ;;
esac
exit 0
"""


def prepare(lan: ClusterLan, *, fence_delay: dict[str, str] | None = None) -> None:
    """Recording init scripts; with FENCE_DELAY (node -> delay before fencing it, e.g.
    ``{"node0": "2s"}``: the fence race's loser is the other) a fence device too."""
    for node in lan.names:
        (lan.root / node / "netns").write_text(lan.ns[node])
        for s in lan.services:
            script = lan.root / node / "init.d" / s.members[1]
            script.write_text(RECORDING_INIT_SCRIPT.format(
                service=s.members[1], vip=s.vip, port=SERVICE_PORT, node=node,
                run=lan.root / node / "run", python=sys.executable,
                server=lan.root / "server.py"))
    (lan.root / "sw.netns").write_text(lan.ns["sw"])
    if fence_delay is None:
        return
    agent = lan.root / "fence_power"
    agent.write_text(FENCE_AGENT.format(python=sys.executable))
    agent.chmod(0o755)
    delays = ", ".join(f'{n} = "{d}"' for n, d in fence_delay.items())
    with lan.config.open("a") as f:
        f.write(f'\n[[fence_device]]\nname = "power"\nagent = "{agent}"\n'
                f'params = {{ dir = "{lan.root}" }}\ndelay = {{ {delays} }}\n')


def record_files(lan: ClusterLan) -> dict[str, Path]:
    return {n: lan.root / n / "run" / "records" for n in lan.names}


@dataclass(frozen=True, slots=True)
class Step:
    """A fault on NODE (cut from every other node, for a partition), held HOLD_S, undone."""

    kind: str  # partition, crash, pause, loss
    node: str
    hold_s: float
    percent: int = 0

    def __str__(self) -> str:
        what = f"{self.percent}% loss on" if self.kind == "loss" else self.kind
        return f"{what} {self.node} for {self.hold_s:.1f} s"


KINDS = ("partition", "crash", "pause", "loss")


HOLDER = "holder"  # a step's node: whichever node runs the first group when the step begins


def schedule(rng: random.Random, names: Sequence[str], kinds: Sequence[str], steps: int,
             deadtime_s: float) -> list[Step]:
    """STEPS faults: every kind of KINDS once (shuffled) on the node running the service,
    then random kinds on random nodes (the holder among them); each held from 1.5 to 2.5
    deadtimes, so each outlasts deadtime."""
    order = list(kinds)
    rng.shuffle(order)
    targets = [HOLDER] * len(order)
    for _ in range(max(0, steps - len(order))):
        order.append(rng.choice(kinds))
        targets.append(rng.choice([HOLDER, *names]))
    return [Step(kind, target, round(rng.uniform(1.5, 2.5) * deadtime_s, 2),
                 rng.randrange(20, 50) if kind == "loss" else 0)
            for kind, target in list(zip(order, targets, strict=True))[:steps]]


def record(lan: ClusterLan, node: str, event: str) -> None:
    with (lan.root / node / "run" / "records").open("a") as f:
        f.write(f"{time.monotonic():.6f} {event}\n")


def inflict(lan: ClusterLan, step: Step) -> Callable[[], object]:
    """Do STEP's fault; the function that undoes it."""
    others = [n for n in lan.names if n != step.node]
    if step.kind == "partition":
        faults.cut(lan, step.node, others)
        return lambda: faults.heal(lan, step.node, others)
    if step.kind == "crash":
        lan.crash(step.node)
        record(lan, step.node, "killed crash")  # frozen: the service does nothing from now
        return lambda: boot(lan, step.node)
    if step.kind == "pause":
        faults.pause(lan, step.node)
        return lambda: faults.resume(lan, step.node)
    if step.kind == "loss":
        faults.loss(lan, step.node, step.percent)
        return lambda: faults.loss(lan, step.node, 0)
    raise ValueError(f"unknown fault {step.kind!r}")


def healthy(lan: ClusterLan) -> bool:
    return lan.agreed(lan.names) and all(v is not None for v in lan.placement(lan.names[0])
                                         .values())


def boot(lan: ClusterLan, node: str) -> None:
    """NODE starts again as after a power cycle (cluster_lan's reboot), recorded."""
    lan.reboot(node)
    record(lan, node, "boot")


def reboot_the_dead(lan: ClusterLan) -> None:
    """Power on every node whose daemon is gone (fenced: the agent killed it)."""
    for node in lan.names:
        proc = lan.daemons.get(node)
        if proc is not None and proc.poll() is not None:
            boot(lan, node)


def recover(lan: ClusterLan, timeout_s: float = 30.0) -> None:
    """Until all nodes are in one stable view with every group placed, rebooting every
    node whose daemon is gone meanwhile (a fence decided during the fault may land late)."""

    def back() -> bool:
        reboot_the_dead(lan)
        return healthy(lan)

    lan.wait_until("the cluster healthy again (all nodes in one view, every group placed)",
                   back, timeout_s)


def run(w: Watched, steps: Sequence[Step], say: Callable[[str], None] = print,
        duration_s: float | None = None) -> chaos_check.ChaosReport:
    """Every step in turn (or as many as begin within DURATION_S), then the records read
    into a report over the whole run."""
    lan = w.lan
    begin = time.monotonic()
    for i, planned in enumerate(steps, 1):
        at = time.monotonic() - begin
        if duration_s is not None and at >= duration_s:
            break
        step = planned
        if planned.node == HOLDER:
            holder = next(iter(lan.placement(lan.names[0]).values()))
            step = dataclasses.replace(planned, node=holder or lan.names[0])
        undo = inflict(lan, step)
        try:
            time.sleep(step.hold_s)
        finally:
            with contextlib.suppress(ProcessLookupError):
                undo()
        recover(lan)
        say(f"  [{i}/{len(steps)}] {at:6.1f} s  {step}: recovered after "
            f"{time.monotonic() - begin - at - step.hold_s:.1f} s")
    end = time.monotonic()
    return chaos_check.read(record_files(lan), begin, end)


__all__ = ["FENCE_AGENT", "HOLDER", "KINDS", "RECORDING_INIT_SCRIPT", "Step", "prepare",
           "record_files", "recover", "run", "schedule"]
