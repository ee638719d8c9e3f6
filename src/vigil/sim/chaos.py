"""Random fault schedules drawn from a simulation's seed, and the heal that ends them.

Rules of this file:
- Every draw comes from ``sim.rng``, so the seed alone replays the schedule.
- A schedule is a safety phase: faults only inside ``[start_ms, end_ms)``, each
  one over by ``end_ms`` (crashed and stopped nodes are restarted before it, or
  by ``heal``). ``heal`` begins the liveness phase: no cuts, calm links, every
  node running; from there the cluster must converge within
  ``convergence_bound_ms``.
"""

from __future__ import annotations

from vigil.config import NodeName
from vigil.sim.network import Delay, LinkConditions
from vigil.sim.simulation import Simulation


def convergence_bound_ms(keepalive_ms: int, max_delay_ms: int) -> int:
    """How long after a heal every node holds one stable view, with no loss.

    Every running node sends a heartbeat within one keepalive of the heal (fixed
    schedule), so each node has heard every other by keepalive + max delay after
    it. That is the last change of its view, and a node whose view changes sends
    a heartbeat at once, so its final view reaches every other node one max delay
    later; later heartbeats say the same. No peer can be declared dead meanwhile
    as long as keepalive + max delay < deadtime. Hence keepalive + 2 × max delay.
    """
    return keepalive_ms + 2 * max_delay_ms


def schedule_chaos(sim: Simulation, start_ms: int, end_ms: int, faults: int = 8) -> list[str]:
    """Schedule FAULTS random faults inside [START_MS, END_MS); return them in words."""
    rng = sim.rng
    names: list[NodeName] = list(sim.config.node_names)
    links = list(sim.config.links)
    deadtime = sim.config.timing.deadtime_ms
    busy: dict[NodeName, list[tuple[int, int]]] = {n: [] for n in names}
    plan: list[str] = []

    def window(longest: int) -> tuple[int, int]:
        a = rng.randrange(start_ms, end_ms - 1)
        return a, min(end_ms - 1, a + rng.randint(1, longest))

    def free(node: NodeName, a: int, b: int) -> bool:
        # The process must be up on both sides of a crash or pause window.
        return all(b + 1 < x or y + 1 < a for x, y in busy[node])

    for _ in range(faults):
        kind = rng.choice(["partition", "partition", "cut", "crash", "stop", "pause", "link"])
        if kind == "partition" and len(names) > 1:
            shuffled = rng.sample(names, len(names))
            split = rng.randint(1, len(names) - 1)
            groups = [shuffled[:split], shuffled[split:]]
            on = None if rng.random() < 0.7 or not links else [rng.choice(links).name]
            a, b = window(3 * deadtime)
            sim.partition(groups, a, b, links=on)
            plan.append(f"partition {groups} on {on or 'all links'} {a}..{b} ms")
        elif kind == "cut" and len(names) > 1:
            source, target = rng.sample(names, 2)
            a, b = window(3 * deadtime)
            sim.cut(source, target, a, b)
            plan.append(f"one-way cut {source}->{target} {a}..{b} ms")
        elif kind in ("crash", "stop", "pause"):
            node = rng.choice(names)
            a, b = window(3 * deadtime)
            if not free(node, a, b):
                continue
            busy[node].append((a, b))
            if kind == "pause":
                sim.pause(node, a, b)
            else:
                (sim.crash if kind == "crash" else sim.stop)(node, a)
                sim.restart(node, b)
            plan.append(f"{kind} {node} {a}..{b} ms")
        elif kind == "link" and links:
            link = rng.choice(links).name
            low = rng.randint(0, 40)
            conditions = LinkConditions(
                loss=rng.choice([0.0, 0.1, 0.3, 0.6, 1.0]),
                delay=Delay(low, low + rng.randint(0, 60)),
                duplicate=rng.choice([0.0, 0.05, 0.3]),
                reorder=rng.choice([0.0, 0.1, 0.5]),
                reorder_ms=rng.randint(0, 300),
            )
            at = rng.randrange(start_ms, end_ms)
            sim.set_conditions(conditions, at, links=[link])
            plan.append(f"link {link} {conditions} from {at} ms")
    return plan


def heal(sim: Simulation, at: int, calm: LinkConditions) -> None:
    """At AT: remove every cut, make every link CALM, restart any node that is down."""
    sim.heal(at)
    sim.set_conditions(calm, at)

    def restart_the_down() -> None:
        for name in sim.config.node_names:
            if not sim.is_running(name):
                sim.restart(name, at)
    sim.call_at(at, restart_the_down)
