"""The DC role: plan from every member's report, dispatch in dependency order, track results.

Rules of this file:
- Active on the node membership names DC (membership keeps a surviving DC
  through an unstable view); the phase moves only through ``states.DC_PHASES``.
- A plan is made only when the inputs are settled: the view is stable, this
  node hears a majority, every member's report is fresh (below), it has
  probed everything and has no operation in flight, and no fence is pending.
  So a plan never rests on a state that is about to change, and a transition
  interrupted by news is planned again from the latest reports (Pacemaker's
  controld waits for in-flight actions the same way).
- Fresh means: sent under this view, after the member received a barrier (a
  transition id with no actions) that the DC sent once it adopted this view.
  A view can repeat after a heal with the same members and incarnations, so
  only an echo of something sent since proves a report says what happened in
  the meantime (another partition's DC may have started things). The barrier
  also supersedes the actions of an abandoned transition: once a member
  reports a newer transition id, nothing older can run there, and what still
  runs shows as busy. Unconfirmed actions are remembered while their node
  keeps its incarnation, even out of the view, so an action still in the
  network can never race a newer plan. A barrier costs one round trip after
  a view change, nothing otherwise.
- An action is sent only when every action it comes after is confirmed, and
  it is repeated every keepalive until the node's report confirms it.
- A report that differs from the one before in a way the transition does not
  explain (a failure, a state no action of ours produces, a flag) aborts it.
- Connectivity is dampened, as pingd's ``dampen`` (attrd holds an attribute's
  write until it stopped changing on every node): after any node's score
  changes, no plan is made for ``connectivity_dampen_ms`` (4 keepalives), so
  an uplink lost by every node, whose ping nodes die a few keepalives apart,
  moves nothing instead of flapping to whichever node noticed last.
- Fencing: whom to fence and when a fence counts is ``fence_decisions.py``
  (``FenceDecisions``, one per DC); nothing is planned while a fence is
  pending, and a confirmed fence ends what was outstanding on that node.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from vigil.config import ClusterConfig, NodeName
from vigil.coordinator.admin import AdminSettings
from vigil.coordinator.clusterstate import KnownReport, Reports, cluster_state
from vigil.coordinator.effects import Effect, Log
from vigil.coordinator.eventlog import EventKind, EventLog
from vigil.coordinator.events import MembershipUpdated
from vigil.coordinator.fence_decisions import FenceDecisions
from vigil.coordinator.messages import ActionRequest, ActionsBody, cut
from vigil.coordinator.splitbrain import heal_notes
from vigil.coordinator.states import (
    EXPECTED_AFTER,
    ActionResult,
    DcInput,
    DcPhase,
    OpKind,
    next_phase,
)
from vigil.policy import Action, ActionKind, PolicyInputError, Transition, schedule

#: Actions outstanding per node at once; the rest wait (one datagram stays small).
MAX_OUTSTANDING = 256
#: Keepalives a connectivity change is left to settle before a plan uses it: nodes
#: ping on their own grids, so one loss is seen up to 2 keepalives apart, and a
#: report takes up to one more to arrive.
CONNECTIVITY_DAMPEN_KEEPALIVES = 4

_OP = {ActionKind.START: OpKind.START, ActionKind.STOP: OpKind.STOP,
       ActionKind.PROBE: OpKind.PROBE}

Sender = Callable[[ActionsBody], None]


@dataclass(slots=True)
class _Plan:
    tid: int
    transition: Transition
    dispatched: set[int] = field(default_factory=set)
    confirmed: set[int] = field(default_factory=set)


@dataclass(slots=True)
class _Outstanding:
    """An action sent and not yet confirmed or superseded on its node's incarnation."""

    tid: int
    node: NodeName
    incarnation: int
    request: ActionRequest


