"""A cluster that moves services in virtual time: membership + coordinator + fake agents per node.

Rules of this file:
- ``ClusterSimulation`` is a ``Simulation`` (same clock, network, faults, seed
  and membership checkers) whose nodes also run the real ``Coordinator``, fed
  exactly as the daemon feeds it: ``MembershipUpdated.of(membership)`` after
  every membership step that changed something, messages parsed from their
  JSON, operation results from a ``FakeExecutor``.
- Coordinator messages go on every link; a receiver acts on the first copy
  that arrives (the wire's ``first_copy``) and drops messages from an older
  incarnation of a sender than one it already heard (``STALE_INCARNATION``).
- A crash takes the machine down: its services stop being active at once. A
  pause (SIGSTOP) freezes the daemon only: services keep running, results and
  messages wait for the resume. A graceful stop hands resources over first
  (``ShutdownRequested`` … ``ReadyToLeave``), then leaves.
- Resource checkers (``vigil.sim.resource_checks``) see every change of the
  services; a violation stops the run with the seed.
- A configuration with an ``[arbiter]`` gets a simulated one
  (``vigil.sim.arbiter``): each node asks it for the lease as the daemon does.
- ``Fence`` effects go to simulated fence devices, and nodes of a
  configuration with a watchdog feed a simulated one (``vigil.sim.fencing``):
  a fenced or reset machine goes down, then boots again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

from vigil.config import (
    LEASE_MARGIN_MS,
    ClusterConfig,
    NodeName,
    ResourceId,
    longest_exclusive_stop,
)
from vigil.coordinator import (
    ActionsBody,
    ActionsReceived,
    AdminAnswered,
    AdminCommand,
    AdminReceived,
    AdminRequestBody,
    AdminRequested,
    AdminSettings,
    Body,
    ClusterEvent,
    Coordinator,
    EventsAnswered,
    EventsQueried,
    EventsQueryBody,
    EventsReceived,
    EventsRequested,
    Fence,
    Log,
    MembershipUpdated,
    MessageKind,
    ReadyToLeave,
    Reannounce,
    ReportBody,
    ReportReceived,
    RunOperation,
    Send,
    SetTimer,
    ShutdownRequested,
    Started,
    StartMonitor,
    StopMonitor,
    Ticked,
    parse_body,
)
from vigil.coordinator import Effect as CEffect
from vigil.coordinator import Event as CEvent
from vigil.membership import Event, StopRequested
from vigil.sim.agents import (
    DEFAULT_BEHAVIOUR,
    AgentBehaviour,
    Behaviours,
    FakeExecutor,
    ResourceChecker,
)
from vigil.sim.arbiter import SimArbiter
from vigil.sim.checks import InvariantViolation
from vigil.sim.fencing import BOOT_MS, FENCE_OP_MS, SimFencing
from vigil.sim.resource_checks import ExclusiveActive, ServiceHistory, unsettled
from vigil.sim.simulation import Simulation, SimulationError, _Node, wire_round_trip


@dataclass(slots=True)
class _Coord:
    """One node's coordinator side: the core, its fake executor, timer and buffer."""

    core: Coordinator
    executor: FakeExecutor
    timer_gen: int = 0
    buffer: list[CEvent] = field(default_factory=list)
    last_membership: MembershipUpdated | None = None
    leaving_why: str | None = None
    #: Per message kind, the last body sent and what its trip through JSON gave back.
    last_bodies: dict[MessageKind, tuple[Body, Body]] = field(default_factory=dict)


