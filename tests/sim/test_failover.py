"""Services move when a node dies or leaves: exact virtual times, real coordinator.

Timing in every test: keepalive 100 ms, warntime 500, deadtime 1000 (FAST);
every simulated start and stop takes 50 ms, a probe 10 ms.
"""

from __future__ import annotations

from cluster_factory import nplus1, with_groups

from vigil.config import NodeName, NoQuorumPolicy
from vigil.coordinator import AdminCommand, CommandKind, EventKind
from vigil.sim import ClusterSimulation, Delay, LinkConditions

INSTANT = LinkConditions(delay=Delay(0, 0))
ONE_MS = LinkConditions(delay=Delay(1, 1))
START = STOP = 50


def test_crash_of_the_active_node_starts_its_group_on_the_standby_at_deadtime_plus_start() -> None:
    # Heartbeat's own two-node layout: two_node quorum, no fencing.
    config = with_groups(2, {"web": ("node1", ["vip", "app"])}, two_node=True)
    sim = ClusterSimulation(config, seed=1, links=INSTANT, echo=None)
    sim.crash("node1", 5050)  # its last heartbeat left at 5000
    sim.run_until(8000)
    # Dead at 5000 + deadtime 1000; then each member starts in group order.
    assert sim.history.of("vip", "start ok") == [(60, "node1"), (6000 + START, "node2")]
    assert sim.history.of("app", "start ok")[-1] == (6000 + 2 * START, "node2")
    warning = [e for e in sim.events("node2") if e.kind is EventKind.FENCE]
    assert "split brain possible" in warning[0].text


def test_crash_in_a_three_node_cluster_costs_deadtime_one_agreement_and_one_barrier() -> None:
    config = with_groups(3, {"web": ("node1", ["vip", "app"])})
    sim = ClusterSimulation(config, seed=1, links=ONE_MS, echo=None)
    sim.crash("node1", 5050)
    sim.run_until(8000)
    # node1's last heartbeat arrives at 5001: dead at 6001. The survivors agree on
    # the new view one delay later (6002); the new DC's barrier to node3 and back
    # costs two delays (6004); then the starts.
    assert sim.history.of("vip", "up")[-1] == (6004, "node2")
    assert sim.history.of("app", "start ok")[-1] == (6004 + 2 * START, "node2")
    assert sim.unsettled() == []


def test_graceful_stop_of_the_dc_hands_its_group_over_without_waiting_for_deadtime() -> None:
    config = with_groups(3, {"web": ("node1", ["vip", "app"])})
    sim = ClusterSimulation(config, seed=1, links=ONE_MS, echo=None)
    sim.stop("node1", 5050)
    sim.run_until(8000)
    # The DC (node1 itself) plans at once: app stops, then vip, then each starts on
    # node2 one delay after the previous action's confirmation.
    assert sim.history.of("app", "stop ok") == [(5050 + STOP, "node1")]
    assert sim.history.of("vip", "stop ok") == [(5050 + 2 * STOP, "node1")]
    assert sim.history.of("vip", "start ok")[-1] == (5150 + 1 + START, "node2")
    assert sim.history.of("app", "start ok")[-1] == (5201 + 2 + START, "node2")
    assert not sim.is_running("node1")
    assert sim.unsettled() == []


def test_graceful_stop_of_a_node_that_is_not_dc_hands_over_through_the_dc() -> None:
    config = with_groups(3, {"web": ("node2", ["vip", "app"])})
    sim = ClusterSimulation(config, seed=1, links=ONE_MS, echo=None)
    sim.stop("node2", 5050)
    sim.run_until(8000)
    # Its report reaches the DC (node1) at 5051, the stop order node2 at 5052.
    assert sim.history.of("app", "stop ok") == [(5052 + STOP, "node2")]
    assert sim.history.of("vip", "start ok")[-1][1] == "node1"
    assert sim.history.of("vip", "start ok")[-1][0] < 5050 + 1000  # long before deadtime
    assert not sim.is_running("node2")


