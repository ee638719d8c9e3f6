"""Partitions and heals (issue 10): one owner after every heal, announced at once.

Timing: keepalive 100 ms, warntime 500, deadtime 1000; links deliver in 1 ms
(random tests: 1-5 ms); simulated starts and stops take 50 ms. ``vip`` is a
``vigil:ipaddr`` (the coordinator asks it to announce again), ``app`` a dummy.
The schedule is the netns test's: the path between the nodes is cut for 3 s
at 5050 ms, then healed at 8050 ms.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from cluster_factory import with_groups

from vigil.config import AgentSpec, AutoFailback, ClusterConfig
from vigil.coordinator import EventKind
from vigil.sim import AgentBehaviour, ClusterSimulation, Delay, ExclusiveActive, LinkConditions
from vigil.sim.cluster import liveness_bound_ms
from vigil.sim.resource_checks import HealInvariant

ONE_MS = LinkConditions(delay=Delay(1, 1))
CALM = LinkConditions(delay=Delay(1, 5))
CUT, HEAL = 5050, 8050


def with_vip(config: ClusterConfig) -> ClusterConfig:
    ipaddr = AgentSpec("vigil", "ipaddr")
    return replace(config, resources=tuple(replace(r, agent=ipaddr) if r.id == "vip" else r
                                           for r in config.resources))


def two_node(**kw: object) -> ClusterConfig:
    """Heartbeat's layout: two nodes, two_node quorum, no fencing (compatibility mode)."""
    return with_vip(with_groups(["node1", "node2"], {"web": ("node1", ["vip", "app"])},
                                two_node=True, **kw))  # type: ignore[arg-type]


def three_node(**kw: object) -> ClusterConfig:
    return with_vip(with_groups(3, {"web": ("node1", ["vip", "app"])},
                                **kw))  # type: ignore[arg-type]


def downs(sim: ClusterSimulation, node: str, after: int) -> list[tuple[int, str, str]]:
    return [(at, r, what) for at, n, r, what in sim.history.entries
            if n == node and at >= after and what.startswith("down")]


def test_two_node_split_brain_heals_with_the_preferred_copy_kept_and_announced_at_once() -> None:
    sim = ClusterSimulation(two_node(), seed=1, links=ONE_MS, echo=None, resource_checkers=[])
    sim.partition([["node1"], ["node2"]], at=CUT, until=HEAL)
    sim.run_until(7000)
    # Without fencing node2 takes over after deadtime: the group runs on both sides,
    # and status on node2 says so while it lasts.
    assert (sim.active("vip"), sim.active("app")) == (("node1", "node2"), ("node1", "node2"))
    warnings = sim.coordinator("node2").status(7000).warnings  # type: ignore[union-attr]
    assert ("split brain possible: vip, app run on node2 and ran on node1 when it left the "
            "view; nothing fenced node1, so both sides may run them until the partition "
            "heals") in warnings
    sim.run_until(10_000)
    # Heal at 8050; heartbeats go out on the 100 ms grid: node1 hears node2 at 8101.
    # Agreement and the DC's barrier take 3 ms: the DC (node1) plans at 8104 and
    # stops node2's copy, app then vip, each 50 ms plus a round trip.
    assert sim.history.of("app", "stop ok") == [(8155, "node2")]
    assert sim.history.of("vip", "stop ok") == [(8207, "node2")]
    # One holder 106 ms after the first heartbeat across; the winner never stopped.
    assert (sim.active("vip"), sim.active("app")) == (("node1",), ("node1",))
    assert downs(sim, "node1", CUT) == []
    # node2's report of its stop reaches node1 at 8208: node1 announces vip again then,
    # after the loser's last word, so clients end up at node1. node2 never announces.
    assert sim.reannounced() == [(8208, "node1", "vip")]
    healed = [e for e in sim.events("node1") if e.kind is EventKind.SPLIT_BRAIN]
    assert [(e.at_ms, e.text) for e in healed] == [(8104, (
        "split brain healed: vip, app ran on node1 and node2 at once during a partition; "
        "node1 keeps them, the other copies stop (the copy on node1 stays: it has the "
        "higher score (node1 100 > node2 0))"))]
    assert not any(w.startswith("split brain possible: vip")
                   for w in sim.coordinator("node1").status(10_000).warnings)  # type: ignore[union-attr]


