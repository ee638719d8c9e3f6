"""After any partition heals, every node agrees on one stable view within a stated bound.

The bound (``vigil.sim.chaos.convergence_bound_ms``): keepalive + 2 × the
largest one-way delay after the heal. Each run is a safety phase of random
faults (symmetric and one-way partitions, partitions of one link, crashes,
clean stops, freezes, loss, delay, duplication, reordering), then a heal at H:
no cuts, no loss, every node running. By H + bound every node must hold the
same stable view of all nodes and the same DC, and keep it.
"""

from __future__ import annotations

import pytest

from cluster_configs import cluster, timing
from vigil.config import NodeName, Timing
from vigil.membership import CoordinatorChanged, ViewChanged
from vigil.sim import (
    Delay,
    LinkConditions,
    Simulation,
    agreement,
    convergence_bound_ms,
    heal,
    schedule_chaos,
)

CALM = LinkConditions(delay=Delay(1, 10))

CASES = [
    # (nodes, links, timing, safety phase in ms, seeds)
    pytest.param(3, ("eth0",), timing(200, 2000), 15_000, range(0, 120), id="3 nodes, default"),
    pytest.param(5, ("eth0", "eth1"), timing(100, 500), 6_000, range(1000, 1040),
                 id="5 nodes, two links, 100ms/500ms"),
    pytest.param(2, ("eth0",), timing(100, 500), 6_000, range(2000, 2100), id="2 nodes"),
]


@pytest.mark.parametrize(("nodes", "links", "profile", "chaos_ms", "seeds"), CASES)
def test_after_any_heal_all_nodes_agree_on_one_stable_view_within_the_bound(
        nodes: int, links: tuple[str, ...], profile: Timing, chaos_ms: int,
        seeds: range) -> None:
    config = cluster(nodes, links=links, timing=profile)
    bound = convergence_bound_ms(profile.keepalive_ms, CALM.max_delay_ms)
    worst = 0
    for seed in seeds:
        sim = Simulation(config, seed, links=LinkConditions(loss=0.1, delay=Delay(1, 30)))
        plan = schedule_chaos(sim, 500, chaos_ms, faults=8)
        heal(sim, chaos_ms, CALM)
        sim.run_until(chaos_ms + bound)
        agreed = agreement(sim)
        every = {m.node for m in agreed[0].members} if agreed else set()
        why = (f"SEED={seed}: no agreement {bound} ms after the heal at {chaos_ms} ms; "
               f"faults: {plan}")
        assert agreed is not None, why
        assert every == set(config.node_names), why
        assert agreed[1] == NodeName("node1")
        settled = max(at for at, _, _ in sim.effects_of(ViewChanged)
                      + sim.effects_of(CoordinatorChanged))
        worst = max(worst, settled - chaos_ms)
        # ... and it holds: nothing moves for three deadtimes more.
        sim.run_until(chaos_ms + bound + 3 * profile.deadtime_ms)
        assert agreement(sim) == agreed, f"SEED={seed}: the agreed view did not hold"
        assert max(at for at, _, _ in sim.effects_of(ViewChanged)) == settled
    print(f"worst convergence after heal: {worst} ms (bound {bound} ms)")
    assert worst <= bound
