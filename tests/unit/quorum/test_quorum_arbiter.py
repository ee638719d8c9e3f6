"""The arbitrator's vote as corosync-qdevice's: one more expected vote, to one partition."""

from __future__ import annotations

from dataclasses import replace

import pytest

from vigil.config import (
    Arbiter,
    ArbiterBackend,
    Auth,
    AuthKey,
    AuthMethod,
    ClusterConfig,
    Endpoint,
    Link,
    LinkKind,
    Node,
    NodeName,
    Quorum,
    Timing,
)
from vigil.quorum import ArbiterVote, QuorumRules, evaluate, next_ask, vote_from_answer

N1, N2, N3, N4 = (NodeName(f"node{i}") for i in range(1, 5))


def config(nodes: int, *, arbiter: bool = True, two_node: bool = False) -> ClusterConfig:
    return ClusterConfig(
        nodes=tuple(Node(NodeName(f"node{i}")) for i in range(1, nodes + 1)),
        links=(Link("eth0", LinkKind.UCAST, 694),),
        timing=Timing(200, 1000, 2000, 6000),
        auth=Auth(1, {1: AuthKey(1, AuthMethod.HMAC_SHA256, b"k")}),
        quorum=Quorum(two_node=two_node, wait_for_all=two_node),
        arbiter=Arbiter(ArbiterBackend.VIGIL, 10_000, Endpoint("192.0.2.9", 6950))
        if arbiter else None,
    )


@pytest.mark.parametrize(("nodes", "present", "vote", "quorate", "figures"), [
    # two nodes + arbitrator: 3 expected, 2 needed; the lease decides a split
    (2, {N1, N2}, False, True, (2, 3, 2)),
    (2, {N1}, True, True, (2, 3, 2)),
    (2, {N2}, False, False, (1, 3, 2)),
    # four nodes + arbitrator: 5 expected, 3 needed; a 2|2 split has one winner
    (4, {N1, N2}, True, True, (3, 5, 3)),
    (4, {N3, N4}, False, False, (2, 5, 3)),
    (4, {N1}, True, False, (2, 5, 3)),
])
def test_the_partition_with_the_arbitrators_vote_is_the_one_with_quorum(
        nodes: int, present: set[NodeName], vote: bool, quorate: bool,
        figures: tuple[int, int, int]) -> None:
    status = evaluate(QuorumRules.from_config(config(nodes)), present, seen_all=True,
                      arbiter_vote=vote)
    assert status.quorate is quorate
    assert (status.votes_present, status.expected_votes, status.votes_needed) == figures
    assert ("the arbitrator's among them" in status.reason) is vote


def test_two_node_is_not_applied_when_an_arbitrator_breaks_ties() -> None:
    rules = QuorumRules.from_config(config(2, two_node=True))
    assert (rules.two_node_active, rules.votes_needed) == (False, 2)
    assert not evaluate(rules, {N2}, seen_all=True).quorate


def test_a_vote_without_an_arbitrator_configured_counts_for_nothing() -> None:
    status = evaluate(QuorumRules.from_config(config(3, arbiter=False)), {N1}, seen_all=True,
                      arbiter_vote=True)
    assert (status.quorate, status.votes_present, status.arbiter_vote) == (False, 1, False)


@pytest.mark.parametrize(("holder", "view", "now", "counts"), [
    (True, {N1}, 999, True),          # the holder keeps it through a split
    (True, {N1}, 1_000, False),       # ... until its deadline, exactly
    (False, {N1, N2}, 999, True),     # a member whose view is the registered partition
    (False, {N2}, 999, False),        # a member that split off: at once, not at the deadline
    (False, {N1, N2, N3}, 999, False),
])
def test_a_vote_counts_for_the_holder_or_the_exact_partition_until_its_deadline(
        holder: bool, view: set[NodeName], now: int, counts: bool) -> None:
    vote = ArbiterVote(holder, frozenset({N1, N2}), until_ms=1_000)
    assert vote.counts(view, now) is counts


def test_vote_deadline_counts_from_the_send_and_leaves_the_stops_and_margin() -> None:
    ask = next_ask(N1, {N1, N2}, (N1, N2), None)
    vote = vote_from_answer(N1, ask, 10_000, holder=N1, vote=True, token=7,
                            remaining_ms=30_000, stop_ms=20_000)
    assert vote == ArbiterVote(True, frozenset({N1, N2}), 10_000 + 30_000 - 20_000 - 500, 7,
                               "node1 holds the lease with token 7")


@pytest.mark.parametrize(("holder", "vote", "remaining"), [
    (None, False, 0),        # nobody holds it
    (N2, False, 5_000),      # another partition has it
    (N1, True, 20_400),      # the TTL leaves no room for the 20 s stop and the margin
])
def test_an_answer_that_gives_no_usable_vote_gives_none(
        holder: NodeName | None, vote: bool, remaining: int) -> None:
    ask = next_ask(N1, {N1}, (N1, N2), None)
    assert vote_from_answer(N1, ask, 0, holder=holder, vote=vote, token=1,
                            remaining_ms=remaining, stop_ms=20_000) is None


@pytest.mark.parametrize(("me", "view", "held", "acquire"), [
    (N1, {N1, N2}, False, True),    # the first node of the view acquires
    (N2, {N1, N2}, False, False),   # the others only ask
    (N2, {N2}, False, True),        # alone, node2 is the first of its view
    (N2, {N1, N2}, True, True),     # a holder renews whatever its rank
])
def test_one_node_per_partition_acquires_and_a_holder_always_renews(
        me: NodeName, view: set[NodeName], held: bool, acquire: bool) -> None:
    vote = ArbiterVote(True, frozenset(view), 1_000, 3) if held else None
    ask = next_ask(me, view, (N1, N2), vote)
    assert (ask.acquire, ask.partition) == (acquire, frozenset(view))


def test_the_partition_registered_is_the_view_plus_the_node_itself() -> None:
    assert next_ask(N3, set(), (N1, N2, N3), None).partition == frozenset({N3})
    assert replace(next_ask(N3, {N3}, (N1, N2, N3), None), reason="") == \
        replace(next_ask(N3, set(), (N1, N2, N3), None), reason="")
