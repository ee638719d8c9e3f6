"""The failure detector for one peer: its links, its incarnation, its latest report.

Rules of this file:
- Time comes in as ``now_ms``; state changes come out as effects with reasons.
- Link and peer states follow ``states.link_state_at`` and ``states.ALLOWED``:
  a link is heard, goes late at warntime, dead at deadtime (unknown before it
  was ever heard, dead at initdead), and the peer is the best of its links.
- Incarnations (as Heartbeat's generation numbers): a higher one means the
  peer restarted and everything known about the old one is void; a lower one
  is a stale message and is dropped.
- A leave message makes the peer and every link dead at once; later heartbeats
  of that incarnation are stale copies still in flight and are dropped.
- The peer's report (its view, DC, quorum, digest, leaving) is taken from the
  heartbeat with the highest sequence number, so a reordered old heartbeat
  cannot bring back a view the peer has left behind.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from vigil.config import NodeName, Timing
from vigil.membership.effects import (
    Effect,
    LinkStateChanged,
    LogConfigMismatch,
    LogLateHeartbeat,
    PeerStateChanged,
    RecordDrop,
)
from vigil.membership.messages import HeartbeatBody
from vigil.membership.states import (
    ALLOWED,
    ChangeCause,
    DropCause,
    PeerState,
    best,
    in_view,
    link_state_at,
    next_change_ms,
)
from vigil.membership.status import LinkStatus, NodeStatus


class _Admission(enum.Enum):
    DROPPED = "dropped"  # stale, or a straggler after a leave
    FIRST = "first"  # the first message ever from this peer
    KNOWN = "known"  # from the incarnation we know
    RESTARTED = "restarted"  # from a newer incarnation


@dataclass(slots=True)
class LinkRecord:
    """What one node knows of one link to one peer."""

    name: str
    unknown_until_ms: int
    last_heard_ms: int | None = None
    state: PeerState = PeerState.UNKNOWN
    reason: str = "not heard yet"


class PeerDetector:
    """Everything one node knows about one peer; mutated only through its methods."""

    __slots__ = (
        "_due",
        "_due_known",
        "changed",
        "digest_logged",
        "incarnation",
        "last_heard_ms",
        "left",
        "links",
        "node",
        "reason",
        "report",
        "report_seq",
        "state",
    )

    def __init__(self, node: NodeName, links: list[str], unknown_until_ms: int) -> None:
        self.node = node
        self.links: dict[str, LinkRecord] = {
            name: LinkRecord(name, unknown_until_ms) for name in links
        }
        self.incarnation: int | None = None
        self.state = PeerState.UNKNOWN
        self.reason = "not heard since start-up"
        self.last_heard_ms: int | None = None  # on any link
        self.left = False  # the current incarnation said it left
        self.report: HeartbeatBody | None = None
        self.report_seq = -1
        self.digest_logged: str | None = None
        # Something the view depends on (state, incarnation, reported view) changed
        # since the owner last cleared this.
        self.changed = True
        self._due: tuple[int, LinkRecord] | None = None  # cached ``deadline``
        self._due_known = False

    # -- inputs -------------------------------------------------------------

    def heard(
        self,
        incarnation: int,
        seq: int,
        link: str,
        body: HeartbeatBody,
        *,
        now_ms: int,
        timing: Timing,
        our_digest: str,
        out: list[Effect],
    ) -> None:
        """A heartbeat of INCARNATION with SEQ arrived on LINK at NOW_MS.

        NOW_MS may be a little before the last one heard on another link (a
        heartbeat that waited in its socket): silence counts from the latest.
        """
        old_incarnation = self.incarnation
        admission = self._admit(incarnation, "heartbeat", out)
        if admission is _Admission.DROPPED:
            return
        previous = self.last_heard_ms
        if (admission is _Admission.KNOWN and previous is not None
                and now_ms - previous > timing.warntime_ms):
            # Heartbeat's warning, word for word (heartbeat.c, HBDoMsg_T_STATUS).
            interval = now_ms - previous
            out.append(LogLateHeartbeat(self.node, link, interval,
                                        f"Late heartbeat: Node {self.node}: interval "
                                        f"{interval} ms"))
        self.last_heard_ms = now_ms if previous is None else max(previous, now_ms)
        self._due_known = False
        self._link_heard(self.links[link], now_ms, out)
        if seq > self.report_seq:
            self._take_report(seq, body, our_digest, out)
        if admission is _Admission.RESTARTED:
            old_state = self.state
            self.state = best([r.state for r in self.links.values()])
            self.changed = True
            self.reason = (f"restarted: incarnation {old_incarnation} replaced by "
                           f"{incarnation}; its earlier state is void")
            out.append(PeerStateChanged(self.node, old_state, self.state, incarnation,
                                        ChangeCause.RESTARTED, self.reason))
        elif self.state is not PeerState.UP:
            if previous is None:
                why = f"first heartbeat, on link {link} (incarnation {incarnation})"
            else:
                why = f"heard again on link {link} after {now_ms - previous} ms of silence"
            self._settle(ChangeCause.HEARD, why, out)

    def leave(self, incarnation: int, why: str, out: list[Effect]) -> None:
        """INCARNATION said it left: dead at once, on every link."""
        if self.incarnation == incarnation and self.left:
            return  # the same leave on another link, or sent twice
        if self._admit(incarnation, "leave", out) is _Admission.DROPPED:
            return
        self.left = True
        self.changed = True
        self._due_known = False
        reason = f"left the cluster ({why}); not waiting for deadtime"
        for record in self.links.values():
            if record.state is not PeerState.DEAD:
                self._set_link(record, PeerState.DEAD, ChangeCause.LEFT, reason, out)
        self._settle(ChangeCause.LEFT, reason, out)

    def advance(self, now_ms: int, timing: Timing, out: list[Effect]) -> None:
        """Apply what the passing of time decides: late, dead, initdead."""
        changed = False
        for record in self.links.values():
            if record.state is PeerState.DEAD:
                continue  # dead is sticky: only a heartbeat revives a link
            new = link_state_at(record.last_heard_ms, record.unknown_until_ms, now_ms, timing)
            if new is record.state:
                continue
            cause, why = _silence(f"on link {record.name}", record.last_heard_ms, new,
                                  now_ms, timing)
            self._set_link(record, new, cause, why, out)
            changed = True
        if changed:
            self._due_known = False
            new_state = best([r.state for r in self.links.values()])
            if new_state is not self.state:
                cause, why = _silence("on any link", self.last_heard_ms, new_state,
                                      now_ms, timing)
                self._settle(cause, why, out)

    def heard_again(self, incarnation: int, seq: int, link: str, body: HeartbeatBody, *,
                    now_ms: int, warntime_ms: int) -> bool:
        """``heard`` in the steady case, where it changes nothing but when the peer
        was last heard: the same life, not left, the peer and LINK up, heard
        within warntime, and a newer heartbeat repeating the very report taken
        last (the shell hands the same object for the same bytes). True when
        taken; False, having touched nothing, otherwise (then ``heard``)."""
        record = self.links.get(link)
        previous = self.last_heard_ms
        if (incarnation != self.incarnation or self.left or self.changed
                or self.state is not PeerState.UP or record is None
                or record.state is not PeerState.UP or previous is None
                or now_ms - previous > warntime_ms
                or (seq > self.report_seq and body is not self.report)):
            return False
        if now_ms > previous:
            self.last_heard_ms = now_ms
        last = record.last_heard_ms
        if last is None or now_ms > last:
            record.last_heard_ms = now_ms
        self.report_seq = max(self.report_seq, seq)
        self._due_known = False
        return True

    def status(self, now_ms: int) -> NodeStatus:
        """This peer for ``vigil status``, at NOW_MS."""
        def ago(at: int | None) -> int | None:
            return None if at is None else now_ms - at

        links = tuple(LinkStatus(r.name, r.state, r.last_heard_ms, ago(r.last_heard_ms),
                                 r.reason) for r in self.links.values())
        report = self.report
        return NodeStatus(
            self.node, self.state, self.incarnation, False, self.last_heard_ms,
            ago(self.last_heard_ms), links,
            report.leaving if report is not None and in_view(self.state) else False,
            self.left, report.config_digest if report is not None else None, self.reason)

    def deadline(self, now_ms: int, timing: Timing) -> tuple[int, LinkRecord] | None:
        """The earliest time ``advance`` will change something if nothing is heard,
        and the link it will change. Cached: it moves only when the peer does."""
        if self._due_known:
            return self._due
        soonest: tuple[int, LinkRecord] | None = None
        for record in self.links.values():
            if record.state is PeerState.DEAD:
                continue
            at = next_change_ms(record.last_heard_ms, record.unknown_until_ms, now_ms, timing)
            if at is not None and (soonest is None or at < soonest[0]):
                soonest = (at, record)
        self._due, self._due_known = soonest, True
        return soonest

    def forget_deadline(self) -> None:
        """The timing changed: compute the deadline afresh."""
        self._due_known = False

    def restart_clock(self, unknown_until_ms: int) -> None:
        """Start-up: links never heard are unknown until UNKNOWN_UNTIL_MS (initdead)."""
        for record in self.links.values():
            record.unknown_until_ms = unknown_until_ms
        self._due_known = False

    def set_links(self, names: list[str], unknown_until_ms: int) -> None:
        """Reconfiguration: keep the links still configured, add new ones as unknown."""
        self.links = {
            name: self.links.get(name) or LinkRecord(name, unknown_until_ms) for name in names
        }
        self._due_known = False
        self.changed = True

    # -- internals ----------------------------------------------------------

    def _admit(self, incarnation: int, what: str, out: list[Effect]) -> _Admission:
        """Whether a message of INCARNATION counts, and what it says of the peer."""
        known = self.incarnation
        if known is None:
            self.incarnation = incarnation
            return _Admission.FIRST
        if incarnation < known:
            out.append(RecordDrop(self.node, DropCause.STALE_INCARNATION,
                                  f"{what} from {self.node} incarnation {incarnation}, "
                                  f"older than the known {known}"))
            return _Admission.DROPPED
        if incarnation > known:
            # A restart: the old incarnation's report, leave and digest are void;
            # what the links showed of the network stays true.
            self.incarnation = incarnation
            self.left = False
            self.changed = True
            self.report = None
            self.report_seq = -1
            self.digest_logged = None
            return _Admission.RESTARTED
        if self.left:
            out.append(RecordDrop(self.node, DropCause.AFTER_LEAVE,
                                  f"{what} from {self.node} incarnation {incarnation} "
                                  "after it said it left"))
            return _Admission.DROPPED
        return _Admission.KNOWN

    def _link_heard(self, record: LinkRecord, now_ms: int, out: list[Effect]) -> None:
        last = record.last_heard_ms
        gap = None if last is None else now_ms - last
        record.last_heard_ms = now_ms if last is None else max(last, now_ms)
        if record.state is not PeerState.UP:
            why = (f"heard on link {record.name}" if gap is None
                   else f"heard again on link {record.name} after {gap} ms of silence")
            self._set_link(record, PeerState.UP, ChangeCause.HEARD, why, out)

    def _take_report(self, seq: int, body: HeartbeatBody, our_digest: str,
                     out: list[Effect]) -> None:
        """The newest heartbeat says what the peer sees: keep it."""
        if self.report is None or self.report.view != body.view:
            self.changed = True
        self.report = body
        self.report_seq = seq
        if body.config_digest not in (our_digest, self.digest_logged):
            out.append(LogConfigMismatch(
                self.node, body.config_digest, our_digest,
                f"{self.node} runs a different configuration (digest {body.config_digest}, "
                f"ours {our_digest}): check that every node has the same files"))
        self.digest_logged = body.config_digest

    def _set_link(self, record: LinkRecord, new: PeerState, cause: ChangeCause, why: str,
                  out: list[Effect]) -> None:
        old = record.state
        assert new in ALLOWED[old], f"link {record.name} of {self.node}: {old} -> {new}"
        record.state = new
        record.reason = why
        out.append(LinkStateChanged(self.node, record.name, old, new, cause, why))

    def _settle(self, cause: ChangeCause, why: str, out: list[Effect]) -> None:
        """The peer takes the best state of its links (dead once it left)."""
        new = PeerState.DEAD if self.left else best([r.state for r in self.links.values()])
        old = self.state
        if new is old:
            return
        assert new in ALLOWED[old], f"peer {self.node}: {old} -> {new}"
        self.state = new
        self.reason = why
        self.changed = True
        out.append(PeerStateChanged(self.node, old, new, self.incarnation, cause, why))


def _silence(where: str, last_heard_ms: int | None, new: PeerState, now_ms: int,
             timing: Timing) -> tuple[ChangeCause, str]:
    """The cause and the words for a change decided by time alone."""
    if last_heard_ms is None:
        return ChangeCause.INITDEAD, (
            f"never heard {where} since start-up (initdead {timing.initdead_ms} ms)")
    silent = now_ms - last_heard_ms
    if new is PeerState.DEAD:
        return ChangeCause.DEADTIME, (
            f"not heard {where} for {silent} ms (deadtime {timing.deadtime_ms} ms)")
    if new is PeerState.LATE:
        return ChangeCause.WARNTIME, (
            f"not heard {where} for {silent} ms (warntime {timing.warntime_ms} ms)")
    return ChangeCause.RECONFIGURED, f"heard {where} {silent} ms ago, within the new warntime"
