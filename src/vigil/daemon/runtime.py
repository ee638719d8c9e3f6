"""One node's membership on real sockets: the asyncio shell around the pure core.

Rules of this file:
- Inputs reach the core only through ``_step(event)``, with ``now_ms`` from
  the one ``Clock``; the core's effects are carried out in ``_apply`` in the
  order given. Nothing here decides who is alive: the core does.
- Datagrams go through the wire ``Receiver`` (authentication, replay windows);
  whatever it refuses, and whatever the core or the body parser refuses, is
  counted by reason and never raises: the receive path cannot take the daemon
  down, whatever arrives.
- Heartbeats leave when the core says so (``Send``) and the core is woken at
  the absolute moment it asked for (``SetTimer`` → ``Alarm``), so sending
  follows the core's fixed keepalive grid instead of drifting.
- Only a heartbeat that repeats the last one goes to the heartbeat port, which
  peers read on a grid; a changed heartbeat (a new view), a leave and every
  coordinator message go to the control port, read at arrival (``Links``).
  While a peer is late, the view is not agreed or this node leaves, heartbeats
  are read at arrival too (``_update_hurry``).
- Log lines are one event each: a short sentence and ``key=value`` fields,
  with the core's reason as it gave it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vigil.config import ClusterConfig, NodeName
from vigil.daemon.arrivals import HeartbeatArrivals
from vigil.daemon.clock import Alarm, Clock
from vigil.daemon.digest import config_digest
from vigil.daemon.effects_log import log_effect
from vigil.daemon.logsetup import LOGGER_NAME, kv
from vigil.daemon.neighbours import forget_failed, unicast_destinations
from vigil.daemon.resources import KINDS as RESOURCE_KINDS
from vigil.daemon.resources import ResourceRuntime, wire_compression
from vigil.daemon.status_doc import build_status
from vigil.exitcodes import VigilError
from vigil.membership import (
    ArbiterVoteChanged,
    Body,
    ChangeCause,
    ConfigChanged,
    Effect,
    Event,
    HeartbeatBody,
    HeartbeatReceived,
    LeaveReceived,
    LeaveRequested,
    MalformedBody,
    Membership,
    MembershipConfigError,
    MessageKind,
    PeerState,
    PeerStateChanged,
    RecordDrop,
    Send,
    SetTimer,
    Started,
    StopRequested,
    Ticked,
    parse_body,
)
from vigil.net import LinkError, Links, open_links
from vigil.wire import Codec, Dropped, EncodeError, Receiver, Sequencer

log = logging.getLogger(f"{LOGGER_NAME}.node")

#: A leave is sent this many times (each with its own sequence number): one lost
#: datagram must not make the peers wait for deadtime after a clean stop.
LEAVE_COPIES = 2
#: Dropped datagrams of one reason are logged at most once per this many ms.
DROP_LOG_INTERVAL_MS = 10_000
#: In steady state the heartbeat sockets are read this many times per keepalive,
#: on the heartbeat grid, not once per arriving datagram: see ``_read_on_grid``.
READS_PER_KEEPALIVE = 1
#: After control traffic (sent or heard), heartbeats are read at arrival for
#: this many keepalives: a transition's messages come a few round trips apart.
SETTLE_KEEPALIVES = 2

_TICK = Ticked()
_KINDS = {kind.value: kind for kind in MessageKind}


def _where(source: tuple[str, int]) -> str:
    """A datagram's source as logs name it; formatted only for a drop (not per datagram)."""
    return f"{source[0]}:{source[1]}"


