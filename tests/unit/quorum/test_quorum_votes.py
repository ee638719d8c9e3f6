"""Quorum decisions as tables: votes present, rules, and what the partition may do."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from vigil.config import (
    Auth,
    AuthKey,
    AuthMethod,
    ClusterConfig,
    Link,
    LinkKind,
    Node,
    NodeName,
    NoQuorumPolicy,
    Quorum,
    Timing,
)
from vigil.quorum import QuorumRules, evaluate


def rules(nodes: int | dict[str, int], **quorum: object) -> QuorumRules:
    votes = {f"node{i}": 1 for i in range(1, nodes + 1)} if isinstance(nodes, int) else nodes
    config = ClusterConfig(
        nodes=tuple(Node(NodeName(n), v) for n, v in votes.items()),
        links=(Link("eth0", LinkKind.UCAST, 694),),
        timing=Timing(200, 1000, 2000, 6000),
        auth=Auth(1, {1: AuthKey(1, AuthMethod.HMAC_SHA256, b"k")}),
        quorum=Quorum(**quorum),  # type: ignore[arg-type]
    )
    return QuorumRules.from_config(config)


def present(*numbers: int) -> set[NodeName]:
    return {NodeName(f"node{i}") for i in numbers}


class Row(NamedTuple):
    case: str
    rules: QuorumRules
    present: set[NodeName]
    seen_all: bool  # every node was seen together since start-up
    quorate: bool
    votes_present: int
    votes_needed: int


CASES = [Row(*row) for row in [
    ("three nodes, all present", rules(3), present(1, 2, 3), True, True, 3, 2),
    ("three nodes, majority of two", rules(3), present(1, 2), True, True, 2, 2),
    ("three nodes, one alone has no quorum", rules(3), present(3), True, False, 1, 2),
    ("four nodes split two-two: neither half is quorate", rules(4), present(1, 2), True,
     False, 2, 3),
    ("five nodes, three is a majority", rules(5), present(1, 2, 5), True, True, 3, 3),
    ("weighted votes: the heavy node alone outvotes two", rules({"node1": 3, "node2": 1,
                                                                 "node3": 1}),
     present(1), True, True, 3, 3),
    ("weighted votes: two light nodes lack quorum", rules({"node1": 3, "node2": 1,
                                                           "node3": 1}),
     present(2, 3), True, False, 2, 3),
    ("expected_votes set higher than the nodes' sum", rules(3, expected_votes=5),
     present(1, 2), True, False, 2, 3),
    ("a name the configuration does not know votes nothing", rules(3),
     {NodeName("node1"), NodeName("intruder")}, True, False, 1, 2),
    ("two nodes without two_node: one alone is not quorate", rules(2), present(1), True,
     False, 1, 2),
    ("two_node: one of two is quorate", rules(2, two_node=True), present(1), True, True, 1, 1),
    ("two_node + wait_for_all, peer never seen since start: not quorate",
     rules(2, two_node=True, wait_for_all=True), present(1), False, False, 1, 1),
    ("two_node + wait_for_all, both seen once, peer now gone: still quorate",
     rules(2, two_node=True, wait_for_all=True), present(1), True, True, 1, 1),
    ("two_node + wait_for_all, both present now", rules(2, two_node=True, wait_for_all=True),
     present(1, 2), True, True, 2, 1),
    ("two_node ignored in a three-node cluster (as votequorum)", rules(3, two_node=True),
     present(1), True, False, 1, 2),
    ("wait_for_all in three nodes: a majority waits until all were seen",
     rules(3, wait_for_all=True), present(1, 2), False, False, 2, 2),
    ("wait_for_all in three nodes, all seen once: majority suffices",
     rules(3, wait_for_all=True), present(1, 2), True, True, 2, 2),
]]


@pytest.mark.parametrize("row", CASES, ids=[row.case for row in CASES])
def test_quorum_table(row: Row) -> None:
    status = evaluate(row.rules, row.present, seen_all=row.seen_all)
    assert (status.quorate, status.votes_present, status.votes_needed) == (
        row.quorate, row.votes_present, row.votes_needed)
    assert status.reason.startswith("quorate" if row.quorate else "no quorum"), status.reason


def test_waiting_for_all_says_so_in_the_reason() -> None:
    status = evaluate(rules(2, two_node=True, wait_for_all=True), present(1), seen_all=False)
    assert status.waiting_for_all
    assert "wait_for_all" in status.reason
    assert "1 of 2 votes" in status.reason


@pytest.mark.parametrize("policy", list(NoQuorumPolicy))
def test_no_quorum_policy_is_carried_for_the_resource_layer(policy: NoQuorumPolicy) -> None:
    status = evaluate(rules(3, no_quorum_policy=policy), present(1), seen_all=True)
    assert not status.quorate
    assert status.no_quorum_policy is policy
    assert f"no-quorum-policy={policy.value}" in status.reason


def test_all_present_is_what_wait_for_all_waits_for() -> None:
    rule = rules(3, wait_for_all=True)
    assert not rule.all_present(present(1, 2))
    assert rule.all_present(present(1, 2, 3))


def test_negative_votes_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        QuorumRules(votes={NodeName("a"): -1}, expected_votes=1)