class DcRole:
    """The DC of this node's partition, when membership says so."""

    def __init__(self, config: ClusterConfig, me: NodeName, incarnation: int,
                 reports: Reports, log: EventLog) -> None:
        self.config = config
        self.me = me
        self.incarnation = incarnation
        self.reports = reports
        self.log = log
        self.phase = DcPhase.NOT_DC
        self.plan: _Plan | None = None
        self.recheck_at: int | None = None
        self.membership: MembershipUpdated | None = None
        self.fences = FenceDecisions(config, me, reports, self)
        self.wait_reason = ""
        self.connectivity_dampen_ms = CONNECTIVITY_DAMPEN_KEEPALIVES * config.timing.keepalive_ms
        #: No plan before this (a connectivity score changed lately); None: none pending.
        self.connectivity_settles_ms: int | None = None
        self._tid = 0
        # The barrier: members' reports count once they acknowledge a transition id at
        # least this high (None: a new one is due, the view changed).
        self._epoch: int | None = None
        self._view: object = None
        self._outstanding: dict[tuple[int, int], _Outstanding] = {}  # (tid, action id)

    # -- phase ------------------------------------------------------------------

    def _move(self, what: DcInput) -> None:
        self.phase = next_phase(self.phase, what)

    @property
    def active(self) -> bool:
        return self.phase is not DcPhase.NOT_DC

    def changed(self) -> None:
        """Something a plan depends on changed: plan again (once settled)."""
        self._move(DcInput.CHANGED)

    def outstanding(self) -> int:
        return len(self._outstanding)

    @property
    def pending_fences(self) -> set[NodeName]:
        """Nodes being fenced: no plan until each is confirmed."""
        return self.fences.pending

    # -- inputs -----------------------------------------------------------------

    def on_membership(self, old: MembershipUpdated | None, new: MembershipUpdated,
                      now_ms: int, out: list[Effect]) -> None:
        self.membership = new
        self.fences.seen_view(old, new, now_ms, out)
        elected = new.dc == self.me
        if elected and not self.active:
            self._move(DcInput.ELECTED)
            self.note(now_ms, EventKind.ROLE, f"this node is DC of the view {new.view}", out)
        elif not elected and self.active:
            self._move(DcInput.DEPOSED)
            self.plan = None
            why = f"the DC is now {new.dc}" if new.dc is not None else \
                "no DC until the view is stable"
            self.note(now_ms, EventKind.ROLE, f"this node is no longer DC: {why}", out)
        if (new.view, new.stable) != self._view:
            self._view = (new.view, new.stable)
            self._epoch = None
        if old is not None and (old.view, old.stable, old.quorum.quorate, old.late) != \
                (new.view, new.stable, new.quorum.quorate, new.late):
            self.changed()
        # A restarted node runs nothing of its old incarnation's actions, and a
        # node gone from the view is sent none of its old ones when it is back:
        # its report then says what it runs, and a new plan starts from that
        # (a start planned before a partition must not run after the heal).
        for key, o in list(self._outstanding.items()):
            inc = new.view.incarnation_of(o.node)
            if inc != o.incarnation:
                del self._outstanding[key]

    def on_report(self, node: NodeName, old: KnownReport | None, new: KnownReport,
                  now_ms: int, out: list[Effect]) -> None:
        if self.fences.before_report(node, old, new, now_ms, out):
            return
        self._confirm(node, new, now_ms, out)
        if old is not None and old.body.connectivity != new.body.connectivity:
            self.connectivity_settles_ms = now_ms + self.connectivity_dampen_ms
        self.fences.after_report(node, new, now_ms, out)
        if not self.active or (old is not None and old.significant() == new.significant()):
            return
        if self.phase is DcPhase.TRANSITION and self._explained(node, old, new):
            return
        self.changed()

    def on_fence_confirmed(self, node: NodeName, reason: str, now_ms: int,
                           out: list[Effect]) -> None:
        self.fences.confirmed(node, reason, now_ms, out)
        for key in [k for k, o in self._outstanding.items() if o.node == node]:
            del self._outstanding[key]
        self.changed()

    def on_fence_failed(self, node: NodeName, reason: str, now_ms: int,
                        out: list[Effect]) -> None:
        """The shell's fence of NODE failed: its resources stay where they were."""
        self.fences.failed(node, reason, now_ms, out)

    def tick(self, now_ms: int, out: list[Effect]) -> None:
        if self.recheck_at is not None and now_ms >= self.recheck_at:
            self.recheck_at = None
            self.changed()
        for node, why in self.fences.due(now_ms):
            self.on_fence_confirmed(node, why, now_ms, out)

    def next_deadline(self) -> int | None:
        """The next recheck or self-fence moment, if any."""
        due = [t for t in (self.fences.next_deadline(), self.recheck_at) if t is not None]
        return min(due) if due else None

    # -- planning and dispatch ---------------------------------------------------

    def advance(self, now_ms: int, settings: AdminSettings, out: list[Effect],
                send: Sender) -> None:
        """Plan when settled; dispatch what became ready; finish a completed transition."""
        if not self.active:
            return
        self.fences.deal_with_departed(now_ms, out)
        if self.phase is DcPhase.WAITING:
            why = self._unsettled(now_ms, send)
            self.wait_reason = why or ""
            if why is None:
                self._plan(now_ms, settings, out)
        if self.phase is DcPhase.TRANSITION and self.plan is not None:
            if self._hears_majority():
                fresh = self._dispatch()
                for node in sorted({o.node for o in fresh}):
                    send(self._body(node))
            if len(self.plan.confirmed) == len(self.plan.transition.actions):
                self._move(DcInput.COMPLETED)
                self.note(now_ms, EventKind.DECISION,
                           f"transition {self.plan.tid} complete", out)

    def resend(self, send: Sender) -> None:
        """Every keepalive: repeat each member's unconfirmed actions, or the barrier."""
        m = self.membership
        if not self.active or m is None or not self._hears_majority():
            return
        if self.phase is DcPhase.WAITING and self._epoch is not None:
            for node in self._unfresh():
                send(self._barrier_body(node))
            return
        for node in sorted({o.node for o in self._outstanding.values()}):
            if node in m.view:
                send(self._body(node))

    # -- inside -----------------------------------------------------------------

    def _hears_majority(self) -> bool:
        mine = self.reports.get(self.me)
        return mine is None or not mine.body.at_risk

    def _unsettled(self, now_ms: int, send: Sender) -> str | None:
        """Why a plan cannot be made yet; None when it can."""
        m = self.membership
        if m is None:
            return "no membership yet"
        settles = self.connectivity_settles_ms
        if settles is not None and now_ms < settles:
            # Re-checked on every step; the coordinator steps at least every keepalive.
            return (f"waiting {settles - now_ms} ms more for connectivity scores to settle "
                    f"(dampen {self.connectivity_dampen_ms} ms, as pingd)")
        if not m.stable:
            return f"waiting for every member to agree on the view {m.view}"
        if not self._hears_majority():
            return "this node does not hear a majority"
        if self.fences.pending:
            return f"waiting for the fencing of {', '.join(sorted(self.fences.pending))}"
        stale = [o for o in self._outstanding.values() if o.node in m.view]
        if self._epoch is None or any(o.tid >= self._tid for o in stale):
            # A new view, or actions of an abandoned transition: a new barrier id.
            self._tid += 1
            if self._epoch is None:
                self._epoch = self._tid
            for node in self._unfresh():
                send(self._barrier_body(node))
        unfresh = self._unfresh()
        if unfresh:
            return f"waiting for {', '.join(unfresh)} to report since the view {m.view}"
        for node in sorted(m.view.nodes):
            known = self.reports.current(node, m.view)
            if known is None:
                return f"waiting for the report of {node}"
            if not known.body.probed:
                return f"waiting for {node} to probe its resources"
            if known.body.busy:
                return f"waiting for operations in flight on {node}"
        return None

    def _plan(self, now_ms: int, settings: AdminSettings, out: list[Effect]) -> None:
        m = self.membership
        assert m is not None
        unavailable = [n for n in m.view.nodes if (k := self.reports.current(n, m.view))
                       is not None and (k.body.leaving or k.body.at_risk)]
        try:
            state = cluster_state(self.config, self.reports, m.view,
                                  quorate=m.quorum.quorate, settings=settings, now_ms=now_ms,
                                  unavailable=unavailable)
            transition = schedule(state)
        except PolicyInputError as e:
            self.note(now_ms, EventKind.DECISION, f"cannot plan: {e.message} ({e.hint})", out)
            self._move(DcInput.NOTHING_TO_DO)
            return
        self._tid += 1
        tid = self._tid
        self.plan = _Plan(tid, transition)
        self.recheck_at = transition.recheck_at_ms
        for note in transition.notes:
            self.note(now_ms, EventKind.DECISION, note, out)
        for note in heal_notes(state, transition):
            self.note(now_ms, EventKind.SPLIT_BRAIN, note, out)
        for node in sorted(unavailable):
            known = self.reports.current(node, m.view)
            what = "is stopping" if known is not None and known.body.leaving \
                else "cannot hear a majority"
            self.note(now_ms, EventKind.DECISION, f"{node} {what}: it takes no resources", out)
        if not transition.actions:
            self._move(DcInput.NOTHING_TO_DO)
            return
        self.note(now_ms, EventKind.DECISION,
                   f"transition {tid}: {len(transition.actions)} action(s) "
                   f"in the view {m.view}", out)
        for action in transition.actions:
            self.note(now_ms, EventKind.DECISION, action.reason, out, action)
        self._move(DcInput.PLANNED)

    def _dispatch(self) -> list[_Outstanding]:
        plan, m = self.plan, self.membership
        assert plan is not None
        assert m is not None
        per_node: dict[NodeName, int] = {}
        for o in self._outstanding.values():
            per_node[o.node] = per_node.get(o.node, 0) + 1
        fresh: list[_Outstanding] = []
        for action in plan.transition.actions:
            if action.id in plan.dispatched:
                continue
            if not all(a in plan.confirmed for a in action.after):
                continue
            inc = m.view.incarnation_of(action.node)
            if inc is None or per_node.get(action.node, 0) >= MAX_OUTSTANDING:
                continue
            plan.dispatched.add(action.id)
            request = ActionRequest(action.id, _OP[action.kind], action.resource,
                                    cut(action.reason),
                                    fenced=action.kind is ActionKind.START
                                    and self.fences.side_fenced())
            o = _Outstanding(plan.tid, action.node, inc, request)
            self._outstanding[(plan.tid, action.id)] = o
            per_node[action.node] = per_node.get(action.node, 0) + 1
            fresh.append(o)
        return fresh

    def _unfresh(self) -> list[NodeName]:
        """Members (this node too) whose report does not acknowledge the barrier yet."""
        m = self.membership
        assert m is not None
        view = {v.node: v.incarnation for v in m.view.members}
        epoch = self._epoch if self._epoch is not None else self._tid + 1
        late: list[NodeName] = []
        for node in sorted(m.view.nodes):
            known = self.reports.current(node, m.view)
            tx = known.body.tx if known is not None else None
            if known is None or known.body.view != view or tx is None or tx.dc != self.me \
                    or tx.incarnation != self.incarnation or tx.tid < epoch \
                    or any(o.node == node for o in self._outstanding.values()):
                late.append(node)
        return late

    def _barrier_body(self, node: NodeName) -> ActionsBody:
        m = self.membership
        assert m is not None
        inc = m.view.incarnation_of(node)
        return ActionsBody(node, inc if inc is not None else 0, self._tid, ())

    def _body(self, node: NodeName) -> ActionsBody:
        mine = [o for o in self._outstanding.values() if o.node == node]
        inc = mine[0].incarnation
        tid = max(o.tid for o in mine)
        actions = tuple(sorted((o.request for o in mine if o.tid == tid), key=lambda a: a.id))
        return ActionsBody(node, inc, tid, actions)

    def _confirm(self, node: NodeName, known: KnownReport, now_ms: int,
                 out: list[Effect]) -> None:
        tx = known.body.tx
        if tx is None or tx.dc != self.me or tx.incarnation != self.incarnation:
            return
        # The node is at transition tx.tid: anything older can no longer run there.
        for key, old in list(self._outstanding.items()):
            if old.node == node and old.tid < tx.tid:
                del self._outstanding[key]
        for aid, result in tx.done.items():
            o = self._outstanding.get((tx.tid, aid))
            if o is None or o.node != node:
                continue
            del self._outstanding[(tx.tid, aid)]
            plan = self.plan
            if plan is None or plan.tid != tx.tid or self.phase is not DcPhase.TRANSITION:
                continue
            if result is ActionResult.OK:
                plan.confirmed.add(aid)
            else:
                self.note(now_ms, EventKind.FAILURE,
                           f"{o.request.op.value} {o.request.resource} on {node} failed: "
                           "planning again", out)
                self._move(DcInput.ACTION_FAILED)

    def _explained(self, node: NodeName, old: KnownReport | None, new: KnownReport) -> bool:
        """Whether every difference between OLD and NEW is our own actions' doing."""
        if old is None or self.plan is None:
            return False
        a, b = old.body, new.body
        if (a.probed, a.leaving, a.at_risk) != (b.probed, b.leaving, b.at_risk):
            return False
        if {r: c for r, (c, _) in a.failures.items()} != {r: c for r, (c, _) in b.failures.items()}:
            return False
        ours = {(act.resource, EXPECTED_AFTER[_OP[act.kind]])
                for act in self.plan.transition.actions
                if act.node == node and act.id in self.plan.dispatched}
        for rid in set(a.resources) | set(b.resources):
            before, after = a.state_of(rid), b.state_of(rid)
            if before is not after and (rid, after) not in ours:
                return False
        return True

    def note(self, now_ms: int, kind: EventKind, text: str, out: list[Effect],
             action: Action | None = None) -> None:
        """Log TEXT in the events (``vigil events``) and as a ``Log`` effect."""
        rid = action.resource if action is not None else None
        out.append(Log(self.log.add(now_ms, kind, cut(text), rid)))
