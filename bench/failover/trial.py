"""One trial: a fresh LAN, a peer's two-node cluster on it, one fault, the outage the client saw.

Every trial starts from nothing (new namespaces, new ARP caches, new daemons),
so no trial inherits a half-recovered cluster from the one before. The fault
lands after a random delay of up to two heartbeat intervals once the client
has been answered steadily by n1, so trials hit every point of the peers'
heartbeat cycles rather than always the same one.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from pathlib import Path

from .matrix import Fault, Profile
from .peers import Peer
from .probelog import Outage, ProbeLog, measure
from .topology import Lan, other

ACTIVE = "n1"
STEADY_WINDOW_NS = 500_000_000  # n1 alone answering for this long before a fault
STEADY_GAP_NS = 60_000_000      # ... and answering still (six 10 ms probes)
STEADY_MIN_ANSWERS = 20         # of the 50 a quiet machine gets in the window


class TrialError(Exception):
    """The cluster did not fail over within the bound, or never got ready."""


@dataclass(frozen=True, slots=True)
class TrialResult:
    outage: Outage
    delay_ms: float  # the random wait before the fault


class ProbeTail:
    """The prober's log, read as it grows."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.log = ProbeLog()
        self._offset = 0

    def poll(self) -> ProbeLog:
        try:
            with self.path.open("rb") as f:
                f.seek(self._offset)
                data = f.read()
        except FileNotFoundError:
            return self.log
        self._offset += len(data)
        self.log.feed(data.decode(errors="replace"))
        return self.log


def wait_steady(tail: ProbeTail, node: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        now = time.monotonic_ns()
        log = tail.poll()
        since = now - STEADY_WINDOW_NS
        recent = [a for a in log.answers if a.received_ns >= since]
        if (len(recent) >= STEADY_MIN_ANSWERS and log.steady(node, since, now, STEADY_GAP_NS)):
            return
        if time.monotonic() > deadline:
            who = sorted({a.responder for a in recent}) or ["nobody"]
            raise TrialError(f"the client was not answered steadily by {node} "
                              f"(recently answered by {', '.join(who)})")
        time.sleep(0.02)


def inflict(fault: Fault, peer: Peer, lan: Lan, node: str) -> None:
    if fault is Fault.CRASH:
        # Frozen first, so nothing on the node reacts to its link going down.
        lan.freeze(node)
        lan.link_down(node)
    elif fault is Fault.STOP:
        peer.stop(lan, node)
    elif fault is Fault.SWITCHOVER:
        peer.switchover(lan, node)
    else:
        raise AssertionError(fault)


def run_trial(peer: Peer, fault: Fault, profile: Profile, *, rng: random.Random,
              workdir: Path, tag: str) -> TrialResult:
    """One measurement; raises TrialError, StartError or PeerNotReadyError."""
    peer.check(fault)
    workdir.mkdir(parents=True)
    lan = Lan.create(tag, workdir)
    try:
        lan.start_responders()
        tail = ProbeTail(workdir / "probe.log")
        lan.start_prober(tail.path)
        peer.start(lan, profile, workdir)
        wait_steady(tail, ACTIVE, 15)
        delay = rng.uniform(0, 2 * profile.keepalive_ms / 1000)
        time.sleep(delay)
        fault_ns = time.monotonic_ns()
        inflict(fault, peer, lan, ACTIVE)
        bound_s = 5 * profile.deadtime_ms / 1000 + 10
        outage = None
        while outage is None:
            outage = measure(tail.poll(), ACTIVE, fault_ns)
            if outage is None:
                if time.monotonic_ns() - fault_ns > bound_s * 1e9:
                    raise TrialError(f"{other(ACTIVE)} did not answer within {bound_s:g} s "
                                      f"of the {fault.value} (VIP on: "
                                      f"{', '.join(lan.holders()) or 'no node'})")
                time.sleep(0.01)
        (workdir / "fault.txt").write_text(f"fault_ns {fault_ns}\ndelay_s {delay}\n")
        return TrialResult(outage, delay * 1000)
    finally:
        lan.destroy()

