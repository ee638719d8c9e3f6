"""Chaos with an arbitrator: a two-node cluster without fencing never runs a resource twice.

Two nodes, no ``two_node``, no fencing: the third vote is the arbitrator's
(``vigil.sim.arbiter``: a lease with a TTL in virtual time). Every seed draws
symmetric partitions (on one link or both), crashes, clean stops, lossy and
duplicating links, and windows in which a node cannot reach the arbitrator
(alone, or together with a partition); ``ExclusiveActive`` checks
every start against the simulated services' truth. Then a heal and a liveness
phase: every resource runs once within a bound that includes a lease lapse.

Left out, as in tests/sim/test_failover_chaos.py, because a lease alone cannot
make them safe: pauses (a frozen holder's services run on past its lease; that
needs fencing or a watchdog) and one-way cuts (a node that still hears its peer
keeps its quorum while the peer, which does not, holds the lease), and slow or
reordering links (seed 547 of an earlier draw: as a partition heals, the DC
starts a resource on a peer it has not heard for warntime, declares that peer
dead 8 ms later and, without fencing, counts the resource stopped and starts it
again itself; a rule of vigil.coordinator.dc, not of the lease).
A failing seed prints the pytest command replaying it.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from cluster_factory import with_groups

from vigil.config import (
    Arbiter,
    ArbiterBackend,
    ClusterConfig,
    Endpoint,
    Link,
    LinkKind,
    NodeName,
)
from vigil.sim import AgentBehaviour, ClusterSimulation, Delay, LinkConditions, heal
from vigil.sim.cluster import liveness_bound_ms

#: Stops time out after 300 ms (cluster_factory.OPS): the TTL must exceed 300 + 500.
TTL_MS = 1_500
CONFIG: ClusterConfig = replace(
    with_groups(2, {"web": ("node1", ["vip", "app"]), "db": ("node2", ["db"])}),
    # Two heartbeat links, as the field notes' clusters: a partition may cut one or both.
    links=(Link("eth0", LinkKind.UCAST, 694), Link("eth1", LinkKind.UCAST, 695)),
    arbiter=Arbiter(ArbiterBackend.VIGIL, TTL_MS, Endpoint("192.0.2.9", 6950)))
CALM = LinkConditions(delay=Delay(1, 5))
AGENTS = AgentBehaviour()
FAULTS_FROM, HEAL_AT = 4_000, 12_000
#: With test_failover_chaos.py (220) and test_fencing_chaos.py (3 × 200): 1,000 in CI.
SEEDS = 180


def settle_ms(config: ClusterConfig) -> int:
    """After the heal: a lease held by a node that crashed lapses (TTL, plus one renew
    period until the survivor asks), a restarted node waits out initdead, then the
    coordinator's own liveness bound."""
    t = config.timing
    return TTL_MS + TTL_MS // 3 + t.initdead_ms + t.deadtime_ms + \
        liveness_bound_ms(config, AGENTS, max_delay_ms=5)


def schedule_faults(sim: ClusterSimulation, faults: int = 6) -> list[str]:
    rng = sim.rng
    arbiter = sim.arbiter
    assert arbiter is not None
    names: list[NodeName] = list(sim.config.node_names)
    links = [link.name for link in sim.config.links]
    busy: dict[NodeName, list[tuple[int, int]]] = {n: [] for n in names}
    plan: list[str] = []
    deadtime = sim.config.timing.deadtime_ms
    for _ in range(faults):
        kind = rng.choice(["partition", "partition", "arbiter", "arbiter", "crash", "stop",
                           "link"])
        a = rng.randrange(FAULTS_FROM, HEAL_AT - 1)
        b = min(HEAL_AT - 1, a + rng.randint(1, 3 * deadtime))
        if kind == "partition":
            on = None if rng.random() < 0.7 else [rng.choice(links)]
            sim.partition([[names[0]], [names[1]]], a, b, links=on)
            plan.append(f"partition on {on or 'all links'} {a}..{b} ms")
            if on is None and rng.random() < 0.5:  # and one side loses the arbitrator too
                node = rng.choice(names)
                arbiter.isolate(node, a, b)
                plan.append(f"{node} cut off the arbitrator {a}..{b} ms")
        elif kind == "arbiter":
            node = rng.choice(names)
            arbiter.isolate(node, a, b)
            plan.append(f"{node} cut off the arbitrator {a}..{b} ms")
        elif kind in ("crash", "stop"):
            node = rng.choice(names)
            if kind == "stop":
                # A restart before the handover's stops end is modelled as a clean leave
                # (ClusterSimulation._boot), which the DC takes as "stopped": not a fault
                # a lease can answer for. Give the handover its stop time.
                b = min(HEAL_AT - 1, max(b, a + 500))
            if any(not (b + 1 < x or y + 1 < a) for x, y in busy[node]):
                continue
            busy[node].append((a, b))
            (sim.crash if kind == "crash" else sim.stop)(node, a)
            sim.restart(node, b)
            plan.append(f"{kind} {node} {a}..{b} ms")
        else:
            link = rng.choice(links)
            conditions = LinkConditions(loss=rng.choice([0.0, 0.1, 0.3, 0.6, 1.0]),
                                        delay=Delay(1, 5),
                                        duplicate=rng.choice([0.0, 0.05, 0.3]))
            sim.set_conditions(conditions, a, links=[link])
            plan.append(f"link {link} {conditions} from {a} ms")
    return plan


@pytest.mark.parametrize("seed", range(SEEDS))
def test_two_nodes_with_an_arbitrator_never_run_a_resource_twice(seed: int) -> None:
    sim = ClusterSimulation(CONFIG, seed=seed, links=CALM, agents=AGENTS, echo=None,
                            checkers=[])
    replay = (f"replay: .venv/bin/python -m pytest 'tests/sim/test_arbiter_chaos.py::"
              f"test_two_nodes_with_an_arbitrator_never_run_a_resource_twice[{seed}]'")
    plan = schedule_faults(sim)
    heal(sim, HEAL_AT, CALM)
    end = HEAL_AT + settle_ms(CONFIG)
    try:
        sim.run_until(end)
    except AssertionError as e:
        raise AssertionError(f"{e}\n  faults: {plan}\n  {replay}") from e
    problems = sim.unsettled()
    assert problems == [], (f"SEED={seed}: {end - HEAL_AT} ms after the heal: {problems}; "
                            f"faults: {plan}\n  {replay}")


def test_vigil_simulate_chaos_draws_arbitrator_cuts_only_with_an_arbitrator() -> None:
    from vigil.sim.chaos import schedule_chaos

    def plans(config: ClusterConfig) -> list[str]:
        drawn: list[str] = []
        for seed in range(10):
            sim = ClusterSimulation(config, seed=seed, links=CALM, echo=None, checkers=[])
            drawn += schedule_chaos(sim, FAULTS_FROM, HEAL_AT)
        return drawn

    assert any("cut off the arbitrator" in p for p in plans(CONFIG))
    assert not any("arbitrator" in p for p in plans(replace(CONFIG, arbiter=None)))
