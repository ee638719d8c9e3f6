"""The local resource role, event by event: probes, DC actions once each, local rules."""

from __future__ import annotations

import pytest
from coord_factory import Driver, config, membership, of_type

from vigil.config import NodeName, ResourceId
from vigil.coordinator import (
    ActionRequest,
    ActionResult,
    ActionsBody,
    ActionsReceived,
    LocalState,
    MessageKind,
    OperationFinished,
    OpKind,
    OpOutcome,
    ReportBody,
    RunOperation,
    Send,
    SetTimer,
    Started,
    StartMonitor,
    StopMonitor,
    Ticked,
)

CFG = config()  # web = vip, app; preferred node1; nodes node1..node3
ALL = {"node1": 1, "node2": 1, "node3": 1}


def reports(effects: object) -> list[ReportBody]:
    return [s.body for s in of_type(effects, Send)  # type: ignore[arg-type]
            if s.kind is MessageKind.REPORT and isinstance(s.body, ReportBody)]


def node2(dc: str = "node1", members: dict[str, int] | None = None) -> Driver:
    """node2, started, probed (nothing running), in a stable view with DC DC."""
    d = Driver(CFG, "node2")
    d.start_probed()
    d.step(membership(CFG, members or ALL, dc=dc))
    return d


def actions(tid: int, *acts: tuple[int, OpKind, str], inc: int = 1,
            to: str = "node2") -> ActionsBody:
    return ActionsBody(NodeName(to), inc, tid, tuple(
        ActionRequest(a, k, ResourceId(r), f"{k.value} {r}") for a, k, r in acts))


def test_start_up_probes_every_resource_and_reports_probed_only_when_all_answered() -> None:
    d = Driver(CFG, "node2")
    first = d.step(Started())
    probes = of_type(first, RunOperation)
    assert [(p.resource, p.kind) for p in probes] == [("vip", OpKind.PROBE), ("app", OpKind.PROBE)]
    assert [r.probed for r in reports(first)] == [False]
    out = d.finish(probes[0], OpOutcome.NOT_RUNNING)
    assert [r.probed for r in reports(out)] == [False]
    out = d.finish(probes[1], OpOutcome.OK)
    [last] = reports(out)
    assert last.probed
    assert dict(last.resources) == {"app": LocalState.RUNNING}
    # A resource found running is monitored at once.
    assert of_type(out, StartMonitor) == [StartMonitor(ResourceId("app"), "app runs here")]


@pytest.mark.parametrize(("sender", "inc", "body", "why_ignored"), [
    ("node3", 1, actions(1, (0, OpKind.START, "vip")), "not the DC"),
    ("node1", 2, actions(1, (0, OpKind.START, "vip")), "an older or newer DC incarnation"),
    ("node1", 1, actions(1, (0, OpKind.START, "vip"), to="node3"), "for another node"),
    ("node1", 1, actions(1, (0, OpKind.START, "vip"), inc=7), "for another incarnation of us"),
])
def test_actions_are_taken_only_from_the_dc_for_this_node_and_incarnation(
        sender: str, inc: int, body: ActionsBody, why_ignored: str) -> None:
    d = node2()
    out = d.step(ActionsReceived(NodeName(sender), inc, body))
    assert of_type(out, RunOperation) == [], why_ignored


def test_actions_of_a_dc_in_an_unstable_view_are_not_taken() -> None:
    d = node2()
    d.step(membership(CFG, ALL, dc="node1", stable=False))
    out = d.step(ActionsReceived(NodeName("node1"), 1, actions(1, (0, OpKind.START, "vip"))))
    assert of_type(out, RunOperation) == []


def test_each_action_runs_once_however_often_it_is_repeated_and_is_answered() -> None:
    d = node2()
    body = actions(1, (0, OpKind.START, "vip"))
    out = d.step(ActionsReceived(NodeName("node1"), 1, body))
    [run] = of_type(out, RunOperation)
    assert (run.resource, run.kind) == ("vip", OpKind.START)
    [busy] = reports(out)
    assert dict(busy.busy) == {"vip": OpKind.START}
    assert of_type(d.step(ActionsReceived(NodeName("node1"), 1, body)), RunOperation) == []
    [done] = reports(d.finish(run))
    assert done.tx is not None
    assert (done.tx.key, dict(done.tx.done)) == (("node1", 1, 1), {0: ActionResult.OK})
    # Repeated after it finished: answered from the results, not run again.
    assert of_type(d.step(ActionsReceived(NodeName("node1"), 1, body)), RunOperation) == []


def test_a_newer_transition_voids_what_an_older_one_queued_and_older_messages_are_ignored() -> None:
    d = node2()
    first = actions(1, (0, OpKind.START, "vip"), (1, OpKind.STOP, "vip"))
    [run] = of_type(d.step(ActionsReceived(NodeName("node1"), 1, first)), RunOperation)
    barrier = actions(2)
    d.step(ActionsReceived(NodeName("node1"), 1, barrier))
    out = d.finish(run)
    # The stop queued behind the start belonged to transition 1: it does not run.
    assert of_type(out, RunOperation) == []
    [report] = reports(out)
    assert report.tx is not None
    assert (report.tx.tid, dict(report.tx.done)) == (2, {})
    assert of_type(d.step(ActionsReceived(NodeName("node1"), 1, first)), RunOperation) == []


def test_without_quorum_a_start_is_held_and_runs_when_quorum_is_back_in_the_same_view() -> None:
    d = node2()
    d.step(membership(CFG, ALL, late={"node1", "node3"}))  # both late: at risk
    body = actions(1, (0, OpKind.START, "vip"))
    out = d.step(ActionsReceived(NodeName("node1"), 1, body))
    assert of_type(out, RunOperation) == []
    [report] = reports(out)
    assert report.at_risk
    assert dict(report.busy) == {}  # held: neither running nor answered
    out = d.step(membership(CFG, ALL))
    assert [(r.resource, r.kind) for r in of_type(out, RunOperation)] == [("vip", OpKind.START)]


