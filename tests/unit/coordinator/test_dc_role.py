"""The DC role, event by event: barrier, settled inputs, dependency order, aborts, fencing."""

from __future__ import annotations

from coord_factory import Driver, config, membership, of_type, report

from vigil.config import NodeName
from vigil.coordinator import (
    ActionsBody,
    AdminCommand,
    AdminReceived,
    AdminRequestBody,
    CommandKind,
    DcPhase,
    Effect,
    EventKind,
    Fence,
    FenceConfirmed,
    LocalState,
    MessageKind,
    OpKind,
    ReportBody,
    RunOperation,
    Send,
    Ticked,
)

CFG = config()  # web = vip, app; preferred node1
ALL = {"node1": 1, "node2": 1, "node3": 1}


def sent(effects: object, kind: MessageKind) -> list[object]:
    return [s.body for s in of_type(effects, Send) if s.kind is kind]  # type: ignore[arg-type]


def elected_dc(cfg: object = CFG) -> Driver:
    d = Driver(cfg, "node1")  # type: ignore[arg-type]
    d.start_probed()
    return d


def ack(tid: int, seq: int = 1, members: dict[str, int] = ALL, **kw: object) -> ReportBody:
    return report(members, seq, tx=("node1", 1, tid, {}), **kw)  # type: ignore[arg-type]


def test_a_new_dc_sends_a_barrier_and_plans_only_from_reports_that_acknowledge_it() -> None:
    d = elected_dc()
    out = d.step(membership(CFG, ALL))
    assert d.core.dc.phase is DcPhase.WAITING
    barriers = sent(out, MessageKind.ACTIONS)
    assert barriers == [ActionsBody(NodeName("node2"), 1, 1, ()),
                        ActionsBody(NodeName("node3"), 1, 1, ())]
    # A report from before (no acknowledgement) is not enough.
    out = d.peer_report("node2", 1, report(ALL, 1))
    assert of_type(out, RunOperation) == []
    assert d.core.dc.wait_reason == "waiting for node2, node3 to report since the view " \
                                    "{node1/1 node2/1 node3/1}"
    d.peer_report("node2", 1, ack(1, 2))
    out = d.peer_report("node3", 1, ack(1, 1))
    [start] = of_type(out, RunOperation)
    assert (start.resource, start.kind) == ("vip", OpKind.START)
    assert d.core.dc.phase is DcPhase.TRANSITION


def planned() -> tuple[Driver, RunOperation]:
    d = elected_dc()
    d.step(membership(CFG, ALL))
    d.peer_report("node2", 1, ack(1))
    [start_vip] = of_type(d.peer_report("node3", 1, ack(1)), RunOperation)
    return d, start_vip


def test_an_action_is_dispatched_only_once_what_it_comes_after_is_confirmed() -> None:
    d, start_vip = planned()
    out = d.finish(start_vip)
    [start_app] = of_type(out, RunOperation)
    assert (start_app.resource, start_app.kind) == ("app", OpKind.START)
    d.finish(start_app)
    assert d.core.dc.phase is DcPhase.IDLE
    texts = [e.text for e in d.core.events.since(0) if e.kind is EventKind.DECISION]
    assert texts[-4:] == ["transition 2: 2 action(s) in the view {node1/1 node2/1 node3/1}",
                          "Start vip on node1: preferred node (score 100)",
                          "Start app on node1: preferred node (score 100)",
                          "transition 2 complete"]


def test_a_member_still_busy_keeps_the_dc_from_planning() -> None:
    d = elected_dc()
    d.step(membership(CFG, ALL))
    d.peer_report("node2", 1, ack(1, busy={"vip": OpKind.STOP},
                                  resources={"vip": LocalState.RUNNING}))
    out = d.peer_report("node3", 1, ack(1))
    assert of_type(out, RunOperation) == []
    assert d.core.dc.wait_reason == "waiting for operations in flight on node2"
    out = d.peer_report("node2", 1, ack(1, 2))
    assert [(r.resource, r.kind) for r in of_type(out, RunOperation)] == [("vip", OpKind.START)]


def test_a_report_from_another_view_is_not_fresh() -> None:
    d = elected_dc()
    d.step(membership(CFG, ALL))
    d.peer_report("node2", 1, ack(1, members={"node1": 1, "node2": 1}))
    out = d.peer_report("node3", 1, ack(1))
    assert of_type(out, RunOperation) == []
    assert "waiting for node2 to report since the view" in d.core.dc.wait_reason


def test_news_the_transition_does_not_explain_aborts_it_and_it_is_planned_again() -> None:
    d, start_vip = planned()
    # node2 reports a failure of app there: nothing this transition did.
    out = d.peer_report("node2", 1, ack(1, 2, failures={"app": (1, 0)}))
    assert d.core.dc.phase is DcPhase.WAITING
    assert of_type(out, RunOperation) == []
    # The start already running is awaited (its transition superseded by a barrier,
    # 3), then a new plan (4) is made from the reports as they are now.
    out = d.finish(start_vip)
    assert d.core.dc.plan is not None
    assert d.core.dc.plan.tid == 4
    assert [(r.resource, r.kind) for r in of_type(out, RunOperation)] == [("app", OpKind.START)]