def test_graceful_stop_of_a_dc_whose_view_is_not_agreed_leaves_at_once() -> None:
    # node2 and node3 stop hearing each other: node1 (the DC) still hears both and
    # its view {node1 node2 node3} is never agreed, so it can plan nothing. Nothing
    # runs on node1 either: it leaves at the SIGTERM, not a deadtime later (1000 ms;
    # a DC of an agreed view waits up to that to see its handover through).
    config = with_groups(3, {"web": ("node2", ["vip", "app"])})
    sim = ClusterSimulation(config, seed=1, links=ONE_MS, echo=None)
    sim.cut("node2", "node3", at=5000)
    sim.cut("node3", "node2", at=5000)
    sim.run_until(7049)
    m = sim.membership("node1")
    assert m is not None
    assert m.dc == "node1"
    assert not m.stable
    sim.stop("node1", 7050)
    sim.run_until(7050)
    assert not sim.is_running("node1")


def _group_nodes(sim: ClusterSimulation) -> dict[str, tuple[str, ...]]:
    return {g: sim.active(r) for g, r in (("grp_vip1", "vip1"), ("grp_vip2", "vip2"))}


def test_nplus1_each_primary_crash_moves_only_its_group_to_the_standby_and_back() -> None:
    sim = ClusterSimulation(nplus1(), seed=1, links=ONE_MS, echo=None)
    sim.run_until(4000)
    assert _group_nodes(sim) == {"grp_vip1": ("node0",), "grp_vip2": ("node2",)}
    sim.crash("node0", 4050)
    sim.run_until(6000)
    assert _group_nodes(sim) == {"grp_vip1": ("node1",), "grp_vip2": ("node2",)}
    assert sim.active("remac1") == ("node1",)
    sim.restart("node0", 6000)
    sim.run_until(9000)
    # auto_failback on: it goes back to its primary once node0 is back.
    assert _group_nodes(sim) == {"grp_vip1": ("node0",), "grp_vip2": ("node2",)}
    sim.crash("node2", 9050)
    sim.run_until(11_000)
    assert _group_nodes(sim) == {"grp_vip1": ("node0",), "grp_vip2": ("node1",)}
    assert sim.unsettled() == []


def test_nplus1_both_primaries_crash_the_standby_runs_both_when_quorum_is_ignored() -> None:
    # As Heartbeat's haresources mode, which had no quorum at all.
    config = nplus1(no_quorum_policy=NoQuorumPolicy.IGNORE)
    sim = ClusterSimulation(config, seed=1, links=ONE_MS, echo=None)
    sim.crash("node0", 4050)
    sim.crash("node2", 4050)
    sim.run_until(7000)
    assert _group_nodes(sim) == {"grp_vip1": ("node1",), "grp_vip2": ("node1",)}
    sim.restart("node0", 7000)
    sim.restart("node2", 7000)
    sim.run_until(10_000)
    assert _group_nodes(sim) == {"grp_vip1": ("node0",), "grp_vip2": ("node2",)}


def test_nplus1_both_primaries_crash_the_lone_standby_has_no_quorum_and_starts_nothing() -> None:
    sim = ClusterSimulation(nplus1(), seed=1, links=ONE_MS, echo=None)
    sim.crash("node0", 4050)
    sim.crash("node2", 4050)
    sim.run_until(7000)
    assert _group_nodes(sim) == {"grp_vip1": (), "grp_vip2": ()}
    status = sim.coordinator("node1").status(7000)  # type: ignore[union-attr]
    assert any("no quorum" in w for w in status.warnings)


def test_dc_crash_in_the_middle_of_a_transition_lets_the_new_dc_finish_it() -> None:
    config = with_groups(3, {"web": ("node2", ["vip", "app"])})
    sim = ClusterSimulation(config, seed=1, links=ONE_MS, echo=None)
    sim.run_until(4000)
    assert sim.active("vip") == ("node2",)
    sim.admin("node1", AdminCommand(CommandKind.MOVE, NodeName("node3"), "web"), 4000)
    # The DC (node1) applies the move and orders app stopped: node2 gets it at 4001.
    # node1 dies while it stops.
    sim.crash("node1", 4030)
    sim.run_until(7000)
    # The stop it had ordered finished on node2; the new DC (node2) found the move
    # in the replicated settings and finished the move on node3.
    assert sim.history.of("app", "stop ok") == [(4001 + STOP, "node2")]
    assert sim.active("vip") == ("node3",)
    assert sim.active("app") == ("node3",)
    new_dc = sim.coordinator("node2")
    assert new_dc is not None
    assert new_dc.is_dc
    assert dict(new_dc.settings.moves) == {"web": "node3"}
    assert sim.unsettled() == []
