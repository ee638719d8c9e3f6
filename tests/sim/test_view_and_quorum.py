"""Views, the DC and quorum as a cluster lives through crashes and partitions."""

from __future__ import annotations

from dataclasses import replace

from cluster_configs import cluster, timing
from vigil.config import ClusterConfig, NodeName, NoQuorumPolicy
from vigil.membership import CoordinatorChanged, PeerState, PeerStateChanged, QuorumChanged
from vigil.sim import Delay, LinkConditions, Simulation, agreement

FAST = timing(100, 500, initdead=1500)


def dc_changes(sim: Simulation, node: str) -> list[tuple[int, NodeName | None]]:
    return [(at, e.new) for at, _, e in sim.effects_of(CoordinatorChanged, node)
            if isinstance(e, CoordinatorChanged)]


def quorate_at(sim: Simulation, node: str) -> list[tuple[int, bool]]:
    """When NODE gained or lost quorum (QuorumChanged also reports vote counts)."""
    flips: list[tuple[int, bool]] = []
    for at, _, e in sim.effects_of(QuorumChanged, node):
        assert isinstance(e, QuorumChanged)
        if not flips or flips[-1][1] != e.status.quorate:
            flips.append((at, e.status.quorate))
    return flips


def test_dc_is_the_first_node_in_configuration_order_not_by_name() -> None:
    sim = Simulation(cluster(["node3", "node1", "node2"], timing=FAST), seed=1)
    sim.run_until(1_000)
    agreed = agreement(sim)
    assert agreed is not None
    assert agreed[1] == "node3"


def test_when_the_dc_crashes_the_next_in_order_takes_over_once_the_view_is_stable() -> None:
    sim = Simulation(cluster(["node3", "node1", "node2"], timing=FAST), seed=1,
                     links=LinkConditions(delay=Delay(2, 2)))
    sim.crash("node3", 2_000)
    sim.restart("node3", 4_000)
    sim.run_until(6_000)
    for node in ("node1", "node2"):
        changes = dc_changes(sim, node)
        assert [dc for _, dc in changes] == ["node3", None, "node1", "node3"]
        # No DC from node3's death until the survivors agree: within keepalive + 2 delays.
        died, took_over = changes[1][0], changes[2][0]
        assert 0 <= took_over - died <= 100 + 2 * 2
        assert changes[3][0] >= 4_000
    assert agreement(sim) is not None


def test_the_minority_side_of_a_partition_loses_quorum_and_the_majority_keeps_it() -> None:
    config = cluster(3, timing=FAST)
    config = replace(config, quorum=replace(config.quorum,
                                            no_quorum_policy=NoQuorumPolicy.FREEZE))
    sim = Simulation(config, seed=1)
    sim.partition([["node1"], ["node2", "node3"]], at=3_000, until=8_000)
    sim.run_until(12_000)
    flips = quorate_at(sim, "node1")
    assert [q for _, q in flips] == [False, True, False, True]
    # Quorum goes the moment node1 declares the second of its peers dead.
    deaths = [at for at, _, e in sim.effects_of(PeerStateChanged, "node1")
              if isinstance(e, PeerStateChanged) and e.new is PeerState.DEAD]
    assert flips[2][0] == max(deaths)
    lost = next(e for at, _, e in sim.effects_of(QuorumChanged, "node1")
                if at >= 3_000 and isinstance(e, QuorumChanged))
    assert lost.status.no_quorum_policy is NoQuorumPolicy.FREEZE
    assert "1 of 3 votes" in lost.reason
    assert "no-quorum-policy=freeze" in lost.reason
    for node in ("node2", "node3"):
        assert all(q for at, q in quorate_at(sim, node) if at >= 3_000)
    # While split, the majority has its own DC; after the heal there is one again.
    assert agreement(sim) is not None


def two_node(wait_for_all: bool) -> ClusterConfig:
    config = cluster(2, timing=FAST)
    return replace(config, quorum=replace(config.quorum, two_node=True,
                                          wait_for_all=wait_for_all))


def test_two_node_with_wait_for_all_never_acts_alone_before_seeing_its_peer() -> None:
    sim = Simulation(two_node(wait_for_all=True), seed=1, start_at={"node2": None})
    sim.start("node2", 5_000)
    sim.crash("node2", 10_000)
    sim.run_until(15_000)
    # Alone from start-up through initdead: not quorate. Once both were seen,
    # quorate, and still quorate after the peer died (two_node).
    assert quorate_at(sim, "node1") == [(0, False), (5_001, True)]
    core = sim.membership("node1")
    assert core is not None
    assert core.quorum.quorate
    assert core.view.nodes == {"node1"}


def test_two_node_without_wait_for_all_is_quorate_alone_from_start() -> None:
    sim = Simulation(two_node(wait_for_all=False), seed=1, start_at={"node2": None})
    sim.run_until(3_000)
    assert quorate_at(sim, "node1") == [(0, True)]
