"""A simulated arbitrator: one lease with a TTL in virtual time, reachable per node.

Rules of this file:
- A fake, as the agents and fence devices are: the lease keeps the rules of
  ``vigil.arbiter.lease`` (one holder; a grant lasts the TTL from its arrival;
  a new holder gets a token one above every earlier one; the holder's acquire
  renews and registers its current partition; the vote goes to the holder and
  to a node whose view is exactly the registered partition).
- Each running node asks exactly as the daemon's runner does, with the same
  pure rules (``vigil.quorum.next_ask``, ``vote_from_answer``): every
  ``renew_every_ms`` it sends one request, which reaches the arbitrator after
  ``one_way_ms`` if the node can reach it then, and the answer comes back
  after as long again if it still can. The vote it computes goes to the
  node's membership as ``ArbiterVoteChanged``; a refusal takes it away at once.
- A clean stop, once the node's resources are handed over, hands the lease
  it holds to its successor (``vigil.quorum.successor``), as the daemon does:
  its own vote goes first, the transfer takes a new token, and the node
  leaves one renew period (and a round trip) later, by when the successor's
  next request has told it. Alone, it releases the lease. Either only when it
  can reach the arbitrator.
- A frozen daemon (pause) neither asks nor reads answers (they are lost: the
  deadline counts from the send, so reading one late would change nothing).
- Reachability: ``isolate(node, at, until)`` cuts a node off the arbitrator;
  windows may overlap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

from vigil.config import LEASE_MARGIN_MS, ClusterConfig, NodeName, longest_exclusive_stop
from vigil.membership import ArbiterVoteChanged
from vigil.quorum import ArbiterVote, LeaseAsk, next_ask, successor, vote_from_answer

if TYPE_CHECKING:
    from vigil.sim.cluster import ClusterSimulation

#: One way from a node to the simulated arbitrator (a LAN).
ONE_WAY_MS = 2


@dataclass(frozen=True, slots=True)
class Grant:
    """The lease went to NODE with TOKEN at AT_MS (arbitrator time)."""

    at_ms: int
    node: NodeName
    token: int


@dataclass(frozen=True, slots=True)
class _Answer:
    holder: NodeName | None
    vote: bool
    token: int
    remaining_ms: int


@dataclass(slots=True)
class SimArbiter:
    """The lease of one ``ClusterSimulation`` whose configuration has an ``[arbiter]``."""

    sim: ClusterSimulation
    config: ClusterConfig
    one_way_ms: int = ONE_WAY_MS
    holder: NodeName | None = None
    partition: frozenset[NodeName] = frozenset()
    token: int = 0
    expires_ms: int = 0
    grants: list[Grant] = field(default_factory=list)
    #: Per node, the last vote handed to its membership.
    votes: dict[NodeName, ArbiterVote | None] = field(default_factory=dict)
    _cut: dict[NodeName, int] = field(default_factory=dict)
    ttl_ms: int = field(init=False)
    stop_ms: int = field(init=False)
    renew_every_ms: int = field(init=False)

    def __post_init__(self) -> None:
        arbiter = self.config.arbiter
        if arbiter is None:
            raise ValueError("the configuration has no [arbiter]")
        self.ttl_ms = arbiter.lease_ttl_ms
        self.stop_ms = longest_exclusive_stop(self.config)[0]
        budget = self.ttl_ms - self.stop_ms - LEASE_MARGIN_MS
        #: As the daemon's runner: three tries before the vote's deadline.
        self.renew_every_ms = max(1, budget // 3)

    # -- what a test reads and schedules ---------------------------------------

    def holder_at(self, now_ms: int) -> NodeName | None:
        return self.holder if self.holder is not None and now_ms < self.expires_ms else None

    def isolate(self, node: str, at: int, until: int) -> None:
        """Cut NODE off the arbitrator from AT until UNTIL (both ways)."""
        name = NodeName(node)

        def begin() -> None:
            self._cut[name] = self._cut.get(name, 0) + 1
            self.sim._fault(name, f"{name} cut off the arbitrator")

        def end() -> None:
            self._cut[name] -= 1
            if not self._cut[name]:
                self.sim._fault(name, f"{name} reaches the arbitrator again")
        self.sim.call_at(at, begin)
        self.sim.call_at(until, end)

    def reachable(self, node: NodeName) -> bool:
        return not self._cut.get(node, 0)

    # -- node life (called by ClusterSimulation) ------------------------------------

    def booted(self, node: NodeName) -> None:
        self.votes[node] = None
        self.sim._at(self.sim.now_ms, partial(self._ask, node, self.sim.incarnation(node)))

    def hand_over(self, node: NodeName) -> int:
        """NODE stopped cleanly: it hands its lease over (or releases it) if it holds it
        and can reach the arbitrator; how long its leave waits for that, in ms."""
        sim = self.sim
        vote = self.votes.get(node)
        membership = sim.membership(node)
        if vote is None or not vote.holder or membership is None \
                or self.holder_at(sim.now_ms) != node or vote.token != self.token \
                or not self.reachable(node):
            return 0
        self.votes[node] = None
        sim._step(sim._node(node), ArbiterVoteChanged(None))  # our vote first
        to = successor(node, membership.view.nodes, sim.config.node_names)
        if to is None or to not in self.partition:
            self.holder, self.partition, self.expires_ms = None, frozenset(), 0
            return 0
        self.token += 1
        self.holder, self.partition = to, self.partition - {node}
        self.expires_ms = sim.now_ms + self.ttl_ms
        self.grants.append(Grant(sim.now_ms, to, self.token))
        return self.renew_every_ms + 2 * self.one_way_ms + 1

    # -- the exchange ------------------------------------------------------------

    def _alive(self, node: NodeName, incarnation: int) -> bool:
        return self.sim.is_running(node) and self.sim.incarnation(node) == incarnation

    def _ask(self, node: NodeName, incarnation: int) -> None:
        if not self._alive(node, incarnation):
            return  # this life is over; the next boot asks again
        sim = self.sim
        sim._at(sim.now_ms + self.renew_every_ms, partial(self._ask, node, incarnation))
        membership = sim.membership(node)
        if sim.is_paused(node) or membership is None:
            return
        ask = next_ask(node, membership.view.nodes, sim.config.node_names,
                       self.votes.get(node))
        if self.reachable(node):
            sim._at(sim.now_ms + self.one_way_ms,
                    partial(self._serve, node, incarnation, ask, sim.now_ms))

    def _serve(self, node: NodeName, incarnation: int, ask: LeaseAsk, sent_ms: int) -> None:
        if not self.reachable(node):
            return
        now = self.sim.now_ms
        live = self.holder_at(now)
        if ask.acquire:
            if live == node:
                self.expires_ms, self.partition = now + self.ttl_ms, ask.partition
            elif live is None:
                self.token += 1
                self.holder, self.partition = node, ask.partition
                self.expires_ms = now + self.ttl_ms
                self.grants.append(Grant(now, node, self.token))
                live = node
        vote = live is not None and node in self.partition and (
            live == node or ask.partition == self.partition)
        remaining = self.expires_ms - now if live is not None else 0
        answer = _Answer(live, vote, self.token, remaining)
        self.sim._at(now + self.one_way_ms,
                     partial(self._answered, node, incarnation, ask, sent_ms, answer))

    def _answered(self, node: NodeName, incarnation: int, ask: LeaseAsk, sent_ms: int,
                  answer: _Answer) -> None:
        if not self._alive(node, incarnation) or not self.reachable(node) \
                or self.sim.is_paused(node):
            return
        new = vote_from_answer(node, ask, sent_ms, holder=answer.holder, vote=answer.vote,
                               token=answer.token, remaining_ms=answer.remaining_ms,
                               stop_ms=self.stop_ms)
        if new == self.votes.get(node):
            return
        self.votes[node] = new
        self.sim._step(self.sim._node(node), ArbiterVoteChanged(new))


__all__ = ["ONE_WAY_MS", "Grant", "SimArbiter"]
