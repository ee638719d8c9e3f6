"""The executor: runs agent operations for this node's resources.

- Serialised per resource (one operation at a time, in the order asked), in
  parallel across resources up to ``max_parallel`` (Pacemaker's
  node-action-limit defaults to twice the cores; so do we).
- Every operation has a timeout: the resource's configured one, else the
  agent's advised one (meta-data), else 20 s. Programs are killed with their
  whole process group at the timeout; built-ins are cancelled.
- Nothing blocks the event loop: programs are asyncio subprocesses, built-ins
  are coroutines that push blocking calls to threads.
- Results feed the per-resource state machine (``states``), a bounded history,
  and the listeners. Recurring monitors report (to history and listeners) only
  when their answer changes, as Pacemaker's execd does.
- A stop first cancels the resource's recurring monitor, as Pacemaker's
  controller does, and OCF agents are validated (``validate-all``) once before
  their first start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from vigil.agents import (
    ACTION_RE,
    DEFAULT_TIMEOUT_MS,
    Agent,
    AgentContext,
    AgentDirs,
    AgentMetadata,
    AgentNotFoundError,
    AgentReply,
    AgentUnavailableError,
    MetadataError,
    OcfRc,
    OperationRequest,
    ParameterError,
    ProgramOutcome,
    ScriptAgent,
    resolve,
)
from vigil.config import Resource, ResourceId
from vigil.executor.events import OperationCompleted
from vigil.executor.process import run_program
from vigil.executor.states import (
    ActionKind,
    ExecStatus,
    ResourceState,
    action_kind,
    classify,
    on_begin,
    on_end,
)

log = logging.getLogger("vigil.executor")
log.addHandler(logging.NullHandler())  # a library: the daemon or CLI decides where logs go
Listener = Callable[[OperationCompleted], None]
DEFAULT_STATE_DIR = Path("/run/vigil/agents")


@dataclass(slots=True)
class _Slot:
    """One resource's runtime: its lock, state, history and recurring monitor."""

    resource: Resource
    history: deque[OperationCompleted]
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    state: ResourceState = ResourceState.UNKNOWN
    agent: Agent | None = None
    validated: bool = False
    monitor: asyncio.Task[None] | None = None
    last_monitor: OperationCompleted | None = None


@dataclass(frozen=True, slots=True)
class _Answer:
    status: ExecStatus
    rc: int
    exit_code: int | None
    output: str
    reason: str


