"""The partition trial: the path between the nodes cut for 8 s with both alive, then healed.

What users of every peer report after a partition is the split brain (the
VIP on both nodes) and, after the heal, "the VIP moved but traffic did not
follow". So a trial measures, from the holder sampler (holders.py, every node's
addresses every 10 ms) and the client's log:

- two holders: the time the VIP was on both nodes;
- one holder: from the heal until the VIP is on one node for good (the final
  holder: it stays there to the end of the trial);
- client: from the heal until the client is answered by the final holder for
  good (every answer from then on is its);
- lost: questions the client sent from the cut until then that nobody answered.

The cut lands after a random delay of up to two heartbeat intervals once the
client is answered steadily by n1, so trials hit every point of the heartbeat
cycle. A trial ends once one holder and the client's answers have been steady
for ``SETTLE_S`` (a peer that gives the VIP up on both nodes and takes it again
later, as Heartbeat does, is still moving then), or ``GIVE_UP_S`` after the
heal, when the figures it could not measure stay empty.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from pathlib import Path

from .holders import HolderLog
from .matrix import Profile
from .peers import Peer
from .probelog import ProbeLog
from .topology import VIP, Lan
from .trial import ACTIVE, ProbeTail, TrialError, wait_steady

CUT_S = 8.0
SETTLE_S = 6.0
GIVE_UP_S = 60.0


@dataclass(frozen=True, slots=True)
class PartitionFigures:
    """One partition trial, seen by the holder sampler and the client (ms from the heal)."""

    two_holders_ms: float
    one_holder_ms: float | None  # None: never on one node for good within GIVE_UP_S
    client_ms: float | None      # None: the client never answered by it for good
    lost: int
    final: str | None
    resolution_ms: float         # the sampler's longest blind spot in the trial
    delay_ms: float


def client_follows(log: ProbeLog, node: str, after_ns: int) -> int | None:
    """When the client was first answered by NODE after AFTER_NS such that from then on
    every question was answered, and by NODE alone. Questions sent after the last
    answer are still in flight and do not count."""
    by_seq = {a.seq: a for a in log.answers}
    last_ns = log.answers[-1].received_ns if log.answers else 0
    start = None
    for q in log.questions:
        if q.sent_ns < after_ns or q.sent_ns > last_ns:
            continue
        a = by_seq.get(q.seq)
        if a is None or a.responder != node:
            start = None
        elif start is None:
            start = a.received_ns
    return start


def figures(holders: HolderLog, probes: ProbeLog, cut_ns: int, heal_ns: int, end_s: float,
            *, delay_ms: float) -> PartitionFigures:
    """The figures of a trial whose logs are read to END_S (CLOCK_MONOTONIC seconds)."""
    cut_s, heal_s = cut_ns / 1e9, heal_ns / 1e9
    settled = holders.settled_on_one(VIP, heal_s, end_s)
    final = settled[1] if settled else None
    follows = client_follows(probes, final, cut_ns) if final else None
    until_ns = follows if follows is not None else int(end_s * 1e9)
    answered = {a.seq for a in probes.answers}
    lost = sum(1 for q in probes.questions
               if cut_ns <= q.sent_ns < until_ns and q.seq not in answered)
    return PartitionFigures(
        two_holders_ms=holders.multi_holder_s(VIP, cut_s, end_s) * 1000,
        one_holder_ms=(settled[0] - heal_s) * 1000 if settled else None,
        client_ms=(follows - heal_ns) / 1e6 if follows is not None else None,
        lost=lost, final=final,
        resolution_ms=holders.resolution(cut_s, end_s) * 1000, delay_ms=delay_ms)


def settled_for(holders: HolderLog, probes: ProbeLog, heal_ns: int, now_s: float) -> bool:
    settled = holders.settled_on_one(VIP, heal_ns / 1e9, now_s)
    if settled is None or now_s - settled[0] < SETTLE_S:
        return False
    follows = client_follows(probes, settled[1], heal_ns)
    return follows is not None and now_s - follows / 1e9 >= SETTLE_S / 2


def run_partition_trial(peer: Peer, profile: Profile, *, rng: random.Random, workdir: Path,
                        tag: str) -> PartitionFigures:
    """One partition; raises TrialError, StartError or PeerNotReadyError."""
    workdir.mkdir(parents=True)
    lan = Lan.create(tag, workdir)
    try:
        lan.start_responders()
        tail = ProbeTail(workdir / "probe.log")
        lan.start_prober(tail.path)
        peer.start(lan, profile, workdir)
        wait_steady(tail, ACTIVE, 15)
        holders = HolderLog(workdir / "holders.log")
        lan.start_holder_sampler(holders.path)
        deadline = time.monotonic() + 10
        while not holders.poll().samples:
            if time.monotonic() > deadline:
                raise TrialError("the holder sampler wrote nothing")
            time.sleep(0.01)
        delay = rng.uniform(0, 2 * profile.keepalive_ms / 1000)
        time.sleep(delay)
        cut_ns = time.monotonic_ns()
        lan.cut()
        time.sleep(max(0.0, CUT_S - (time.monotonic_ns() - cut_ns) / 1e9))
        heal_ns = time.monotonic_ns()
        lan.heal()
        while True:
            now = time.monotonic()
            if settled_for(holders.poll(), tail.poll(), heal_ns, now) \
                    or now - heal_ns / 1e9 > GIVE_UP_S:
                break
            time.sleep(0.05)
        result = figures(holders.poll(), tail.poll(), cut_ns, heal_ns, time.monotonic(),
                         delay_ms=delay * 1000)
        (workdir / "fault.txt").write_text(f"cut_ns {cut_ns}\nheal_ns {heal_ns}\n"
                                           f"delay_s {delay}\n{result}\n")
        return result
    finally:
        lan.destroy()
