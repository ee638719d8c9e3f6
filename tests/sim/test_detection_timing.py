"""Failure detection in virtual time, to the millisecond: late at warntime, dead at
deadtime after the last heartbeat, initdead at start-up, restarts and clean leaves."""

from __future__ import annotations

import pytest

from cluster_configs import NATIVE_DEFAULT, cluster, timing
from vigil.config import NodeName, Timing
from vigil.membership import ChangeCause, PeerState, PeerStateChanged, Send
from vigil.sim import Delay, LinkConditions, Simulation

N1, N2, N3 = NodeName("node1"), NodeName("node2"), NodeName("node3")


def transitions(sim: Simulation, observer: str, peer: str) -> list[tuple[int, PeerState,
                                                                         ChangeCause]]:
    return [(at, e.new, e.cause) for at, _, e in sim.effects_of(PeerStateChanged, observer)
            if isinstance(e, PeerStateChanged) and e.node == peer]


def last_send(sim: Simulation, node: str, before: int) -> int:
    return max(at for at, _, _ in sim.effects_of(Send, node) if at < before)


TIMINGS = [
    pytest.param(timing(100, 500, warntime=250), id="sub-second 100ms/500ms"),
    pytest.param(NATIVE_DEFAULT, id="native default 200ms/2s"),
    pytest.param(timing(30, 95, warntime=61, initdead=400), id="tight 30ms/95ms"),
    pytest.param(Timing(2000, 20_000, 60_000, 240_000), id="field notes 2s/60s"),
]


@pytest.mark.parametrize("profile", TIMINGS)
@pytest.mark.parametrize("delay", [1, 7])
def test_crashed_peer_is_late_at_warntime_and_dead_at_deadtime_to_the_ms(
        profile: Timing, delay: int) -> None:
    crash_at = 10 * profile.keepalive_ms + 3 * profile.deadtime_ms + 13
    sim = Simulation(cluster(3, timing=profile), seed=1,
                     links=LinkConditions(delay=Delay(delay, delay)),
                     start_at={"node1": 0, "node2": 17, "node3": 29}, record_traffic=True)
    sim.crash("node3", crash_at)
    sim.run_until(crash_at + 2 * profile.deadtime_ms)
    last_heard = last_send(sim, "node3", crash_at) + delay
    for observer in ("node1", "node2"):
        after_crash = [t for t in transitions(sim, observer, "node3") if t[0] > crash_at]
        assert after_crash == [
            (last_heard + profile.warntime_ms, PeerState.LATE, ChangeCause.WARNTIME),
            (last_heard + profile.deadtime_ms, PeerState.DEAD, ChangeCause.DEADTIME),
        ]


def test_crashed_peer_on_two_links_is_dead_at_deadtime_after_the_later_link() -> None:
    # eth1 is slower: the last heartbeat heard is eth1's copy, and deadtime counts from it.
    sim = Simulation(cluster(2, links=("eth0", "eth1"), timing=timing(100, 500)), seed=3,
                     links={"eth0": LinkConditions(delay=Delay(2, 2)),
                            "eth1": LinkConditions(delay=Delay(9, 9))}, record_traffic=True)
    sim.crash("node2", 5_000)
    sim.run_until(7_000)
    last_heard = last_send(sim, "node2", 5_000) + 9
    dead = [t for t in transitions(sim, "node1", "node2") if t[1] is PeerState.DEAD]
    assert dead == [(last_heard + 500, PeerState.DEAD, ChangeCause.DEADTIME)]


def test_a_peer_that_never_starts_is_dead_exactly_at_initdead_of_each_observer() -> None:
    profile = timing(100, 500, initdead=1500)
    sim = Simulation(cluster(3, timing=profile), seed=1,
                     start_at={"node1": 0, "node2": 37, "node3": None})
    sim.run_until(3_000)
    assert transitions(sim, "node1", "node3") == [(1500, PeerState.DEAD, ChangeCause.INITDEAD)]
    assert transitions(sim, "node2", "node3") == [(1537, PeerState.DEAD, ChangeCause.INITDEAD)]
    assert sim.membership("node1").stable  # type: ignore[union-attr]


def test_a_restarted_peer_is_a_new_incarnation_without_waiting_for_deadtime() -> None:
    sim = Simulation(cluster(3), seed=1, links=LinkConditions(delay=Delay(3, 3)))
    sim.crash("node2", 5_000)
    sim.restart("node2", 5_300)  # back before deadtime ran out
    sim.run_until(8_000)
    for observer in ("node1", "node3"):
        after = [t for t in transitions(sim, observer, "node2") if t[0] >= 5_000]
        assert after == [(5_303, PeerState.UP, ChangeCause.RESTARTED)]
        core = sim.membership(observer)
        assert core is not None
        assert core.view.incarnation_of("node2") == 2


def test_a_peer_restarted_after_it_was_declared_dead_comes_back_as_new() -> None:
    sim = Simulation(cluster(3, timing=timing(100, 500)), seed=1)
    sim.crash("node2", 2_000)
    sim.restart("node2", 4_000)
    sim.run_until(5_000)
    kinds = [(t[1], t[2]) for t in transitions(sim, "node1", "node2") if t[0] >= 2_000]
    assert kinds == [(PeerState.LATE, ChangeCause.WARNTIME), (PeerState.DEAD, ChangeCause.DEADTIME),
                     (PeerState.UP, ChangeCause.RESTARTED)]


def test_a_cleanly_stopped_peer_is_seen_as_left_at_once() -> None:
    sim = Simulation(cluster(3), seed=1, links=LinkConditions(delay=Delay(4, 4)))
    sim.stop("node3", 5_000)
    sim.run_until(9_000)
    for observer in ("node1", "node2"):
        assert [t for t in transitions(sim, observer, "node3") if t[0] >= 5_000] == [
            (5_004, PeerState.DEAD, ChangeCause.LEFT)]


def test_losing_one_of_two_links_keeps_every_peer_and_the_view() -> None:
    sim = Simulation(cluster(3, links=("eth0", "eth1")), seed=5)
    sim.partition([["node1"], ["node2", "node3"]], at=3_000, links=["eth0"])
    sim.run_until(20_000)
    for observer in ("node1", "node2", "node3"):
        assert [t for t in sim.effects_of(PeerStateChanged, observer) if t[0] >= 3_000] == []
    core = sim.membership("node1")
    assert core is not None
    links = {n.name: [(link.name, link.state) for link in n.links]
             for n in core.snapshot(20_000).nodes}
    assert links[N2] == [("eth0", PeerState.DEAD), ("eth1", PeerState.UP)]


def test_peers_of_a_frozen_node_declare_it_dead_at_deadtime_and_take_it_back() -> None:
    sim = Simulation(cluster(3, timing=timing(100, 500)), seed=1, record_traffic=True)
    sim.pause("node2", at=3_000, until=4_500)
    sim.run_until(6_000)
    last_heard = last_send(sim, "node2", 3_000) + 1
    for observer in ("node1", "node3"):
        after = [t for t in transitions(sim, observer, "node2") if t[0] >= 3_000]
        assert after[:2] == [(last_heard + 250, PeerState.LATE, ChangeCause.WARNTIME),
                             (last_heard + 500, PeerState.DEAD, ChangeCause.DEADTIME)]
        assert after[2][1:] == (PeerState.UP, ChangeCause.HEARD)
        assert 4_500 <= after[2][0] <= 4_501
