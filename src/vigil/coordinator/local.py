"""The local resource role: this node's resources, as Pacemaker's lrmd and controld keep them.

Rules of this file:
- States change only through ``states.ON_END``; failure counts only through
  ``states.COUNTS_AS_FAILURE``. Nothing here decides placement: the DC does.
- At start-up every configured resource is probed; the node reports
  ``probed`` only once every probe answered, and the DC plans nothing before.
- A DC action is identified by (DC, DC incarnation, transition id, action id)
  and runs at most once: results are kept for the newest transition of the
  current DC, older transitions' messages are ignored, a repeat is answered
  from the results. Actions are accepted only from the node membership names
  DC, in a stable view, addressed to this node's incarnation.
- One operation at a time per resource, in the order asked (the executor
  serialises too; this keeps ``busy`` exact for the report).
- Local rules, applied at every step whatever the DC does (level-triggered):
  * no quorum with ``no_quorum_policy = stop``: stop every local resource
    (group members last to first). Stops begin in the step that learns of the
    loss, so within 0 ms of membership declaring it (well inside the
    keepalive the DC would need). Before quorum is first gained too: a
    daemon restarted while cut off cannot know how long ago the majority
    last heard its previous incarnation, so what its probes find running is
    stopped at once (a restart in a healthy cluster hears a majority within a
    keepalive, usually before its probes answer).
  * quorum at risk: the peers heard within warntime (``late`` excluded) no
    longer make a majority. The node stops its resources then, at warntime,
    before the majority can declare it dead at deadtime: with a stop taking at
    most ``deadtime - warntime - keepalive - one-way delay``, the minority of
    a partition has stopped before the majority starts anything (issue 10's
    safe mode; tests/sim/test_failover_chaos.py holds it).
  * while either holds, or the node is leaving, DC starts are held (not run,
    not answered) until it no longer holds.
  * leaving (SIGTERM) with no DC that can move the resources, or once
    ``handover_ms`` passed: stop everything here.
- Failure counts expire here, on this node's clock, ``failure-timeout`` after
  the last failure (the report then shows them gone).
- Every active copy carries its origin (issue 10), what the DC weighs when a
  healed partition finds it active twice: it lost quorum if this node lost
  quorum while it ran (or started it without quorum, once quorum had been
  held: before that nothing is known either way); it followed a fence if the
  DC's start said so. The report lists only copies with something to say.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from vigil.config import ClusterConfig, NodeName, NoQuorumPolicy, Resource, ResourceId
from vigil.coordinator.admin import AdminSettings
from vigil.coordinator.effects import Effect, Log, RunOperation, StartMonitor, StopMonitor
from vigil.coordinator.eventlog import EventKind, EventLog
from vigil.coordinator.events import MembershipUpdated, OperationFinished
from vigil.coordinator.messages import ActionRequest, ActionsBody, ReportBody, TxResults, cut
from vigil.coordinator.states import (
    COUNTS_AS_FAILURE,
    ActionResult,
    LocalState,
    OpKind,
    action_result,
    state_after,
)
from vigil.policy import CopyOrigin
from vigil.quorum import QuorumRules

TxKey = tuple[NodeName, int, int]  # (DC, DC incarnation, transition id)


@dataclass(slots=True)
class _Op:
    kind: OpKind
    reason: str
    token: int = 0  # set when issued
    tx: TxKey | None = None  # the DC transition whose actions this op answers
    actions: list[int] = field(default_factory=list)
    fenced: bool = False  # a start the DC decided after its side fenced a node


@dataclass(slots=True)
class _Tx:
    key: TxKey
    done: dict[int, ActionResult] = field(default_factory=dict)
    accepted: set[int] = field(default_factory=set)  # queued or running
    held: dict[int, ActionRequest] = field(default_factory=dict)


def stop_order(config: ClusterConfig) -> list[list[ResourceId]]:
    """Units of this configuration, each as the order its members stop in (last first)."""
    units: list[list[ResourceId]] = []
    seen: set[str] = set()
    for r in config.resources:
        group = config.group_of(r.id)
        if group is None:
            units.append([r.id])
        elif group.id not in seen:
            seen.add(group.id)
            units.append(list(reversed(group.resources)))
    return units


def has_monitor(resource: Resource) -> bool:
    return any(op.name in ("monitor", "status") and op.interval_ms > 0
               for op in resource.operations)


class LocalRole:
    """This node's resources: states, operations, failures, DC actions, local rules."""

    def __init__(self, config: ClusterConfig, me: NodeName, incarnation: int, log: EventLog,
                 settings: AdminSettings) -> None:
        self.config = config
        self.me = me
        self.incarnation = incarnation
        self.log = log
        self.states: dict[ResourceId, LocalState] = {r.id: LocalState.UNKNOWN
                                                     for r in config.resources}
        self.fails: dict[ResourceId, tuple[int, int]] = {}  # rid -> (count, last failure ms)
        self.leaving = False
        self.leaving_since: int | None = None
        self.connectivity = 0  # pingd's score, shared in the report
        self.settings = settings
        self.membership: MembershipUpdated | None = None
        self._resources = {r.id: r for r in config.resources}
        self._units = stop_order(config)
        self._votes = QuorumRules.from_config(config).votes
        self._queue: dict[ResourceId, deque[_Op]] = {rid: deque() for rid in self.states}
        self._running: dict[ResourceId, _Op] = {}  # issued, waiting for the result
        self._probing: set[ResourceId] = set()  # start-up probes not answered yet
        self._started = False
        self._was_quorate = False
        self._monitoring: set[ResourceId] = set()
        self._token = 0
        self._tx: _Tx | None = None
        # The settings version whose cleanups were acted on (or made moot by probing).
        self._cleanup_seen = settings.version.counter
        #: Active copies here and how they came about (see the file's rules).
        self.origins: dict[ResourceId, CopyOrigin] = {}

    # -- what the others read -------------------------------------------------

    @property
    def probed(self) -> bool:
        return self._started and not self._probing

    def busy(self) -> dict[ResourceId, OpKind]:
        """Resources with an operation in flight or queued: the first one's kind."""
        out: dict[ResourceId, OpKind] = {}
        for rid in self.states:
            op = self._running.get(rid)
            if op is None and self._queue[rid]:
                op = self._queue[rid][0]
            if op is not None:
                out[rid] = op.kind
        return out

    def blocked(self) -> list[ResourceId]:
        """Resources whose stop failed here: they may still run (until cleanup or a fence)."""
        return sorted(rid for rid, s in self.states.items() if s is LocalState.BLOCKED)

    @property
    def quiet(self) -> bool:
        """Nothing active and nothing in flight here: safe to leave."""
        return (not any(s.is_active for s in self.states.values())
                and not self._running and not any(self._queue.values()))

    def report(self, seq: int, now_ms: int) -> ReportBody:
        tx = None
        if self._tx is not None:
            dc, inc, tid = self._tx.key
            tx = TxResults(dc, inc, tid, dict(self._tx.done))
        m = self.membership
        view = {} if m is None else {v.node: v.incarnation for v in m.view.members}
        return ReportBody(
            seq=seq,
            view=view,
            probed=self.probed,
            leaving=self.leaving,
            at_risk=self.at_risk(),
            connectivity=self.connectivity,
            resources={rid: s for rid, s in self.states.items() if s is not LocalState.STOPPED},
            busy=self.busy(),
            failures={rid: (count, max(0, now_ms - last))
                      for rid, (count, last) in self.fails.items()},
            tx=tx,
            admin=self.settings,
            origins={rid: o for rid, o in sorted(self.origins.items()) if not o.plain},
        )

    def next_deadline(self) -> int | None:
        """When the next failure count expires (None: none will)."""
        due = [last + t for rid, (_, last) in self.fails.items()
               if (t := self._failure_timeout(rid)) > 0]
        return min(due) if due else None

    # -- quorum rules ---------------------------------------------------------

    def at_risk(self) -> bool:
        """Quorate, but the members heard within warntime are no majority any more."""
        m = self.membership
        if m is None or not m.quorum.quorate or not m.late:
            return False
        if self.config.quorum.no_quorum_policy is not NoQuorumPolicy.STOP:
            return False
        # The lease holder's arbitrator vote survives the split; a member's does not.
        heard = sum(self._votes.get(n, 0) for n in m.view.nodes - m.late) + m.quorum.arbiter_holder
        return heard < m.quorum.votes_needed

    def dc_usable(self) -> bool:
        """A DC exists that may move our resources (it acts only in a stable view)."""
        m = self.membership
        if m is None or m.dc is None or not m.stable:
            return False
        return m.quorum.quorate or self.config.quorum.no_quorum_policy is NoQuorumPolicy.IGNORE

    def must_stop(self, now_ms: int, handover_ms: int) -> str | None:
        """Why every local resource must stop now, whatever the DC says; None if not."""
        m = self.membership
        policy = self.config.quorum.no_quorum_policy
        if m is not None and policy is NoQuorumPolicy.STOP:
            if not m.quorum.quorate:
                # Also at start-up before quorum: a node restarted while cut off cannot
                # know how long ago the others last heard it, so it keeps nothing.
                return f"quorum lost ({m.quorum.reason})" if self._was_quorate else \
                    f"no quorum since start-up ({m.quorum.reason})"
            if self.at_risk():
                late = ", ".join(sorted(m.late))
                return (f"quorum at risk: {late} not heard within warntime and the rest "
                        "are no majority; stopping before the majority can take over")
        if self.leaving:
            if not self.dc_usable():
                return "this node is stopping and no DC can hand its resources over"
            if self.leaving_since is not None and now_ms - self.leaving_since >= handover_ms:
                return f"this node is stopping and the DC did not move its resources " \
                       f"within {handover_ms} ms"
        return None

    # -- inputs -----------------------------------------------------------------

    def start(self, now_ms: int, out: list[Effect]) -> None:
        """Probe everything (as Pacemaker at start-up: what is really running here?)."""
        self._started = True
        for rid in self.states:
            self._probing.add(rid)
            self._enqueue(rid, _Op(OpKind.PROBE, "start-up probe: is it running here?"),
                          now_ms, out)

    def on_membership(self, event: MembershipUpdated) -> None:
        old, self.membership = self.membership, event
        if event.quorum.quorate:
            self._was_quorate = True
        elif self._was_quorate:
            for rid, origin in self.origins.items():
                self.origins[rid] = CopyOrigin(quorate=False, fenced=origin.fenced)
        tx = self._tx
        if tx is not None and tx.held and (old is None or old.view != event.view
                                            or event.dc != tx.key[0]):
            # Held starts belong to a plan made for another view: void. The DC plans
            # again, and a start it still wants comes back with a newer transition.
            tx.held.clear()

    def on_leave(self, now_ms: int) -> None:
        self.leaving = True
        self.leaving_since = now_ms

    def on_actions(self, sender: NodeName, incarnation: int, body: ActionsBody,
                   now_ms: int, out: list[Effect]) -> None:
        """Actions from SENDER: run the new ones of the newest transition, once each."""
        m = self.membership
        if body.node != self.me or body.incarnation != self.incarnation \
                or m is None or m.dc != sender or not m.stable:
            return  # only the DC of a stable view that includes us may ask
        if m.view.incarnation_of(sender) != incarnation:
            return
        key = (sender, incarnation, body.tid)
        tx = self._tx
        if tx is None or tx.key[:2] != key[:2] or body.tid > tx.key[2]:
            tx = self._tx = _Tx(key)
            self._drop_superseded(key)
        elif body.tid < tx.key[2]:
            return  # an older transition of this DC: it was replaced
        for action in body.actions:
            if action.id in tx.done or action.id in tx.accepted or action.id in tx.held:
                continue
            if action.resource not in self.states:
                tx.done[action.id] = ActionResult.FAILED
                self._note(now_ms, EventKind.FAILURE,
                           f"DC asked to {action.op.value} {action.resource}, which is not "
                           "configured here: refused", action.resource, out)
                continue
            if action.op is OpKind.START and self._hold_starts(now_ms):
                tx.held[action.id] = action
                continue
            self._accept(tx, action, now_ms, out)

    def on_result(self, event: OperationFinished, now_ms: int, out: list[Effect]) -> None:
        rid = event.resource
        if rid not in self.states:
            return
        if event.kind is OpKind.MONITOR:
            self._on_monitor(event, now_ms, out)
            return
        op = self._running.get(rid)
        if op is None or op.token != event.token:
            return  # not ours (an operation from before a restart of the core)
        del self._running[rid]
        before = self.states[rid]
        after = state_after(before, event.kind, event.outcome)
        self.states[rid] = after
        self._track_origin(rid, after, op.fenced)
        failed = (event.kind, event.outcome) in COUNTS_AS_FAILURE
        if failed:
            self._count_failure(rid, now_ms)
        startup = event.kind is OpKind.PROBE and rid in self._probing
        self._probing.discard(rid)
        if op.tx is not None and self._tx is not None and op.tx == self._tx.key:
            result = action_result(event.kind, event.outcome)
            for aid in op.actions:
                self._tx.done[aid] = result
                self._tx.accepted.discard(aid)
        self._log_result(rid, op, event, before=before, after=after, failed=failed,
                         startup=startup, now_ms=now_ms, out=out)
        self._monitor_after(rid, after, out)
        self._issue_next(rid, now_ms, out)

    def adopt(self, settings: AdminSettings, now_ms: int, out: list[Effect]) -> None:
        """Take SETTINGS (newer than ours); act on the cleanups they ask for."""
        self.settings = settings
        seen, self._cleanup_seen = self._cleanup_seen, settings.version.counter
        if not self.probed:
            return  # start-up probes are under way: they find out everything anyway
        rids, incomplete = settings.cleanup_since(seen)
        if incomplete:
            rids = rids | {rid for rid, s in self.states.items() if s is LocalState.BLOCKED}
            rids = rids | frozenset(self.fails)
        for rid in sorted(rids):
            if rid not in self.states:
                continue
            had = self.fails.pop(rid, None)
            cleared = f", failure count {had[0]} cleared" if had else ""
            self._note(now_ms, EventKind.ADMIN, f"cleanup of {rid}: probing it again{cleared}",
                       rid, out)
            self._enqueue(rid, _Op(OpKind.PROBE, f"cleanup of {rid}: probing it again"),
                          now_ms, out)

    def expire(self, now_ms: int, out: list[Effect]) -> None:
        for rid, (count, last) in sorted(self.fails.items()):
            timeout = self._failure_timeout(rid)
            if timeout > 0 and now_ms >= last + timeout:
                del self.fails[rid]
                self._note(now_ms, EventKind.FAILURE,
                           f"failures of {rid} expired: {count} failure(s), the last "
                           f"{now_ms - last} ms ago (failure-timeout {timeout} ms)", rid, out)

    def enforce(self, now_ms: int, handover_ms: int, out: list[Effect]) -> None:
        """The local rules (see the file's rules), run after every step."""
        why = self.must_stop(now_ms, handover_ms)
        if why is not None:
            self._stop_all(why, now_ms, out)
        tx = self._tx
        if tx is not None and tx.held and not self._hold_starts(now_ms):
            held, tx.held = tx.held, {}
            for aid in sorted(held):
                self._accept(tx, held[aid], now_ms, out)

    # -- inside -------------------------------------------------------------------

    def _hold_starts(self, now_ms: int) -> bool:
        m = self.membership
        if self.leaving or m is None:
            return True
        if not m.quorum.quorate and self.config.quorum.no_quorum_policy is not \
                NoQuorumPolicy.IGNORE:
            return True
        return self.at_risk()

    def _drop_superseded(self, key: TxKey) -> None:
        """A newer transition replaces the older ones: what they queued here is void."""
        for queue in self._queue.values():
            keep = [op for op in queue if op.tx is None or op.tx == key]
            if len(keep) != len(queue):
                queue.clear()
                queue.extend(keep)

    def _accept(self, tx: _Tx, action: ActionRequest, now_ms: int, out: list[Effect]) -> None:
        tx.accepted.add(action.id)
        rid = action.resource
        queue = self._queue[rid]
        last = queue[-1] if queue else None
        if last is not None and last.kind is action.op and last.tx == tx.key:
            last.actions.append(action.id)  # the same operation already waits: answer both
        else:
            self._enqueue(rid, _Op(action.op, action.reason, tx=tx.key, actions=[action.id],
                                   fenced=action.fenced), now_ms, out)

    def _enqueue(self, rid: ResourceId, op: _Op, now_ms: int, out: list[Effect]) -> None:
        self._queue[rid].append(op)
        if rid not in self._running:
            self._issue_next(rid, now_ms, out)

    def _issue_next(self, rid: ResourceId, now_ms: int, out: list[Effect]) -> None:
        queue = self._queue[rid]
        if rid in self._running or not queue:
            return
        op = queue.popleft()
        self._token += 1
        op.token = self._token
        self._running[rid] = op
        if op.kind is OpKind.STOP and rid in self._monitoring:
            self._monitoring.discard(rid)
            out.append(StopMonitor(rid, f"stopping {rid}"))
        if op.kind is not OpKind.PROBE or rid not in self._probing:
            self._note(now_ms, EventKind.ACTION, f"{op.kind.value} {rid}: {op.reason}", rid, out)
        out.append(RunOperation(rid, op.kind, op.token, op.reason))

    def _stop_all(self, why: str, now_ms: int, out: list[Effect]) -> None:
        """Stop the next member of every unit, last member first, one at a time."""
        for unit in self._units:
            for rid in unit:  # last member first
                running = self._running.get(rid)
                queued = self._queue[rid]
                if running is not None or queued:
                    kinds = [op.kind for op in (running, *queued) if op is not None]
                    if OpKind.STOP in kinds or kinds[-1] is OpKind.PROBE:
                        break  # its stop is on the way, or a probe will tell: wait for it
                    if self.states[rid] is LocalState.BLOCKED:
                        continue
                    self._enqueue(rid, _Op(OpKind.STOP, why), now_ms, out)
                    break  # a start in flight: stop it right after
                state = self.states[rid]
                if state in (LocalState.RUNNING, LocalState.FAILED):
                    self._enqueue(rid, _Op(OpKind.STOP, why), now_ms, out)
                    break

    def _on_monitor(self, event: OperationFinished, now_ms: int, out: list[Effect]) -> None:
        rid = event.resource
        if rid in self._running or self._queue[rid]:
            return  # an operation is on its way: its result says more
        before = self.states[rid]
        after = state_after(before, OpKind.MONITOR, event.outcome)
        if after is before:
            return
        self.states[rid] = after
        self._track_origin(rid, after, False)
        if (OpKind.MONITOR, event.outcome) in COUNTS_AS_FAILURE:
            self._count_failure(rid, now_ms)
        count = self.fails.get(rid, (0, 0))[0]
        detail = f": {event.reason}" if event.reason else ""
        self._note(now_ms, EventKind.FAILURE,
                   f"monitor of {rid} failed ({event.outcome.value}){detail}; "
                   f"failure count {count}", rid, out)

    def _monitor_after(self, rid: ResourceId, state: LocalState, out: list[Effect]) -> None:
        if state is LocalState.RUNNING and rid not in self._monitoring \
                and has_monitor(self._resources[rid]):
            self._monitoring.add(rid)
            out.append(StartMonitor(rid, f"{rid} runs here"))
        elif state is LocalState.STOPPED and rid in self._monitoring:
            self._monitoring.discard(rid)
            out.append(StopMonitor(rid, f"{rid} is stopped"))

    def _track_origin(self, rid: ResourceId, state: LocalState, fenced: bool) -> None:
        if not state.is_active:
            self.origins.pop(rid, None)
        elif rid not in self.origins:
            m = self.membership
            lost = self._was_quorate and (m is None or not m.quorum.quorate)
            self.origins[rid] = CopyOrigin(quorate=not lost, fenced=fenced)

    def _count_failure(self, rid: ResourceId, now_ms: int) -> None:
        count = self.fails.get(rid, (0, 0))[0]
        self.fails[rid] = (count + 1, now_ms)

    def _failure_timeout(self, rid: ResourceId) -> int:
        r = self._resources.get(rid)
        if r is not None and r.failure_timeout_ms is not None:
            return r.failure_timeout_ms
        return self.config.failure_timeout_ms

    def _log_result(self, rid: ResourceId, op: _Op, event: OperationFinished, *,
                    before: LocalState, after: LocalState, failed: bool, startup: bool,
                    now_ms: int, out: list[Effect]) -> None:
        if event.kind is OpKind.PROBE and not failed:
            if after.is_active or not startup:
                self._note(now_ms, EventKind.ACTION, f"probe of {rid}: {after.value}", rid, out)
            return
        detail = f" ({event.reason})" if event.reason and failed else ""
        if failed:
            count = self.fails[rid][0]
            extra = ": blocked here, a stop must not be assumed" \
                if after is LocalState.BLOCKED else ""
            self._note(now_ms, EventKind.FAILURE,
                       f"{op.kind.value} of {rid} failed ({event.outcome.value}){detail}{extra}; "
                       f"failure count {count}", rid, out)
        else:
            self._note(now_ms, EventKind.ACTION,
                       f"{op.kind.value} of {rid} done: {before.value} -> {after.value}",
                       rid, out)

    def _note(self, now_ms: int, kind: EventKind, text: str, rid: ResourceId | None,
              out: list[Effect]) -> None:
        out.append(Log(self.log.add(now_ms, kind, cut(text), rid)))