class NodeRuntime:
    """Node ME of CONFIG in INCARNATION: links, receiver, membership core, alarm."""

    def __init__(self, config: ClusterConfig, me: str, incarnation: int, clock: Clock,
                 config_path: Path) -> None:
        self.me = NodeName(me)
        self.incarnation = incarnation
        self.clock = clock
        self.config_path = config_path
        self.config = config
        self.digest = config_digest(config)
        try:
            self.codec = Codec(config.auth, wire_compression(config), config.cluster_name)
            self.membership = Membership(config, me, incarnation, self.digest)
        except (ValueError, MembershipConfigError) as e:
            raise VigilError(f"cannot run node {me}: {e}") from e
        self.receiver = Receiver(self.codec, self.me, config.node_names)
        self.sequencer = Sequencer(self.codec, self.me, incarnation)
        self.alarm = Alarm(clock, self._on_alarm, "membership")
        self.links: Links | None = None
        #: Drops after the wire layer accepted a datagram: body, kind, core causes.
        self.drops: Counter[str] = Counter()
        #: Per peer: what last changed its state, and when (``state_since_ms``).
        self.last_change: dict[NodeName, tuple[ChangeCause, int]] = {}
        self.started_ms = clock.now_ms()
        self.config_loaded_ms = self.started_ms
        self.steps = 0
        self.step_errors = 0
        self._drop_logged: dict[str, tuple[int, int]] = {}  # reason -> (at_ms, count then)
        self._last_body: dict[NodeName, tuple[MessageKind, Mapping[str, object], Body]] = {}
        self._last_beat: object = None  # the body of the last heartbeat sent
        self._background: set[asyncio.Task[None]] = set()  # see _reach_again
        #: Heartbeat gaps per peer and link, for /metrics (one bisect per heartbeat).
        self.arrivals = HeartbeatArrivals(config.timing.keepalive_ms)
        #: This node's resources (the coordinator), when the service attached them.
        self.resources: ResourceRuntime | None = None

    # -- life ---------------------------------------------------------------

    async def start(self) -> None:
        """Open the links and start heartbeating."""
        try:
            self.links = await open_links(self.config, self.me, self._on_datagram)
        except LinkError as e:
            raise VigilError(f"node {self.me} cannot open any link: {e}",
                             hint="check the addresses in the configuration; "
                             "another daemon may hold the same address and port") from e
        self._step(Started())
        self._read_on_grid(self.links)

    def _read_on_grid(self, links: Links) -> None:
        """Read heartbeats every keepalive / READS_PER_KEEPALIVE, in step with our own.

        Only in steady state: within SETTLE_KEEPALIVES of control traffic, and
        while ``_update_hurry`` says so, they are read at arrival. A node of N
        hears 10 × (N - 1) datagrams a second at keepalive 100 ms;
        waking once for each cost more than handling it (16 nodes: 160 wake-ups
        a second, ~2 % of a core on a loaded machine for an empty loop). On a
        grid anchored at the next heartbeat, a read and a send share their
        wake-up: READS_PER_KEEPALIVE wake-ups per keepalive whatever the size.
        A heartbeat read late still counts from when it arrived (the kernel's
        stamp, ``waited_s``), so the grid costs detection nothing; every alarm
        first reads what is waiting, so silence is never judged with a
        heartbeat left in the socket. Without stamps a heartbeat counts from
        its read: a crash is then declared up to one period later.
        """
        keepalive_ms = self.config.timing.keepalive_ms
        anchor_ms = self.membership.next_deadline()
        if anchor_ms is None:
            anchor_ms = self.clock.now_ms()
        links.read_on_grid(self.clock.loop_time(anchor_ms),
                           keepalive_ms / READS_PER_KEEPALIVE / 1000,
                           settle=SETTLE_KEEPALIVES * keepalive_ms / 1000)
        self._update_hurry()

    def _update_hurry(self) -> None:
        """Heartbeats at arrival while their timing matters: a peer late (its
        recovery, or its silence, is seen exactly), the view not agreed, leaving."""
        if self.links is None:
            return
        m = self.membership
        hot = not m.stable or m.leaving or m.stopped or any(
            m.peer_state(n) is PeerState.LATE for n in self.config.node_names if n != self.me)
        self.links.hurry(hot)

    async def stop(self, leave: bool = True, why: str = "stopped") -> None:
        """Tell the peers we leave (unless LEAVE is False), then close every link."""
        if leave and self.links is not None and not self.membership.stopped:
            self._step(StopRequested(why))
            self._step(LeaveRequested(why))
        self.alarm.cancel()
        for task in list(self._background):
            task.cancel()
        if self.links is not None:
            self.links.close()

    # -- inputs -------------------------------------------------------------

    def _on_alarm(self, _now_ms: int) -> None:
        if self.links is not None:
            self.links.drain_unless_fresh()  # what arrived counts before time decides
        self._step(_TICK)  # a change of hurry comes with an effect: _apply sees to it

    def _on_datagram(self, data: bytes, link: str, source: tuple[str, int],
                     waited_s: float = 0.0) -> None:
        """Every datagram from every link: accepted into the core, or counted. Never raises.

        WAITED_S: how long it sat in the socket buffer (the kernel's stamp). It is
        trusted up to two keepalives, the most a grid read can leave it waiting:
        the stamp is wall-clock time, and a clock step must not age a heartbeat.
        """
        now = self.clock.now_ms()  # one clock read per datagram, for both uses
        arrived = now - min(round(waited_s * 1000), 2 * self.config.timing.keepalive_ms)
        try:
            event = self._event_for(data, link, source, arrived, now)
        except Exception:  # a bug below must cost one datagram, not the daemon
            self._count_drop("internal_error", _where(source), link, "see traceback")
            log.exception(kv("datagram handling failed", link=link, source=source[0]))
            return
        if event is not None:
            self._step(event, now)

    def _event_for(self, data: bytes, link: str, source: tuple[str, int], arrived_ms: int,
                   now_ms: int) -> HeartbeatReceived | LeaveReceived | None:
        """What DATA asks of the membership core; None when it was dealt with here."""
        result = self.receiver.receive(data, link)
        if isinstance(result, Dropped):
            self._log_drop(result.reason.value, _where(source), link, result.detail)
            return None
        env = result.envelope
        coordinator_kind = RESOURCE_KINDS.get(env.kind)
        if coordinator_kind is not None and self.resources is not None:
            if result.first_copy:  # the same message comes once per link: act on one
                refused = self.resources.on_message(env.sender, env.incarnation,
                                                    coordinator_kind, env.body)
                if refused is not None:
                    self._count_drop("bad_body", _where(source), link, refused)
            return None
        kind = _KINDS.get(env.kind)
        if kind is None:
            self._count_drop("unknown_kind", _where(source), link,
                             f"kind {env.kind!r} from {env.sender}")
            return None
        body = self._parse(env.sender, kind, env.body)
        if isinstance(body, MalformedBody):
            self._count_drop("bad_body", _where(source), link,
                             f"{kind.value} from {env.sender}: {body}")
            return None
        if isinstance(body, HeartbeatBody):
            self.arrivals.observe(env.sender, link, arrived_ms)  # /metrics
            steady = self.membership.heard_steady(env.sender, env.incarnation, env.seq, link,
                                                  body, arrived_ms=arrived_ms, now_ms=now_ms)
            if steady is not None:  # nearly every heartbeat: only "when heard" moved
                self.steps += 1
                if steady:
                    self._apply(steady, now_ms)
                return None
            return HeartbeatReceived(env.sender, env.incarnation, env.seq, link, body,
                                     arrived_ms)
        return LeaveReceived(env.sender, env.incarnation, link, body)

    def _parse(self, sender: NodeName, kind: MessageKind,
               raw: Mapping[str, object]) -> Body | MalformedBody:
        """``parse_body``, remembering each sender's last body.

        A peer repeats the same heartbeat body every keepalive on every link
        until its view changes; comparing the decoded JSON with the last one
        (a C-level dict comparison) costs far less than validating a view of
        every member again. Parsing is a pure function of the body, so the
        cached result is exactly what parsing again would give. One entry per
        configured sender: the receiver lets no other sender through.
        """
        last = self._last_body.get(sender)
        if last is not None and last[0] is kind and (last[1] is raw or last[1] == raw):
            return last[2]
        try:
            body = parse_body(kind, raw)
        except MalformedBody as e:
            return e
        self._last_body[sender] = (kind, raw, body)
        return body

    # -- the core -----------------------------------------------------------

    def _step(self, event: Event, now: int | None = None) -> None:
        if now is None:
            now = self.clock.now_ms()
        try:
            effects = self.membership.step(event, now)
        except Exception:
            # The core refusing an input is a bug; keep the daemon and the heartbeat going.
            self.step_errors += 1
            log.exception(kv("membership step failed", event=type(event).__name__))
            return
        self.steps += 1
        changed = self._apply(effects, now)
        # A heartbeat or tick that changed no peer, view, quorum or DC leaves
        # the coordinator's picture as it was: at 16 nodes, building that picture
        # again for each of the 150 heartbeats a second was a tenth of the work.
        if self.resources is not None and (
                changed or not isinstance(event, HeartbeatReceived | Ticked)):
            self.resources.on_membership(self.membership)

    def arbiter_vote(self, event: ArbiterVoteChanged) -> None:
        """What the lease service said (``daemon/arbiter_runner.py``), into membership."""
        self._step(event)

    def send_message(self, kind: str, body: Mapping[str, object], urgent: bool = True) -> None:
        """Sign and send one message of KIND (the coordinator's) on every link.

        URGENT (the default): to the control port, read at arrival; False only
        for a repeat of what the peers already heard (read on their grid)."""
        if self.links is None:
            return
        try:
            data = self.sequencer.encode(kind, body)
        except EncodeError as e:
            log.error(kv("message not sent", kind=kind, error=e))
            return
        self.links.send(data, urgent=urgent)

    def _apply(self, effects: list[Effect], now_ms: int) -> bool:
        """Carry out EFFECTS; True if one said a peer, link, view, quorum or DC changed."""
        changed = False  # a peer, link, view or quorum change: the hurry may change
        for effect in effects:
            if isinstance(effect, Send):
                self._send(effect)
            elif isinstance(effect, SetTimer):
                self.alarm.set(effect.at_ms)
            elif isinstance(effect, RecordDrop):
                self.drops[effect.cause.value] += 1
                log.debug(kv("message ignored", node=effect.sender, cause=effect.cause.value,
                             reason=effect.reason))
            else:
                if isinstance(effect, PeerStateChanged):
                    self.last_change[effect.node] = (effect.cause, now_ms)
                    if effect.new is PeerState.UP and \
                            effect.old in (PeerState.DEAD, PeerState.UNKNOWN):
                        self._reach_again(effect.node)
                changed = True
                log_effect(log, effect, self.membership, now_ms)
        if changed:
            self._update_hurry()
        return changed

    def _reach_again(self, node: NodeName) -> None:
        """NODE is heard again: make sure our heartbeats reach it at once too.

        On a unicast link the kernel may hold them for a failed ARP/NDP entry
        (``daemon/neighbours.py``): drop that entry, then send the last
        heartbeat again (a new sequence number) on the link, read at arrival.
        """
        if self.links is None:
            return
        for link in self.config.links:
            addresses = unicast_destinations(link, node)
            if addresses:
                task = asyncio.get_running_loop().create_task(
                    self._resend_after_flush(link.name, addresses))
                self._background.add(task)
                task.add_done_callback(self._background.discard)

    async def _resend_after_flush(self, link: str, addresses: tuple[str, ...]) -> None:
        await forget_failed(addresses)
        beat = self._last_beat
        if self.links is None or not isinstance(beat, HeartbeatBody) or self.membership.stopped:
            return
        try:
            data = self.sequencer.encode(MessageKind.HEARTBEAT.value, beat.to_body())
        except EncodeError as e:
            log.error(kv("heartbeat not sent", error=e))
            return
        with contextlib.suppress(KeyError):  # a reload may have removed the link
            self.links.send_to(link, data, urgent=True)

    def _send(self, effect: Send) -> None:
        if self.links is None:
            return
        copies = LEAVE_COPIES if effect.kind is MessageKind.LEAVE else 1
        # A heartbeat saying what the last one said is steady state (the grid
        # port); anything new must not wait for the peers' grid.
        urgent = effect.kind is MessageKind.LEAVE or effect.body != self._last_beat
        self._last_beat = effect.body
        for _ in range(copies):
            try:
                data = self.sequencer.encode(effect.kind.value, effect.body.to_body())
            except EncodeError as e:
                log.error(kv("message not sent", kind=effect.kind.value, error=e))
                return
            self.links.send(data, urgent=urgent)
        if effect.kind is MessageKind.LEAVE:
            log.info(kv("leave sent", node=self.me, incarnation=self.incarnation,
                        reason=effect.reason))

    # -- drops --------------------------------------------------------------

    def _count_drop(self, reason: str, source: str, link: str, detail: str) -> None:
        self.drops[reason] += 1
        self._log_drop(reason, source, link, detail)

    def _log_drop(self, reason: str, source: str, link: str, detail: str) -> None:
        """Debug-log every drop; warn on the first of a reason, then at most every 10 s."""
        log.debug(kv("datagram dropped", reason=reason, link=link, source=source, detail=detail))
        now = self.clock.now_ms()
        count = self.drop_counts().get(reason, 0)
        last = self._drop_logged.get(reason)
        if last is not None and now - last[0] < DROP_LOG_INTERVAL_MS:
            return
        self._drop_logged[reason] = (now, count)
        since = count - last[1] if last is not None else count
        log.warning(kv("datagram dropped", reason=reason, link=link, source=source,
                       detail=detail, count=count, since_last_log=since))

    def drop_counts(self) -> dict[str, int]:
        """Every drop reason (wire, body, core) with its count; wire reasons always present."""
        counts = {reason.value: n for reason, n in self.receiver.counters.items()}
        for reason, n in self.drops.items():
            counts[reason] = counts.get(reason, 0) + n
        return counts

    # -- what the control API shows ------------------------------------------

    def status(self) -> dict[str, Any]:
        return build_status(self, self.clock.now_ms())

    # -- reload ---------------------------------------------------------------

    async def apply_config(self, config: ClusterConfig) -> list[str]:
        """Switch to CONFIG (already valid); problems found leave the old one running."""
        digest = config_digest(config)
        try:
            codec = Codec(config.auth, wire_compression(config), config.cluster_name)
            Membership(config, self.me, self.incarnation, digest)  # refuses what step would
        except (ValueError, MembershipConfigError) as e:
            return [str(e)]
        if config.links != self.config.links and self.links is not None:
            old_links = self.links
            old_links.close()
            try:
                self.links = await open_links(config, self.me, self._on_datagram)
            except LinkError as e:
                for name in old_links.names:
                    old_links.reopen(name)
                self.links = old_links
                return [f"the new links cannot be opened ({e}); kept the running ones"]
        old_names = self.config.node_names
        self.config, self.digest, self.codec = config, digest, codec
        if config.node_names == old_names:
            self.receiver.codec = codec  # replay windows survive the reload
        else:
            # Other senders now: new windows. Counters carry over, so the status
            # document's drop counts never go backwards.
            for reason, count in self.receiver.counters.items():
                self.drops[reason.value] += count
            self.receiver = Receiver(codec, self.me, config.node_names)
            self._last_body.clear()
        self.sequencer.codec = codec
        self.config_loaded_ms = self.clock.now_ms()
        self._step(ConfigChanged(config, digest))
        if self.links is not None:
            self._read_on_grid(self.links)  # new links, or a new keepalive grid
        return []
