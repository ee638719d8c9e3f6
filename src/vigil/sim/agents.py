"""Simulated resource agents: a fake executor per node, in virtual time.

Rules of this file:
- A fake is legitimate here: the simulator tests the coordinator, not agents.
  Each (node, resource) has a service that is up or down; start, stop, probe
  and monitor take the virtual time its ``AgentBehaviour`` says, and can fail
  or hang (a hung operation ends at its timeout, as the executor kills it).
- The truth about services lives here, not in the coordinator: a start makes
  the service possibly active from the moment it begins (a VIP may be up half
  way), a failed start leaves it so, only a successful stop (or a crash of
  the machine, or ``kill``) makes it inactive. Resource checkers are told of
  every change (``ResourceChecker``).
- As the executor: a recurring monitor runs every interval while no operation
  runs, and reports its first answer and then only changes.
- Results go to the coordinator that asked (``Deliver``): a daemon killed and
  started again does not hear its predecessor's results, but what an agent
  was doing still happens (a stop under way still stops the service). Only the
  machine going down cancels operations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from vigil.config import ClusterConfig, NodeName, Resource, ResourceId
from vigil.coordinator import OperationFinished, OpKind, OpOutcome

#: The executor's default when neither the resource nor the agent says (20 s).
DEFAULT_TIMEOUT_MS = 20_000


@dataclass(frozen=True, slots=True)
class AgentBehaviour:
    """How one simulated agent behaves: durations, failures, hangs."""

    start_ms: int = 50
    stop_ms: int = 50
    probe_ms: int = 10
    monitor_ms: int = 10
    fail_start: bool = False
    fail_stop: bool = False
    hang: frozenset[OpKind] = frozenset()  # these never answer: they end at their timeout

    def duration(self, kind: OpKind) -> int:
        return {OpKind.START: self.start_ms, OpKind.STOP: self.stop_ms,
                OpKind.PROBE: self.probe_ms, OpKind.MONITOR: self.monitor_ms}[kind]


DEFAULT_BEHAVIOUR = AgentBehaviour()


class ResourceChecker:
    """Hooks the fake agents call; each does nothing unless overridden."""

    def activated(self, node: NodeName, rid: ResourceId, at: int) -> None:
        """A start of RID began on NODE: the service may be active from now."""

    def deactivated(self, node: NodeName, rid: ResourceId, at: int, why: str) -> None:
        """RID is certainly not active on NODE any more (stopped, killed, machine down)."""

    def fenced(self, node: NodeName, at: int) -> None:
        """NODE was fenced: nothing runs there."""

    def operation(self, node: NodeName, rid: ResourceId, kind: OpKind, outcome: OpOutcome, *,
                  began: int, at: int) -> None:
        """An operation (not a recurring monitor) ended at AT; it began at BEGAN."""

    def finished(self, at: int) -> None:
        """The run reached AT."""


def op_timeout(resource: Resource, kind: OpKind) -> int:
    names = {OpKind.START: ("start",), OpKind.STOP: ("stop",),
             OpKind.PROBE: ("monitor", "status"), OpKind.MONITOR: ("monitor", "status")}[kind]
    for op in resource.operations:
        if op.name in names and (kind is not OpKind.PROBE or op.interval_ms == 0):
            return op.timeout_ms
    for op in resource.operations:
        if op.name in names:
            return op.timeout_ms
    return DEFAULT_TIMEOUT_MS


def monitor_interval(resource: Resource) -> int | None:
    for op in resource.operations:
        if op.name in ("monitor", "status") and op.interval_ms > 0:
            return op.interval_ms
    return None


@dataclass(slots=True)
class _Service:
    resource: Resource
    up: bool = False
    ops: list[OpKind] = field(default_factory=list)  # in flight (several after a restart)
    machine_gen: int = 0
    monitoring: bool = False
    monitor_gen: int = 0
    last_monitor: OpOutcome | None = None


Schedule = Callable[[int, Callable[[], None]], None]
Deliver = Callable[[OperationFinished], None]


@dataclass(slots=True)
class FakeExecutor:
    """One node's simulated services and the operations on them."""

    node: NodeName
    config: ClusterConfig
    behaviours: Callable[[NodeName, ResourceId], AgentBehaviour]
    schedule: Schedule  # run a callback at an absolute virtual time
    checkers: Sequence[ResourceChecker]
    now: Callable[[], int]
    services: dict[ResourceId, _Service] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.services = {r.id: _Service(r) for r in self.config.resources}

    # -- what the coordinator asks -------------------------------------------------

    def run(self, rid: ResourceId, kind: OpKind, token: int, deliver: Deliver) -> None:
        """Run KIND on RID; DELIVER the result (to the coordinator that asked)."""
        svc = self.services[rid]
        b = self.behaviours(self.node, rid)
        svc.ops.append(kind)
        gen = svc.machine_gen
        if kind is OpKind.START:
            self._activate(rid)
        timeout = op_timeout(svc.resource, kind)
        took = timeout if kind in b.hang else min(b.duration(kind), timeout)
        began = self.now()
        self.schedule(began + took,
                      lambda: self._finish(rid, kind, token, gen, began=began, deliver=deliver))

    def start_monitor(self, rid: ResourceId, deliver: Deliver) -> None:
        svc = self.services[rid]
        interval = monitor_interval(svc.resource)
        if interval is None:
            return
        svc.monitoring = True
        svc.monitor_gen += 1
        svc.last_monitor = None
        self._monitor_tick(rid, svc.monitor_gen, interval, deliver)

    def stop_monitor(self, rid: ResourceId) -> None:
        svc = self.services[rid]
        svc.monitoring = False
        svc.monitor_gen += 1

    def daemon_gone(self) -> None:
        """The daemon exited or was killed: its monitors stop; operations run on."""
        for rid in self.services:
            self.stop_monitor(rid)

    # -- what the world does --------------------------------------------------------

    def kill(self, rid: ResourceId, why: str) -> None:
        """The service dies behind the cluster's back (its state file deleted, …)."""
        svc = self.services[rid]
        if svc.up:
            svc.up = False
            for c in self.checkers:
                c.deactivated(self.node, rid, self.now(), why)

    def machine_down(self, why: str) -> None:
        """The machine crashed or was fenced: every service is gone, nothing answers."""
        for rid, svc in self.services.items():
            svc.machine_gen += 1
            svc.monitor_gen += 1
            svc.ops.clear()
            svc.monitoring = False
            if svc.up:
                svc.up = False
                for c in self.checkers:
                    c.deactivated(self.node, rid, self.now(), why)

    def active(self) -> tuple[ResourceId, ...]:
        return tuple(rid for rid, s in self.services.items() if s.up)

    # -- inside -----------------------------------------------------------------------

    def _activate(self, rid: ResourceId) -> None:
        svc = self.services[rid]
        if not svc.up:
            svc.up = True
            for c in self.checkers:
                c.activated(self.node, rid, self.now())

    def _finish(self, rid: ResourceId, kind: OpKind, token: int, gen: int, *, began: int,
                deliver: Deliver) -> None:
        svc = self.services[rid]
        if gen != svc.machine_gen:
            return  # the machine went down meanwhile
        svc.ops.remove(kind)
        b = self.behaviours(self.node, rid)
        timed_out = kind in b.hang or b.duration(kind) > op_timeout(svc.resource, kind)
        if kind is OpKind.START:
            outcome = OpOutcome.TIMEOUT if timed_out else \
                OpOutcome.ERROR if b.fail_start else OpOutcome.OK
        elif kind is OpKind.STOP:
            outcome = OpOutcome.TIMEOUT if timed_out else \
                OpOutcome.ERROR if b.fail_stop else OpOutcome.OK
            if outcome is OpOutcome.OK and svc.up:
                svc.up = False
                for c in self.checkers:
                    c.deactivated(self.node, rid, self.now(), "stopped")
        else:
            outcome = OpOutcome.TIMEOUT if timed_out else \
                OpOutcome.OK if svc.up else OpOutcome.NOT_RUNNING
        for c in self.checkers:
            c.operation(self.node, rid, kind, outcome, began=began, at=self.now())
        deliver(OperationFinished(rid, kind, outcome, token, f"simulated {kind.value}"))

    def _monitor_tick(self, rid: ResourceId, gen: int, interval: int, deliver: Deliver) -> None:
        svc = self.services[rid]
        if gen != svc.monitor_gen or not svc.monitoring:
            return
        b = self.behaviours(self.node, rid)
        if not svc.ops:
            def answer() -> None:
                if gen != svc.monitor_gen or not svc.monitoring or svc.ops:
                    return
                outcome = OpOutcome.OK if svc.up else OpOutcome.NOT_RUNNING
                if outcome is not svc.last_monitor:
                    svc.last_monitor = outcome
                    deliver(OperationFinished(rid, OpKind.MONITOR, outcome, 0,
                                              "simulated monitor"))
            self.schedule(self.now() + b.monitor_ms, answer)
        self.schedule(self.now() + interval,
                      lambda: self._monitor_tick(rid, gen, interval, deliver))


class Behaviours:
    """How each agent behaves: (node, resource) overrides first, then resource, then default."""

    def __init__(self, default: AgentBehaviour,
                 overrides: Mapping[str | tuple[str, str], AgentBehaviour] | None = None) -> None:
        self.default = default
        self.overrides: dict[str | tuple[str, str], AgentBehaviour] = dict(overrides or {})

    def __call__(self, node: NodeName, rid: ResourceId) -> AgentBehaviour:
        return self.overrides.get((node, rid)) or self.overrides.get(rid) or self.default
