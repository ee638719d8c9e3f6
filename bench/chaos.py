"""Long chaos schedules on real daemons in network namespaces: is the service ever active twice?

    sudo .venv/bin/python bench/chaos.py [--duration 120] [--seed N]
                                         [--modes quorum,fencing,compat]

The harness of tests/netns/test_netns_chaos.py (tests/netns/chaos_lan.py) with
a schedule as long as ``--duration`` (seconds of faults per mode): partitions
of the heartbeat path with every node alive, crashes (frozen, cable pulled,
rebooted), pauses of the daemon longer than deadtime, packet loss; each held
1.5 to 2.5 deadtimes (keepalive 100 ms, deadtime 1 s), then undone and the
cluster let back to health. The exclusive service's init script records every
start and stop; the checker (bench/chaos_check.py) reports the moments
it was active on two nodes and the time it was active nowhere. Modes:

- ``quorum``: 3 nodes, majority quorum, no fencing; partitions, crashes, loss
  (a paused daemon cannot stop its service: pauses need fencing or a watchdog).
- ``fencing``: 2 nodes (``two_node``) with a fence device that powers a node
  off from outside, a 2 s delay before fencing node0; every fault.
- ``compat``: 2 nodes, no fencing, as Heartbeat R1; every fault. Expected to
  run the service twice: it shows what the safe modes prevent.

Prints the schedule and the figures; asserts nothing. Every namespace and
process it made is removed at the end, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The harness lives with the tests it was built for; it is plain code, not fixtures.
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "netns"), str(ROOT / "tests")]

import chaos_lan  # noqa: E402
from bench import chaos_check  # noqa: E402
from bench.failover import holders  # noqa: E402
from cluster_lan import ClusterLan, Service  # noqa: E402
from watched_lan import start_watching  # noqa: E402

DEADTIME_S = 1.0
TIMING = {"keepalive_ms": 100, "deadtime_ms": int(DEADTIME_S * 1000), "auto_failback": "on"}
WEB = Service("web", "192.0.2.50", {"node0": 100})
MODES: dict[str, tuple[list[str], str, dict[str, str] | None, tuple[str, ...]]] = {
    # mode: nodes, [quorum] lines, fence delays (None: no fencing), fault kinds
    "quorum": (["node0", "node1", "node2"], "", None, ("partition", "crash", "loss")),
    "fencing": (["node0", "node1"], "two_node = true", {"node0": "2s"}, chaos_lan.KINDS),
    "compat": (["node0", "node1"], "two_node = true", None, chaos_lan.KINDS),
}


def say(text: str) -> None:
    print(text, flush=True)


def run_mode(mode: str, duration_s: float, seed: int, make_ns: Callable[[], str]) -> str:
    names, quorum, fence_delay, kinds = MODES[mode]
    lan = ClusterLan(names, [WEB], make_ns, quorum=quorum, **TIMING)  # type: ignore[arg-type]
    sampler = None
    try:
        lan.build()
        chaos_lan.prepare(lan, fence_delay=fence_delay)
        lan.start()
        lan.wait_until("every node in one stable view", lambda: lan.agreed(names), 30)
        lan.wait_placed(names[-1], {"web": "node0"}, 30)
        w = start_watching(lan)
        sampler = w.sampler
        steps = chaos_lan.schedule(random.Random(seed), names, kinds,
                                   int(duration_s / DEADTIME_S) + len(kinds), DEADTIME_S)
        say(f"\n== {mode}: {len(names)} nodes, faults {', '.join(kinds)}, "
            f"{'fencing (delay before fencing node0 2 s)' if fence_delay else 'no fencing'}; "
            f"{duration_s:.0f} s of faults, SEED={seed}")
        report = chaos_lan.run(w, steps, say, duration_s=duration_s)
        vip = w.poll()
        off = {n: chaos_check.down(chaos_check.parse(p.read_text()), report.end)
               for n, p in chaos_lan.record_files(lan).items() if p.exists()}

        def up(node: str, at: float) -> bool:
            return not any(a <= at <= b for a, b in off.get(node, []))

        many = [s for s in vip.between(report.begin, report.end)
                if sum(up(n, s.start) for n in s.holders.get(WEB.vip, ())) > 1]
        say(f"records: {report.summary()}")
        for o in report.overlaps:
            say(f"  active on {' and '.join(o.nodes)} from {o.start - report.begin:.2f} s "
                f"for {o.seconds * 1000:.0f} ms")
        say(f"VIP (sampled every 10 ms, resolution "
            f"{vip.resolution(report.begin, report.end) * 1000:.1f} ms): {len(many)} samples "
            "with two holders up (a crashed or fenced node, whose address stays behind a dead "
            "link until it boots, not counted)")
        return (f"| {mode} | {len(names)} | {report.end - report.begin:.0f} s | "
                f"{len(report.overlaps)} | {report.double_active_s * 1000:.0f} ms | "
                f"{report.outage_s * 1000:.0f} ms | {report.starts} | "
                f"{', '.join(f'{n} {k}' for k, n in sorted(report.kills.items())) or 'none'} |")
    finally:
        if sampler is not None:
            holders.stop(sampler)
        lan.destroy()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/chaos.py", description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=120.0,
                        help="seconds of faults per mode (default 120)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--modes", default="quorum,fencing,compat",
                        help="comma-separated, of quorum, fencing, compat")
    args = parser.parse_args(argv)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    for m in modes:
        if m not in MODES:
            parser.error(f"unknown mode {m!r}: use {', '.join(MODES)}")
    if os.geteuid() != 0:
        print("bench/chaos.py needs root (network namespaces)", file=sys.stderr)
        return 2
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    say(f"bench/chaos.py: SEED={seed} (replay with --seed {seed}); load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    created: list[str] = []

    def make_ns() -> str:
        name = f"vigil-chaos{os.getpid()}-{secrets.token_hex(3)}"
        subprocess.run(["ip", "netns", "add", name], check=True, timeout=10)
        created.append(name)
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True, timeout=10)
        return name

    rows = []
    try:
        for mode in modes:
            rows.append(run_mode(mode, args.duration, seed, make_ns))
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    finally:
        for name in created:
            subprocess.run(["ip", "netns", "del", name], check=False, timeout=10)
    say(f"\nCommand: {' '.join([sys.executable, *sys.argv])}\n")
    say("| mode | nodes | time | moments active twice | active twice in all | "
        "active nowhere | starts | killed |")
    say("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        say(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