class ClusterSimulation(Simulation):
    """A cluster of CONFIG's nodes running membership and the coordinator (see the module)."""

    def __init__(
        self,
        config: ClusterConfig,
        seed: int,
        *,
        agents: AgentBehaviour = DEFAULT_BEHAVIOUR,
        agent_overrides: Mapping[str | tuple[str, str], AgentBehaviour] | None = None,
        resource_checkers: Sequence[ResourceChecker] | None = None,
        settings: AdminSettings | None = None,
        fence_op_ms: int = FENCE_OP_MS,
        boot_ms: int = BOOT_MS,
        **options: object,
    ) -> None:
        """As ``Simulation``; AGENTS is how every agent behaves unless AGENT_OVERRIDES
        names the resource or (node, resource). RESOURCE_CHECKERS default to
        ``ExclusiveActive``; SETTINGS are the administrator settings every node
        starts with (as if restored from disk). FENCE_OP_MS is how long a simulated
        fence agent takes after its delay, BOOT_MS how long a fenced or reset machine
        takes to run its daemon again."""
        self.behaviour = Behaviours(agents, agent_overrides)
        #: Every operation and service change, in order (``ServiceHistory.of``).
        self.history = ServiceHistory()
        self.resource_checkers: list[ResourceChecker] = [self.history, *(
            resource_checkers if resource_checkers is not None
            else [ExclusiveActive(config)])]
        self.initial_settings = settings
        self.coordinators: dict[NodeName, _Coord] = {}
        self.executors: dict[NodeName, FakeExecutor] = {}
        #: Every coordinator ``Log`` entry, and every ``Fence`` and ``AdminAnswered``.
        self.log: list[tuple[int, NodeName, CEffect]] = []
        self._seen_incarnation: dict[tuple[NodeName, NodeName], int] = {}
        self._api = 0
        #: Simulated fence devices and watchdogs (``vigil.sim.fencing``).
        self.fencing = SimFencing(self, fence_op_ms, boot_ms)
        #: The simulated arbitrator, when the configuration has one (``vigil.sim.arbiter``).
        self.arbiter = SimArbiter(self, config) if config.arbiter is not None else None
        super().__init__(config, seed, **options)  # type: ignore[arg-type]

    # -- what a test reads -------------------------------------------------------

    def coordinator(self, node: str) -> Coordinator | None:
        c = self.coordinators.get(NodeName(node))
        return c.core if c is not None else None

    def active(self, rid: str) -> tuple[NodeName, ...]:
        """Nodes where RID's service is up right now (the truth, not a belief)."""
        return tuple(n for n, ex in self.executors.items()
                     if ex.services[ResourceId(rid)].up)

    def events(self, node: str | None = None) -> list[ClusterEvent]:
        return [e.entry for _, n, e in self.log
                if isinstance(e, Log) and (node is None or n == node)]

    def reannounced(self, rid: str | None = None) -> list[tuple[int, NodeName, ResourceId]]:
        """(time, node, resource) of every address announced again after a view grew."""
        return [(at, n, e.resource) for at, n, e in self.log
                if isinstance(e, Reannounce) and (rid is None or e.resource == rid)]

    def answers(self) -> list[tuple[int, NodeName, AdminAnswered]]:
        return [(at, n, e) for at, n, e in self.log if isinstance(e, AdminAnswered)]

    def unsettled(self) -> list[str]:
        """Why the cluster is not "every resource runs once, nothing in flight" now."""
        running = [ex for n, ex in self.executors.items() if self.is_running(n)]
        return unsettled(self.config, running)

    # -- scenario steps -------------------------------------------------------------

    def admin(self, node: str, command: AdminCommand, at: int) -> int:
        """At AT, the administrator runs COMMAND on NODE; returns the request number."""
        self._api += 1
        request = self._api
        self.call_at(at, lambda: self._coord_event(self._node(node),
                                                   AdminRequested(request, command)))
        return request

    def ask_events(self, node: str, at: int) -> int:
        """At AT, ``vigil events`` runs on NODE; returns the request number."""
        self._api += 1
        request = self._api
        self.call_at(at, lambda: self._coord_event(self._node(node), EventsRequested(request)))
        return request

    def kill_resource(self, node: str, rid: str, at: int) -> None:
        """At AT, RID's service dies on NODE behind the cluster's back."""
        def kill() -> None:
            ex = self.executors.get(NodeName(node))
            if ex is not None:
                ex.kill(ResourceId(rid), "killed behind the cluster's back")
        self.call_at(at, kill)

    def set_agent(self, target: str | tuple[str, str], behaviour: AgentBehaviour | None,
                  at: int) -> None:
        """From AT, the agent of TARGET (a resource, or (node, resource)) behaves so
        (None: as the default again)."""
        def change() -> None:
            if behaviour is None:
                self.behaviour.overrides.pop(target, None)
            else:
                self.behaviour.overrides[target] = behaviour
        self.call_at(at, change)

    def run_until(self, end_ms: int) -> None:
        super().run_until(end_ms)
        try:
            for checker in self.resource_checkers:
                checker.finished(end_ms)
        except InvariantViolation as violation:
            raise SimulationError(str(violation), self.seed, self.now_ms) from violation

    def coordinator_event(self, node: str, event: CEvent) -> None:
        """EVENT for NODE's coordinator now (or at its resume, if frozen)."""
        self._coord_event(self._node(node), event)

    def power_off(self, node: str, why: str) -> None:
        """NODE's machine goes down now (a fence or a watchdog reset), services and all."""
        n = self._node(node)
        if n.core is None:
            return
        self._fault(n.name, f"power off {n.name}: {why}")
        self._crash(n)
        for checker in self.resource_checkers:
            checker.fenced(n.name, self.now_ms)

    # -- node life ------------------------------------------------------------------

    def _boot(self, node: _Node, how: str) -> None:
        name = node.name
        if node.core is not None and name in self.fencing.rebooted:
            self._fault(name, f"{how} {name} skipped: a power cycle already booted it")
            return
        if node.core is not None and name in self.coordinators and \
                self.coordinators[name].leaving_why is not None:
            self._leave(node)  # killed while handing over: it is gone now
        ex = self.executors.get(name)
        if ex is None:
            ex = self.executors[name] = FakeExecutor(
                name, self.config, self.behaviour, schedule=self._at,
                checkers=self.resource_checkers, now=lambda: self.now_ms)
        core = Coordinator(self.config, name, node.incarnation + 1,
                           settings=self.initial_settings)
        self.coordinators[name] = _Coord(core, ex)
        self.fencing.booted(name)
        self._coord_step(node, Started())
        super()._boot(node, how)
        if self.arbiter is not None:
            self.arbiter.booted(name)

    def _crash(self, node: _Node) -> None:
        super()._crash(node)
        self.fencing.went_down(node.name)
        c = self.coordinators.pop(node.name, None)
        if c is not None:
            c.executor.machine_down(f"{node.name} crashed")

    def _stop(self, node: _Node, why: str) -> None:
        c = self.coordinators.get(node.name)
        if node.core is None or c is None or c.leaving_why is not None:
            return
        self._fault(node.name, f"stop {node.name} ({why}): handing resources over")
        self.fencing.rebooted.discard(node.name)  # a restart after this stop is meant
        c.leaving_why = why
        self._step(node, StopRequested(why))
        self._coord_event(node, ShutdownRequested(why))

    def _leave(self, node: _Node) -> None:
        c = self.coordinators.pop(node.name, None)
        why = c.leaving_why if c is not None and c.leaving_why else "stopped"
        if c is not None:
            c.executor.daemon_gone()
        self.fencing.stopped_cleanly(node.name)
        super()._stop(node, why)

    def _leave_if_still(self, node: _Node, c: _Coord) -> None:
        """The leave of the life whose coordinator is C (not of one booted since)."""
        if self.coordinators.get(node.name) is c:
            self._leave(node)

    def _resume(self, node: _Node) -> None:
        super()._resume(node)
        c = self.coordinators.get(node.name)
        if c is None or node.core is None or node.paused:
            return
        waiting, c.buffer = c.buffer, []
        for event in waiting:
            self._coord_step(node, event)
        deadline = c.core.next_deadline()
        if deadline is not None and deadline <= self.now_ms:
            self._coord_step(node, Ticked())

    # -- membership feeds the coordinator --------------------------------------------

    def _step(self, node: _Node, event: Event) -> None:
        core = node.core
        super()._step(node, event)
        c = self.coordinators.get(node.name)
        if core is None or c is None or core.stopped:
            return
        update = MembershipUpdated.of(core)
        if update != c.last_membership:
            c.last_membership = update
            self._coord_step(node, update)

    # -- the coordinator -------------------------------------------------------------

    def _coord_event(self, node: _Node, event: CEvent) -> None:
        """EVENT for NODE's coordinator: now, or when it resumes if paused."""
        c = self.coordinators.get(node.name)
        if c is None or node.core is None:
            return
        if node.paused:
            c.buffer.append(event)
            return
        self._coord_step(node, event)

    def _op_done(self, node: _Node, c: _Coord, event: CEvent) -> None:
        if self.coordinators.get(node.name) is c:  # not a predecessor's result
            self._coord_event(node, event)

    def _coord_step(self, node: _Node, event: CEvent) -> None:
        c = self.coordinators.get(node.name)
        if c is None:
            return
        now = self.now_ms
        for effect in c.core.step(event, now):
            if isinstance(effect, Send):
                self._coord_send(node, c, effect)
            elif isinstance(effect, RunOperation):
                c.executor.run(effect.resource, effect.kind, effect.token,
                               partial(self._op_done, node, c))
            elif isinstance(effect, StartMonitor):
                c.executor.start_monitor(effect.resource, partial(self._op_done, node, c))
            elif isinstance(effect, StopMonitor):
                c.executor.stop_monitor(effect.resource)
            elif isinstance(effect, SetTimer):
                c.timer_gen += 1
                self._at(max(effect.at_ms, now), partial(self._coord_fire, node, c,
                                                         c.timer_gen))
            elif isinstance(effect, ReadyToLeave):
                self.log.append((now, node.name, effect))
                # As the daemon: resources handed over, then the lease, then the leave.
                wait = self.arbiter.hand_over(node.name) if self.arbiter is not None else 0
                self._at(now + wait, partial(self._leave_if_still, node, c))
            elif isinstance(effect, Fence):
                self.log.append((now, node.name, effect))
                self.fencing.fence(node.name, effect)
            elif isinstance(effect, Log | AdminAnswered | EventsAnswered | Reannounce):
                self.log.append((now, node.name, effect))

    def _coord_fire(self, node: _Node, c: _Coord, generation: int) -> None:
        if self.coordinators.get(node.name) is not c or generation != c.timer_gen:
            return
        if node.paused:
            return  # run late, on resume
        self._coord_step(node, Ticked())

    def _coord_send(self, node: _Node, c: _Coord, send: Send) -> None:
        # What the wire carries: the body through JSON and back, checked. A repeat of
        # the last body of its kind (reports and actions are resent every keepalive)
        # reuses that trip's result, as the trip is deterministic.
        trip = wire_round_trip(node.name, send.kind, send.body,
                               c.last_bodies.get(send.kind), parse_body)
        c.last_bodies[send.kind] = trip
        body = trip[1]
        sender, incarnation = node.name, c.core.incarnation
        make: Callable[[], CEvent]
        if isinstance(body, ReportBody):
            make = partial(ReportReceived, sender, incarnation, body)
        elif isinstance(body, ActionsBody):
            make = partial(ActionsReceived, sender, incarnation, body)
        elif isinstance(body, AdminRequestBody):
            make = partial(AdminReceived, sender, incarnation, body)
        elif isinstance(body, EventsQueryBody):
            make = partial(EventsQueried, sender, incarnation, body)
        else:
            make = partial(EventsReceived, sender, incarnation, body)
        rng = self.rng
        for target in self._nodes.values():
            if target is node:
                continue
            first: int | None = None
            for link in self._links:
                if (sender, target.name, link) in self._blocked:
                    continue
                for delay in self._conditions[link].arrivals(rng):
                    first = delay if first is None else min(first, delay)
            if first is not None:
                self._at(self.now_ms + first,
                         partial(self._coord_deliver, target, sender, incarnation, make))

    def _coord_deliver(self, target: _Node, sender: NodeName, incarnation: int,
                       make: Callable[[], CEvent]) -> None:
        key = (target.name, sender)
        seen = self._seen_incarnation.get(key)
        if seen is not None and incarnation < seen:
            return  # the wire drops it: STALE_INCARNATION
        if self.coordinators.get(target.name) is None:
            return
        self._seen_incarnation[key] = incarnation
        self._coord_event(target, make())


