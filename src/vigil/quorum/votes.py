"""Whether this partition may act: votes, simple majority, two-node and wait-for-all.

Rules of this file:
- Pure: the nodes present and whether every node has been seen since start-up
  come in as arguments; a ``QuorumStatus`` with its reason in words comes out.
- Simple majority as Corosync's votequorum: needed = expected_votes // 2 + 1,
  where expected_votes is configured or else the sum of every node's votes.
- ``two_node`` (votequorum's two_node) applies only when expected_votes is 2:
  then one vote is enough. It is safe only with fencing or an arbitrator, and
  with ``wait_for_all`` a node that starts alone does not act on its own.
- ``wait_for_all`` (votequorum's wait_for_all): no quorum until every
  configured node has been present at the same time once since this node
  started. Corosync turns it on with two_node by default; here the
  configuration says so explicitly.
- Only configured nodes vote; a present name the configuration does not know
  counts for nothing.
- An arbitrator (``[arbiter]``) is a quorum device as corosync-qdevice: one
  more expected vote, given to one partition at a time; whether this node's
  partition has it comes in as ``arbiter_vote`` (``vigil.quorum.arbiter``).
  It stands in for two_node: with an arbitrator, two_node is not applied,
  the side of a two-node split that holds the lease is quorate, the other not.
- ``no_quorum_policy`` is carried along for the resource layer; this file does
  not act on it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from vigil.config import ClusterConfig, NodeName, NoQuorumPolicy


@dataclass(frozen=True, slots=True)
class QuorumRules:
    """The quorum settings of one cluster, resolved from its configuration."""

    votes: Mapping[NodeName, int]
    expected_votes: int
    two_node: bool = False
    wait_for_all: bool = False
    no_quorum_policy: NoQuorumPolicy = NoQuorumPolicy.STOP
    #: Votes of the quorum device (the arbitrator): 0 or 1; included in expected_votes.
    arbiter_votes: int = 0

    def __post_init__(self) -> None:
        if any(v < 0 for v in self.votes.values()):
            raise ValueError("a node's votes cannot be negative")
        if self.expected_votes < 1:
            raise ValueError(f"expected_votes must be at least 1, not {self.expected_votes}")

    @classmethod
    def from_config(cls, config: ClusterConfig) -> QuorumRules:
        votes = {node.name: node.votes for node in config.nodes}
        q = config.quorum
        expected = q.expected_votes if q.expected_votes is not None else sum(votes.values())
        arbiter = 1 if config.arbiter is not None else 0
        return cls(
            votes=votes,
            expected_votes=max(expected, 1) + arbiter,
            two_node=q.two_node and not arbiter,
            wait_for_all=q.wait_for_all,
            no_quorum_policy=q.no_quorum_policy,
            arbiter_votes=arbiter,
        )

    @property
    def two_node_active(self) -> bool:
        """two_node counts only in a cluster of two votes (as votequorum)."""
        return self.two_node and self.expected_votes == 2

    @property
    def votes_needed(self) -> int:
        if self.two_node_active:
            return 1
        return self.expected_votes // 2 + 1

    def all_present(self, present: Collection[NodeName]) -> bool:
        """Every configured node is in PRESENT: what wait_for_all waits for."""
        return all(name in present for name in self.votes)


@dataclass(frozen=True, slots=True)
class QuorumStatus:
    """Whether this partition has quorum, the figures behind it, and why."""

    quorate: bool
    votes_present: int
    votes_needed: int
    expected_votes: int
    waiting_for_all: bool
    no_quorum_policy: NoQuorumPolicy
    reason: str
    #: The arbitrator's vote is among ``votes_present``.
    arbiter_vote: bool = False
    #: ... because this node holds the lease (it keeps the vote through a split; a
    #: member of its partition only while its view is the partition registered).
    arbiter_holder: bool = False


def evaluate(
    rules: QuorumRules, present: Collection[NodeName], *, seen_all: bool,
    arbiter_vote: bool = False, arbiter_holder: bool = False,
) -> QuorumStatus:
    """Quorum of the partition made of PRESENT.

    ``seen_all``: every configured node has been present together at least once
    since this node started (the caller remembers it; see ``QuorumRules.all_present``).
    ``arbiter_vote``: the arbitrator votes for this partition now (ignored
    without an arbitrator in RULES); ``arbiter_holder``: because this node
    holds the lease.
    """
    counted = arbiter_vote and rules.arbiter_votes > 0
    votes_present = sum(rules.votes.get(name, 0) for name in set(present)) + \
        (rules.arbiter_votes if counted else 0)
    needed = rules.votes_needed
    figures = f"{votes_present} of {rules.expected_votes} votes present, {needed} needed"
    if rules.arbiter_votes:
        figures += (", the arbitrator's among them" if counted
                    else ", the arbitrator's not")
    waiting = rules.wait_for_all and not seen_all
    if waiting:
        quorate = False
        reason = (
            f"no quorum: waiting for all {len(rules.votes)} nodes to be seen together once "
            f"since start (wait_for_all); {figures}"
        )
    else:
        quorate = votes_present >= needed
        rule = "two-node cluster" if rules.two_node_active else \
            "simple majority with the arbitrator" if rules.arbiter_votes else "simple majority"
        reason = f"quorate: {figures} ({rule})" if quorate else f"no quorum: {figures} ({rule})"
    if not quorate:
        reason += f"; no-quorum-policy={rules.no_quorum_policy.value}"
    return QuorumStatus(
        quorate=quorate,
        votes_present=votes_present,
        votes_needed=needed,
        expected_votes=rules.expected_votes,
        waiting_for_all=waiting,
        no_quorum_policy=rules.no_quorum_policy,
        reason=reason,
        arbiter_vote=counted,
        arbiter_holder=counted and arbiter_holder,
    )