def test_our_own_action_showing_in_a_report_does_not_abort() -> None:
    cfg = config(groups={"web": ("node2", ["vip", "app"])})
    d = elected_dc(cfg)
    d.step(membership(cfg, ALL))
    d.peer_report("node2", 1, ack(1))
    out = d.peer_report("node3", 1, ack(1))
    [body] = sent(out, MessageKind.ACTIONS)
    assert isinstance(body, ActionsBody)
    assert [(a.id, a.op, a.resource) for a in body.actions] == [(0, OpKind.START, "vip")]
    d.peer_report("node2", 1, report(ALL, 2, busy={"vip": OpKind.START}, tx=("node1", 1, 2, {})))
    out = d.peer_report("node2", 1, report(ALL, 3, resources={"vip": LocalState.RUNNING},
                                           tx=("node1", 1, 2, {0: "ok"})))
    assert d.core.dc.phase is DcPhase.TRANSITION
    [next_body] = sent(out, MessageKind.ACTIONS)
    assert isinstance(next_body, ActionsBody)
    assert [(a.id, a.resource) for a in next_body.actions] == [(1, "app")]


def running_elsewhere(fencing: bool) -> tuple[Driver, list[Effect]]:
    """node1 DC, web running on node2; then node2 leaves the view (the step's effects)."""
    cfg = config(groups={"web": ("node2", ["vip", "app"])}, fencing=fencing)
    d = elected_dc(cfg)
    d.step(membership(cfg, ALL))
    running = {"vip": LocalState.RUNNING, "app": LocalState.RUNNING}
    d.peer_report("node2", 1, ack(1, resources=running))
    d.peer_report("node3", 1, ack(1))
    out = d.step(membership(cfg, {"node1": 1, "node3": 1}))  # node2 is gone
    return d, out


def barrier_to_node3(d: Driver, effects: object) -> int:
    """The barrier just sent to node3, acknowledged by it; its transition id."""
    [body] = sent(effects, MessageKind.ACTIONS)
    assert isinstance(body, ActionsBody)
    assert (body.node, body.actions) == ("node3", ())
    return body.tid


def test_with_fencing_a_node_lost_while_running_is_fenced_before_anything_moves() -> None:
    d, _ = running_elsewhere(fencing=True)
    fences = [e for _, e in d.effects if isinstance(e, Fence)]
    assert fences == [Fence(NodeName("node2"), "node2 left the view while running app, vip")]
    assert d.core.dc.wait_reason == "waiting for the fencing of node2"
    out = d.step(FenceConfirmed(NodeName("node2"), "fence_ipmilan: off"))
    assert of_type(out, RunOperation) == []
    tid = barrier_to_node3(d, out)
    out = d.peer_report("node3", 1, ack(tid, 2, members={"node1": 1, "node3": 1}))
    assert [(r.resource, r.kind) for r in of_type(out, RunOperation)] == [("vip", OpKind.START)]


def test_without_fencing_a_lost_node_counts_as_stopped_and_the_log_warns() -> None:
    d, out = running_elsewhere(fencing=False)
    assert [e for _, e in d.effects if isinstance(e, Fence)] == []
    tid = barrier_to_node3(d, out)
    out = d.peer_report("node3", 1, ack(tid, 2, members={"node1": 1, "node3": 1}))
    assert [(r.resource, r.kind) for r in of_type(out, RunOperation)] == [("vip", OpKind.START)]
    [warning] = [e.text for e in d.core.events.since(0) if e.kind is EventKind.FENCE]
    assert warning == ("node2 left the view while running app, vip: counted as stopped after "
                       "deadtime (no fencing configured: split brain possible)")


def test_a_command_from_a_peer_is_applied_once_and_the_next_report_carries_it() -> None:
    d, _ = planned()
    body = AdminRequestBody((1, 1), AdminCommand(CommandKind.STANDBY, NodeName("node3")))
    out = d.step(AdminReceived(NodeName("node2"), 1, body))
    [rep] = sent(out, MessageKind.REPORT)
    assert isinstance(rep, ReportBody)
    assert rep.admin.standby == {"node3"}
    assert rep.admin.accepted(NodeName("node2"), (1, 1))
    # The repeat means node2 missed that report: it is sent again, unchanged
    # (same sequence number), and the command is not applied twice.
    assert sent(d.step(AdminReceived(NodeName("node2"), 1, body)), MessageKind.REPORT) == [rep]
    assert d.core.settings.version.counter == 1


def test_the_ping_score_in_the_reports_places_resources_on_the_best_connected_node() -> None:
    from vigil.coordinator import ConnectivityChanged

    cfg = config(groups={"web": (None, ["vip"])})
    d = elected_dc(cfg)
    d.step(ConnectivityChanged(100))
    d.step(membership(cfg, ALL))
    d.peer_report("node2", 1, ack(1, connectivity=100))
    d.peer_report("node3", 1, ack(1, connectivity=200))
    # Scores that just changed settle first (pingd's dampen), then the plan uses them.
    out = d.step(Ticked(), at=d.now + d.core.dc.connectivity_dampen_ms)
    # (dispatched, and repeated at once: this tick is also a keepalive slot)
    [body] = {b for b in sent(out, MessageKind.ACTIONS)
              if isinstance(b, ActionsBody) and b.actions}
    assert isinstance(body, ActionsBody)
    assert (body.node, [(a.op, a.resource) for a in body.actions]) == \
        ("node3", [(OpKind.START, "vip")])
    assert "connectivity" in body.actions[0].reason
