"""Membership of one node: who is alive, the view, its agreement, the DC, quorum.

Rules of this file (everything that decides membership is here or in the
files it names; nothing here reads a clock or touches a socket):
- One object per node. ``step(event, now_ms)`` takes an event and the shell's
  monotonic time and returns effects; ``now_ms`` never goes backwards.
- ``Started`` must come first. After ``LeaveRequested`` the node is silent and
  every later step returns nothing.
- Peers and links: ``detector.py``. Views, agreement and the DC: ``view.py``.
  What a configuration must give membership: ``checks.py``.
  Quorum: ``vigil.quorum``; the arbitrator's vote comes in as
  ``ArbiterVoteChanged`` and counts as ``ArbiterVote.counts`` says: the timer
  also wakes the node at its deadline, when quorum is evaluated again.
- A view is not stable while some peer is still unknown (never heard, initdead
  not yet passed): as Heartbeat waits initdead at boot for the other nodes
  before taking over, nothing is decided before every peer is heard or given up.
- Heartbeats go out every keepalive on a fixed schedule (start + n × keepalive,
  so sending does not drift; missed slots are skipped, not sent in a burst),
  and at once whenever this node's view changes, so the others learn of it
  without waiting a keepalive: after a partition heals every node agrees within
  keepalive + 2 × the one-way delay (the argument:
  ``vigil.sim.chaos.convergence_bound_ms``; tests/sim/test_convergence.py holds it).
- One timer: ``SetTimer`` names the next moment something is due; each one
  replaces the last. Ticking early or more often is harmless.

Order of effects in one step: peer and link changes, then the view, quorum,
DC, then ``Send``, then ``SetTimer``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vigil.config import ClusterConfig, NodeName
from vigil.membership.checks import MembershipConfigError, check_config
from vigil.membership.detector import PeerDetector
from vigil.membership.effects import (
    CoordinatorChanged,
    Effect,
    QuorumChanged,
    RecordDrop,
    Send,
    SetTimer,
    ViewChanged,
)
from vigil.membership.events import (
    ArbiterVoteChanged,
    ConfigChanged,
    Event,
    HeartbeatReceived,
    LeaveReceived,
    LeaveRequested,
    Started,
    StopRequested,
    Ticked,
)
from vigil.membership.messages import HeartbeatBody, LeaveBody, MessageKind
from vigil.membership.states import DropCause, PeerState, in_view
from vigil.membership.status import MembershipSnapshot, NodeStatus
from vigil.membership.view import (
    View,
    ViewMember,
    disagreeing,
    first_in_order,
    view_reason,
)
from vigil.quorum import ArbiterVote, QuorumRules, QuorumStatus, evaluate


class Membership:
    """The membership state machine of node ``me`` in incarnation ``incarnation``."""

    def __init__(self, config: ClusterConfig, me: str, incarnation: int,
                 config_digest: str) -> None:
        self._me = NodeName(me)
        check_config(config, self._me)
        if incarnation < 0:
            raise MembershipConfigError(f"incarnation must not be negative, not {incarnation}")
        self._incarnation = incarnation
        self._config = config
        self._digest = config_digest
        self._rules = QuorumRules.from_config(config)
        links = [link.name for link in config.links]
        self._peers: dict[NodeName, PeerDetector] = {
            name: PeerDetector(name, links, config.timing.initdead_ms)
            for name in config.node_names if name != self._me
        }
        self._started_at: int | None = None
        self._now: int | None = None
        self._next_send_ms = 0
        self._leaving = False
        self._stopped = False
        self._view: View | None = None
        self._stable = False
        self._dc: NodeName | None = None
        self._seen_all = False
        self._quorum: QuorumStatus | None = None
        self._arbiter: ArbiterVote | None = None
        self._recheck_quorum = False  # the arbitrator's vote changed or reached its deadline
        self._timer_at: int | None = None
        # The earliest peer deadline as of the last step (None: look at every peer).
        # Hearing a peer only moves its deadline later, so this may be early, never late.
        self._peer_due: int | None = None

    # -- the one entry point ------------------------------------------------

    def step(self, event: Event, now_ms: int) -> list[Effect]:
        """Apply EVENT at NOW_MS; return what the shell must do and know."""
        if self._now is not None and now_ms < self._now:
            raise ValueError(f"time went backwards: {now_ms} ms after {self._now} ms")
        if isinstance(event, Started):
            if self._started_at is not None:
                raise RuntimeError("membership was already started")
        elif self._started_at is None:
            raise RuntimeError(f"{type(event).__name__} before Started: step(Started()) first")
        if isinstance(event, ConfigChanged):
            check_config(event.config, self._me)  # refuse before changing anything
        self._now = now_ms
        out: list[Effect] = []
        if self._stopped:
            return out
        handler = _HANDLERS[type(event)]
        trigger = handler(self, event, now_ms, out)
        if self._quorum is not None and self._quorum.arbiter_vote and \
                not self._arbiter_counts(self.view, now_ms):
            self._recheck_quorum = True  # the vote's deadline passed
        if isinstance(event, LeaveRequested):
            return out  # it just left: no heartbeat, no timer
        touched = self._touched(event)
        if self._peer_due is None or self._peer_due <= now_ms:
            for peer in self._peers.values():
                peer.advance(now_ms, self._config.timing, out)
            touched = None
        view_trigger = self._refresh(out, touched)
        self._send_heartbeat(now_ms, view_trigger or trigger, out)
        self._arm_timer(now_ms, out, touched)
        return out

    def heard_steady(self, sender: NodeName, incarnation: int, seq: int, link: str,
                     body: HeartbeatBody, *, arrived_ms: int, now_ms: int) -> list[Effect] | None:
        """``step(HeartbeatReceived(...))`` in the steady case, for a fraction of its
        work (at 16 nodes a daemon takes 150 heartbeats a second, nearly all of
        them this case): a known peer repeating its last report, as
        ``PeerDetector.heard_again`` says, with no quorum recheck, arbitrator
        vote, peer deadline or heartbeat of ours due. Returns what ``step``
        would (at most a ``SetTimer``); None, having touched nothing, when the
        case does not apply: then call ``step``. A property test holds the two
        to the same effects and state."""
        peer = self._peers.get(sender)
        quorum = self._quorum
        if (peer is None or self._stopped or self._now is None or now_ms < self._now
                or quorum is None or quorum.arbiter_vote or self._recheck_quorum
                or self._peer_due is None or self._peer_due <= now_ms
                or now_ms >= self._next_send_ms
                or not peer.heard_again(incarnation, seq, link, body,
                                        now_ms=min(arrived_ms, now_ms),
                                        warntime_ms=self._config.timing.warntime_ms)):
            return None
        self._now = now_ms
        out: list[Effect] = []
        self._arm_timer(now_ms, out, (peer,))
        return out

    def _touched(self, event: Event) -> tuple[PeerDetector, ...] | None:
        """The only peers EVENT's handler can have changed; None: maybe any.

        A heartbeat or leave changes its sender's detector and no other, so
        the view and the timer need only look at that one: each peer is heard
        every keepalive, and a scan of all N peers per heartbeat made a
        node's work grow as N squared.
        """
        if isinstance(event, HeartbeatReceived | LeaveReceived):
            peer = self._peers.get(event.sender)
            return () if peer is None else (peer,)
        return None

    # -- one handler per event: each returns why to send a heartbeat now, if so --

    def _on_started(self, event: Started, now_ms: int, out: list[Effect]) -> str | None:
        self._started_at = now_ms
        self._next_send_ms = now_ms
        for peer in self._peers.values():
            peer.restart_clock(now_ms + self._config.timing.initdead_ms)
        self._peer_due = None
        return f"start-up (incarnation {self._incarnation})"

    def _on_heartbeat(self, event: HeartbeatReceived, now_ms: int,
                      out: list[Effect]) -> str | None:
        peer = self._peer_for(event.sender, event.link, "heartbeat", out)
        if peer is not None:
            at = now_ms if event.arrived_ms is None else min(event.arrived_ms, now_ms)
            peer.heard(event.incarnation, event.seq, event.link, event.body, now_ms=at,
                       timing=self._config.timing, our_digest=self._digest, out=out)
        return None

    def _on_leave(self, event: LeaveReceived, now_ms: int, out: list[Effect]) -> str | None:
        peer = self._peer_for(event.sender, event.link, "leave", out)
        if peer is not None:
            peer.leave(event.incarnation, event.body.reason, out)
        return None

    def _on_tick(self, event: Ticked, now_ms: int, out: list[Effect]) -> str | None:
        return None  # time alone: the common part of step does the work

    def _on_stop(self, event: StopRequested, now_ms: int, out: list[Effect]) -> str | None:
        self._leaving = True
        return f"stopping ({event.why}): telling peers this node is leaving"

    def _on_leave_requested(self, event: LeaveRequested, now_ms: int,
                            out: list[Effect]) -> str | None:
        self._stopped = True
        self._timer_at = None
        out.append(Send(MessageKind.LEAVE, LeaveBody(event.why),
                        f"leaving the cluster ({event.why}) so peers need not wait for deadtime"))
        return None

    def _on_arbiter(self, event: ArbiterVoteChanged, now_ms: int,
                    out: list[Effect]) -> str | None:
        old = self._arbiter
        self._arbiter = event.vote
        if old != event.vote:
            self._recheck_quorum = True  # by _refresh, announced only if it changed
        return None

    def _arbiter_counts(self, view: View, now_ms: int) -> bool:
        vote = self._arbiter
        return vote is not None and vote.counts(view.nodes, now_ms)

    def _on_config(self, event: ConfigChanged, now_ms: int, out: list[Effect]) -> str | None:
        self._reconfigure(event, now_ms)
        self._peer_due = None
        return None

    # -- what the shell may read --------------------------------------------

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
    def view(self) -> View:
        return self._view if self._view is not None else self._my_view()

    @property
    def stable(self) -> bool:
        return self._stable

    @property
    def dc(self) -> NodeName | None:
        return self._dc

    @property
    def quorum(self) -> QuorumStatus:
        if self._quorum is not None:
            return self._quorum
        view = self.view
        counts = self._now is not None and self._arbiter_counts(view, self._now)
        return evaluate(self._rules, view.nodes, seen_all=self._seen_all, arbiter_vote=counts,
                        arbiter_holder=counts and self._arbiter is not None
                        and self._arbiter.holder)

    @property
    def arbiter_vote(self) -> ArbiterVote | None:
        """What the arbitrator last said (``ArbiterVoteChanged``), counted or not."""
        return self._arbiter

    @property
    def leaving(self) -> bool:
        return self._leaving

    @property
    def stopped(self) -> bool:
        """True after ``LeaveRequested``: the node sends and decides nothing more."""
        return self._stopped

    def peer_state(self, node: str) -> PeerState:
        """The state of NODE as this node sees it (``KeyError`` if not configured)."""
        if node == self._me:
            return PeerState.UP
        return self._peers[NodeName(node)].state

    def next_deadline(self) -> int | None:
        """When ``step(Ticked(), …)`` is next due (the last ``SetTimer``); None: never."""
        return self._timer_at

    def snapshot(self, now_ms: int) -> MembershipSnapshot:
        """Everything ``vigil status`` shows, at NOW_MS."""
        nodes: list[NodeStatus] = []
        for name in self._config.node_names:
            if name == self._me:
                nodes.append(NodeStatus(name, PeerState.UP, self._incarnation, True, None, None,
                                        (), self._leaving, False, self._digest,
                                        "this node"))
                continue
            nodes.append(self._peers[name].status(now_ms))
        return MembershipSnapshot(
            node=self._me, incarnation=self._incarnation, taken_at_ms=now_ms,
            view=self.view.ordered(self._config.node_names), stable=self._stable,
            dc=self._dc, quorum=self.quorum, nodes=tuple(nodes), leaving=self._leaving)

    # -- internals ----------------------------------------------------------

    def _peer_for(self, sender: NodeName, link: str, what: str,
                  out: list[Effect]) -> PeerDetector | None:
        if sender == self._me:
            out.append(RecordDrop(sender, DropCause.FROM_SELF,
                                  f"our own {what} came back on link {link}"))
            return None
        peer = self._peers.get(sender)
        if peer is None:
            out.append(RecordDrop(sender, DropCause.UNKNOWN_NODE,
                                  f"{what} from {sender}, which is not in the configuration"))
            return None
        if link not in peer.links:
            out.append(RecordDrop(sender, DropCause.UNKNOWN_LINK,
                                  f"{what} from {sender} on link {link!r}, "
                                  "which is not in the configuration"))
            return None
        return peer

    def _my_view(self) -> View:
        members = [ViewMember(self._me, self._incarnation)]
        for peer in self._peers.values():
            if in_view(peer.state) and peer.incarnation is not None:
                members.append(ViewMember(peer.node, peer.incarnation))
        return View.of(members)

    def _refresh(self, out: list[Effect],
                 touched: tuple[PeerDetector, ...] | None = None) -> str | None:
        """Recompute view, agreement, quorum and DC; report what changed.

        Only TOUCHED peers (None: any) can have ``changed`` set, since every
        refresh clears it on the peers it looks at.
        Returns why to send a heartbeat at once (the view changed), or None.
        """
        changed = self._quorum is None or self._recheck_quorum
        for peer in self._peers.values() if touched is None else touched:
            if peer.changed:
                peer.changed = False
                changed = True
        if not changed:
            return None  # nothing the view, agreement or quorum depend on moved
        old_view, old_stable = self._view, self._stable
        view = self._my_view()
        in_doubt = [p.node for p in self._peers.values() if p.state is PeerState.UNKNOWN]
        reports = {p.node: (p.report.view if p.report is not None else None)
                   for p in self._peers.values() if in_view(p.state)}
        differ = disagreeing(view, reports)
        stable = not in_doubt and not differ
        if view == old_view and stable == old_stable:
            if self._quorum is None or self._recheck_quorum:
                self._refresh_quorum(out)
            return None
        self._view, self._stable = view, stable
        out.append(ViewChanged(view, stable, view_reason(old_view, view, in_doubt, differ,
                                                         self._config.timing.initdead_ms)))
        if view != old_view or self._quorum is None or self._recheck_quorum:
            self._refresh_quorum(out)
        self._refresh_dc(view, stable, out)
        if view == old_view:
            return None
        return f"view changed to {view}: telling peers at once"

    def _refresh_quorum(self, out: list[Effect]) -> None:
        self._recheck_quorum = False
        view = self.view
        if not self._seen_all and self._rules.all_present(view.nodes):
            self._seen_all = True
        counts = self._now is not None and self._arbiter_counts(view, self._now)
        status = evaluate(self._rules, view.nodes, seen_all=self._seen_all,
                          arbiter_vote=counts, arbiter_holder=counts
                          and self._arbiter is not None and self._arbiter.holder)
        old = self._quorum
        self._quorum = status
        if old is None or (old.quorate, old.votes_present, old.votes_needed,
                           old.waiting_for_all, old.arbiter_vote, old.arbiter_holder) != (
                               status.quorate, status.votes_present, status.votes_needed,
                               status.waiting_for_all, status.arbiter_vote,
                               status.arbiter_holder):
            out.append(QuorumChanged(status, status.reason))

    def _refresh_dc(self, view: View, stable: bool, out: list[Effect]) -> None:
        old = self._dc
        if stable:
            new = first_in_order(view, self._config.node_names)
            why = f"first node in configuration order of the stable view {view}"
        elif old is not None and old in view:
            return  # a surviving DC keeps its role while the members settle
        else:
            new = None
            why = (f"{old} is no longer in the view; no DC until the view {view} is stable"
                   if old is not None else "no DC until the view is stable")
        if new != old:
            self._dc = new
            out.append(CoordinatorChanged(old, new, why))

    def _send_heartbeat(self, now_ms: int, trigger: str | None, out: list[Effect]) -> None:
        keepalive = self._config.timing.keepalive_ms
        due = now_ms >= self._next_send_ms
        if not due and trigger is None:
            return
        if due:
            # The next slot of the fixed schedule after now; missed slots are skipped.
            missed = (now_ms - self._next_send_ms) // keepalive + 1
            self._next_send_ms += missed * keepalive
        reason = trigger if trigger is not None else f"every keepalive ({keepalive} ms)"
        quorum = self.quorum
        body = HeartbeatBody(self.view, self._dc, quorum.quorate, self._digest, self._leaving)
        out.append(Send(MessageKind.HEARTBEAT, body, reason))

    def _arm_timer(self, now_ms: int, out: list[Effect],
                   touched: tuple[PeerDetector, ...] | None = None) -> None:
        timing = self._config.timing
        vote_due = self._vote_due()
        if (touched is not None and self._peer_due is not None
                and self._timer_at == self._next_send_ms
                and (vote_due is None or vote_due >= self._next_send_ms)):
            # The timer waits for the next heartbeat: no peer deadline came
            # before it, and only TOUCHED peers moved. If theirs are still no
            # earlier than that and than ``_peer_due``, neither changes (the
            # kept ``_peer_due`` may be early, never late).
            floor = max(self._peer_due, self._next_send_ms)
            for peer in touched:
                soonest = peer.deadline(now_ms, timing)
                if soonest is not None and soonest[0] < floor:
                    break
            else:
                return
        at = self._next_send_ms
        due: tuple[PeerDetector, str] | None = None
        peer_due: int | None = None
        for peer in self._peers.values():
            soonest = peer.deadline(now_ms, timing)
            if soonest is None:
                continue
            if peer_due is None or soonest[0] < peer_due:
                peer_due = soonest[0]
            if soonest[0] < at:
                at = soonest[0]
                record = soonest[1]
                if record.last_heard_ms is None:
                    what = "initdead"
                elif at == record.last_heard_ms + timing.warntime_ms:
                    what = "warntime"
                else:
                    what = "deadtime"
                due = (peer, f"{what} on link {record.name}")
        self._peer_due = peer_due if peer_due is not None else now_ms + timing.deadtime_ms
        vote_first = vote_due is not None and vote_due < at
        if vote_due is not None and vote_due < at:
            at = vote_due
        if at == self._timer_at:
            return
        self._timer_at = at
        if vote_first:
            reason = "the arbitrator's vote reaches its deadline unless renewed"
        elif due is None:
            reason = f"next heartbeat (keepalive {timing.keepalive_ms} ms)"
        else:
            reason = f"{due[0].node} reaches {due[1]} unless heard"
        out.append(SetTimer(at, reason))

    def _vote_due(self) -> int | None:
        """The deadline of a vote counted now, when quorum must be evaluated again."""
        quorum, vote = self._quorum, self._arbiter
        if quorum is None or not quorum.arbiter_vote or vote is None:
            return None
        return vote.until_ms

    def _reconfigure(self, event: ConfigChanged, now_ms: int) -> None:
        config = event.config
        unknown_until = now_ms + config.timing.initdead_ms
        links = [link.name for link in config.links]
        peers: dict[NodeName, PeerDetector] = {}
        for name in config.node_names:
            if name == self._me:
                continue
            peer = self._peers.get(name) or PeerDetector(name, links, unknown_until)
            peer.set_links(links, unknown_until)
            peer.forget_deadline()
            peer.digest_logged = None  # a mismatch is worth saying again under a new digest
            peers[name] = peer
        self._peers = peers
        self._config = config
        self._digest = event.config_digest
        self._rules = QuorumRules.from_config(config)
        self._next_send_ms = min(self._next_send_ms, now_ms + config.timing.keepalive_ms)
        self._quorum = None  # re-evaluated (and announced) by _refresh: the rules may differ


_Handler = Callable[[Membership, Any, int, list[Effect]], str | None]

#: Which method takes which event: the whole input alphabet of the machine.
_HANDLERS: dict[type, _Handler] = {
    Started: Membership._on_started,
    HeartbeatReceived: Membership._on_heartbeat,
    LeaveReceived: Membership._on_leave,
    Ticked: Membership._on_tick,
    StopRequested: Membership._on_stop,
    LeaveRequested: Membership._on_leave_requested,
    ConfigChanged: Membership._on_config,
    ArbiterVoteChanged: Membership._on_arbiter,
}
