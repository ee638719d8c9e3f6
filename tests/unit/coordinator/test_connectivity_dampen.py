"""ipfail in the DC: the better-connected node takes the resources, but only once the
scores settled (pingd's dampen), so a network lost by every node moves nothing."""

from __future__ import annotations

from coord_factory import Driver, config, membership, of_type, report

from vigil.config import ResourceId
from vigil.coordinator import (
    ConnectivityChanged,
    LocalState,
    OpKind,
    ReportBody,
    RunOperation,
    Ticked,
)

CFG = config(nodes=("node1", "node2"), groups={"web": ("node1", ["vip"])})
BOTH = {"node1": 1, "node2": 1}
VIP = ResourceId("vip")


def peer(seq: int, connectivity: int, vip: LocalState = LocalState.STOPPED) -> ReportBody:
    """node2's report: it acknowledged the DC's barrier (transition 1)."""
    return report(BOTH, seq, tx=("node1", 1, 1, {}), connectivity=connectivity,
                  resources={"vip": vip})


def vip_running_on_node1() -> Driver:
    """node1 (the DC) runs vip, both nodes reach their one ping node (score 100)."""
    d = Driver(CFG, "node1")
    d.start_probed()
    d.step(ConnectivityChanged(100))
    d.step(membership(CFG, BOTH))
    d.peer_report("node2", 1, peer(1, 100))
    [start] = of_type(d.step(Ticked(), at=d.now + d.core.dc.connectivity_dampen_ms),
                      RunOperation)
    assert (start.resource, start.kind) == ("vip", OpKind.START)
    d.finish(start)
    assert d.core.local.states[VIP] is LocalState.RUNNING
    d.now += 10_000
    return d


def ticks_until(d: Driver, end_ms: int) -> list[RunOperation]:
    """Step a Ticked every keepalive up to END_MS; every operation asked meanwhile."""
    ops: list[RunOperation] = []
    while d.now < end_ms:
        ops += of_type(d.step(Ticked(), at=d.now + 100), RunOperation)
    return ops


def test_active_node_losing_its_ping_node_hands_vip_over_once_the_score_settled() -> None:
    d = vip_running_on_node1()
    lost = d.now
    assert of_type(d.step(ConnectivityChanged(0)), RunOperation) == []
    assert "connectivity scores to settle" in d.core.dc.wait_reason
    dampen = d.core.dc.connectivity_dampen_ms
    early = ticks_until(d, lost + dampen - 100)
    assert early == []  # nothing before the dampen is over
    [stop] = ticks_until(d, lost + dampen + 100)
    assert (stop.resource, stop.kind) == ("vip", OpKind.STOP)
    assert "connectivity" in d.core.status(d.now).resources[0].reason


def test_both_nodes_losing_the_network_keepalives_apart_moves_nothing() -> None:
    d = vip_running_on_node1()
    d.step(ConnectivityChanged(0))  # the holder notices first ...
    d.peer_report("node2", 1, peer(2, 0), at=d.now + 250)  # ... the standby 2.5 keepalives later
    ops = ticks_until(d, d.now + 3 * d.core.dc.connectivity_dampen_ms)
    assert ops == []
    assert d.core.local.states[VIP] is LocalState.RUNNING
    assert d.core.dc.wait_reason == ""


def test_a_standby_that_regains_the_network_first_does_not_pull_vip_over() -> None:
    d = vip_running_on_node1()
    d.step(ConnectivityChanged(0))
    d.peer_report("node2", 1, peer(2, 0), at=d.now + 100)
    assert ticks_until(d, d.now + 2 * d.core.dc.connectivity_dampen_ms) == []
    # The network comes back: the standby hears its ping node 2 keepalives earlier.
    d.peer_report("node2", 1, peer(3, 100), at=d.now + 1000)
    d.step(ConnectivityChanged(100), at=d.now + 200)
    assert ticks_until(d, d.now + 3 * d.core.dc.connectivity_dampen_ms) == []
    assert d.core.local.states[VIP] is LocalState.RUNNING
