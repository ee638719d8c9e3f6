"""What one heartbeat costs a daemon: the receive path in-process, without sockets or a loop.

    .venv/bin/python bench/receive_path.py [--nodes 16] [--seconds 20] [--repeat 5] [--profile]

N real ``NodeRuntime``s (wire, receiver, membership core; no coordinator)
run on one virtual clock; every datagram one sends is handed to all the
others, as on a loopback cluster. Once the view is agreed, node1's share is
timed: the CPU time of its ``_on_datagram`` calls (decode, verify, replay
window, membership step, effects) and of its timer steps (sending its own
heartbeat), per second of virtual time. No kernel, no event loop: this is the
part of ``bench/membership.py``'s CPU figure that vigil's own code decides,
measured without the machine's noise. Prints the median of --repeat runs;
``--profile`` prints where the time goes (cProfile, slower).

Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

from vigil.config import load
from vigil.daemon.clock import Clock
from vigil.daemon.runtime import NodeRuntime
from vigil.membership import Started

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "unit" / "daemon"))
from virtual_loop import VirtualLoop  # a test helper, reused as is

sys.path.insert(0, str(Path(__file__).resolve().parent))
from membership import Cluster  # the same cluster as the footprint


class _Outbox:
    """Stands in for ``Links``: keeps what the runtime sends until the bench hands it on."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def send(self, data: bytes, *, urgent: bool = False) -> None:
        self.sent.append(data)

    def send_to(self, link_name: str, data: bytes, *, urgent: bool = False) -> None:
        self.sent.append(data)

    def drain(self) -> None:
        pass

    def drain_unless_fresh(self) -> None:
        pass

    def hurry(self, on: bool) -> None:
        pass


def run(nodes: int, seconds: float, profile: cProfile.Profile | None) -> float:
    """Microseconds of node1's CPU per second of virtual time, once agreed."""
    import tempfile

    cluster = Cluster(Path(tempfile.mkdtemp(prefix="vigil-rx-")), nodes, 100, 1000)
    config = load(cluster.config).config
    loop = VirtualLoop(1000.0)
    clock = Clock(cast(asyncio.AbstractEventLoop, loop))
    runtimes: dict[str, NodeRuntime] = {}
    boxes: dict[str, _Outbox] = {}
    for name in cluster.names:
        rt = NodeRuntime(config, name, 1, clock, cluster.config)
        boxes[name] = _Outbox()
        rt.links = boxes[name]  # type: ignore[assignment]
        # No kernel neighbour table here (and no running loop to ask it from).
        rt._reach_again = lambda node: None  # type: ignore[method-assign]
        rt._step(Started())
        runtimes[name] = rt
    me = cluster.names[0]
    spent = [0.0]

    def timed(fn: Callable[[], None]) -> None:
        t0 = time.process_time()
        if profile is not None:
            profile.enable()
        fn()
        if profile is not None:
            profile.disable()
        spent[0] += time.process_time() - t0

    # node1's alarm steps (its own heartbeat) are timed too.
    alarm = runtimes[me].alarm
    inner = alarm.callback
    alarm.callback = lambda now: timed(lambda: inner(now))

    def deliver() -> None:
        for sender, box in boxes.items():
            out, box.sent = box.sent, []
            for data in out:
                for name, rt in runtimes.items():
                    if name == sender:
                        continue
                    if name == me:
                        timed(lambda rt=rt, data=data: rt._on_datagram(data, "lo",
                                                                       ("127.0.0.2", 1)))
                    else:
                        rt._on_datagram(data, "lo", ("127.0.0.2", 1))

    def advance(ms: int) -> None:
        for _ in range(ms):
            loop.advance(1)
            deliver()

    advance(5000)
    if not runtimes[me].membership.stable or len(runtimes[me].membership.view) != nodes:
        raise SystemExit("bench: the virtual cluster did not agree")
    spent[0] = 0.0
    advance(int(seconds * 1000))
    return spent[0] / seconds * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0, help="virtual seconds")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # 16 nodes' start-up logs are not the point
    if args.profile:
        prof = cProfile.Profile()
        run(args.nodes, args.seconds, prof)
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
        return
    runs = [run(args.nodes, args.seconds, None) for _ in range(args.repeat)]
    per_s = statistics.median(runs)
    beats = 10 * (args.nodes - 1)
    print(f"receive path, {args.nodes} nodes, keepalive 100 ms: node1 spends "
          f"{per_s / 1e4:.3f} % of a core ({per_s:.0f} us per second, median of "
          f"{args.repeat}; runs {', '.join(f'{r:.0f}' for r in runs)}), "
          f"{per_s / beats:.1f} us per heartbeat received ({beats}/s)")


if __name__ == "__main__":
    main()
