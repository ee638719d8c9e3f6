"""Rehearse a scenario on a configuration: the real core in the simulator, and what it did.

Rules of this file:
- ``rehearse`` runs ``ClusterSimulation`` (real membership and coordinator,
  simulated agents) on the configuration, applies the scenario's steps at
  their times, and returns a ``Rehearsal``: plain data that ``vigil.sim.report``
  renders. Same configuration, scenario and seed: the same rehearsal.
- A rehearsal shows what *would* happen, including the bad: two active copies
  of an exclusive resource are recorded (``violations``) and the run goes on,
  so a hung node without fencing shows its split brain instead of stopping.
- ``chaos`` is the opposite: random crash/stop/partition schedules, one seed
  each, with the safety checker that stops at the first violation and the
  liveness check after the heal; every failure comes with its seed. A
  configuration with fence devices gets the fencing chaos of the test suite
  (``vigil.sim.chaos.schedule_chaos``: also frozen daemons, one-way cuts,
  lossy links, slow and failing fence agents), which fencing makes safe.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from vigil.config import ClusterConfig, NodeName, ResourceId
from vigil.coordinator import AdminAnswered, AdminCommand, CommandKind, Log
from vigil.membership import (
    CoordinatorChanged,
    LinkStateChanged,
    PeerStateChanged,
    QuorumChanged,
    ViewChanged,
)
from vigil.sim.agents import DEFAULT_BEHAVIOUR, ResourceChecker
from vigil.sim.cluster import ClusterSimulation, liveness_bound_ms
from vigil.sim.fence_runs import FenceAgentBehaviour
from vigil.sim.fencing import BOOT_MS, FENCE_OP_MS
from vigil.sim.network import Delay, LinkConditions
from vigil.sim.resource_checks import ExclusiveActive
from vigil.sim.scenario import (
    Crash,
    FailResource,
    FenceFault,
    Freeze,
    Heal,
    Online,
    Partition,
    Scenario,
    Standby,
    Start,
    Stop,
)
from vigil.sim.simulation import SimulationError
from vigil.sim.timeline import Fault, describe

__all__ = ["ChaosRun", "Line", "Placement", "Rehearsal", "chaos", "rehearse"]

#: Links deliver in 1-5 ms: a LAN, drawn from the seed.
LAN = LinkConditions(delay=Delay(1, 5))


@dataclass(frozen=True, slots=True)
class Line:
    """One line of the timeline: when, which node noticed (None: the world), what."""

    at_ms: int
    node: NodeName | None
    kind: str  # step, fault, peer, link, view, dc, quorum, a `vigil events` kind, violation
    text: str


@dataclass(frozen=True, slots=True)
class Placement:
    resource: ResourceId
    group: str | None
    nodes: tuple[NodeName, ...]  # where its service is up (the truth, not a belief)


@dataclass(frozen=True, slots=True)
class NodeEnd:
    name: NodeName
    state: str  # running, frozen, down
    incarnation: int


@dataclass(frozen=True, slots=True)
class Rehearsal:
    description: str
    seed: int
    banner: str
    end_ms: int
    before_ms: int
    before: tuple[Placement, ...]
    lines: tuple[Line, ...]
    after: tuple[Placement, ...]
    nodes: tuple[NodeEnd, ...]
    dc: NodeName | None
    quorum: str
    violations: tuple[str, ...]


class _Overlaps(ResourceChecker):
    """Records every moment an exclusive resource becomes active on a second node."""

    def __init__(self, config: ClusterConfig) -> None:
        self.exclusive = {r.id for r in config.resources if r.exclusive}
        self.active: dict[ResourceId, set[NodeName]] = {}
        self.found: list[Line] = []

    def activated(self, node: NodeName, rid: ResourceId, at: int) -> None:
        holders = self.active.setdefault(rid, set())
        others = sorted(holders - {node})
        holders.add(node)
        if rid in self.exclusive and others:
            self.found.append(Line(at, node, "violation",
                                   f"{rid} started on {node} while still active on "
                                   f"{', '.join(others)}: two active copies"))

    def deactivated(self, node: NodeName, rid: ResourceId, at: int, why: str) -> None:
        self.active.get(rid, set()).discard(node)


def settle_ms(config: ClusterConfig) -> int:
    """How long after the last step a rehearsal runs unless the scenario says: failure
    detection, then every resource placed again, rounded up to a second."""
    t = config.timing
    need = t.deadtime_ms + t.initdead_ms + liveness_bound_ms(config, DEFAULT_BEHAVIOUR, 5)
    return math.ceil(need / 1000) * 1000


def rehearse(config: ClusterConfig, scenario: Scenario, seed: int = 1) -> Rehearsal:
    """Run SCENARIO (already ``check``ed against CONFIG) and say what happened."""
    overlaps = _Overlaps(config)
    sim = ClusterSimulation(config, seed, links=LAN, resource_checkers=[overlaps], echo=None)
    last = max((s.at_ms for s in scenario.steps), default=0)
    end = scenario.end_ms if scenario.end_ms is not None else last + settle_ms(config)
    steps: list[Line] = []
    first = scenario.steps[0].at_ms if scenario.steps else 0
    before: list[tuple[Placement, ...]] = []
    sim.call_at(first, lambda: before.append(_placement(sim)))
    for step in scenario.steps:
        sim.call_at(step.at_ms, _noted(steps, sim, step.text))
        _apply(sim, step.action, step.at_ms, end)
    violations: list[str] = []
    try:
        sim.run_until(end)
    except SimulationError as e:
        violations.append(str(e).splitlines()[0] + f" (at {e.at_ms} ms)")
    lines = _lines(sim, config) + steps + overlaps.found
    # Stable order: by time; within a millisecond, steps first, then faults, then the rest
    # in the order each source recorded them.
    rank = {"step": 0, "fault": 1}
    lines.sort(key=lambda ln: (ln.at_ms, rank.get(ln.kind, 2)))
    violations += [f"{ln.text} (at {ln.at_ms} ms)" for ln in overlaps.found]
    dc, quorum = _dc_and_quorum(sim)
    return Rehearsal(
        description=scenario.description, seed=seed, banner=sim.banner(), end_ms=sim.now_ms,
        before_ms=first, before=before[0] if before else _placement(sim), lines=tuple(lines),
        after=_placement(sim), nodes=tuple(
            NodeEnd(n, "frozen" if sim.is_paused(n) else "running" if sim.is_running(n)
                    else "down", sim.incarnation(n)) for n in config.node_names),
        dc=dc, quorum=quorum, violations=tuple(violations))


def _noted(steps: list[Line], sim: ClusterSimulation, text: str) -> Callable[[], None]:
    return lambda: steps.append(Line(sim.now_ms, None, "step", text))


def _apply(sim: ClusterSimulation, action: object, at: int, end: int) -> None:
    if isinstance(action, Crash):
        sim.crash(action.node, at)
    elif isinstance(action, Stop):
        sim.stop(action.node, at, why="stopped by the scenario")
    elif isinstance(action, Start):
        # Started only if down by then: "restart" of a running node is a stop and a start.
        node = action.node
        sim.call_at(at, lambda: None if sim.is_running(node) else sim.restart(node, sim.now_ms))
    elif isinstance(action, Freeze):
        sim.pause(action.node, at, action.until_ms if action.until_ms is not None else end)
    elif isinstance(action, Partition):
        sim.partition(action.groups, at, action.until_ms, links=action.links)
    elif isinstance(action, Heal):
        sim.heal(at)
    elif isinstance(action, FailResource):
        rid, only = action.resource, action.node

        def fail() -> None:
            for node in (only,) if only is not None else sim.active(rid):
                sim.kill_resource(node, rid, sim.now_ms)
        sim.call_at(at, fail)
    elif isinstance(action, FenceFault):
        sim.fencing.set_device(action.device, FenceAgentBehaviour(
            op_ms=action.op_ms, always_fails=action.fails), at)
        if action.until_ms is not None:
            sim.fencing.set_device(action.device, None, action.until_ms)
    elif isinstance(action, Standby | Online):
        kind = CommandKind.STANDBY if isinstance(action, Standby) else CommandKind.ONLINE
        command = AdminCommand(kind, action.node)
        target = action.node

        def run() -> None:
            # Typed on the node itself when it runs (hb_standby), else on any running node.
            runner = target if sim.is_running(target) else next(
                (n for n in sim.config.node_names if sim.is_running(n)), target)
            sim.admin(runner, command, sim.now_ms)
        sim.call_at(at, run)


def _placement(sim: ClusterSimulation) -> tuple[Placement, ...]:
    out = []
    for r in sim.config.resources:
        group = sim.config.group_of(r.id)
        out.append(Placement(r.id, group.id if group is not None else None, sim.active(r.id)))
    return tuple(out)


def _lines(sim: ClusterSimulation, config: ClusterConfig) -> list[Line]:
    several_links = len(config.links) > 1
    out: list[Line] = []
    for entry in sim.timeline:
        item = entry.item
        if isinstance(item, Fault):
            out.append(Line(entry.at_ms, entry.node, "fault", item.description))
            continue
        kind = ("peer" if isinstance(item, PeerStateChanged)
                else "link" if isinstance(item, LinkStateChanged) and several_links
                else "view" if isinstance(item, ViewChanged)
                else "dc" if isinstance(item, CoordinatorChanged)
                else "quorum" if isinstance(item, QuorumChanged) else None)
        if kind is not None:
            out.append(Line(entry.at_ms, entry.node, kind, describe(item)))
    # Each fence agent run when it ended (the DC's decision and its confirmation are
    # in its events log): what a slow or failing device did to the recovery.
    for record in sim.fencing.records:
        for a in record.attempts:
            out.append(Line(a.ended_ms, record.fencer, "fence",
                            f"fence agent {a.device}: {a.action.value} of {record.target} "
                            f"{a.outcome.value.replace('_', ' ')} after "
                            f"{a.ended_ms - a.started_ms} ms"))
    for at, node, effect in sim.log:
        if isinstance(effect, Log):
            out.append(Line(at, node, effect.entry.kind.value, effect.entry.text))
        elif isinstance(effect, AdminAnswered):
            verdict = "accepted" if effect.accepted else "refused"
            out.append(Line(at, node, "admin", f"command {verdict}: {effect.reason}"))
    return out


def _dc_and_quorum(sim: ClusterSimulation) -> tuple[NodeName | None, str]:
    """The DC and quorum as the running nodes see them (the first running node's words)."""
    for name in sim.config.node_names:
        m = sim.membership(name)
        if m is not None and not sim.is_paused(name):
            snap = m.snapshot(sim.now_ms)
            return snap.dc, snap.quorum.reason
    return None, "no node running"


# -- chaos ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChaosRun:
    seed: int
    faults: tuple[str, ...]
    problem: str | None  # None: safe and settled


def chaos(config: ClusterConfig, runs: int, first_seed: int = 1,
          progress: Callable[[ChaosRun], None] | None = None) -> list[ChaosRun]:
    """RUNS random schedules (seeds FIRST_SEED, FIRST_SEED + 1, ...) of crashes, clean stops
    and partitions (and, with fence devices, the rest of the fencing chaos), then a heal;
    each must keep exclusive resources single and settle."""
    from vigil.sim.chaos import fence_quiet_ms, heal, schedule_chaos

    t = config.timing
    start = t.initdead_ms + 2 * t.deadtime_ms
    heal_at = start + 8 * t.deadtime_ms
    settle = t.deadtime_ms + liveness_bound_ms(config, DEFAULT_BEHAVIOUR, 5)
    fenced = config.fencing.enabled
    if fenced:
        # a fence under way ends, the machine boots and waits initdead to join
        longest = max([d.random_delay_ms + max([d.delay_ms, *d.delay_by_node.values()])
                       for d in config.fencing.devices] + [0])
        settle += FENCE_OP_MS + longest + BOOT_MS + t.initdead_ms
    results: list[ChaosRun] = []
    for seed in range(first_seed, first_seed + runs):
        sim = ClusterSimulation(config, seed, links=LAN, echo=None, checkers=[],
                                resource_checkers=[ExclusiveActive(config)])
        plan = schedule_chaos(sim, start, heal_at, faults=6) if fenced \
            else _schedule(sim, start, heal_at)
        heal(sim, heal_at, LAN)
        problem: str | None = None
        try:
            end = heal_at + settle
            sim.run_until(end)
            while fence_quiet_ms(sim) + settle > end:  # a fence retry was still due
                end = fence_quiet_ms(sim) + settle
                sim.run_until(end)
            left = sim.unsettled()
            if left:
                problem = (f"not settled {end - heal_at} ms after the heal: "
                           + "; ".join(left))
        except SimulationError as e:
            problem = str(e).splitlines()[0] + f" at {e.at_ms} ms"
        run = ChaosRun(seed, tuple(plan), problem)
        results.append(run)
        if progress is not None:
            progress(run)
    return results


def _schedule(sim: ClusterSimulation, start: int, end: int) -> list[str]:
    """Faults quorum alone keeps safe (no fencing in the simulator): crashes, clean stops,
    symmetric partitions; each over by END."""
    rng = sim.rng
    names = list(sim.config.node_names)
    deadtime = sim.config.timing.deadtime_ms
    busy: dict[str, list[tuple[int, int]]] = {n: [] for n in names}
    plan: list[str] = []
    for _ in range(6):
        kind = rng.choice(["partition", "partition", "crash", "stop"])
        a = rng.randrange(start, end - 1)
        b = min(end - 1, a + rng.randint(1, 3 * deadtime))
        if kind == "partition":
            if len(names) < 2:
                continue
            shuffled = rng.sample(names, len(names))
            split = rng.randint(1, len(names) - 1)
            sim.partition([shuffled[:split], shuffled[split:]], a, b)
            plan.append(f"partition [{','.join(shuffled[:split])}] "
                        f"[{','.join(shuffled[split:])}] at {a}ms until {b}ms")
            continue
        node = rng.choice(names)
        if any(not (b + 1 < x or y + 1 < a) for x, y in busy[node]):
            continue
        busy[node].append((a, b))
        (sim.crash if kind == "crash" else sim.stop)(node, a)
        sim.restart(node, b)
        plan.append(f"{kind} {node} at {a}ms, start at {b}ms")
    return plan
