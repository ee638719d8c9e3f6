"""A ClusterLan with its VIP holders sampled, for partition and chaos tests.

The ``watched`` fixture (tests/netns/conftest.py) builds the namespaces,
starts the daemons, waits for one stable view and then starts the holder
sampler (bench/failover/holders.py) on every node's namespace.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from subprocess import Popen

import pytest
from bench.failover import holders
from bench.failover.holders import HolderLog
from cluster_lan import ClusterLan
from daemon_log import Clock

#: The holder sampler's grid; the resolution the tests assert is measured, not this.
SAMPLE_EVERY_MS = 10.0


@dataclass
class Watched:
    """The LAN, its holder log and the clock that puts daemon logs on CLOCK_MONOTONIC."""

    lan: ClusterLan
    sampler: Popen[bytes]
    holder_log: HolderLog
    clock: Clock = field(default_factory=Clock)

    def poll(self) -> HolderLog:
        return self.holder_log.poll()

    def wait_holders(self, vip: str, want: Callable[[frozenset[str]], bool], what: str,
                     timeout_s: float = 15.0) -> float:
        """Until the newest sample's holders of VIP satisfy WANT; the sample's end."""
        deadline = time.monotonic() + timeout_s
        while True:
            log = self.poll()
            if log.samples and want(log.samples[-1].holders.get(vip, frozenset())):
                return log.samples[-1].end
            if time.monotonic() > deadline:
                last = log.samples[-1].holders if log.samples else {}
                pytest.fail(f"not within {timeout_s} s: {what} (holders now {last})\n"
                            f"{self.lan.diagnosis()}")
            time.sleep(0.02)


def client_follows(lan: ClusterLan, vip: str, node: str, after: float) -> float | None:
    """The first answer from NODE for VIP after AFTER from which on NODE alone answered."""
    assert lan.prober is not None
    answers = [(t, who) for t, v, who in list(lan.prober.answers) if v == vip and t >= after]
    start = None
    for t, who in answers:
        if who != node:
            start = None
        elif start is None:
            start = t
    return start


def start_watching(lan: ClusterLan) -> Watched:
    """The holder sampler on LAN's nodes (daemons already up)."""
    log = lan.root / "holders.log"
    proc = holders.start({n: lan.ns[n] for n in lan.names}, [s.vip for s in lan.services], log,
                         SAMPLE_EVERY_MS)
    return Watched(lan, proc, HolderLog(log))


Factory = Callable[..., Watched]


__all__ = ["SAMPLE_EVERY_MS", "Factory", "Watched", "client_follows", "start_watching"]
