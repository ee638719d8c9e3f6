"""The arbitrator's vote as an input to quorum: when it counts, and until when. Pure.

Rules of this file:
- As corosync-qdevice: an arbitrator adds one vote to expected_votes, and
  the partition it votes for gets that vote. Which partition that is, the
  lease service decides (``vigil.arbiter``); the shell that talks to it hands
  the answer in as an ``ArbiterVote``. Nothing here reads a clock.
- The vote counts only before ``until_ms``, a deadline on this node's own
  monotonic clock that the shell computed from the moment it *sent* the request
  the lease service answered: last send + TTL - longest stop - margin
  (``vote_deadline_ms``). So a holder that can no longer renew loses quorum,
  and stops its exclusive resources, before the lease can go to anyone else.
- The lease holder counts the vote whatever its view: a node is in exactly one
  partition, its own. Any other node counts it only while its view is exactly
  the partition the holder registered (a node of a partition that split off
  from the holder's drops the vote at its next view change, not at the deadline).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from vigil.config import LEASE_MARGIN_MS, NodeName

# LEASE_MARGIN_MS (500 ms, in vigil.config: ``config check`` needs it) covers the
# deadline timer firing late on a loaded event loop (tens of ms), the step that
# starts the stops and the agents' fork and exec (tens of ms), and the rate
# difference of two NTP-disciplined monotonic clocks (at most 500 ppm: 15 ms over
# a 30 s TTL). The time the request took to reach the service needs no margin:
# the deadline counts from its send, the lease from its arrival.


def vote_deadline_ms(sent_ms: int, ttl_ms: int, stop_ms: int,
                     margin_ms: int = LEASE_MARGIN_MS) -> int:
    """When a vote granted on a request sent at SENT_MS stops counting here: the holder's
    stops (STOP_MS at most) then end MARGIN_MS before the lease (TTL_MS) can have ended."""
    return sent_ms + ttl_ms - stop_ms - margin_ms


@dataclass(frozen=True, slots=True)
class ArbiterVote:
    """What the lease service last said about this node's partition.

    ``holder``: this node holds the lease (``token`` is its fencing token).
    ``partition``: the nodes the holder registered with the lease.
    ``until_ms``: the local deadline after which the vote no longer counts.
    """

    holder: bool
    partition: frozenset[NodeName]
    until_ms: int
    token: int = 0
    reason: str = ""

    def counts(self, view: Collection[NodeName], now_ms: int) -> bool:
        """Whether the vote counts for this node, in VIEW, at NOW_MS."""
        if now_ms >= self.until_ms:
            return False
        return self.holder or frozenset(view) == self.partition


# -- what a node asks the lease service, and what it makes of the answer ----------


@dataclass(frozen=True, slots=True)
class LeaseAsk:
    """One request to the lease service: ACQUIRE (take or keep the lease, registering
    PARTITION) or, when false, a query (does the holder vote for PARTITION, my view?)."""

    acquire: bool
    partition: frozenset[NodeName]
    reason: str


def next_ask(me: NodeName, view: Collection[NodeName], order: Sequence[NodeName],
             vote: ArbiterVote | None) -> LeaseAsk:
    """What node ME, whose view is VIEW, asks now (ORDER: the configuration's nodes).

    The holder keeps its lease (and registers its current view, so the vote follows
    its partition); otherwise the first node of the view in configuration order
    (the DC to be) tries to take it, and every other node only asks whether its
    partition has the vote. So each partition sends at most one acquire, and the
    lease service alone decides between partitions.
    """
    partition = frozenset(view) | {me}
    if vote is not None and vote.holder:
        return LeaseAsk(True, partition, f"renewing the lease (token {vote.token})")
    first = next((n for n in order if n in partition), me)
    if first == me:
        return LeaseAsk(True, partition, f"first node of the view {sorted(partition)}: "
                        "acquiring the lease")
    return LeaseAsk(False, partition, f"asking whether the arbitrator votes for "
                    f"{sorted(partition)}")


def vote_from_answer(me: NodeName, ask: LeaseAsk, sent_ms: int, *, holder: NodeName | None,
                     vote: bool, token: int, remaining_ms: int, stop_ms: int,
                     margin_ms: int = LEASE_MARGIN_MS) -> ArbiterVote | None:
    """The vote an answer to ASK (sent at SENT_MS) gives ME; None when it gives none.

    REMAINING_MS is what the lease service said was left of the holder's lease
    when it answered: the vote then counts until SENT_MS + REMAINING_MS - STOP_MS
    - MARGIN_MS here, which is never later than the lease's end minus the stops.
    """
    if holder is None or not vote:
        return None
    until = vote_deadline_ms(sent_ms, remaining_ms, stop_ms, margin_ms)
    if until <= sent_ms:
        return None  # the TTL leaves no time for the stops: never count it
    if holder == me:
        return ArbiterVote(True, ask.partition, until, token,
                           f"{me} holds the lease with token {token}")
    return ArbiterVote(False, ask.partition, until, token,
                       f"{holder} holds the lease for this partition")


def successor(me: NodeName, view: Collection[NodeName],
              order: Sequence[NodeName]) -> NodeName | None:
    """Whom node ME, leaving cleanly while it holds the lease, hands it to: the first
    other node of its view in configuration order (the next DC); None when alone."""
    return next((n for n in order if n in view and n != me), None)
