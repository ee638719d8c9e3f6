"""All of a node's links on the asyncio loop: send on every one, hand up what arrives.

Rules of this file:
- Nothing raised here reaches the daemon from sending or receiving: a send
  error (ENETUNREACH, EPERM from a firewall, ENETDOWN with the cable out) is
  counted on its link and logged, and the other links carry on. Losing one
  link must never lose the others.
- Datagrams go straight to the kernel with ``sendto`` on a non-blocking
  socket; a full socket buffer drops the datagram (counted) rather than
  queueing it, because a heartbeat that waits is worse than one that is lost.
- Each link is two sockets: the heartbeat port (the configured one) and the
  control port (each port plus one, ``control_link``; Corosync also uses two
  ports per ring). The sender chooses: ``send(data)`` is a steady-state
  heartbeat, ``send(data, urgent=True)`` everything else (a leave, a changed
  view, coordinator messages). A link is open only when both sockets are.
- The control sockets are read at every arrival. The heartbeat sockets are
  too, until ``read_on_grid``: then they are drained on a fixed grid of times
  (a node of a 16-node cluster hears 150 heartbeats a second, and on a
  virtualised machine the wake-up alone costs more than handling one), except
  while latency matters: for ``settle`` seconds after any control datagram
  sent or read (a transition, a command, a leave, a view change in flight),
  and while the owner says so with ``hurry(True)`` (a late peer, a view not
  agreed). Then they are read at arrival again. So only a heartbeat of a
  cluster in steady state ever waits for the grid.
- Arrival order is kept across the two sockets of a link: before a control
  datagram is handed up, the heartbeats already waiting on that link are.
  A drain that leaves data behind (a burst, a flood) goes on at once, batch
  by batch, so the grid bounds the wake-up rate, never the throughput; every
  read is a bounded batch so one busy link cannot starve the loop.
- Every datagram, however odd, goes to ``on_datagram``; what it means is the
  wire layer's question. With it goes how long it waited in the socket
  buffer, from the kernel's arrival stamp (SO_TIMESTAMPNS): a heartbeat read
  on the grid still counts from when it arrived.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import socket
import struct
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from vigil.config import ClusterConfig, Link, NodeName
from vigil.net.addresses import SockAddr, format_addr
from vigil.net.sockets import SO_TIMESTAMPNS, LinkSocket, control_link, open_link_socket

log = logging.getLogger("vigil.net")

#: ``on_datagram(data, link_name, (source_host, source_port), waited_s)``: WAITED_S is
#: how long the datagram sat in the socket buffer before this read (0.0 if unknown).
DatagramHandler = Callable[[bytes, str, tuple[str, int], float], None]

_RECV_SIZE = 65_536
_TIMESPEC = struct.Struct("@qq")  # struct timespec: seconds, nanoseconds
_ANC_SIZE = socket.CMSG_SPACE(_TIMESPEC.size)
_BATCH = 64  # datagrams read per wake-up, per link
#: A drain this recent makes another one pointless (``drain_unless_fresh``).
_FRESH_S = 0.0002
_LOG_EVERY = 1000  # repeated errors: log the first, then one in this many


class LinkState(enum.Enum):
    OPEN = "open"
    FAILED = "failed"  # could not be opened; see ``error``
    CLOSED = "closed"


class LinkError(OSError):
    """No configured link could be opened: this node cannot talk to anyone."""


@dataclass(frozen=True, slots=True)
class LinkStats:
    """One link's counters, as ``vigil status`` shows them.

    ``sent`` counts datagrams the kernel accepted (one per destination),
    ``send_errors`` those it refused; ``received`` every datagram read, valid
    or not; ``handler_errors`` exceptions ``on_datagram`` raised (a bug, logged).
    The counters cover both sockets; ``control`` is the control socket's address.
    """

    name: str
    kind: str
    state: LinkState
    local: str | None
    destinations: tuple[str, ...]
    sent: int
    send_errors: int
    received: int
    receive_errors: int
    handler_errors: int
    last_error: str | None
    control: str | None = None


class _Link:
    """One link's socket and counters."""

    def __init__(self, link: Link) -> None:
        self.link = link
        self.state = LinkState.CLOSED
        self.opened: LinkSocket | None = None  # the heartbeat port
        self.control: LinkSocket | None = None  # the control port
        self.reading = False  # the heartbeat socket is read at arrival
        self.sent = self.send_errors = self.received = 0
        self.receive_errors = self.handler_errors = 0
        self.last_error: str | None = None
        # What each destination (None: the link itself) is failing with, so a
        # new failure is logged once and its recovery once, not every keepalive.
        self.failing: dict[SockAddr | None, str] = {}

    def stats(self) -> LinkStats:
        opened = self.opened
        return LinkStats(
            name=self.link.name,
            kind=self.link.kind.value,
            state=self.state,
            local=opened.local if opened else None,
            destinations=tuple(format_addr(d) for d in opened.destinations) if opened else (),
            sent=self.sent,
            send_errors=self.send_errors,
            received=self.received,
            receive_errors=self.receive_errors,
            handler_errors=self.handler_errors,
            last_error=self.last_error,
            control=self.control.local if self.control else None,
        )