def test_two_node_heal_with_auto_failback_off_keeps_the_copy_of_the_first_node() -> None:
    sim = ClusterSimulation(two_node(auto_failback=AutoFailback.OFF), seed=1, links=ONE_MS,
                            echo=None, resource_checkers=[])
    sim.partition([["node1"], ["node2"]], at=CUT, until=HEAL)
    sim.run_until(10_000)
    # Stickiness INFINITY on both copies: a tie, broken by node order (never both stop).
    assert (sim.active("vip"), sim.active("app")) == (("node1",), ("node1",))
    assert downs(sim, "node1", CUT) == []
    stop = next(e.text for e in sim.events("node1") if e.text.startswith("Stop vip on node2"))
    assert stop.endswith("the copy on node1 stays: both score INFINITY, and node1 comes "
                         "first in node order")


def test_three_node_quorum_partition_never_has_two_holders_and_the_holder_announces() -> None:
    config = three_node(auto_failback=AutoFailback.OFF)
    sim = ClusterSimulation(config, seed=1, links=ONE_MS, echo=None,
                            resource_checkers=[ExclusiveActive(config)])
    sim.partition([["node1"], ["node2", "node3"]], at=CUT, until=HEAL)
    sim.run_until(10_000)
    # The minority stopped at warntime (5501 + 2 stops); node2 started at 6004; the
    # ExclusiveActive checker saw every start. After the heal node2 keeps it
    # (auto_failback off) and announces vip as soon as node1's report under the new
    # view shows nothing there.
    assert sim.history.of("vip", "stop ok") == [(5601, "node1")]
    assert sim.history.of("vip", "up")[-1] == (6004, "node2")
    assert (sim.active("vip"), sim.active("app")) == (("node2",), ("node2",))
    # Heartbeats on the 100 ms grid: 8101 they hear each other; 8102 the first reports
    # under the new view arrive and show vip nowhere else.
    assert sim.reannounced() == [(8102, "node2", "vip")]


def test_freeze_minority_copy_loses_to_the_copy_started_under_quorum() -> None:
    from vigil.config import NoQuorumPolicy
    config = three_node(auto_failback=AutoFailback.OFF, no_quorum_policy=NoQuorumPolicy.FREEZE)
    sim = ClusterSimulation(config, seed=1, links=ONE_MS, echo=None, resource_checkers=[])
    sim.partition([["node1"], ["node2", "node3"]], at=CUT, until=HEAL)
    sim.run_until(10_000)
    # node1 (preferred, first in node order) froze its copy without quorum; node2's
    # was started under quorum. Quorum comes first: node1's copy stops.
    assert (sim.active("vip"), sim.active("app")) == (("node2",), ("node2",))
    assert downs(sim, "node2", CUT) == []
    stop = next(e.text for e in sim.events("node1") if e.text.startswith("Stop vip on node1"))
    assert stop.endswith("the copy on node2 stays: node2 had quorum while it ran, "
                         "node1 lost quorum")


def random_partitions(sim: ClusterSimulation, bound: int) -> tuple[list[int], list[str]]:
    """Two to four partitions one after the other, each healed and left to merge."""
    rng = sim.rng
    names = list(sim.config.node_names)
    at, heals, plan = 4000, [], []
    for _ in range(rng.randint(2, 4)):
        until = at + rng.randint(200, 4000)
        shuffled = rng.sample(names, len(names))
        split = rng.randint(1, len(names) - 1)
        sim.partition([shuffled[:split], shuffled[split:]], at, until)
        plan.append(f"{shuffled[:split]}|{shuffled[split:]} {at}..{until} ms")
        heals.append(until)
        at = until + bound + rng.randint(1, 500)
    return heals, plan


@pytest.mark.parametrize("nodes", [2, 3])
@pytest.mark.parametrize("seed", range(40))
def test_random_partitions_leave_exactly_one_copy_after_every_heal(nodes: int, seed: int) -> None:
    config = two_node() if nodes == 2 else three_node(auto_failback=AutoFailback.OFF)
    agents = AgentBehaviour()
    bound = liveness_bound_ms(config, agents, max_delay_ms=5)
    sim = ClusterSimulation(config, seed=seed, links=CALM, agents=agents, echo=None,
                            resource_checkers=[])
    heals, plan = random_partitions(sim, bound)
    checker = HealInvariant(config, heals, bound, config.timing.keepalive_ms + 5)
    sim.resource_checkers.append(checker)
    if nodes == 3:  # with quorum: not even during the partition
        sim.resource_checkers.append(ExclusiveActive(config))
    for heal in heals:
        sim.call_at(heal + bound, lambda h=heal: checker.merge_completed(h, h + bound))
    sim.run_until(heals[-1] + bound + 1)
    assert len(checker.merges) == 2 * len(heals), f"SEED={seed}: {plan}"
