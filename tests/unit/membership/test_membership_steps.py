"""One node's membership, driven step by step: what it sends, decides and reports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TypeVar

import pytest

from cluster_configs import cluster, timing
from vigil.config import ClusterConfig, NodeName
from vigil.membership import (
    ChangeCause,
    ConfigChanged,
    CoordinatorChanged,
    DropCause,
    Effect,
    HeartbeatBody,
    HeartbeatReceived,
    LeaveBody,
    LeaveReceived,
    LeaveRequested,
    LinkStateChanged,
    LogConfigMismatch,
    LogLateHeartbeat,
    Membership,
    MembershipConfigError,
    MessageKind,
    PeerState,
    PeerStateChanged,
    QuorumChanged,
    RecordDrop,
    Send,
    SetTimer,
    Started,
    StopRequested,
    Ticked,
    View,
    ViewChanged,
    ViewMember,
)

N1, N2, N3 = NodeName("node1"), NodeName("node2"), NodeName("node3")
E = TypeVar("E", bound=Effect)


def of(effects: Sequence[Effect], kind: type[E]) -> list[E]:
    return [e for e in effects if isinstance(e, kind)]


def quorate(m: Membership) -> bool:
    return m.quorum.quorate


def view(*members: tuple[str, int]) -> View:
    return View.of(ViewMember(NodeName(n), i) for n, i in members)


def hb(sender: str, inc: int = 1, seq: int = 1, link: str = "eth0", *,
       reports: View | None = None, digest: str = "d", leaving: bool = False
       ) -> HeartbeatReceived:
    body = HeartbeatBody(reports if reports is not None else view((sender, inc)), None, False,
                         digest, leaving)
    return HeartbeatReceived(NodeName(sender), inc, seq, link, body)


def started(config: ClusterConfig | None = None, me: str = "node1", inc: int = 1,
            at: int = 0) -> tuple[Membership, list[Effect]]:
    m = Membership(config or cluster(3), me, inc, "d")
    return m, m.step(Started(), at)


def test_start_sends_a_heartbeat_at_once_and_asks_for_the_next_at_keepalive() -> None:
    _, effects = started(cluster(3, timing=timing(100, 500)), at=1000)
    sends = of(effects, Send)
    assert len(sends) == 1
    assert isinstance(sends[0], Send)
    assert sends[0].kind is MessageKind.HEARTBEAT
    assert isinstance(effects[-1], SetTimer)
    assert effects[-1].at_ms == 1100
    views = of(effects, ViewChanged)
    assert views == [ViewChanged(view(("node1", 1)), False, views[0].reason)]
    assert "waiting to hear node2, node3" in views[0].reason
    assert of(effects, QuorumChanged)[0].status.quorate is False


def test_heartbeats_keep_a_fixed_schedule_when_ticks_come_late() -> None:
    m, _ = started(cluster(1), at=0)
    effects = m.step(Ticked(), 230)  # 30 ms late
    assert len(of(effects, Send)) == 1
    assert m.next_deadline() == 400  # not 430: no drift
    effects = m.step(Ticked(), 1050)  # frozen a while: one heartbeat, not a burst
    assert len(of(effects, Send)) == 1
    assert m.next_deadline() == 1200


def test_an_early_or_extra_tick_changes_nothing() -> None:
    m, _ = started()
    assert m.step(Ticked(), 50) == []
    assert m.step(Ticked(), 50) == []


@pytest.mark.parametrize(("event", "cause"), [
    (hb("node1"), DropCause.FROM_SELF),
    (hb("intruder"), DropCause.UNKNOWN_NODE),
    (hb("node2", link="wlan9"), DropCause.UNKNOWN_LINK),
], ids=["own heartbeat looped back", "node not configured", "link not configured"])
def test_heartbeats_membership_cannot_use_are_counted_and_change_nothing(
        event: HeartbeatReceived, cause: DropCause) -> None:
    m, _ = started()
    effects = m.step(event, 10)
    assert [type(e) for e in effects] == [RecordDrop]
    assert isinstance(effects[0], RecordDrop)
    assert effects[0].cause is cause
    assert m.peer_state("node2") is PeerState.UNKNOWN


def test_a_heartbeat_after_more_than_warntime_logs_heartbeats_late_warning() -> None:
    m, _ = started(cluster(3, timing=timing(200, 2000, warntime=1000)))
    m.step(hb("node2", seq=1), 100)
    assert of(m.step(hb("node2", seq=2), 1100), LogLateHeartbeat) == []  # exactly warntime
    late = of(m.step(hb("node2", seq=3), 2601), LogLateHeartbeat)
    assert late == [LogLateHeartbeat(N2, "eth0", 1501,
                                     "Late heartbeat: Node node2: interval 1501 ms")]


def test_a_peer_is_late_at_warntime_and_dead_at_deadtime_to_the_millisecond() -> None:
    m, _ = started(cluster(2, timing=timing(100, 500, warntime=300)))
    m.step(hb("node2"), 40)
    assert m.next_deadline() == 100  # next heartbeat first
    m.step(Ticked(), 100)
    m.step(Ticked(), 200)
    m.step(Ticked(), 300)
    assert m.next_deadline() == 340
    assert m.step(Ticked(), 339) == []
    late = of(m.step(Ticked(), 340), PeerStateChanged)
    assert [(e.old, e.new, e.cause) for e in late] == [
        (PeerState.UP, PeerState.LATE, ChangeCause.WARNTIME)]
    m.step(Ticked(), 400)
    assert m.next_deadline() == 500
    m.step(Ticked(), 500)
    assert m.next_deadline() == 540
    assert m.peer_state("node2") is PeerState.LATE
    dead = of(m.step(Ticked(), 540), PeerStateChanged)
    assert [(e.old, e.new, e.cause) for e in dead] == [
        (PeerState.LATE, PeerState.DEAD, ChangeCause.DEADTIME)]
    assert "not heard on any link for 500 ms (deadtime 500 ms)" in dead[0].reason


def test_a_heartbeat_read_late_counts_from_when_it_arrived() -> None:
    # The daemon reads heartbeats on a grid and passes the kernel's arrival time:
    # silence is measured from the arrival, so a late read delays nothing.
    m, _ = started(cluster(2, timing=timing(100, 500, warntime=300)))
    m.step(replace(hb("node2"), arrived_ms=40), 95)
    assert m.next_deadline() == 100
    m.step(Ticked(), 100)
    m.step(Ticked(), 200)
    m.step(Ticked(), 300)
    assert m.next_deadline() == 340  # 40 + warntime, not 95 + warntime
    m.step(Ticked(), 400)
    m.step(Ticked(), 500)
    dead = of(m.step(Ticked(), 540), PeerStateChanged)
    assert [(e.old, e.new) for e in dead] == [(PeerState.LATE, PeerState.DEAD)]
    # An arrival stamp after the step's now (a wall-clock step) counts as now.
    m2, _ = started(cluster(2, timing=timing(100, 500, warntime=300)))
    m2.step(replace(hb("node2"), arrived_ms=900), 40)
    for t in (100, 200, 300):
        m2.step(Ticked(), t)
    assert m2.next_deadline() == 340  # 40 + warntime, not 900 + warntime


def test_losing_one_link_marks_that_link_dead_but_not_the_peer() -> None:
    m, _ = started(cluster(2, links=("eth0", "eth1"), timing=timing(100, 500)))
    m.step(hb("node2", seq=1, link="eth0"), 10)
    m.step(hb("node2", seq=1, link="eth1"), 10)
    effects: list[Effect] = []
    for t in range(110, 1000, 100):  # only eth1 still carries heartbeats
        effects += m.step(hb("node2", seq=t, link="eth1"), t)
    links = [(e.link, e.new) for e in of(effects, LinkStateChanged)]
    assert links == [("eth0", PeerState.LATE), ("eth0", PeerState.DEAD)]
    assert of(effects, PeerStateChanged) == []
    assert m.peer_state("node2") is PeerState.UP


def test_deadtime_counts_from_the_last_heartbeat_on_any_link() -> None:
    m, _ = started(cluster(2, links=("eth0", "eth1"), timing=timing(100, 500)))
    m.step(hb("node2", seq=1, link="eth0"), 10)
    m.step(hb("node2", seq=2, link="eth1"), 70)
    changes: list[Effect] = []
    for t in (100, 200, 300, 400, 500, 509, 510, 569, 570):
        for e in m.step(Ticked(), t):
            if isinstance(e, PeerStateChanged) and e.new is PeerState.DEAD:
                changes.append(e)
                assert t == 570
    assert len(changes) == 1


def test_a_peer_never_heard_is_unknown_until_initdead_then_dead() -> None:
    m, _ = started(cluster(2, timing=timing(100, 500, initdead=2000)), at=1000)
    for t in range(1100, 3000, 100):
        m.step(Ticked(), t)
        assert m.peer_state("node2") is PeerState.UNKNOWN
    dead = of(m.step(Ticked(), 3000), PeerStateChanged)
    assert [(e.new, e.cause) for e in dead] == [
        (PeerState.DEAD, ChangeCause.INITDEAD)]


def test_a_higher_incarnation_is_a_restart_and_a_lower_one_is_stale() -> None:
    m, _ = started(cluster(2))
    m.step(hb("node2", inc=4, seq=9), 10)
    effects = m.step(hb("node2", inc=5, seq=1), 20)
    restarts = of(effects, PeerStateChanged)
    assert len(restarts) == 1
    r = restarts[0]
    assert isinstance(r, PeerStateChanged)
    assert (r.cause, r.incarnation, r.new) == (ChangeCause.RESTARTED, 5, PeerState.UP)
    assert "incarnation 4 replaced by 5" in r.reason
    assert m.view == view(("node1", 1), ("node2", 5))
    assert len(of(effects, Send)) == 1  # the new view goes out at once
    stale = m.step(hb("node2", inc=4, seq=10), 30)
    assert [e.cause for e in of(stale, RecordDrop)] == [
        DropCause.STALE_INCARNATION]


def test_a_leave_makes_the_peer_dead_at_once_and_its_stragglers_are_dropped() -> None:
    m, _ = started(cluster(3))
    m.step(hb("node2", seq=1), 10)
    effects = m.step(LeaveReceived(N2, 1, "eth0", LeaveBody("stopped by SIGTERM")), 20)
    peer = of(effects, PeerStateChanged)
    assert [(e.new, e.cause) for e in peer] == [
        (PeerState.DEAD, ChangeCause.LEFT)]
    assert "stopped by SIGTERM" in peer[0].reason
    assert m.view == view(("node1", 1))
    assert m.snapshot(20).nodes[1].left
    straggler = m.step(hb("node2", seq=2), 25)
    assert [e.cause for e in of(straggler, RecordDrop)] == [
        DropCause.AFTER_LEAVE]
    back = of(m.step(hb("node2", inc=2, seq=1), 5000), PeerStateChanged)
    assert [(e.new, e.cause) for e in back] == [
        (PeerState.UP, ChangeCause.RESTARTED)]


def test_stopping_says_leaving_in_heartbeats_then_leaves_and_falls_silent() -> None:
    m, _ = started(cluster(2))
    effects = m.step(StopRequested("SIGTERM"), 50)
    sends = of(effects, Send)
    assert len(sends) == 1
    body = sends[0].body
    assert isinstance(body, HeartbeatBody)
    assert body.leaving
    effects = m.step(LeaveRequested("SIGTERM"), 60)
    assert [(e.kind, e.body) for e in of(effects, Send)] == [
        (MessageKind.LEAVE, LeaveBody("SIGTERM"))]
    assert m.stopped
    assert m.next_deadline() is None
    assert m.step(hb("node2"), 70) == []
    assert m.step(Ticked(), 1000) == []


def test_a_reordered_old_heartbeat_does_not_bring_back_an_old_view() -> None:
    m, _ = started(cluster(2))
    both = view(("node1", 1), ("node2", 1))
    m.step(hb("node2", seq=1, reports=view(("node2", 1))), 10)
    m.step(hb("node2", seq=2, reports=both), 20)
    assert m.stable
    assert m.dc == N1
    effects = m.step(hb("node2", seq=1, reports=view(("node2", 1))), 30)  # arrives late
    assert of(effects, ViewChanged) == []
    assert m.stable


def test_dc_is_the_first_configured_node_of_a_stable_view_and_none_before() -> None:
    m, effects = started(cluster(3), me="node3")
    assert m.dc is None
    all3 = view(("node1", 1), ("node2", 1), ("node3", 1))
    m.step(hb("node2", reports=all3), 10)
    assert m.dc is None  # node1 not heard yet: not stable
    effects = m.step(hb("node1", reports=all3), 20)
    assert of(effects, CoordinatorChanged) == [
        CoordinatorChanged(None, N1, of(effects, CoordinatorChanged)[0].reason)]
    assert m.stable


def test_a_surviving_dc_keeps_its_role_while_a_new_view_settles() -> None:
    m, _ = started(cluster(3), me="node2")
    all3 = view(("node1", 1), ("node2", 1), ("node3", 1))
    m.step(hb("node1", reports=all3), 10)
    m.step(hb("node3", reports=all3), 10)
    assert m.dc == N1
    effects = m.step(hb("node3", inc=2, reports=view(("node3", 2))), 500)  # node3 restarted
    assert not m.stable
    assert m.dc == N1
    assert of(effects, CoordinatorChanged) == []


def test_a_dc_that_leaves_the_view_leaves_no_dc_until_the_view_is_stable() -> None:
    m, _ = started(cluster(3), me="node2")
    all3 = view(("node1", 1), ("node2", 1), ("node3", 1))
    m.step(hb("node1", reports=all3), 10)
    m.step(hb("node3", reports=all3), 10)
    effects = m.step(LeaveReceived(N1, 1, "eth0", LeaveBody("SIGTERM")), 100)
    assert m.dc is None
    assert of(effects, CoordinatorChanged)
    effects = m.step(hb("node3", seq=2, reports=view(("node2", 1), ("node3", 1))), 150)
    assert m.stable
    assert m.dc == NodeName("node2")


def test_a_peer_with_another_configuration_is_reported_once() -> None:
    m, _ = started()
    first = of(m.step(hb("node2", seq=1, digest="other"), 10), LogConfigMismatch)
    again = of(m.step(hb("node2", seq=2, digest="other"), 20), LogConfigMismatch)
    assert len(first) == 1
    assert again == []
    assert "different configuration" in first[0].reason


def test_time_going_backwards_is_refused() -> None:
    m, _ = started(at=100)
    with pytest.raises(ValueError, match="backwards"):
        m.step(Ticked(), 99)


def test_events_before_started_are_refused() -> None:
    m = Membership(cluster(3), "node1", 1, "d")
    with pytest.raises(RuntimeError, match="Started"):
        m.step(Ticked(), 0)


def test_a_node_not_in_the_configuration_is_refused_with_a_hint() -> None:
    with pytest.raises(MembershipConfigError, match="--node"):
        Membership(cluster(3), "node9", 1, "d")


def test_a_reload_without_this_node_is_refused_and_changes_nothing() -> None:
    m, _ = started()
    m.step(hb("node2"), 10)
    with pytest.raises(MembershipConfigError):
        m.step(ConfigChanged(cluster(["node2", "node3"]), "d2"), 20)
    assert m.peer_state("node2") is PeerState.UP
    assert m.step(Ticked(), 30) == []


def test_a_reload_with_a_shorter_deadtime_applies_to_peers_already_silent() -> None:
    m, _ = started(cluster(2, timing=timing(100, 2000)))
    m.step(hb("node2"), 10)
    effects = m.step(ConfigChanged(cluster(2, timing=timing(100, 500)), "d2"), 700)
    assert [(e.new, e.cause) for e in of(effects, PeerStateChanged)] == [
        (PeerState.DEAD, ChangeCause.DEADTIME)]
    # A dead peer stays dead under a longer deadtime: only a heartbeat revives it.
    effects = m.step(ConfigChanged(cluster(2, timing=timing(100, 5000)), "d3"), 800)
    assert m.peer_state("node2") is PeerState.DEAD


def test_a_reload_adding_a_node_waits_initdead_for_it() -> None:
    m, _ = started(cluster(2, timing=timing(100, 500, initdead=1000)))
    m.step(hb("node2"), 10)
    bigger = cluster(3, timing=timing(100, 500, initdead=1000))
    effects = m.step(ConfigChanged(bigger, "d2"), 50)
    assert of(effects, QuorumChanged)
    assert m.peer_state("node3") is PeerState.UNKNOWN
    assert not m.stable
    m.step(hb("node2", seq=2), 1049)
    assert m.peer_state("node3") is PeerState.UNKNOWN
    m.step(hb("node2", seq=3), 1050)
    assert m.peer_state("node3") is PeerState.DEAD


def test_snapshot_lists_every_node_in_configuration_order_with_links() -> None:
    m, _ = started(cluster(3, links=("eth0", "eth1")), me="node2")
    m.step(hb("node1", link="eth1"), 100)
    snap = m.snapshot(350)
    assert [n.name for n in snap.nodes] == [N1, N2, N3]
    node1, me, node3 = snap.nodes
    assert me.is_me
    assert me.state is PeerState.UP
    assert me.incarnation == 1
    assert (node1.state, node1.incarnation, node1.heard_ago_ms) == (PeerState.UP, 1, 250)
    assert [(link.name, link.state) for link in node1.links] == [
        ("eth0", PeerState.UNKNOWN), ("eth1", PeerState.UP)]
    assert node3.state is PeerState.UNKNOWN
    assert node3.heard_ago_ms is None
    assert snap.quorum.votes_present == 2


def test_two_node_with_wait_for_all_is_not_quorate_until_the_peer_was_seen() -> None:
    config = cluster(2, timing=timing(100, 500, initdead=1000))
    config = replace(config, quorum=replace(config.quorum, two_node=True, wait_for_all=True))
    m, _ = started(config)
    m.step(Ticked(), 1000)  # initdead passes: node2 dead, still not quorate
    assert m.peer_state("node2") is PeerState.DEAD
    assert not quorate(m)
    assert m.quorum.waiting_for_all
    m.step(hb("node2"), 1050)
    assert quorate(m)
    m.step(Ticked(), 1550)  # node2 dead again: one of two still quorate
    assert m.peer_state("node2") is PeerState.DEAD
    assert quorate(m)