class Executor:
    """Runs operations of this node's resources; see the module docstring."""

    def __init__(self, resources: Iterable[Resource] = (), *, dirs: AgentDirs | None = None,
                 node_name: str | None = None, netns: str | None = None,
                 state_dir: Path = DEFAULT_STATE_DIR, max_parallel: int | None = None,
                 kill_grace_ms: int = 2000, history_size: int = 32, output_lines: int = 20,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.dirs = dirs or AgentDirs()
        self.netns = netns
        self.kill_grace_ms = kill_grace_ms
        self.output_lines = output_lines
        self._history_size = history_size
        self._clock = clock
        self._slots: dict[ResourceId, _Slot] = {}
        self._listeners: list[Listener] = []
        self._parallel = asyncio.Semaphore(max_parallel or 2 * (os.cpu_count() or 1))
        self._metadata: dict[str, AgentMetadata] = {}
        self.context = AgentContext(run_program=self._run_program, state_dir=state_dir,
                                    netns=netns, node_name=node_name)
        for r in resources:
            self.add_resource(r)

    # -- resources and what is known about them ---------------------------------------

    def add_resource(self, resource: Resource) -> None:
        """Manage RESOURCE (replacing the definition of one with the same id)."""
        old = self._slots.get(resource.id)
        if old is not None:
            old.resource, old.agent, old.validated = resource, None, False
            return
        self._slots[resource.id] = _Slot(resource, deque(maxlen=self._history_size))

    @property
    def resources(self) -> tuple[ResourceId, ...]:
        return tuple(self._slots)

    def state(self, rid: ResourceId) -> ResourceState:
        return self._slot(rid).state

    def states(self) -> dict[ResourceId, ResourceState]:
        return {rid: s.state for rid, s in self._slots.items()}

    def history(self, rid: ResourceId) -> tuple[OperationCompleted, ...]:
        """Oldest first; recurring monitors appear only when their answer changed."""
        return tuple(self._slot(rid).history)

    def last_monitor(self, rid: ResourceId) -> OperationCompleted | None:
        return self._slot(rid).last_monitor

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call LISTENER with every reported result; returns the unsubscribe function."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return unsubscribe

    # -- operations -------------------------------------------------------------------

    async def run(self, rid: ResourceId, action: str, *, interval_ms: int = 0,
                  timeout_ms: int | None = None) -> OperationCompleted:
        """Run ACTION on resource RID once, after whatever it is running now.

        ``monitor`` with ``interval_ms`` 0 is a probe. Raises KeyError for an
        unknown resource and ValueError for an action that is not a word.
        """
        slot = self._slot(rid)
        if not ACTION_RE.match(action):
            raise ValueError(f"{action!r} is not an action name")
        if action == "stop":
            self.stop_monitor(rid)
        async with slot.lock:
            return await self._execute(slot, action, interval_ms, timeout_ms)

    async def probe_all(self) -> dict[ResourceId, OperationCompleted]:
        """Probe every resource once (at start-up: what is really running here?)."""
        rids = list(self._slots)
        results = await asyncio.gather(*(self.run(rid, "monitor") for rid in rids))
        return dict(zip(rids, results, strict=True))

    def start_monitor(self, rid: ResourceId, *, interval_ms: int | None = None,
                      timeout_ms: int | None = None) -> None:
        """Monitor RID every INTERVAL_MS (default: its configured recurring monitor).

        The first monitor runs at once. Raises ValueError when no interval is
        given or configured.
        """
        slot = self._slot(rid)
        if interval_ms is None:
            configured = [op for op in slot.resource.operations
                          if op.name == "monitor" and op.interval_ms > 0]
            if not configured:
                raise ValueError(f"resource {rid} has no recurring monitor configured")
            interval_ms, timeout_ms = configured[0].interval_ms, \
                timeout_ms or configured[0].timeout_ms
        if interval_ms <= 0:
            raise ValueError("a recurring monitor needs an interval above 0")
        self.stop_monitor(rid)
        slot.last_monitor = None
        slot.monitor = asyncio.get_running_loop().create_task(
            self._monitor_loop(slot, interval_ms, timeout_ms), name=f"vigil-monitor-{rid}")

    def stop_monitor(self, rid: ResourceId) -> None:
        slot = self._slot(rid)
        if slot.monitor is not None:
            slot.monitor.cancel()
            slot.monitor = None

    def monitoring(self, rid: ResourceId) -> bool:
        task = self._slot(rid).monitor
        return task is not None and not task.done()

    async def metadata(self, rid_or_agent: ResourceId | Agent) -> AgentMetadata:
        """The agent's description (cached per agent; OCF runs ``meta-data`` once)."""
        agent = (self._agent(self._slot(rid_or_agent)) if isinstance(rid_or_agent, str)
                 else rid_or_agent)
        key = str(agent.spec)
        if key not in self._metadata:
            self._metadata[key] = await agent.metadata(self.context)
        return self._metadata[key]

    async def close(self, *, finish_background: bool = True) -> None:
        """Stop every monitor; let background agent work (announcements) finish or cancel it."""
        tasks = [s.monitor for s in self._slots.values() if s.monitor is not None]
        for rid in self._slots:
            self.stop_monitor(rid)
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        if finish_background:
            await self.context.background.wait()
        else:
            await self.context.background.cancel_all()

    # -- inside -----------------------------------------------------------------------

    def _slot(self, rid: ResourceId) -> _Slot:
        try:
            return self._slots[rid]
        except KeyError:
            raise KeyError(f"no resource {rid!r} on this executor") from None

    def _agent(self, slot: _Slot) -> Agent:
        if slot.agent is None:
            slot.agent = resolve(slot.resource.agent, self.dirs)
        return slot.agent

    async def _run_program(self, argv: tuple[str, ...], env: Mapping[str, str],
                           timeout_ms: int) -> ProgramOutcome:
        return await run_program(argv, env, timeout_ms, kill_grace_ms=self.kill_grace_ms)

    async def _monitor_loop(self, slot: _Slot, interval_ms: int,
                            timeout_ms: int | None) -> None:
        while True:
            began = self._clock()
            async with slot.lock:
                await self._execute(slot, "monitor", interval_ms, timeout_ms)
            spent = self._clock() - began
            await asyncio.sleep(max(0.0, interval_ms / 1000 - spent))

    async def _timeout_ms(self, slot: _Slot, agent: Agent, action: str,
                          interval_ms: int) -> int:
        """Configured timeout, else the agent's advice, else 20 s."""
        names = (action, "monitor") if action == "status" else (action,)
        ops = [op for op in slot.resource.operations if op.name in names]
        exact = [op for op in ops if op.interval_ms == interval_ms]
        if exact or ops:
            return (exact or ops)[0].timeout_ms
        try:
            meta = await self.metadata(agent)
        except (MetadataError, OSError) as e:
            log.warning("no meta-data, default timeout agent=%s error=%s", agent.spec, e)
            return DEFAULT_TIMEOUT_MS
        return meta.default_timeout_ms(action)

    async def _execute(self, slot: _Slot, action: str, interval_ms: int,
                       timeout_ms: int | None) -> OperationCompleted:
        kind = action_kind(action, interval_ms)
        previous = slot.state
        slot.state = on_begin(previous, kind)
        began = self._clock()
        try:
            answer = await self._answer(slot, action, kind, interval_ms, timeout_ms)
        except asyncio.CancelledError:
            answer = _Answer(ExecStatus.CANCELLED, int(OcfRc.ERR_GENERIC), None, "",
                             f"{action} of {slot.resource.id} cancelled")
            self._finish(slot, answer, action=action, kind=kind, interval_ms=interval_ms,
                         previous=previous, began=began)
            raise
        return self._finish(slot, answer, action=action, kind=kind, interval_ms=interval_ms,
                            previous=previous, began=began)

    async def _answer(self, slot: _Slot, action: str, kind: ActionKind, interval_ms: int,
                      timeout_ms: int | None) -> _Answer:
        try:
            agent = self._agent(slot)
        except AgentNotFoundError as e:
            hint = f" (hint: {e.hint})" if e.hint else ""
            return _Answer(ExecStatus.NOT_INSTALLED, int(OcfRc.ERR_INSTALLED), None, "",
                           e.message + hint)
        timeout = timeout_ms or await self._timeout_ms(slot, agent, action, interval_ms)
        if kind is ActionKind.START and isinstance(agent, ScriptAgent) \
                and agent.validates_before_start and not slot.validated:
            refused = await self._validate(slot, agent)
            if refused is not None:
                return refused
        request = OperationRequest(action, slot.resource.id, timeout, slot.resource.args,
                                   slot.resource.params, interval_ms)
        async with self._parallel:
            return await self._invoke(agent, request)

    async def _validate(self, slot: _Slot, agent: Agent) -> _Answer | None:
        """``validate-all`` before the first start; the refusal, or None to go on."""
        try:
            meta = await self.metadata(agent)
        except (MetadataError, OSError):
            meta = None
        if meta is not None and not meta.has_action("validate-all"):
            slot.validated = True
            return None
        timeout = meta.default_timeout_ms("validate-all") if meta else DEFAULT_TIMEOUT_MS
        began, previous = self._clock(), slot.state
        request = OperationRequest("validate-all", slot.resource.id, timeout,
                                   slot.resource.args, slot.resource.params)
        async with self._parallel:
            answer = await self._invoke(agent, request)
        self._finish(slot, answer, action="validate-all", kind=ActionKind.OTHER, interval_ms=0,
                     previous=previous, began=began)
        if answer.status is ExecStatus.DONE and answer.rc in (OcfRc.OK, OcfRc.ERR_UNIMPLEMENTED):
            slot.validated = True
            return None
        return _Answer(answer.status if answer.status is not ExecStatus.DONE
                       else ExecStatus.INVALID, answer.rc, answer.exit_code, answer.output,
                       f"not started: validate-all refused it: {answer.reason}")

    async def _invoke(self, agent: Agent, request: OperationRequest) -> _Answer:
        spec = agent.spec
        try:
            if isinstance(agent, ScriptAgent):
                return await self._invoke_program(agent, request)
            reply = await asyncio.wait_for(agent.run(request, self.context),
                                           request.timeout_ms / 1000)
        except TimeoutError:
            return _Answer(ExecStatus.TIMEOUT, int(OcfRc.ERR_GENERIC), None, "",
                           f"{request.action} of {spec} timed out after {request.timeout_ms} ms "
                           "(built-in cancelled; a blocking call may finish in its thread)")
        except ParameterError as e:
            return _Answer(ExecStatus.INVALID, int(e.rc), None, "",
                           f"{request.action} of {spec} refused: {e.message}")
        except AgentUnavailableError as e:
            return _Answer(ExecStatus.NOT_INSTALLED, int(OcfRc.ERR_INSTALLED), None, "",
                           e.message)
        except Exception as e:
            log.exception("built-in agent raised agent=%s action=%s", spec, request.action)
            return _Answer(ExecStatus.ERROR, int(OcfRc.ERR_GENERIC), None, "",
                           f"{request.action} of {spec} failed: {e}")
        return self._from_reply(reply)

    @staticmethod
    def _from_reply(reply: AgentReply) -> _Answer:
        return _Answer(ExecStatus.DONE, reply.rc, reply.exit_code, reply.output, reply.reason)

    async def _invoke_program(self, agent: ScriptAgent, request: OperationRequest) -> _Answer:
        inv = agent.invocation(request, self.context)
        argv = inv.argv
        if self.netns is not None:
            argv = ("ip", "netns", "exec", self.netns, *argv)
        out = await self._run_program(argv, inv.env, request.timeout_ms)
        what = f"{request.action} of {agent.spec}"
        if out.timed_out:
            how = "TERM, then KILL" if out.killed else "TERM"
            return _Answer(ExecStatus.TIMEOUT, int(OcfRc.ERR_GENERIC), None, out.output,
                           f"{what} timed out after {request.timeout_ms} ms "
                           f"(process group ended with {how})")
        if out.exit_code is None:
            if out.exec_errno is not None and out.exec_errno in (2, 20):  # ENOENT, ENOTDIR
                return _Answer(ExecStatus.NOT_INSTALLED, int(OcfRc.ERR_INSTALLED), None,
                               out.output, f"{what}: {out.exec_error}")
            rc = OcfRc.ERR_PERM if out.exec_errno == 13 else OcfRc.ERR_GENERIC  # EACCES
            return _Answer(ExecStatus.ERROR, int(rc), None, out.output,
                           f"{what}: {out.exec_error}")
        return self._from_reply(agent.interpret(request, out.exit_code, out.output))

    def _finish(self, slot: _Slot, answer: _Answer, *, action: str, kind: ActionKind,
                interval_ms: int, previous: ResourceState, began: float) -> OperationCompleted:
        result = classify(kind, answer.status, answer.rc)
        slot.state = on_end(slot.state, kind, result)
        now = self._clock()
        lines = answer.output.splitlines()[-self.output_lines:] if answer.output else []
        event = OperationCompleted(
            resource=slot.resource.id, agent=str(slot.resource.agent), action=action,
            interval_ms=interval_ms, status=answer.status, rc=answer.rc,
            exit_code=answer.exit_code, result=result, previous=previous, state=slot.state,
            duration_ms=round((now - began) * 1000), finished_ms=round(now * 1000),
            output=tuple(lines), reason=answer.reason)
        if kind is ActionKind.MONITOR:
            if answer.status is ExecStatus.CANCELLED:
                return event
            before = slot.last_monitor
            slot.last_monitor = event
            if before is not None and (before.rc, before.status, before.state) == \
                    (event.rc, event.status, event.state):
                return event  # unchanged: neither history nor listeners hear of it
        slot.history.append(event)
        quiet = event.ok or event.state in (ResourceState.STOPPED, ResourceState.RUNNING)
        log.log(logging.INFO if quiet else logging.WARNING, "%s", event.summary())
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("executor listener failed resource=%s", event.resource)
        return event