class Links:
    """The open links of one node. Build with ``open_links``."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        links: tuple[Link, ...],
        me: NodeName,
        on_datagram: DatagramHandler,
    ) -> None:
        self._loop = loop
        self._me = me
        self._on_datagram = on_datagram
        self._links = {link.name: _Link(link) for link in links}
        # Heartbeats read on a grid (``read_on_grid``): its anchor and period in
        # loop time, and the pending drain; None: read at each arrival.
        self._grid: tuple[float, float] | None = None
        self._hurry = False
        # Heartbeats are read at arrival until this loop time (control traffic).
        self._settle = 0.0
        self._busy_until = 0.0
        self._drained_at = -1.0  # loop time of the last drain
        self._grid_timer: asyncio.TimerHandle | None = None
        self._draining: asyncio.Handle | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """Link names in configuration order."""
        return tuple(self._links)

    def stats(self) -> Mapping[str, LinkStats]:
        """A snapshot of every link's state and counters, in configuration order."""
        return {name: entry.stats() for name, entry in self._links.items()}

    # -- sending -----------------------------------------------------------

    def send(self, data: bytes, *, urgent: bool = False) -> None:
        """Send DATA on every link, to every destination. Never raises.

        URGENT: to the control port, read at arrival; else to the heartbeat
        port, which may be read on the grid (a steady-state heartbeat only).
        """
        if urgent:
            self._control_seen()
        for entry in self._links.values():
            self._send(entry, data, urgent)

    def send_to(self, link_name: str, data: bytes, *, urgent: bool = False) -> None:
        """Send DATA on one link. KeyError for a name not configured; never raises otherwise."""
        entry = self._links[link_name]
        if urgent:
            self._control_seen()
        self._send(entry, data, urgent)

    def _send(self, entry: _Link, data: bytes, urgent: bool) -> None:
        opened = entry.control if urgent else entry.opened
        if opened is None:
            entry.send_errors += 1
            self._note_error(entry, "send", f"link is {entry.state.value}", None)
            return
        for dest in opened.destinations:
            try:
                opened.sock.sendto(data, dest)
            except OSError as exc:
                entry.send_errors += 1
                self._note_error(entry, "send", exc.strerror or str(exc), dest)
            else:
                entry.sent += 1
                if entry.failing and entry.failing.pop(dest, None) is not None:
                    log.info("link send recovered link=%s destination=%s",
                             entry.link.name, format_addr(dest))

    # -- receiving ---------------------------------------------------------

    def read_on_grid(self, anchor: float, period: float, settle: float = 0.0) -> None:
        """Drain the heartbeat sockets at loop times ANCHOR + k × PERIOD, not at each arrival.

        What arrives there waits at most PERIOD seconds in the socket buffer,
        except within SETTLE seconds of a control datagram sent or read, and
        while ``hurry`` is on: then it is read at arrival. Put the anchor on
        the caller's own timer grid (the keepalive schedule) and the two share
        their wake-ups. Links opened later are read the same way. The control
        sockets are always read at arrival.
        """
        if period <= 0 or settle < 0:
            raise ValueError(f"read period must be positive, not {period}, "
                             f"and settle not negative, not {settle}")
        self._grid = (anchor, period)
        self._settle = settle
        self._sync_readers()
        self._arm_grid()

    def hurry(self, on: bool) -> None:
        """While ON, read the heartbeat sockets at arrival too (latency matters now)."""
        if on != self._hurry:
            self._hurry = on
            self._sync_readers()

    @property
    def hurried(self) -> bool:
        """Whether heartbeats are read at arrival (no grid, ``hurry``, control traffic)."""
        return self._grid is None or self._hurry or self._loop.time() < self._busy_until

    def _control_seen(self) -> None:
        """Control traffic now: heartbeats at arrival for the next ``settle`` seconds."""
        if self._settle <= 0:
            return
        self._busy_until = self._loop.time() + self._settle
        self._sync_readers()

    def drain(self) -> None:
        """Read the heartbeats waiting on every link now (one batch each), so a
        caller about to act on silence (a deadline) first hears what already
        arrived. (Control sockets are read at arrival: nothing waits there.)"""
        more = False
        self._drained_at = self._loop.time()
        for entry in self._links.values():
            opened = entry.opened
            if opened is not None and self._read(entry, opened):
                more = True
        if more and self._draining is None:
            self._draining = self._loop.call_soon(self._drain_more)

    def drain_unless_fresh(self) -> None:
        """``drain``, unless that was done a moment ago (200 us): the grid
        and the runtime's keepalive timer fire together, and the second read of
        every socket would find nothing (what arrives in between is read at the
        next grid point, counted from its arrival stamp)."""
        if self._loop.time() - self._drained_at >= _FRESH_S:
            self.drain()

    def _drain_more(self) -> None:
        self._draining = None
        self.drain()

    def _sync_readers(self) -> None:
        """Heartbeat sockets: a reader while hurried, none on the grid."""
        want = self.hurried
        for entry in self._links.values():
            opened = entry.opened
            if opened is None or entry.reading == want:
                continue
            if want:
                self._loop.add_reader(opened.sock.fileno(), self._on_heartbeats, entry)
            else:
                self._loop.remove_reader(opened.sock.fileno())
            entry.reading = want

    def _arm_grid(self) -> None:
        if self._grid_timer is not None:
            self._grid_timer.cancel()
            self._grid_timer = None
        if self._grid is None:
            return
        anchor, period = self._grid
        # The next grid point strictly after now (a late wake-up skips the
        # points it missed rather than draining twice in a row).
        k = (self._loop.time() - anchor) // period + 1
        self._grid_timer = self._loop.call_at(anchor + k * period, self._on_grid)

    def _on_grid(self) -> None:
        self._grid_timer = None
        self._sync_readers()  # the settling time may be over
        if not self.hurried:  # hurried, every arrival was read already
            self.drain_unless_fresh()
        self._arm_grid()

    def _on_heartbeats(self, entry: _Link) -> None:
        if entry.opened is not None and self._read(entry, entry.opened):
            self._drain_soon()

    def _on_control(self, entry: _Link) -> None:
        """A control datagram: first the heartbeats that arrived before it on this link."""
        self._control_seen()
        if self._read_link(entry):
            self._drain_soon()

    def _drain_soon(self) -> None:
        if self._draining is None:
            self._draining = self._loop.call_soon(self._drain_more)

    def _read_link(self, entry: _Link) -> bool:
        """One batch from each of ENTRY's sockets, heartbeats first; True when more may wait."""
        more = False
        for opened in (entry.opened, entry.control):
            if opened is not None and self._read(entry, opened):
                more = True
        return more

    def _read(self, entry: _Link, opened: LinkSocket) -> bool:
        """Read one batch from OPENED, a socket of ENTRY; True when more may be waiting."""
        wall = time.time()  # the kernel's stamps are CLOCK_REALTIME
        for _ in range(_BATCH):
            try:
                data, anc, _flags, addr = opened.sock.recvmsg(_RECV_SIZE, _ANC_SIZE)
            except (BlockingIOError, InterruptedError):
                return False
            except OSError as exc:
                # A pending ICMP error surfaces here once; the next read goes on.
                entry.receive_errors += 1
                self._note_error(entry, "receive", exc.strerror or str(exc), None)
                continue
            entry.received += 1
            waited = 0.0
            for level, kind, stamp in anc:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and \
                        len(stamp) >= _TIMESPEC.size:
                    sec, nsec = _TIMESPEC.unpack_from(stamp)
                    waited = max(0.0, wall - (sec + nsec * 1e-9))
            try:
                self._on_datagram(data, entry.link.name, (str(addr[0]), int(addr[1])), waited)
            except Exception:
                entry.handler_errors += 1
                if entry.handler_errors % _LOG_EVERY == 1:
                    log.exception(
                        "datagram handler failed link=%s source=%s count=%d",
                        entry.link.name, format_addr(addr), entry.handler_errors,
                    )
            if entry.opened is not opened and entry.control is not opened:
                return False  # the handler closed this link
        return True

    def _note_error(
        self, entry: _Link, action: str, error: str, dest: SockAddr | None
    ) -> None:
        where = f" to {format_addr(dest)}" if dest is not None else ""
        message = f"{action}{where}: {error}"
        count = entry.send_errors if action == "send" else entry.receive_errors
        # A new failure is logged at once; the same one repeating, once in a while.
        if entry.failing.get(dest) != message or count % _LOG_EVERY == 0:
            log.warning("link %s failed link=%s error=%r count=%d",
                        action, entry.link.name, message, count)
        entry.failing[dest] = message
        entry.last_error = message

    # -- opening and closing -----------------------------------------------

    def reopen(self, link_name: str) -> bool:
        """(Re)open one link, e.g. after its interface came back; True when it is open.

        KeyError for a name not configured; an open failure is recorded in its
        stats and logged, never raised.
        """
        entry = self._links[link_name]
        self._close(entry)
        try:
            opened = open_link_socket(entry.link, self._me)
        except OSError as exc:
            return self._failed(entry, f"open: {exc.strerror or exc}")
        try:
            control = open_link_socket(control_link(entry.link), self._me)
        except (OSError, OverflowError) as exc:
            # Half a link would lose every message but heartbeats without a
            # trace: the whole link fails, visibly.
            opened.sock.close()
            error = exc.strerror if isinstance(exc, OSError) else None
            return self._failed(entry, f"open control port: {error or exc}")
        for skipped in opened.skipped:
            log.warning("link destination left out link=%s destination=%r",
                        entry.link.name, skipped)
        entry.opened, entry.control = opened, control
        entry.state = LinkState.OPEN
        entry.failing.clear()
        self._loop.add_reader(control.sock.fileno(), self._on_control, entry)
        self._sync_readers()
        if self._grid is not None and self._grid_timer is None:
            self._arm_grid()
        log.info("link open link=%s kind=%s local=%s control=%s destinations=%s",
                 entry.link.name, entry.link.kind.value, opened.local, control.local,
                 ",".join(format_addr(d) for d in opened.destinations) or "-")
        return True

    def _failed(self, entry: _Link, error: str) -> bool:
        entry.state = LinkState.FAILED
        entry.last_error = error
        log.error("link failed to open link=%s kind=%s error=%r",
                  entry.link.name, entry.link.kind.value, error)
        return False

    def close_link(self, link_name: str) -> None:
        """Stop using one link (its sends then count as errors). KeyError for unknown names."""
        self._close(self._links[link_name])

    def close(self) -> None:
        """Close every link. Idempotent."""
        for entry in self._links.values():
            self._close(entry)
        if self._grid_timer is not None:  # ``reopen`` arms it again
            self._grid_timer.cancel()
            self._grid_timer = None
        if self._draining is not None:
            self._draining.cancel()
            self._draining = None

    def _close(self, entry: _Link) -> None:
        sockets = (entry.opened, entry.control)
        entry.opened = entry.control = None
        entry.reading = False
        entry.state = LinkState.CLOSED
        for opened in sockets:
            if opened is None:
                continue
            try:
                self._loop.remove_reader(opened.sock.fileno())
            finally:
                opened.sock.close()


async def open_links(
    config: ClusterConfig, me: NodeName, on_datagram: DatagramHandler
) -> Links:
    """Open every link of CONFIG for node ME on the running loop.

    A link that cannot be opened is logged and shown as ``failed`` in
    ``Links.stats()`` (``Links.reopen`` retries it); the others open anyway.
    Raises ``LinkError`` only when links are configured and none opened.
    Sockets are created before this returns, without awaiting, so a caller
    may open links inside a network namespace it entered.
    """
    links = Links(asyncio.get_running_loop(), config.links, me, on_datagram)
    opened = [links.reopen(name) for name in links.names]
    if opened and not any(opened):
        errors = "; ".join(
            f"{name}: {s.last_error}" for name, s in links.stats().items()
        )
        links.close()
        raise LinkError(f"no link could be opened ({errors})")
    return links
