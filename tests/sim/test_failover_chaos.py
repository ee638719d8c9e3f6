"""Random crashes, clean stops, partitions and heals: never two active copies; all run again.

Each seed draws its faults from ``sim.rng`` (replay with the seed). A safety
phase with faults, then a heal (no cuts, calm links, every node running) and a
liveness phase: within ``liveness_bound_ms`` after the heal every resource runs
on exactly one node with nothing in flight. ``ExclusiveActive`` checks every
start of every run against the simulated services' truth.

The cluster is a quorate three-node one without fencing. The faults are those
quorum alone makes safe: crashes (the machine and its services go down), clean
stops, and symmetric partitions on all links, with links delivering in 1-5 ms.
Pauses (a frozen daemon whose services keep running), one-way cuts and lossy
links need fencing or a watchdog to be safe (issue 7) and are not drawn here.
What makes partitions safe is the local rule (vigil.coordinator.local): a node
that hears no majority within warntime stops its resources, which with stops
of 50 ms ends long before the majority can declare it dead at deadtime.
"""

from __future__ import annotations

import pytest
from cluster_factory import with_groups

from vigil.config import ClusterConfig
from vigil.sim import AgentBehaviour, ClusterSimulation, Delay, LinkConditions, heal
from vigil.sim.cluster import liveness_bound_ms

CONFIG: ClusterConfig = with_groups(3, {"web": ("node1", ["vip", "app"]),
                                        "db": ("node2", ["db"])})
CALM = LinkConditions(delay=Delay(1, 5))
AGENTS = AgentBehaviour()
FAULTS_FROM, HEAL_AT = 4_000, 16_000
BOUND = liveness_bound_ms(CONFIG, AGENTS, max_delay_ms=5)
SEEDS = 220


def schedule_faults(sim: ClusterSimulation) -> list[str]:
    rng = sim.rng
    names = list(CONFIG.node_names)
    busy: dict[str, list[tuple[int, int]]] = {n: [] for n in names}
    plan: list[str] = []
    for _ in range(6):
        kind = rng.choice(["partition", "partition", "crash", "stop"])
        a = rng.randrange(FAULTS_FROM, HEAL_AT - 1)
        b = min(HEAL_AT - 1, a + rng.randint(1, 3 * CONFIG.timing.deadtime_ms))
        if kind == "partition":
            shuffled = rng.sample(names, len(names))
            split = rng.randint(1, len(names) - 1)
            sim.partition([shuffled[:split], shuffled[split:]], a, b)
            plan.append(f"partition {shuffled[:split]}|{shuffled[split:]} {a}..{b} ms")
            continue
        node = rng.choice(names)
        if any(not (b + 1 < x or y + 1 < a) for x, y in busy[node]):
            continue
        busy[node].append((a, b))
        (sim.crash if kind == "crash" else sim.stop)(node, a)
        sim.restart(node, b)
        plan.append(f"{kind} {node} {a}..{b} ms")
    return plan


def test_liveness_bound_is_what_the_docstring_adds_up() -> None:
    # keepalive + 2d, probe + 3d, in flight, 2 × (stop + 2d) + 2 × (start + 2d),
    # monitor interval + monitor + stop + start + 4d: with d = 5 ms.
    assert BOUND == (100 + 10) + (10 + 15) + 50 + (2 * 60 + 2 * 60) + (500 + 10 + 100 + 20)


@pytest.mark.parametrize("seed", range(SEEDS))
def test_random_crashes_stops_and_partitions_never_run_a_resource_twice(seed: int) -> None:
    sim = ClusterSimulation(CONFIG, seed=seed, links=CALM, agents=AGENTS, echo=None,
                            checkers=[])
    plan = schedule_faults(sim)
    heal(sim, HEAL_AT, CALM)
    sim.run_until(HEAL_AT + BOUND)
    problems = sim.unsettled()
    assert problems == [], (f"SEED={seed}: {BOUND} ms after the heal: {problems}; "
                            f"faults: {plan}")
