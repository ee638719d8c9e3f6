"""A node cut off from the majority stops its resources before the majority starts them.

Timing: keepalive 100 ms, warntime 500, deadtime 1000; links deliver in 1 ms;
simulated starts and stops take 50 ms.
"""

from __future__ import annotations

from cluster_factory import with_groups

from vigil.config import NoQuorumPolicy
from vigil.sim import ClusterSimulation, Delay, LinkConditions

ONE_MS = LinkConditions(delay=Delay(1, 1))
STEP = 50


def test_minority_stops_its_group_at_warntime_before_the_majority_starts_it() -> None:
    config = with_groups(3, {"web": ("node1", ["vip", "app"])})
    sim = ClusterSimulation(config, seed=1, links=ONE_MS, echo=None)
    sim.partition([["node1"], ["node2", "node3"]], at=5050, until=9000)
    sim.run_until(8000)
    # node1 last heard its peers at 5001: both are late at 5501, and node1 alone is
    # no majority: it stops app then vip without waiting for deadtime or a DC.
    assert sim.history.of("app", "stop ok") == [(5501 + STEP, "node1")]
    assert sim.history.of("vip", "stop ok") == [(5501 + 2 * STEP, "node1")]
    # The majority declares node1 dead at 6001 (deadtime) and starts at 6004:
    # 403 ms after the minority's last stop ended.
    assert sim.history.of("vip", "up")[-1] == (6004, "node2")
    stop_reason = next(e.text for e in sim.events("node1") if e.text.startswith("stop app"))
    assert "quorum at risk: node2, node3 not heard within warntime" in stop_reason


def test_after_the_heal_the_group_returns_to_its_preferred_node_without_two_copies() -> None:
    config = with_groups(3, {"web": ("node1", ["vip", "app"])})
    sim = ClusterSimulation(config, seed=1, links=ONE_MS, echo=None)
    sim.partition([["node1"], ["node2", "node3"]], at=5050, until=9000)
    sim.run_until(10_000)
    # ExclusiveActive watched every step; auto_failback on brings web back.
    assert (sim.active("vip"), sim.active("app")) == (("node1",), ("node1",))
    assert sim.history.of("vip", "stop ok")[-1][1] == "node2"
    assert sim.unsettled() == []


def test_last_node_standing_after_two_clean_shutdowns_loses_quorum_and_stops_at_once() -> None:
    config = with_groups(3, {"web": ("node1", ["vip", "app"])})
    sim = ClusterSimulation(config, seed=1, links=ONE_MS, echo=None)
    sim.stop("node2", 5050)
    sim.stop("node3", 5050)
    sim.run_until(7000)
    # Their leave messages arrive at 5051: quorum is gone then, and node1 stops in
    # that same step (0 ms after losing quorum), though no DC acts any more.
    assert sim.history.of("app", "stop ok") == [(5051 + STEP, "node1")]
    assert sim.history.of("vip", "stop ok") == [(5051 + 2 * STEP, "node1")]
    reason = next(e.text for e in sim.events("node1") if e.text.startswith("stop app"))
    assert reason.startswith("stop app: quorum lost (no quorum: 1 of 3 votes present")


def test_no_quorum_policy_freeze_keeps_the_minoritys_group_and_status_warns() -> None:
    config = with_groups(3, {"web": ("node1", ["vip", "app"])},
                         no_quorum_policy=NoQuorumPolicy.FREEZE)
    # Freeze without fencing lets the majority start a second copy (as in
    # Pacemaker): no ExclusiveActive checker here, the point is to show it.
    sim = ClusterSimulation(config, seed=1, links=ONE_MS, echo=None, resource_checkers=[])
    sim.partition([["node1"], ["node2", "node3"]], at=5050)
    sim.run_until(8000)
    assert sim.history.of("app", "stop ok") == []
    assert sim.active("vip") == ("node1", "node2")
    warnings = sim.coordinator("node1").status(8000).warnings  # type: ignore[union-attr]
    assert "no_quorum_policy=freeze without fencing: a node cut off keeps its resources " \
           "while the others start them" in warnings
