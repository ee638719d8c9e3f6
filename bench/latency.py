"""How long control traffic takes on real daemons over loopback: a command and a leave.

    .venv/bin/python bench/latency.py [--nodes 3] [--keepalive 1000] [--rounds 10]

1. Administrator command. ``vigil standby`` then ``vigil online`` asked of the
   last node (never the DC, so the command travels to the DC and the DC's
   acknowledgement back), timed from the request on the control socket to its
   answer, which comes only once the DC accepted it.
   Each command comes after 4 keepalives of quiet.
2. Leave. SIGTERM to the last node, after 4 keepalives of quiet, timed to
   the moment the first node marked it left; that moment is read from the
   survivor's own monotonic clock (``now - state_since_ms`` in its status, as
   bench/membership.py does). The node is restarted and the cluster agrees
   again between rounds.

With a large keepalive (1 s by default) any message that waits for a periodic
read shows up as hundreds of milliseconds. Prints medians; asserts nothing.
Every daemon it started is killed on exit.
"""

from __future__ import annotations

import argparse
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

from vigil.cli.control_client import request
from vigil.exitcodes import VigilError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from membership import Cluster  # a sibling bench script


def _left_at(cluster: Cluster, observer: str, victim: str) -> float | None:
    """CLOCK_MONOTONIC seconds at which OBSERVER marked VICTIM left, or None yet."""
    before = time.monotonic()
    try:
        doc = cluster.status(observer)
    except VigilError:
        return None
    after = time.monotonic()
    for node in doc["nodes"]:
        if node["name"] == victim and node["left"]:
            return float((before + after) / 2 - node["state_since_ms"] / 1000)
    return None


def commands(cluster: Cluster, rounds: int, idle_s: float) -> list[float]:
    asker = cluster.names[-1]
    took = []
    for i in range(rounds):
        time.sleep(idle_s)  # each command finds the cluster idle, as in real life
        cmd = "standby" if i % 2 == 0 else "online"
        t0 = time.monotonic()
        request(cluster.sock(asker), cmd, 30.0)
        took.append((time.monotonic() - t0) * 1000)
    return took


def leaves(cluster: Cluster, rounds: int, idle_s: float) -> list[float]:
    victim, observer = cluster.names[-1], cluster.names[0]
    took = []
    for _ in range(rounds):
        cluster.wait("the cluster to agree", lambda: cluster.agreed(cluster.names), 60)
        time.sleep(idle_s)
        proc = cluster.procs[victim]
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        cluster.wait("the leave to be seen",
                     lambda: _left_at(cluster, observer, victim) is not None, 60)
        at = _left_at(cluster, observer, victim)
        assert at is not None
        took.append((at - t0) * 1000)
        proc.wait(timeout=30)
        cluster.start(victim, direct=True)
    return took


def _line(what: str, values: list[float]) -> str:
    return (f"  {what}: median {statistics.median(values):.0f} ms, min {min(values):.0f}, "
            f"max {max(values):.0f} over {len(values)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--keepalive", type=int, default=1000, help="ms")
    parser.add_argument("--deadtime", type=int, default=5000, help="ms")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    print(f"{' '.join(sys.argv)}: {args.nodes} nodes, keepalive {args.keepalive} ms, "
          f"deadtime {args.deadtime} ms", flush=True)
    with tempfile.TemporaryDirectory(prefix="vigil-latency-") as tmp:
        cluster = Cluster(Path(tmp), args.nodes, args.keepalive, args.deadtime)
        try:
            for n in cluster.names:
                cluster.start(n, direct=True)
            cluster.wait("all daemons to agree", lambda: cluster.agreed(cluster.names), 120)
            # Idle: past every message of the last change (a daemon may read
            # faster for a few keepalives after one).
            idle_s = 4 * args.keepalive / 1000
            print(_line("command (standby/online to acknowledged)",
                        commands(cluster, args.rounds, idle_s)), flush=True)
            print(_line("leave (SIGTERM to marked left)",
                        leaves(cluster, args.rounds, idle_s)), flush=True)
        finally:
            cluster.close()


if __name__ == "__main__":
    main()
