"""A seed replays a run exactly; a run says its seed first, and a failure says how to replay."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from cluster_configs import cluster, timing
from vigil.config import NodeName
from vigil.membership import Effect, PeerState, PeerStateChanged
from vigil.sim import (
    Checker,
    Delay,
    LinkConditions,
    Simulation,
    SimulationError,
    default_checkers,
    heal,
    render,
    schedule_chaos,
)

LOSSY = LinkConditions(loss=0.3, delay=Delay(1, 40), duplicate=0.1, reorder=0.2, reorder_ms=80)


def chaotic_run(seed: int) -> str:
    sim = Simulation(cluster(3, timing=timing(100, 500)), seed, links=LOSSY, echo=None)
    schedule_chaos(sim, 200, 8_000)
    heal(sim, 8_000, LinkConditions())
    sim.run_until(9_000)
    return render(sim.timeline)


def test_the_same_seed_replays_the_same_timeline() -> None:
    assert chaotic_run(7) == chaotic_run(7)


def test_different_seeds_give_different_runs() -> None:
    assert chaotic_run(7) != chaotic_run(8)


def test_a_run_prints_its_seed_and_options_first() -> None:
    lines: list[str] = []
    Simulation(cluster(2, timing=timing(100, 500)), 42, links=LOSSY, echo=lines.append)
    assert len(lines) == 1
    assert lines[0].startswith("SEED=42 ")
    assert "keepalive=100ms" in lines[0]
    assert "deadtime=500ms" in lines[0]
    assert "loss=0.3" in lines[0]
    assert "delay=1-40ms" in lines[0]


class DeclaresEveryDeathEarly(Checker):
    """A checker that fails on the first death: to see what a failure says."""

    def stepped(self, sim: Simulation, node: NodeName, effects: Sequence[Effect],
                at: int) -> None:
        from vigil.sim import InvariantViolation

        for e in effects:
            if isinstance(e, PeerStateChanged) and e.new is PeerState.DEAD:
                raise InvariantViolation(f"{node} saw {e.node} die")


def test_a_broken_invariant_names_the_seed_and_how_to_replay_it() -> None:
    sim = Simulation(cluster(3, timing=timing(100, 500)), 1234, echo=None,
                     checkers=[*default_checkers(), DeclaresEveryDeathEarly()])
    sim.crash("node3", 1_000)
    with pytest.raises(SimulationError) as failure:
        sim.run_until(5_000)
    message = str(failure.value)
    assert "node1 saw node3 die" in message or "node2 saw node3 die" in message
    assert "SEED=1234" in message
    assert "replay" in message
    assert failure.value.seed == 1234
    assert failure.value.at_ms > 1_000  # the crash came first
