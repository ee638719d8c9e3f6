"""Fencing in the simulator: the two-node fence race, recovery only after the fence,
and watchdog self-fencing with its exact timing.

The fence devices and watchdogs are the simulator's fakes (``vigil.sim.fencing``);
what is real is the coordinator deciding when to fence and when to recover.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from cluster_factory import with_groups

from vigil.config import ClusterConfig, FenceDevice, Fencing, NodeName
from vigil.coordinator import self_fence_wait_ms, watchdog_timeout_ms
from vigil.sim import ClusterSimulation, Delay, LinkConditions

CALM = LinkConditions(delay=Delay(1, 5))


def two_node(devices: tuple[FenceDevice, ...]) -> ClusterConfig:
    config = with_groups(2, {"web": ("node1", ["vip", "app"])}, two_node=True)
    return replace(config, quorum=replace(config.quorum, wait_for_all=True),
                   fencing=Fencing(devices=devices))


def device(name: str, target: str, *, delay_ms: int = 0, random_ms: int = 0) -> FenceDevice:
    return FenceDevice(name, "fence_sim", nodes=(NodeName(target),), delay_ms=delay_ms,
                       random_delay_ms=random_ms)


def fenced_nodes(sim: ClusterSimulation) -> list[str]:
    return sorted({r.target for r in sim.fencing.records if r.done_ms is not None})


@pytest.mark.parametrize(("delay_on", "survivor", "loser"), [
    ("node1", "node1", "node2"),  # fencing node1 waits: node1 shoots first and wins
    ("node2", "node2", "node1"),
])
def test_two_node_split_the_delayed_target_wins_the_fence_race_and_the_loser_is_fenced(
        delay_on: str, survivor: str, loser: str) -> None:
    config = two_node((device("ipmi-node1", "node1", delay_ms=2000 if delay_on == "node1"
                              else 0),
                       device("ipmi-node2", "node2", delay_ms=2000 if delay_on == "node2"
                              else 0)))
    sim = ClusterSimulation(config, seed=1, links=CALM, echo=None, checkers=[], boot_ms=60_000)
    sim.run_until(4_000)
    assert sim.active("vip") == ("node1",)
    sim.partition([["node1"], ["node2"]], at=5_000)
    sim.run_until(12_000)
    # Both sides asked to fence; only one fence took, the survivor's.
    asked = {(r.fencer, r.target) for r in sim.fencing.records}
    assert asked == {("node1", "node2"), ("node2", "node1")}
    assert fenced_nodes(sim) == [loser]
    assert sim.is_running(survivor)
    assert not sim.is_running(loser)
    assert sim.active("vip") == (survivor,)
    assert sim.active("app") == (survivor,)


def test_two_node_random_delay_race_never_leaves_both_running_or_both_fenced() -> None:
    config = two_node((device("ipmi-node1", "node1", random_ms=3000),
                       device("ipmi-node2", "node2", random_ms=3000)))
    winners = set()
    for seed in range(30):
        sim = ClusterSimulation(config, seed=seed, links=CALM, echo=None, checkers=[],
                                boot_ms=60_000)
        sim.partition([["node1"], ["node2"]], at=5_000)
        sim.run_until(14_000)
        fenced = fenced_nodes(sim)
        assert len(fenced) == 1, f"SEED={seed}: fenced {fenced}"
        survivor = "node2" if fenced == ["node1"] else "node1"
        winners.add(survivor)
        assert sim.active("vip") == (survivor,), f"SEED={seed}"
    assert winners == {"node1", "node2"}  # the random delay really decides


def test_recovery_waits_for_the_fence_to_be_confirmed() -> None:
    config = replace(with_groups(3, {"web": ("node1", ["vip"])}),
                     fencing=Fencing(devices=(FenceDevice("pdu", "fence_sim"),)))
    sim = ClusterSimulation(config, seed=3, links=CALM, echo=None, checkers=[],
                            fence_op_ms=5_000)
    sim.run_until(4_000)
    assert sim.active("vip") == ("node1",)
    sim.pause("node1", at=5_000, until=30_000)  # frozen daemon: the VIP keeps running
    sim.run_until(30_000)
    fence = next(r for r in sim.fencing.records if r.target == "node1")
    starts = [at for at, node in sim.history.of("vip", "up") if node != "node1"]
    assert fence.done_ms is not None
    assert starts
    assert starts[0] >= fence.done_ms  # never while node1 could still run it


def watchdog_cluster() -> ClusterConfig:
    return replace(with_groups(3, {"web": ("node1", ["vip"])}), watchdog=Path("/dev/watchdog"))


def test_frozen_node_with_a_watchdog_resets_and_counts_as_fenced_after_the_exact_wait() -> None:
    config = watchdog_cluster()
    sim = ClusterSimulation(config, seed=4, links=CALM, echo=None, checkers=[],
                            boot_ms=60_000)
    sim.run_until(4_000)
    sim.pause("node1", at=5_000, until=40_000)
    sim.run_until(40_000)
    [(reset_at, node, _)] = sim.fencing.resets
    assert node == "node1"
    # Fed every keepalive since boot (0 ms) until the freeze at 5,000 ms (the freeze comes
    # first at 5,000: it was scheduled first), so it resets one timeout after 4,900 ms.
    last_feed = 5_000 - config.timing.keepalive_ms
    assert reset_at == last_feed + watchdog_timeout_ms(config)
    decided = next(e.at_ms for e in sim.events("node2")
                   if e.text.startswith("fencing node1 by its watchdog"))
    fenced = next(e.at_ms for e in sim.events("node2") if e.text.startswith("node1 fenced"))
    assert fenced == decided + self_fence_wait_ms(config)
    [(started, where)] = [(at, n) for at, n in sim.history.of("vip", "up") if at > 5_000]
    assert where != "node1"
    assert started >= fenced > reset_at
