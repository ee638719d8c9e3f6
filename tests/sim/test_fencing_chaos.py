"""Chaos with fencing: frozen daemons, one-way cuts and lossy links never run a resource twice.

What quorum alone cannot make safe (tests/sim/test_failover_chaos.py leaves it
out) is safe with fencing: every seed draws crashes, clean stops, pauses
(SIGSTOP longer than deadtime, services running on), symmetric partitions,
one-way cuts, lossy, slow, duplicating, reordering links, slow and failing
resource agents (starts, stops, services dying under them) and, where fence
devices are configured, slow and failing fence agents
(``vigil.sim.chaos.schedule_chaos``), and ``ExclusiveActive`` checks every
start against the simulated services' truth: an exclusive resource is never
active on two nodes unless one was fenced (powered off) in between. Then a
heal and a liveness phase: every resource runs once within a bound, counted
from the heal or, when a failed fence still waits for its retry (the daemon's
back-off), from the moment the fence agents are quiet.

Three layouts: three nodes with a fence device, three nodes with watchdog
self-fencing only, and two nodes (two_node, wait_for_all) whose fence race a
random delay decides. A failing seed prints the pytest command replaying it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from cluster_factory import with_groups

from vigil.config import ClusterConfig, FenceDevice, Fencing, NodeName, Quorum
from vigil.coordinator import self_fence_wait_ms
from vigil.sim import AgentBehaviour, ClusterSimulation, Delay, LinkConditions, heal
from vigil.sim.chaos import fence_quiet_ms, schedule_chaos
from vigil.sim.cluster import liveness_bound_ms

GROUPS = {"web": ("node1", ["vip", "app"]), "db": ("node2", ["db"])}
DEVICES = Fencing(devices=(FenceDevice("pdu", "fence_sim", random_delay_ms=300),))
LAYOUTS: dict[str, ClusterConfig] = {
    "fence-device": replace(with_groups(3, GROUPS), fencing=DEVICES),
    "watchdog": replace(with_groups(3, GROUPS), watchdog=Path("/dev/watchdog")),
    # two_node implies wait_for_all (the configuration readers set both): a node
    # rebooted by the winner stays out until it sees the other again.
    "two-node": replace(with_groups(2, GROUPS, two_node=True),
                        quorum=Quorum(two_node=True, wait_for_all=True), fencing=Fencing(devices=(
        FenceDevice("ipmi1", "fence_sim", nodes=(NodeName("node1"),), random_delay_ms=1000),
        FenceDevice("ipmi2", "fence_sim", nodes=(NodeName("node2"),), random_delay_ms=1000)))),
}
#: With the 220 of test_failover_chaos.py and the 180 of test_arbiter_chaos.py: 1,000 in CI.
SEEDS = {"fence-device": 200, "watchdog": 200, "two-node": 200}
CALM = LinkConditions(delay=Delay(1, 5))
AGENTS = AgentBehaviour()
FAULTS_FROM, HEAL_AT = 4_000, 10_000
FENCE_OP_MS, BOOT_MS = 200, 1_000


def settle_ms(config: ClusterConfig) -> int:
    """After the heal: a fence or watchdog reset still under way ends, the machine boots,
    the others notice it gone (deadtime), then the coordinator's own liveness bound."""
    t = config.timing
    longest_fence = max([d.delay_ms + d.random_delay_ms for d in config.fencing.devices] + [0])
    fence = FENCE_OP_MS + longest_fence
    if config.watchdog is not None:
        fence = self_fence_wait_ms(config)
    return fence + BOOT_MS + t.initdead_ms + t.deadtime_ms + \
        liveness_bound_ms(config, AGENTS, max_delay_ms=5)


CASES = [(layout, seed) for layout, n in SEEDS.items() for seed in range(n)]


@pytest.mark.parametrize(("layout", "seed"), CASES)
def test_pauses_one_way_cuts_and_lossy_links_with_fencing_never_run_a_resource_twice(
        layout: str, seed: int) -> None:
    config = LAYOUTS[layout]
    sim = ClusterSimulation(config, seed=seed, links=CALM, agents=AGENTS, echo=None,
                            checkers=[], fence_op_ms=FENCE_OP_MS, boot_ms=BOOT_MS)
    replay = (f"replay: .venv/bin/python -m pytest 'tests/sim/test_fencing_chaos.py::"
              f"test_pauses_one_way_cuts_and_lossy_links_with_fencing_never_run_a_resource_"
              f"twice[{layout}-{seed}]'")
    plan = schedule_chaos(sim, FAULTS_FROM, HEAL_AT, faults=6, agents=True)
    heal(sim, HEAL_AT, CALM)
    settle = settle_ms(config)
    end = HEAL_AT + settle
    try:
        sim.run_until(end)
        # A fence retry still waiting (or an agent run begun before the heal): the
        # bound counts from when the fence agents are quiet.
        while fence_quiet_ms(sim) + settle > end:
            end = fence_quiet_ms(sim) + settle
            sim.run_until(end)
    except AssertionError as e:
        raise AssertionError(f"{e}\n  faults: {plan}\n  {replay}") from e
    problems = sim.unsettled()
    assert problems == [], (f"SEED={seed} {layout}: {end - HEAL_AT} ms after the heal: "
                            f"{problems}; faults: {plan}\n  {replay}")
