"""Random fault schedules drawn from a simulation's seed, and the heal that ends them.

Rules of this file:
- Every draw comes from ``sim.rng``, so the seed alone replays the schedule.
- A schedule is a safety phase: faults only inside ``[start_ms, end_ms)``, each
  one over by ``end_ms`` (crashed and stopped nodes are restarted before it, or
  by ``heal``). ``heal`` begins the liveness phase: no cuts, calm links, every
  node running; from there the cluster must converge within
  ``convergence_bound_ms``.
- A cluster with fence devices also draws slow and failing fence agents
  (``fence``): for a window, one device takes up to twice deadtime per run, or
  fails its first one or two runs, or fails every run; it behaves again by
  ``end_ms``. A fence that failed meanwhile is retried with the daemon's
  back-off (2 s, 4 s, 8 s ...), so the liveness phase counts from the later of
  the heal and the moment the fence agents are quiet (``fence_quiet_ms``).
  Clusters without devices draw exactly what they drew before.
- A cluster with an arbitrator (``[arbiter]``) also draws windows in which a
  node is cut off it (``arbiter``); without one, the draws are as before.
- With ``agents=True`` the resource agents misbehave too (``agent``): for a
  window one resource's agent on one node is slow (starts up to deadtime,
  stops up to a quarter of it: a stop slower than the quorum rules allow is
  what the configuration check refuses, not a fault), or its starts fail, or
  its service dies behind the cluster's back (the next monitor finds it).
  With a watchdog its stops may fail too: the node stops feeding it and is
  reset (``WatchdogGuard``, as SBD). Not drawn with fence devices alone: a DC
  whose own stop failed asks a device that cannot fence the node running it
  (Pacemaker has another node's fencer do it) and the resource stays blocked
  (never active twice); tests/sim/test_resource_failures.py covers a failed
  stop on a node the DC can fence.
"""

from __future__ import annotations

from vigil.config import NodeName
from vigil.sim.agents import AgentBehaviour
from vigil.sim.cluster import ClusterSimulation
from vigil.sim.fence_runs import FenceAgentBehaviour
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


def schedule_chaos(sim: Simulation, start_ms: int, end_ms: int, faults: int = 8, *,
                   agents: bool = False) -> list[str]:
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

    kinds = ["partition", "partition", "cut", "crash", "stop", "pause", "link"]
    fence_devices = [d.name for d in sim.fencing.runs.devices] \
        if isinstance(sim, ClusterSimulation) else []
    if fence_devices:
        kinds.append("fence")
    arbiter = sim.arbiter if isinstance(sim, ClusterSimulation) else None
    if arbiter is not None:
        kinds.append("arbiter")
    resources = [r.id for r in sim.config.resources]
    if agents and resources and isinstance(sim, ClusterSimulation):
        kinds.append("agent")
    for _ in range(faults):
        kind = rng.choice(kinds)
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
        elif kind == "arbiter" and arbiter is not None:
            node = rng.choice(names)
            a, b = window(3 * deadtime)
            arbiter.isolate(node, a, b)
            plan.append(f"{node} cut off the arbitrator {a}..{b} ms")
        elif kind == "fence" and isinstance(sim, ClusterSimulation):
            device = rng.choice(fence_devices)
            a, b = window(3 * deadtime)
            how = rng.choice(["slow", "fail_first", "always"])
            behaviour = (FenceAgentBehaviour(op_ms=rng.randint(1, 2 * deadtime))
                         if how == "slow" else
                         FenceAgentBehaviour(fail_first=rng.randint(1, 2))
                         if how == "fail_first" else FenceAgentBehaviour(always_fails=True))
            sim.fencing.set_device(device, behaviour, a)
            sim.fencing.set_device(device, None, b)
            plan.append(f"fence device {device} {behaviour.describe()} {a}..{b} ms")
        elif kind == "agent" and isinstance(sim, ClusterSimulation):
            node, rid = rng.choice(names), rng.choice(resources)
            a, b = window(3 * deadtime)
            how = rng.choice(["slow", "fail_start", "killed"] +
                             (["fail_stop"] if sim.config.watchdog is not None else []))
            if how == "killed":
                sim.kill_resource(node, rid, a)
                plan.append(f"{rid} dies on {node} at {a} ms")
                continue
            agent = (AgentBehaviour(start_ms=rng.randint(1, deadtime),
                                    stop_ms=rng.randint(1, deadtime // 4))
                     if how == "slow" else AgentBehaviour(fail_start=True)
                     if how == "fail_start" else AgentBehaviour(fail_stop=True))
            sim.set_agent((node, rid), agent, a)
            sim.set_agent((node, rid), None, b)
            plan.append(f"agent of {rid} on {node} {how.replace('_', ' ')} {a}..{b} ms")
    return plan


def fence_quiet_ms(sim: Simulation) -> int:
    """When the last fence agent run scheduled so far ends, or the last fence retry is due
    (0: none ever ran): after it, devices that behave again fence at the first try."""
    return sim.fencing.runs.busy_until_ms if isinstance(sim, ClusterSimulation) else 0


def heal(sim: Simulation, at: int, calm: LinkConditions) -> None:
    """At AT: remove every cut, make every link CALM, restart any node that is down."""
    sim.heal(at)
    sim.set_conditions(calm, at)

    def restart_the_down() -> None:
        for name in sim.config.node_names:
            if not sim.is_running(name):
                sim.restart(name, at)
    sim.call_at(at, restart_the_down)
