"""The arbitrator's vote in membership: counted, re-timed, dropped at its deadline."""

from __future__ import annotations

from dataclasses import replace

from cluster_configs import cluster, timing
from vigil.config import Arbiter, ArbiterBackend, ClusterConfig, Endpoint, NodeName
from vigil.membership import (
    ArbiterVoteChanged,
    Membership,
    QuorumChanged,
    SetTimer,
    Started,
    Ticked,
)
from vigil.quorum import ArbiterVote

N1, N2 = NodeName("node1"), NodeName("node2")


def two_nodes_with_arbiter() -> ClusterConfig:
    return replace(cluster(2, timing=timing(100, 1000)),
                   arbiter=Arbiter(ArbiterBackend.VIGIL, 2_000, Endpoint("192.0.2.9", 6950)))


def alone_after_initdead() -> Membership:
    """node1, its peer never heard: after initdead its view is itself, one vote of three."""
    m = Membership(two_nodes_with_arbiter(), "node1", 1, "d")
    m.step(Started(), 0)
    m.step(Ticked(), 5_000)
    assert m.view.nodes == {N1}
    return m


def test_the_lease_holder_alone_is_quorate_until_its_vote_deadline_and_no_longer() -> None:
    m = alone_after_initdead()
    assert not m.quorum.quorate
    effects = m.step(ArbiterVoteChanged(ArbiterVote(True, frozenset({N1}), 6_250, 1)), 5_010)
    [change] = [e for e in effects if isinstance(e, QuorumChanged)]
    assert change.status.quorate
    assert (change.status.votes_present, change.status.arbiter_holder) == (2, True)
    # Heartbeats go out every 100 ms (6200, 6300): the node is also woken at the
    # deadline, 6250, between them.
    timers = [e.at_ms for e in m.step(Ticked(), 6_200) if isinstance(e, SetTimer)]
    assert (timers, m.next_deadline()) == ([6_250], 6_250)
    assert m.quorum.quorate
    effects = m.step(Ticked(), 6_250)
    [lost] = [e for e in effects if isinstance(e, QuorumChanged)]
    assert not lost.status.quorate
    assert "the arbitrator's not" in lost.status.reason


def test_a_renewal_moves_the_deadline_without_a_quorum_change() -> None:
    m = alone_after_initdead()
    m.step(ArbiterVoteChanged(ArbiterVote(True, frozenset({N1}), 6_200, 1)), 5_010)
    effects = m.step(ArbiterVoteChanged(ArbiterVote(True, frozenset({N1}), 6_900, 1)), 5_700)
    assert [e for e in effects if isinstance(e, QuorumChanged)] == []
    m.step(Ticked(), 6_200)
    assert m.quorum.quorate


def test_a_vote_for_another_partition_does_not_count() -> None:
    m = alone_after_initdead()
    effects = m.step(ArbiterVoteChanged(ArbiterVote(False, frozenset({N1, N2}), 9_000)), 5_010)
    assert [e for e in effects if isinstance(e, QuorumChanged)] == []
    assert not m.quorum.quorate


def test_a_refusal_takes_the_vote_away_at_once() -> None:
    m = alone_after_initdead()
    m.step(ArbiterVoteChanged(ArbiterVote(True, frozenset({N1}), 9_000, 1)), 5_010)
    effects = m.step(ArbiterVoteChanged(None), 5_020)
    [lost] = [e for e in effects if isinstance(e, QuorumChanged)]
    assert not lost.status.quorate
    assert m.arbiter_vote is None
