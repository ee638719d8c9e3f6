"""Heartbeat and leave bodies survive the wire, and garbage is refused with a clear error."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vigil.config import NodeName
from vigil.membership import (
    HeartbeatBody,
    LeaveBody,
    MalformedBody,
    MessageKind,
    View,
    ViewMember,
    parse_body,
)

names = st.text(min_size=1, max_size=20).map(NodeName)
members = st.builds(ViewMember, names, st.integers(0, 2**63 - 1))
views = st.lists(members, max_size=8, unique_by=lambda m: m.node).map(View.of)
heartbeats = st.builds(HeartbeatBody, views, st.none() | names, st.booleans(),
                       st.text(max_size=64), st.booleans())


@given(heartbeats)
def test_heartbeat_body_survives_json_and_back(body: HeartbeatBody) -> None:
    wire = json.loads(json.dumps(body.to_body()))
    assert HeartbeatBody.from_body(wire) == body
    assert parse_body(MessageKind.HEARTBEAT, wire) == body


@given(st.text(max_size=255))
def test_leave_body_survives_json_and_back(reason: str) -> None:
    body = LeaveBody(reason)
    assert parse_body(MessageKind.LEAVE, json.loads(json.dumps(body.to_body()))) == body


GOOD: dict[str, Any] = {"view": {"node1": 1, "node2": 4}, "dc": "node1", "quorate": True,
                        "digest": "abc", "leaving": False}

# (case, body, words the error must contain)
MALFORMED: list[tuple[str, Any, str]] = [
    ("not a mapping", ["view"], "not a mapping"),
    ("no view", {k: v for k, v in GOOD.items() if k != "view"}, "'view'"),
    ("no quorate flag", {k: v for k, v in GOOD.items() if k != "quorate"}, "'quorate'"),
    ("view is a list", {**GOOD, "view": [["node1", 1]]}, "view"),
    ("incarnation is a string", {**GOOD, "view": {"node1": "1"}}, "incarnation of node1"),
    ("incarnation is true", {**GOOD, "view": {"node1": True}}, "not an integer"),
    ("incarnation is negative", {**GOOD, "view": {"node1": -1}}, "out of range"),
    ("incarnation too large", {**GOOD, "view": {"node1": 2**63}}, "out of range"),
    ("empty member name", {**GOOD, "view": {"": 1}}, "empty"),
    ("member name too long", {**GOOD, "view": {"n" * 300: 1}}, "longer"),
    ("dc is a number", {**GOOD, "dc": 3}, "dc"),
    ("dc is empty", {**GOOD, "dc": ""}, "dc is empty"),
    ("quorate is a string", {**GOOD, "quorate": "yes"}, "quorate"),
    ("leaving is 0", {**GOOD, "leaving": 0}, "leaving"),
    ("digest is null", {**GOOD, "digest": None}, "digest"),
    ("too many members", {**GOOD, "view": {f"n{i}": 1 for i in range(300)}}, "more than"),
]


@pytest.mark.parametrize(("case", "body", "words"), MALFORMED, ids=[c[0] for c in MALFORMED])
def test_malformed_heartbeat_body_is_refused_as_malformed(case: str, body: Any,
                                                          words: str) -> None:
    with pytest.raises(MalformedBody, match=words.replace("(", r"\(")):
        HeartbeatBody.from_body(body)


def test_malformed_body_is_a_value_error_the_daemon_can_count() -> None:
    assert issubclass(MalformedBody, ValueError)


def test_leave_without_reason_is_malformed() -> None:
    with pytest.raises(MalformedBody, match="'reason'"):
        LeaveBody.from_body({})


def test_keys_a_newer_peer_adds_are_ignored() -> None:
    body = HeartbeatBody.from_body({**GOOD, "resources": {"vip": "started"}})
    assert body.view.incarnation_of("node2") == 4
