"""This node's resources on real time: the coordinator core, the executor, their messages.

Rules of this file:
- Inputs reach the coordinator only through ``_step(event)`` with ``now_ms``
  from the daemon's one ``Clock``; its effects are carried out in ``_apply`` in
  the order given. Nothing here decides placement, recovery or quorum rules.
- Operations run as asyncio tasks on the ``Executor``; each answers the
  ``RunOperation`` it came from with its token. Recurring monitors report
  through the executor's listener (only their changes, as execd does).
- Messages leave through the node's one ``Sequencer`` and links (the sender
  function the runtime gives), so replay windows see one numbering per node.
- Every message goes to the peers' control port, read at arrival, except a
  report that repeats the last one sent (same sequence number: the core's
  refresh), which is steady-state traffic like a heartbeat (``NodeRuntime``).
- A body that repeats the sender's last one of its kind is not parsed again
  (the wire codec hands the same object back for the same bytes); a repeated
  report is not even stepped: the core would ignore it.
- The administrator settings are kept in the state directory
  (``NODE.settings.json``) whenever they change, so a cluster restarted as a
  whole keeps its standby nodes and moves; the newest version among the nodes
  wins as usual.
- Log lines: one event each, a short sentence then ``key=value`` fields.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from vigil.agents import DEFAULT_TIMEOUT_MS, AgentDirs
from vigil.config import ClusterConfig, Compression, NodeName, ResourceId
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
    CommandKind,
    ConnectivityChanged,
    Coordinator,
    Effect,
    Event,
    EventKind,
    EventsAnswered,
    EventsBody,
    EventsQueried,
    EventsQueryBody,
    EventsReceived,
    EventsRequested,
    Fence,
    Log,
    MalformedBody,
    MembershipUpdated,
    MessageKind,
    OperationFinished,
    OpKind,
    OpOutcome,
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
    settings_from_body,
    settings_to_body,
)
from vigil.daemon.clock import Alarm, Clock
from vigil.daemon.control import CommandError
from vigil.daemon.logsetup import LOGGER_NAME, kv
from vigil.daemon.statedir import write_atomically
from vigil.executor import Executor, OperationCompleted, ResultKind
from vigil.membership import Membership

log = logging.getLogger(f"{LOGGER_NAME}.resources")

#: The envelope kinds this module takes; every other kind is membership's.
KINDS = {kind.value: kind for kind in MessageKind}

_ACTION = {OpKind.START: "start", OpKind.STOP: "stop", OpKind.PROBE: "monitor"}
_OUTCOME = {ResultKind.OK: OpOutcome.OK, ResultKind.NOT_RUNNING: OpOutcome.NOT_RUNNING,
            ResultKind.ERROR: OpOutcome.ERROR, ResultKind.TIMEOUT: OpOutcome.TIMEOUT,
            ResultKind.NOT_INSTALLED: OpOutcome.NOT_INSTALLED,
            ResultKind.CANCELLED: OpOutcome.CANCELLED}

#: ``send(kind, body, urgent)``: see ``NodeRuntime.send_message``.
#: The DC's line that opens a transition with actions (coordinator/dc.py ``_plan``).
_TRANSITION = re.compile(r"transition \d+: \d+ action")

Sender = Callable[[str, Mapping[str, object], bool], None]


def admin_command(cmd: str, req: Mapping[str, Any], me: str) -> AdminCommand:
    """The command a control request asks for (``node`` defaults to this node for
    standby and online, as hb_standby); ``CommandError`` when words are missing."""
    def word(key: str) -> str | None:
        value = req.get(key)
        return value if isinstance(value, str) and value else None

    kind = CommandKind(cmd)
    node, target = word("node"), word("target")
    if kind in (CommandKind.STANDBY, CommandKind.ONLINE):
        return AdminCommand(kind, NodeName(node or me))
    if target is None:
        raise CommandError(f"{cmd} needs a resource or group (\"target\")",
                           f"e.g. {{\"cmd\": \"{cmd}\", \"target\": \"web\"}}")
    if kind is CommandKind.MOVE:
        if node is None:
            raise CommandError("move needs a node (\"node\")",
                               '{"cmd": "move", "target": "web", "node": "node2"}')
        return AdminCommand(kind, NodeName(node), target)
    return AdminCommand(kind, None, target)


def shutdown_timeout_s(config: ClusterConfig) -> float:
    """How long a stopping daemon waits for its resources to be handed over.

    The DC's handover (at most one deadtime before the node stops them itself)
    plus every stop in turn at its timeout, and a margin; at most 10 minutes.
    """
    stops = 0
    for r in config.resources:
        timeouts = [op.timeout_ms for op in r.operations if op.name == "stop"]
        stops += timeouts[0] if timeouts else DEFAULT_TIMEOUT_MS
    total_ms = config.timing.deadtime_ms + stops + 4 * config.timing.keepalive_ms
    return min(total_ms / 1000, 600.0)


def wire_compression(config: ClusterConfig) -> Compression:
    """The configured compression, else zlib above its threshold: a report of many
    resources must fit one datagram. Heartbeats stay below the threshold (2 KB),
    and every node accepts both methods, so this changes nothing for Heartbeat's
    own messages."""
    if config.compression.method is not None:
        return config.compression
    return Compression("zlib", config.compression.threshold_bytes)


class ResourceRuntime:
    """Node ME's coordinator and executor; the runtime feeds membership and messages."""

    def __init__(self, config: ClusterConfig, me: str, incarnation: int, clock: Clock, *,
                 state_dir: Path, send: Sender) -> None:
        self.me = NodeName(me)
        self.clock = clock
        self.send_raw = send
        self.settings_file = state_dir / f"{me}.settings.json"
        self.core = Coordinator(config, me, incarnation, settings=self._load_settings())
        self.executor = Executor(config.resources, dirs=AgentDirs.from_config(config),
                                 node_name=me, state_dir=state_dir / f"{me}.agents")
        self.alarm = Alarm(clock, self._on_alarm, "coordinator")
        self.steps = 0
        self.step_errors = 0
        self.fence_requests: list[Fence] = []
        #: Runs the core's ``Fence`` effects (the service sets a ``FencingRunner``'s).
        self.on_fence: Callable[[Fence], None] | None = None
        #: `vigil events` lines logged here by kind, and ``transition``s planned (/metrics).
        self.events_counted: Counter[str] = Counter()
        self._membership: MembershipUpdated | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._admin: dict[int, asyncio.Future[AdminAnswered]] = {}
        self._events: dict[int, asyncio.Future[EventsAnswered]] = {}
        self._api = 0
        self._ready_to_leave = asyncio.Event()
        self._saved_version = self.core.settings.version
        self._unsubscribe: Callable[[], None] | None = None
        #: Per sender and kind: the last body, its incarnation and what it parsed to.
        self._parsed: dict[tuple[NodeName, MessageKind],
                           tuple[int, Mapping[str, object], Body]] = {}
        self._report_seq_sent: int | None = None

    # -- life -------------------------------------------------------------------

    def start(self) -> None:
        """Probe every resource (the core asks), then report."""
        self._unsubscribe = self.executor.subscribe(self._on_executor_result)
        self._step(Started())
        if self._membership is not None:
            # runtime.start() reports the start-up view before we are started.
            self._step(self._membership)

    async def shutdown(self, why: str, timeout_s: float) -> bool:
        """Hand this node's resources over (or stop them); True when nothing runs here."""
        self._step(ShutdownRequested(why))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        told: set[str] = set()
        while not self._ready_to_leave.is_set():
            left = deadline - loop.time()
            if left <= 0:
                log.error(kv("resources not handed over in time, leaving anyway",
                             timeout_s=timeout_s, active=",".join(self._active())))
                return False
            blocked = {str(r) for r in self.core.local.blocked()}
            if blocked - told:
                # Nothing hands a blocked resource over: say what the wait is for.
                told |= blocked
                names = ", ".join(sorted(blocked))
                log.warning(kv("shutdown waits for a blocked resource", resources=names,
                               left_s=round(left),
                               reason=f"a stop of {names} failed here, so it may still run: "
                               "fix it and run `vigil cleanup` to stop it again, or fencing "
                               f"ends it; the daemon leaves anyway in {left:.0f} s"))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ready_to_leave.wait(), min(left, 1.0))
        return True

    async def close(self) -> None:
        """Stop monitors and operation tasks (resources are left as they are)."""
        self.alarm.cancel()
        if self._unsubscribe is not None:
            self._unsubscribe()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.executor.close(finish_background=False)
        for fut in self._admin.values():
            fut.cancel()
        for efut in self._events.values():
            efut.cancel()

    # -- inputs -------------------------------------------------------------------

    def on_membership(self, membership: Membership) -> None:
        """After every membership step: pass its picture on when it changed."""
        if membership.stopped:
            return
        update = MembershipUpdated.of(membership)
        if update != self._membership:
            self._membership = update
            if self._unsubscribe is not None:  # started; else start() passes it on
                self._step(update)

    def on_message(self, sender: NodeName, incarnation: int, kind: MessageKind,
                   raw: Mapping[str, object]) -> str | None:
        """A coordinator message; the reason it was refused, or None."""
        key = (sender, kind)
        last = self._parsed.get(key)
        if last is not None and last[0] == incarnation and (last[1] is raw or last[1] == raw):
            if kind is MessageKind.REPORT:
                # A refresh of the report already taken (parsing is a pure
                # function of the JSON): the core would drop it as not newer.
                return None
            body = last[2]  # actions repeated until confirmed: answered again
        else:
            try:
                body = parse_body(kind, raw)
            except MalformedBody as e:
                return f"{kind.value} from {sender}: {e}"
            # One entry per configured sender and kind: bounded.
            self._parsed[key] = (incarnation, raw, body)
        self._step(_event_for(sender, incarnation, body))
        return None

    async def admin(self, command: AdminCommand, timeout_s: float) -> AdminAnswered:
        """COMMAND for the DC; its answer once the DC accepted it (or refused)."""
        self._api += 1
        fut: asyncio.Future[AdminAnswered] = asyncio.get_running_loop().create_future()
        self._admin[self._api] = fut
        self._step(AdminRequested(self._api, command))
        try:
            return await asyncio.wait_for(fut, timeout_s)
        finally:
            self._admin.pop(self._api, None)

    async def events(self, timeout_s: float) -> EventsAnswered:
        self._api += 1
        request = self._api
        fut: asyncio.Future[EventsAnswered] = asyncio.get_running_loop().create_future()
        self._events[request] = fut
        self._step(EventsRequested(request))
        try:
            return await asyncio.wait_for(fut, timeout_s)
        finally:
            self._events.pop(request, None)

    def feed(self, event: Event) -> None:
        """An event from another shell part (fencing: ``FenceConfirmed``, ``FenceFailed``)."""
        self._step(event)

    def on_connectivity(self, score: int) -> None:
        """This node's ping score changed (``ConnectivityMonitor.subscribe``)."""
        self._step(ConnectivityChanged(score))

    def _on_alarm(self, _now_ms: int) -> None:
        self._step(Ticked())

    def _on_executor_result(self, event: OperationCompleted) -> None:
        # Results of ``run`` come back through their task; here only the monitors.
        if event.action in ("monitor", "status") and event.interval_ms > 0:
            self._step(OperationFinished(event.resource, OpKind.MONITOR,
                                         _OUTCOME[event.result], 0, event.reason))

    # -- the core -------------------------------------------------------------------

    def _step(self, event: Event) -> None:
        now = self.clock.now_ms()
        try:
            effects = self.core.step(event, now)
        except Exception:
            self.step_errors += 1
            log.exception(kv("coordinator step failed", event=type(event).__name__))
            return
        self.steps += 1
        self._apply(effects)
        if self.core.settings.version != self._saved_version:
            self._save_settings()

    def _apply(self, effects: list[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, Send):
                urgent = True
                if isinstance(effect.body, ReportBody):
                    # The same sequence number says the same thing: a refresh.
                    urgent = effect.body.seq != self._report_seq_sent
                    self._report_seq_sent = effect.body.seq
                self.send_raw(effect.kind.value, effect.body.to_body(), urgent)
            elif isinstance(effect, RunOperation):
                self._run(effect)
            elif isinstance(effect, StartMonitor):
                self._start_monitor(effect.resource)
            elif isinstance(effect, StopMonitor):
                self.executor.stop_monitor(effect.resource)
            elif isinstance(effect, SetTimer):
                self.alarm.set(effect.at_ms)
            elif isinstance(effect, Log):
                e = effect.entry
                log.log(_log_level(e, self._membership),
                        kv(e.text, kind=e.kind.value, resource=e.resource or "-"))
                self.events_counted[e.kind.value] += 1  # /metrics
                if e.resource is None and _TRANSITION.match(e.text):
                    self.events_counted["transition"] += 1
            elif isinstance(effect, AdminAnswered):
                fut = self._admin.get(effect.request)
                if fut is not None and not fut.done():
                    fut.set_result(effect)
            elif isinstance(effect, EventsAnswered):
                efut = self._events.get(effect.request)
                if efut is not None and not efut.done():
                    efut.set_result(effect)
            elif isinstance(effect, ReadyToLeave):
                self._ready_to_leave.set()
            elif isinstance(effect, Reannounce):
                self._reannounce(effect)
            elif isinstance(effect, Fence):
                self.fence_requests.append(effect)
                if self.on_fence is not None:
                    self.on_fence(effect)  # daemon/fencing_runner.py: a task, never blocking
                else:
                    log.error(kv("fencing requested but nobody runs fences: recovery waits",
                                 node=effect.node, reason=effect.reason))

    def _run(self, op: RunOperation) -> None:
        async def run() -> None:
            try:
                done = await self.executor.run(op.resource, _ACTION[op.kind])
                outcome, reason = _OUTCOME[done.result], done.reason
            except asyncio.CancelledError:
                raise
            except Exception as e:  # an unknown resource, a bug: a failed operation
                log.exception(kv("operation failed to run", resource=op.resource,
                                 action=op.kind.value))
                outcome, reason = OpOutcome.ERROR, str(e)
            self._step(OperationFinished(op.resource, op.kind, outcome, op.token, reason))

        task = asyncio.get_running_loop().create_task(run(), name=f"vigil-op-{op.resource}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _reannounce(self, effect: Reannounce) -> None:
        """The agent's ``reannounce`` (issue 10): fire and forget, the result only logged."""
        async def run() -> None:
            try:
                done = await self.executor.run(effect.resource, "reannounce")
                log.info(kv("address announced again", resource=effect.resource,
                             result=done.result.value, detail=done.reason,
                             why=effect.reason))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception(kv("reannounce failed to run", resource=effect.resource))

        task = asyncio.get_running_loop().create_task(run(), name=f"vigil-arp-{effect.resource}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _start_monitor(self, rid: ResourceId) -> None:
        with contextlib.suppress(ValueError):  # none configured: nothing to watch
            self.executor.start_monitor(rid)

    def _active(self) -> list[str]:
        return [str(r) for r, s in self.core.local.states.items() if s.is_active]

    # -- settings on disk ---------------------------------------------------------------

    def _load_settings(self) -> AdminSettings | None:
        try:
            raw = json.loads(self.settings_file.read_text())
            return settings_from_body(raw)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as e:
            log.warning(kv("administrator settings not read, starting without",
                           file=self.settings_file, error=e))
            return None

    def _save_settings(self) -> None:
        settings = self.core.settings
        self._saved_version = settings.version
        try:
            write_atomically(self.settings_file,
                             json.dumps(settings_to_body(settings), indent=1).encode())
        except OSError as e:
            log.error(kv("administrator settings not saved", file=self.settings_file,
                         error=e.strerror))

    # -- what the control API shows ---------------------------------------------------

    def status(self) -> dict[str, Any]:
        """The resource part of the status document (docs/status.md)."""
        st = self.core.status(self.clock.now_ms())
        return {
            "resources": [{"id": r.id, "group": r.group, "node": r.node, "nodes": list(r.nodes),
                           "state": r.state, "failcount": r.failcount, "reason": r.reason}
                          for r in st.resources],
            "warnings": list(st.warnings),
            "coordinator": {
                "dc_phase": st.dc_phase,
                "dc_waiting_for": st.dc_waiting_for or None,
                "transition": st.transition,
                "outstanding_actions": st.outstanding_actions,
                "settings_version": st.settings_version,
                "standby": list(st.standby),
                "moves": dict(st.moves),
                "leaving": st.leaving,
            },
        }

    def node_connectivity(self) -> dict[str, int | None]:
        """Each node's connectivity score as the policy sees it: this node's own, and
        each member's from its current report; None for a node not in the view or not
        reported yet (the policy counts it as 0)."""
        core = self.core
        view = core.membership.view if core.membership is not None else None
        scores: dict[str, int | None] = {}
        for node in core.config.node_names:
            if node == self.me:
                scores[node] = core.local.connectivity
                continue
            known = core.reports.current(node, view) if view is not None else None
            scores[node] = known.body.connectivity if known is not None else None
        return scores

    def events_doc(self, answered: EventsAnswered) -> dict[str, Any]:
        """The ``events`` control command's result: wall-clock times added."""
        now_ms, wall = self.clock.now_ms(), time.time()
        return {"source": answered.reason, "events": [
            {**e.to_dict(), "time": round(wall - (now_ms - e.at_ms) / 1000, 3)}
            for e in answered.events]}


def _log_level(entry: ClusterEvent, membership: MembershipUpdated | None) -> int:
    """The log level of an events-log entry: each event is logged once at info.

    An operation's begin and result (``action``) are logged by the executor with
    rc and duration (``operation ok resource=... rc=0 duration_ms=...``), and a
    quorum change by the membership (``quorum votes=...``): their events-log echo
    goes to the debug file only. ``vigil events`` shows every entry regardless."""
    if entry.kind is EventKind.ACTION:
        return logging.DEBUG
    if entry.kind is EventKind.QUORUM and membership is not None and \
            entry.text == membership.quorum.reason:
        return logging.DEBUG
    return logging.INFO


def _event_for(sender: NodeName, incarnation: int, body: Body) -> Event:
    if isinstance(body, ReportBody):
        return ReportReceived(sender, incarnation, body)
    if isinstance(body, ActionsBody):
        return ActionsReceived(sender, incarnation, body)
    if isinstance(body, AdminRequestBody):
        return AdminReceived(sender, incarnation, body)
    if isinstance(body, EventsQueryBody):
        return EventsQueried(sender, incarnation, body)
    assert isinstance(body, EventsBody)
    return EventsReceived(sender, incarnation, body)
