"""The coordinator of one node: the local resource role and the DC role, one step at a time.

Rules of this file (everything that decides is in the files it names):
- One object per node. ``step(event, now_ms)`` takes an event and the shell's
  monotonic time and returns effects; ``now_ms`` never goes backwards;
  ``Started`` comes first. No clock, socket, thread or process in here.
- Local resources, failures, DC actions, local rules: ``local.py``. Planning,
  dispatch, confirmation, fencing hook: ``dc.py``. Reports of every node and the
  policy input: ``clusterstate.py``. Administrator settings: ``admin.py``.
  Message bodies: ``messages.py``. Tables: ``states.py``.
- After every event the same settling runs: local rules, then this node's own
  report (kept like any other, so the DC reads its own node the same way),
  then the DC plans and dispatches (actions for this node are handed over
  directly), repeated until nothing moves (a few rounds at most).
- Messages on a fixed keepalive grid (start + n × keepalive): the DC's
  unconfirmed actions, the administrator commands not yet accepted; and at
  once when the report's content changed or actions became ready. The report
  goes out at once when it changes, again on the next ``REPORT_REPEATS``
  slots (a lost datagram costs a keepalive), then every ``REPORT_REFRESH``
  slots; and at once to answer the DC's repeated actions or a repeated
  command (the DC asks again: it missed our report).
- One timer: ``SetTimer`` names the next moment something is due. An idle
  node (nothing to repeat) skips the slots between two refreshes of its
  report: at 16 nodes a wake-up every keepalive was a tenth of its work.

Order of effects in one step: logs and operations as they happen, ``Send``s,
answers to the control API, ``ReadyToLeave``, then ``SetTimer``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vigil.config import ClusterConfig, NodeName, NoQuorumPolicy
from vigil.coordinator.admin import AdminError, AdminSettings, RequestId, check_command
from vigil.coordinator.announce import Reannouncer
from vigil.coordinator.clusterstate import Reports
from vigil.coordinator.dc import DcRole
from vigil.coordinator.effects import (
    AdminAnswered,
    Effect,
    EventsAnswered,
    Log,
    ReadyToLeave,
    Send,
    SetTimer,
)
from vigil.coordinator.eventlog import ClusterEvent, EventKind, EventLog
from vigil.coordinator.events import (
    ActionsReceived,
    AdminReceived,
    AdminRequested,
    ConnectivityChanged,
    Event,
    EventsQueried,
    EventsReceived,
    EventsRequested,
    FenceConfirmed,
    FenceFailed,
    MembershipUpdated,
    OperationFinished,
    ReportReceived,
    ShutdownRequested,
    Started,
    Ticked,
)
from vigil.coordinator.local import LocalRole
from vigil.coordinator.messages import (
    MAX_EVENT_TEXT,
    MAX_EVENTS_SENT,
    ActionsBody,
    AdminRequestBody,
    EventEntry,
    EventsBody,
    EventsQueryBody,
    MessageKind,
    ReportBody,
)
from vigil.coordinator.states import DcPhase
from vigil.coordinator.status import CoordinatorStatus, build_status

#: Settling rounds per step; two suffice (a DC action for this node, then its report).
_ROUNDS = 4
#: After a change the report is sent again on this many keepalive slots...
REPORT_REPEATS = 2
#: ...then once every this many slots, so a node that missed everything (a lost
#: burst, a peer that was cut off) catches up. Not every slot: at 16 nodes the
#: repeats were half of all datagrams a daemon read. A DC that misses a report
#: does not wait for the refresh: it repeats its actions and the node answers
#: at once (``_answer``); a view change changes the report, which then goes out
#: at once and on the next REPORT_REPEATS slots.
REPORT_REFRESH = 10


@dataclass(slots=True)
class _PendingCommand:
    request: RequestId
    body: AdminRequestBody
    api_id: int
    expires_ms: int


@dataclass(slots=True)
class _PendingEvents:
    query: int
    expires_ms: int


def _content(body: ReportBody) -> tuple[object, ...]:
    """A report without its sequence number and failure ages: what "changed" means."""
    tx = None if body.tx is None else (body.tx.key, tuple(sorted(body.tx.done.items())))
    return (tuple(sorted(body.view.items())), body.probed, body.leaving, body.at_risk,
            body.connectivity,
            tuple(sorted(body.resources.items())),
            tuple(sorted(body.busy.items())),
            tuple(sorted((r, c) for r, (c, _) in body.failures.items())), tx,
            body.admin.version, tuple(sorted(body.origins.items())))


class Coordinator:
    """The coordinator of node ME (see the module docstring)."""

    def __init__(self, config: ClusterConfig, me: str, incarnation: int, *,
                 settings: AdminSettings | None = None) -> None:
        self._me = NodeName(me)
        if self._me not in config.node_names:
            raise ValueError(f"this node {me!r} is not in the configuration")
        self._config = config
        self._incarnation = incarnation
        self.events = EventLog(self._me)
        self.settings = settings if settings is not None else AdminSettings()
        self.reports = Reports()
        self.local = LocalRole(config, self._me, incarnation, self.events, self.settings)
        self.dc = DcRole(config, self._me, incarnation, self.reports, self.events)
        self.reannouncer = Reannouncer(config, self._me)
        self.membership: MembershipUpdated | None = None
        self._now: int | None = None
        self._started = False
        self._next_slot = 0
        self._seq = 0
        self._published: tuple[object, ...] | None = None
        self._sent: tuple[object, ...] | None = None
        self._repeats_left = 0  # slots on which the last changed report goes out again
        self._refresh_at = 0  # the slot of the next periodic refresh of the report
        self._slot_busy = False  # the DC sent actions or barriers: repeat them next slot
        self._answer = False  # a peer asked again: send the report at once
        self._timer_at: int | None = None
        self._pending: dict[int, _PendingCommand] = {}
        self._events_pending: dict[int, _PendingEvents] = {}
        self._request_no = 0
        self._left = False
        t = config.timing
        self.handover_ms = t.deadtime_ms
        self.admin_timeout_ms = max(2 * t.deadtime_ms, 10 * t.keepalive_ms)
        self.events_timeout_ms = 5 * t.keepalive_ms

    # -- the one entry point ----------------------------------------------------

    def step(self, event: Event, now_ms: int) -> list[Effect]:
        """Apply EVENT at NOW_MS; return what the shell must do."""
        if self._now is not None and now_ms < self._now:
            raise ValueError(f"time went backwards: {now_ms} ms after {self._now} ms")
        if isinstance(event, Started):
            if self._started:
                raise RuntimeError("the coordinator was already started")
        elif not self._started:
            raise RuntimeError(f"{type(event).__name__} before Started: step(Started()) first")
        self._now = now_ms
        out: list[Effect] = []
        if isinstance(event, ReportReceived) and self._repeated(event) and \
                self._timer_at is not None and now_ms < self._timer_at:
            return out  # the periodic repeat of a report already known: nothing to do
        _HANDLERS[type(event)](self, event, now_ms, out)
        self._settle(now_ms, out)
        return out

    def _repeated(self, event: ReportReceived) -> bool:
        known = self.reports.get(event.sender)
        return known is not None and (event.incarnation, event.body.seq) <= \
            (known.incarnation, known.body.seq)

    # -- handlers -----------------------------------------------------------------

    def _on_started(self, event: Started, now_ms: int, out: list[Effect]) -> None:
        self._started = True
        self._next_slot = now_ms
        self.local.start(now_ms, out)

    def _on_membership(self, event: MembershipUpdated, now_ms: int, out: list[Effect]) -> None:
        old, self.membership = self.membership, event
        self.local.on_membership(event)
        self.reannouncer.on_membership(old, event, now_ms)
        self.dc.on_membership(old, event, now_ms, out)
        if old is not None and old.quorum.quorate != event.quorum.quorate:
            self._note(now_ms, EventKind.QUORUM, event.quorum.reason, out)

    def _on_report(self, event: ReportReceived, now_ms: int, out: list[Effect]) -> None:
        if event.sender == self._me:
            return
        accepted = self.reports.accept(event.sender, event.incarnation, event.body, now_ms)
        if accepted is None:
            return
        if event.body.admin.version > self.settings.version:
            self._adopt(event.body.admin, f"from {event.sender}", now_ms, out)
        self.dc.on_report(event.sender, accepted[0], accepted[1], now_ms, out)

    def _on_actions(self, event: ActionsReceived, now_ms: int, out: list[Effect]) -> None:
        if event.body.node == self._me and self.membership is not None and \
                self.membership.dc == event.sender:
            # New actions change the report anyway; repeated ones mean the DC
            # has not seen the report that confirms them.
            self._answer = True
        self.local.on_actions(event.sender, event.incarnation, event.body, now_ms, out)

    def _on_admin(self, event: AdminReceived, now_ms: int, out: list[Effect]) -> None:
        if not self.dc.active:
            return  # not for us
        if self.settings.accepted(event.sender, event.body.request):
            self._answer = True  # a repeat: the origin missed the report showing it
            return
        if self._no_quorum():
            return  # the origin keeps asking; it answers "no quorum" itself
        self._apply(event.body, event.sender, now_ms, out)

    def _on_result(self, event: OperationFinished, now_ms: int, out: list[Effect]) -> None:
        self.local.on_result(event, now_ms, out)

    def _on_admin_requested(self, event: AdminRequested, now_ms: int,
                            out: list[Effect]) -> None:
        try:
            check_command(self._config, event.command)
        except AdminError as e:
            out.append(AdminAnswered(event.request, False, e.message, e.hint))
            return
        if self._no_quorum():
            out.append(AdminAnswered(event.request, False, "this partition has no quorum",
                                     "run it on a node of the partition that has quorum"))
            return
        self._request_no += 1
        body = AdminRequestBody((self._incarnation, self._request_no), event.command)
        if self.dc.active:
            self._apply(body, self._me, now_ms, out)
            out.append(AdminAnswered(event.request, True,
                                     f"{event.command}: applied by this node, the DC"))
            return
        self._pending[event.request] = _PendingCommand(
            body.request, body, event.request, now_ms + self.admin_timeout_ms)
        if self._dc_known():
            out.append(Send(MessageKind.ADMIN, body, f"{event.command}: asking the DC"))

    def _on_events_requested(self, event: EventsRequested, now_ms: int,
                             out: list[Effect]) -> None:
        m = self.membership
        if self.dc.active or m is None or m.dc is None:
            whose = "this node, the DC" if self.dc.active else "this node only (no DC)"
            out.append(EventsAnswered(event.request, self.events.since(0), f"events of {whose}"))
            return
        self._request_no += 1
        self._events_pending[event.request] = _PendingEvents(
            self._request_no, now_ms + self.events_timeout_ms)
        out.append(Send(MessageKind.EVENTS_QUERY, EventsQueryBody(self._request_no),
                        f"vigil events: asking the DC {m.dc}"))

    def _on_events_queried(self, event: EventsQueried, now_ms: int, out: list[Effect]) -> None:
        if not self.dc.active:
            return
        newest = self.events.since(0)[-MAX_EVENTS_SENT:]
        entries = tuple(EventEntry(e.seq, max(0, now_ms - e.at_ms), e.kind, e.resource,
                                   e.text[:MAX_EVENT_TEXT]) for e in newest)
        out.append(Send(MessageKind.EVENTS, EventsBody(event.sender, event.body.request, entries),
                        f"events asked for by {event.sender}"))

    def _on_events_received(self, event: EventsReceived, now_ms: int,
                            out: list[Effect]) -> None:
        if event.body.node != self._me:
            return
        for api_id, pending in list(self._events_pending.items()):
            if pending.query != event.body.request:
                continue
            del self._events_pending[api_id]
            theirs = [ClusterEvent(e.seq, now_ms - e.age_ms, event.sender, e.kind, e.text,
                                   e.resource) for e in event.body.entries]
            merged = sorted([*self.events.since(0), *theirs], key=lambda e: e.at_ms)
            out.append(EventsAnswered(api_id, tuple(merged),
                                      f"events of this node and of the DC {event.sender}"))

    def _on_shutdown(self, event: ShutdownRequested, now_ms: int, out: list[Effect]) -> None:
        if not self.local.leaving:
            self.local.on_leave(now_ms)
            self._note(now_ms, EventKind.ROLE, f"stopping ({event.why}): handing resources "
                       "over before leaving", out)

    def _on_fence(self, event: FenceConfirmed, now_ms: int, out: list[Effect]) -> None:
        self.dc.on_fence_confirmed(event.node, event.reason, now_ms, out)

    def _on_fence_failed(self, event: FenceFailed, now_ms: int, out: list[Effect]) -> None:
        self.dc.on_fence_failed(event.node, event.reason, now_ms, out)

    def _on_connectivity(self, event: ConnectivityChanged, now_ms: int,
                         out: list[Effect]) -> None:
        if event.score != self.local.connectivity:
            self._note(now_ms, EventKind.ROLE, f"connectivity score {self.local.connectivity} "
                       f"-> {event.score} (ping nodes)", out)
            self.local.connectivity = event.score

    def _on_tick(self, event: Ticked, now_ms: int, out: list[Effect]) -> None:
        self.dc.tick(now_ms, out)

    # -- settling ------------------------------------------------------------------

    def _settle(self, now_ms: int, out: list[Effect]) -> None:
        self.local.expire(now_ms, out)
        sends: list[Send] = []
        for _ in range(_ROUNDS):
            before = self._published
            self.local.enforce(now_ms, self.handover_ms, out)
            self._publish(now_ms, out)
            self.dc.advance(now_ms, self.settings, out, self._actions_sender(now_ms, out, sends))
            self._publish(now_ms, out)
            if self._published == before:
                break
        keepalive = self._config.timing.keepalive_ms
        due = now_ms >= self._next_slot
        if due:
            missed = (now_ms - self._next_slot) // keepalive + 1
            self._next_slot += missed * keepalive
            self.dc.resend(self._actions_sender(now_ms, out, sends))
        # Slots are needed while the DC has something to repeat; the next slot
        # shows whether it still has (a confirmed action is not sent again).
        self._slot_busy = bool(sends) or (self._slot_busy and not due)
        out.extend(sends)
        changed = self._published != self._sent
        why = None
        if changed:
            self._repeats_left = REPORT_REPEATS
            why = "the report changed"
        elif self._answer:
            why = "asked again"
        elif due and self._repeats_left > 0:
            self._repeats_left -= 1
            why = "repeat"
        elif due and now_ms >= self._refresh_at:
            why = "refresh"
        if why is not None:
            self._sent = self._published
            # _next_slot is now the slot after this one: the refresh comes
            # REPORT_REFRESH slots after the last time the report went out.
            self._refresh_at = self._next_slot + (REPORT_REFRESH - 1) * keepalive
            out.append(Send(MessageKind.REPORT, self.local.report(self._seq, now_ms), why))
        self._answer = False
        self._admin_upkeep(now_ms, due, out)
        self._events_upkeep(now_ms, due, out)
        out.extend(self.reannouncer.due(self.membership, self.local.states, self.reports))
        self._maybe_leave(now_ms, out)
        self._arm_timer(now_ms, out)

    def _publish(self, now_ms: int, out: list[Effect]) -> None:
        """Keep this node's report like any other; tell the DC role when it changed."""
        body = self.local.report(self._seq, now_ms)
        content = _content(body)
        if content == self._published:
            return
        self._seq += 1
        self._published = content
        body = self.local.report(self._seq, now_ms)
        accepted = self.reports.accept(self._me, self._incarnation, body, now_ms)
        if accepted is not None:
            self.dc.on_report(self._me, accepted[0], accepted[1], now_ms, out)

    def _actions_sender(self, now_ms: int, out: list[Effect],
                        sends: list[Send]) -> Callable[[ActionsBody], None]:
        def send(body: ActionsBody) -> None:
            if body.node == self._me:
                self.local.on_actions(self._me, self._incarnation, body, now_ms, out)
            else:
                sends.append(Send(MessageKind.ACTIONS, body,
                                  f"transition {body.tid}: actions for {body.node}"))
        return send

    # -- administrator commands -------------------------------------------------

    def _apply(self, body: AdminRequestBody, origin: NodeName, now_ms: int,
               out: list[Effect]) -> None:
        try:
            new = self.settings.apply(self._config, body.command, self._me, origin, body.request)
        except AdminError as e:
            self._note(now_ms, EventKind.ADMIN, f"{body.command} from {origin} refused: "
                       f"{e.message}", out)
            return
        self._note(now_ms, EventKind.ADMIN, f"{body.command} (from {origin}) applied: "
                   f"settings {new.describe()}", out)
        self._adopt(new, "", now_ms, out)

    def _adopt(self, settings: AdminSettings, source: str, now_ms: int,
               out: list[Effect]) -> None:
        old = self.settings
        self.settings = settings
        self.local.adopt(settings, now_ms, out)
        self.dc.changed()
        if source:
            self._note(now_ms, EventKind.ADMIN, f"settings {settings.describe()} adopted "
                       f"{source} (were version {old.version})", out)

    def _admin_upkeep(self, now_ms: int, due: bool, out: list[Effect]) -> None:
        for api_id, pending in sorted(self._pending.items()):
            command = pending.body.command
            if self.settings.accepted(self._me, pending.request):
                del self._pending[api_id]
                out.append(AdminAnswered(api_id, True, f"{command}: accepted by the DC "
                                         f"(settings version {self.settings.version})"))
            elif now_ms >= pending.expires_ms:
                del self._pending[api_id]
                out.append(AdminAnswered(
                    api_id, False, f"{command}: the DC did not confirm it within "
                    f"{self.admin_timeout_ms} ms", "check `vigil status`: is there a DC "
                    "with quorum?"))
            elif due and self._dc_known():
                out.append(Send(MessageKind.ADMIN, pending.body,
                                f"{command}: asking the DC again"))

    def _events_upkeep(self, now_ms: int, due: bool, out: list[Effect]) -> None:
        for api_id, pending in sorted(self._events_pending.items()):
            if now_ms >= pending.expires_ms:
                del self._events_pending[api_id]
                out.append(EventsAnswered(
                    api_id, self.events.since(0),
                    f"events of this node only: the DC did not answer within "
                    f"{self.events_timeout_ms} ms"))
            elif due and self._dc_known():
                out.append(Send(MessageKind.EVENTS_QUERY, EventsQueryBody(pending.query),
                                "vigil events: asking the DC again"))

    # -- leaving -------------------------------------------------------------------

    def _maybe_leave(self, now_ms: int, out: list[Effect]) -> None:
        local = self.local
        if not local.leaving or self._left or not local.quiet:
            return
        since = local.leaving_since or now_ms
        m = self.membership
        if self.dc.active and self.dc.phase is not DcPhase.IDLE and m is not None and \
                m.stable and now_ms - since < self.handover_ms:
            # As DC, see the handover through first. Not in a view that is not
            # agreed: no plan can be made there, and nothing runs here to hand
            # over; the next DC plans from the reports once the view settles.
            return
        self._left = True
        out.append(ReadyToLeave("nothing runs here any more"))

    # -- timer and helpers ----------------------------------------------------------

    def _arm_timer(self, now_ms: int, out: list[Effect]) -> None:
        # Every slot while something is repeated there (actions, barriers,
        # a changed report, a command, a query); else only the report's
        # refresh. An idle node wakes once per REPORT_REFRESH keepalives.
        busy = (self._slot_busy or self._repeats_left > 0 or self._pending
                or self._events_pending)
        slot = self._next_slot if busy else max(self._next_slot, self._refresh_at)
        due = [slot]
        settles = self.dc.connectivity_settles_ms  # the DC plans only after it
        if settles is not None and settles > now_ms:
            due.append(settles)
        for at in (self.local.next_deadline(), self.dc.next_deadline()):
            if at is not None:
                due.append(at)
        due.extend(p.expires_ms for p in self._pending.values())
        due.extend(p.expires_ms for p in self._events_pending.values())
        if self.local.leaving and self.local.leaving_since is not None:
            handover = self.local.leaving_since + self.handover_ms
            if handover > now_ms:
                due.append(handover)
        at = max(min(due), now_ms)
        if at != self._timer_at:
            self._timer_at = at
            out.append(SetTimer(at, "next keepalive" if at == slot
                                else "a failure expires, a recheck or a deadline is due"))

    def _no_quorum(self) -> bool:
        m = self.membership
        if m is None:
            return True
        return not m.quorum.quorate and \
            self._config.quorum.no_quorum_policy is not NoQuorumPolicy.IGNORE

    def _dc_known(self) -> bool:
        m = self.membership
        return m is not None and m.dc is not None

    def _note(self, now_ms: int, kind: EventKind, text: str, out: list[Effect]) -> None:
        out.append(Log(self.events.add(now_ms, kind, text)))

    # -- what the shell may read ---------------------------------------------------

    @property
    def me(self) -> NodeName:
        return self._me

    @property
    def incarnation(self) -> int:
        return self._incarnation

    @property
    def config(self) -> ClusterConfig:
        return self._config

    @property
    def is_dc(self) -> bool:
        return self.dc.active

    def next_deadline(self) -> int | None:
        return self._timer_at

    def status(self, now_ms: int) -> CoordinatorStatus:
        """What ``vigil status`` shows about resources, at NOW_MS."""
        return build_status(self, now_ms)


_Handler = Callable[[Coordinator, Any, int, list[Effect]], None]

#: Which method takes which event: the whole input alphabet of the machine.
_HANDLERS: dict[type, _Handler] = {
    Started: Coordinator._on_started,
    MembershipUpdated: Coordinator._on_membership,
    ReportReceived: Coordinator._on_report,
    ActionsReceived: Coordinator._on_actions,
    AdminReceived: Coordinator._on_admin,
    OperationFinished: Coordinator._on_result,
    AdminRequested: Coordinator._on_admin_requested,
    EventsRequested: Coordinator._on_events_requested,
    EventsQueried: Coordinator._on_events_queried,
    EventsReceived: Coordinator._on_events_received,
    ShutdownRequested: Coordinator._on_shutdown,
    FenceConfirmed: Coordinator._on_fence,
    FenceFailed: Coordinator._on_fence_failed,
    ConnectivityChanged: Coordinator._on_connectivity,
    Ticked: Coordinator._on_tick,
}