def liveness_bound_ms(config: ClusterConfig, agents: AgentBehaviour, max_delay_ms: int) -> int:
    """How long after a heal (every node up, calm links) every resource runs exactly once.

    - membership agrees within keepalive + 2 × delay (``convergence_bound_ms``);
    - a restarted node probes and reports (probe time + a delay); the DC's
      barrier costs a round trip (2 × delay);
    - an operation still in flight ends (the longest of start, stop, probe);
    - then the plan: every group stops member after member and starts the
      same way, each action costing its time and a round trip;
    - one more recovery: a daemon killed during an operation and started
      again may probe while the operation still runs and believe the old
      answer; its monitor finds the truth within one interval (plus the
      monitor's time), and the resource is restarted (a stop and a start);
    - with an arbitrator, a lease whose holder crashed lapses first: its
      TTL, then up to one renew period until the survivor asks.
    """
    ka = config.timing.keepalive_ms
    d = max_delay_ms
    longest_group = max([len(g.resources) for g in config.groups] + [1])
    monitor = max([op.interval_ms for r in config.resources for op in r.operations
                   if op.name == "monitor"] + [0])
    agree = ka + 2 * d
    probe = agents.probe_ms + d + 2 * d
    in_flight = max(agents.start_ms, agents.stop_ms, agents.probe_ms)
    plan = longest_group * (agents.stop_ms + 2 * d) + longest_group * (agents.start_ms + 2 * d)
    recovery = monitor + agents.monitor_ms + agents.stop_ms + agents.start_ms + 4 * d
    lapse = 0
    if config.arbiter is not None:
        ttl = config.arbiter.lease_ttl_ms
        lapse = ttl + max(1, (ttl - longest_exclusive_stop(config)[0] - LEASE_MARGIN_MS) // 3)
    return agree + probe + in_flight + plan + recovery + lapse


__all__ = ["ClusterSimulation", "liveness_bound_ms"]