def test_a_held_start_is_void_once_the_view_changes() -> None:
    d = node2()
    d.step(membership(CFG, ALL, late={"node1", "node3"}))
    d.step(ActionsReceived(NodeName("node1"), 1, actions(1, (0, OpKind.START, "vip"))))
    out = d.step(membership(CFG, {"node1": 1, "node2": 1}))
    assert of_type(out, RunOperation) == []


def running_node1() -> Driver:
    """node1 (not DC here: node3 is) with vip and app running."""
    d = Driver(CFG, "node1")
    d.start_probed({"vip": OpOutcome.OK, "app": OpOutcome.OK})
    d.step(membership(CFG, ALL, dc="node3"))
    return d


@pytest.mark.parametrize(("members", "late", "why"), [
    ({"node1": 1}, (), "quorum lost"),
    (ALL, ("node2", "node3"), "quorum at risk: node2, node3 not heard"),
])
def test_a_node_without_a_majority_stops_its_group_last_member_first_without_a_dc(
        members: dict[str, int], late: tuple[str, ...], why: str) -> None:
    d = running_node1()
    out = d.step(membership(CFG, members, dc=None, late=late))
    [stop_app] = of_type(out, RunOperation)
    assert (stop_app.resource, stop_app.kind) == ("app", OpKind.STOP)
    assert why in stop_app.reason
    assert of_type(out, StopMonitor) == [StopMonitor(ResourceId("app"), "stopping app")]
    [stop_vip] = of_type(d.finish(stop_app), RunOperation)
    assert (stop_vip.resource, stop_vip.kind) == ("vip", OpKind.STOP)
    assert of_type(d.finish(stop_vip), RunOperation) == []


def test_monitor_failure_marks_the_resource_failed_and_counts_it() -> None:
    d = running_node1()
    out = d.step(OperationFinished(ResourceId("vip"), OpKind.MONITOR, OpOutcome.NOT_RUNNING),
                 at=2000)
    [report] = reports(out)
    assert report.resources[ResourceId("vip")] is LocalState.FAILED
    assert dict(report.failures) == {"vip": (1, 0)}
    # A monitor answering the same again changes nothing and is not counted again.
    assert reports(d.step(OperationFinished(ResourceId("vip"), OpKind.MONITOR,
                                            OpOutcome.NOT_RUNNING), at=2001)) == []


@pytest.mark.parametrize(("kind", "outcome", "state", "counted"), [
    (OpKind.START, OpOutcome.OK, LocalState.RUNNING, False),
    (OpKind.START, OpOutcome.ERROR, LocalState.FAILED, True),
    (OpKind.START, OpOutcome.TIMEOUT, LocalState.FAILED, True),
    (OpKind.STOP, OpOutcome.OK, LocalState.STOPPED, False),
    (OpKind.STOP, OpOutcome.NOT_RUNNING, LocalState.STOPPED, False),
    (OpKind.STOP, OpOutcome.ERROR, LocalState.BLOCKED, True),
    (OpKind.STOP, OpOutcome.TIMEOUT, LocalState.BLOCKED, True),
    (OpKind.PROBE, OpOutcome.NOT_INSTALLED, LocalState.STOPPED, False),
    (OpKind.PROBE, OpOutcome.ERROR, LocalState.FAILED, True),
])
def test_what_each_operation_result_leaves_the_resource_in(
        kind: OpKind, outcome: OpOutcome, state: LocalState, counted: bool) -> None:
    d = node2()
    [run] = of_type(d.step(ActionsReceived(NodeName("node1"), 1,
                                           actions(1, (0, kind, "vip")))), RunOperation)
    [report] = reports(d.finish(run, outcome))
    assert report.state_of("vip") is state
    assert (ResourceId("vip") in report.failures) is counted


def test_a_cleanup_that_is_the_first_command_since_start_is_acted_on() -> None:
    from vigil.coordinator import AdminCommand, AdminReceived, AdminRequestBody, CommandKind

    d = Driver(CFG, "node1")
    d.start_probed({"vip": OpOutcome.OK, "app": OpOutcome.OK})
    d.step(membership(CFG, ALL))  # node1 is DC
    d.step(OperationFinished(ResourceId("vip"), OpKind.MONITOR, OpOutcome.NOT_RUNNING))
    assert d.core.local.fails[ResourceId("vip")][0] == 1
    body = AdminRequestBody((1, 1), AdminCommand(CommandKind.CLEANUP, None, "vip"))
    out = d.step(AdminReceived(NodeName("node2"), 1, body))
    assert ResourceId("vip") not in d.core.local.fails
    assert ("vip", OpKind.PROBE) in [(r.resource, r.kind) for r in of_type(out, RunOperation)]


def test_an_idle_node_wakes_only_to_refresh_its_report_every_ten_keepalives() -> None:
    # At 16 nodes a wake-up and a report from every node every keepalive were half of
    # what each daemon read; nothing to repeat means nothing to wake for.
    d = node2()
    wakes: list[int] = []
    refreshes: list[int] = []
    while d.now < 5_000:
        [timer] = of_type((e for _, e in d.effects), SetTimer)[-1:]
        out = d.step(Ticked(), at=timer.at_ms)
        wakes.append(d.now)
        refreshes += [d.now for s in of_type(out, Send)
                      if s.kind is MessageKind.REPORT and s.reason == "refresh"]
    steady = [t for t in wakes if t >= 1_000]
    assert steady == [1_200, 2_200, 3_200, 4_200, 5_200]
    assert refreshes[-5:] == steady
