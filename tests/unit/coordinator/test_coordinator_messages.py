"""Coordinator message bodies: exact round trips through JSON, and refusals with reasons."""

from __future__ import annotations

import json
from typing import Any

import pytest
from coord_factory import report

from vigil.config import NodeName, ResourceId
from vigil.coordinator import (
    ActionRequest,
    ActionsBody,
    AdminCommand,
    AdminRequestBody,
    AdminSettings,
    Body,
    CommandKind,
    EventEntry,
    EventKind,
    EventsBody,
    EventsQueryBody,
    LocalState,
    MalformedBody,
    MessageKind,
    OpKind,
    Version,
    parse_body,
)

SETTINGS = AdminSettings(
    version=Version(4, "node1"), standby=frozenset({NodeName("node3")}),
    moves={"web": NodeName("node2")}, cleanups={ResourceId("db"): 3}, cleanup_floor=1,
    applied={NodeName("node2"): (5, 1)})

BODIES: list[tuple[MessageKind, Body]] = [
    (MessageKind.REPORT, report({"node1": 7, "node2": 5}, 41,
                                resources={"vip": LocalState.RUNNING, "db": LocalState.BLOCKED},
                                busy={"web": OpKind.START}, failures={"db": (1, 5300)},
                                tx=("node1", 7, 3, {0: "ok", 2: "failed"}), admin=SETTINGS)),
    (MessageKind.REPORT, report({}, 1, probed=False, leaving=True, at_risk=True)),
    (MessageKind.ACTIONS, ActionsBody(NodeName("node2"), 5, 3, (
        ActionRequest(2, OpKind.START, ResourceId("web"), "Start web on node2: preferred"),
        ActionRequest(4, OpKind.PROBE, ResourceId("db"), "")))),
    (MessageKind.ACTIONS, ActionsBody(NodeName("node2"), 5, 4, ())),
    (MessageKind.ADMIN, AdminRequestBody((5, 1), AdminCommand(CommandKind.MOVE,
                                                             NodeName("node2"), "web"))),
    (MessageKind.ADMIN, AdminRequestBody((1, 9), AdminCommand(CommandKind.CLEANUP, None, "db"))),
    (MessageKind.EVENTS_QUERY, EventsQueryBody(3)),
    (MessageKind.EVENTS, EventsBody(NodeName("node2"), 3, (
        EventEntry(41, 1200, EventKind.DECISION, ResourceId("web"), "Move web: standby"),
        EventEntry(42, 0, EventKind.ROLE, None, "this node is DC")))),
]


@pytest.mark.parametrize(("kind", "body"), BODIES)
def test_every_body_survives_json_and_back_exactly(kind: MessageKind, body: Body) -> None:
    wire = json.loads(json.dumps(body.to_body()))
    assert parse_body(kind, wire) == body


def _report_wire(**change: Any) -> dict[str, Any]:
    wire: dict[str, Any] = json.loads(json.dumps(BODIES[0][1].to_body()))
    wire.update(change)
    return wire


@pytest.mark.parametrize(("kind", "wire", "error"), [
    (MessageKind.REPORT, [1, 2], "body is a list, not a mapping"),
    (MessageKind.REPORT, {"seq": 1}, "body has no 'resources'"),
    (MessageKind.REPORT, _report_wire(seq=-1), "seq -1 is out of range"),
    (MessageKind.REPORT, _report_wire(seq=True), "seq is a bool, not an integer"),
    (MessageKind.REPORT, _report_wire(resources={"vip": "stopped"}),
     "vip is listed as stopped: stopped ones are not listed"),
    (MessageKind.REPORT, _report_wire(resources={"vip": "dancing"}),
     "state of vip 'dancing' is not one of"),
    (MessageKind.REPORT, _report_wire(busy={"vip": "monitor-ish"}),
     "operation on vip 'monitor-ish' is not one of"),
    (MessageKind.REPORT, _report_wire(failures={"db": [1]}), "failures of db must be a pair"),
    (MessageKind.REPORT, _report_wire(tx={"dc": "n", "inc": 1, "tid": 1, "done": {"x": "ok"}}),
     "action id 'x' is not a number"),
    (MessageKind.REPORT, _report_wire(admin={"version": [1]}),
     "admin version must be [counter, writer]"),
    (MessageKind.REPORT, _report_wire(resources={"x" * 300: "running"}),
     "a resource is longer than 255 characters"),
    (MessageKind.REPORT, _report_wire(resources={f"r{i}": "running" for i in range(20_001)}),
     "resources has more than 20000 entries"),
    (MessageKind.ACTIONS, {"node": "n", "inc": 1, "tid": 1,
                           "actions": [{"id": 1, "op": "monitor", "rid": "r", "reason": ""}]},
     "the DC asks for start, stop or probe; monitors are local"),
    (MessageKind.ACTIONS, {"node": "", "inc": 1, "tid": 1, "actions": []}, "node is empty"),
    (MessageKind.ADMIN, {"req": [1, 1], "command": "standby", "node": None, "target": None},
     "standby needs node"),
    (MessageKind.ADMIN, {"req": [1, 1], "command": "cleanup", "node": "n1", "target": "db"},
     "cleanup takes no node"),
    (MessageKind.ADMIN, {"req": [1, 1], "command": "reboot", "node": "n1", "target": None},
     "command 'reboot' is not one of"),
    (MessageKind.EVENTS, {"node": "n", "req": 1, "entries": [{"seq": 1, "age_ms": 0,
     "kind": "decision", "resource": None, "text": "x" * 401}]},
     "event text is longer than 400 characters"),
])
def test_a_body_that_does_not_say_what_its_kind_needs_is_refused_with_the_reason(
        kind: MessageKind, wire: Any, error: str) -> None:
    with pytest.raises(MalformedBody, match="^" + error.replace("[", r"\[").replace("(", r"\(")):
        parse_body(kind, wire)


def test_a_report_of_two_thousand_running_resources_fits_one_datagram_compressed() -> None:
    import zlib

    from vigil.wire import MAX_DATAGRAM

    big = report({"node1": 1, "node2": 1}, 1,
                 resources={f"resource-{i:05d}": LocalState.RUNNING for i in range(2000)})
    raw = json.dumps(big.to_body(), separators=(",", ":")).encode()
    assert len(raw) < MAX_DATAGRAM
    assert len(zlib.compress(raw, 6)) < MAX_DATAGRAM // 10
