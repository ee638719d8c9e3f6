"""All of a node's links on the asyncio loop: send on every one, hand up what arrives.

Rules of this file:
- Nothing raised here reaches the daemon from sending or receiving: a send
  error (ENETUNREACH, EPERM from a firewall, ENETDOWN with the cable out) is
  counted on its link and logged, and the other links carry on. Losing one
  link must never lose the others.
- Datagrams go straight to the kernel with ``sendto`` on a non-blocking
  socket; a full socket buffer drops the datagram (counted) rather than
  queueing it, because a heartbeat that waits is worse than one that is lost.
- Receiving drains each socket when it is readable, a bounded batch at a time
  so one busy link cannot starve the loop, and hands every datagram, however
  odd, to ``on_datagram``; what it means is the wire layer's question.
- Or, after ``read_on_grid``, the sockets are drained on a fixed grid of
  times instead of at each arrival: a node of a 16-node cluster receives 150
  heartbeats a second, and on a loaded or virtualised machine the wake-up
  alone costs more than handling the datagram. A drain that leaves data
  behind (a burst, a flood) goes on at once, batch by batch, so the grid
  bounds the wake-up rate, never the throughput.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from vigil.config import ClusterConfig, Link, NodeName
from vigil.net.addresses import SockAddr, format_addr
from vigil.net.sockets import LinkSocket, open_link_socket

log = logging.getLogger("vigil.net")

#: ``on_datagram(data, link_name, (source_host, source_port))``.
DatagramHandler = Callable[[bytes, str, tuple[str, int]], None]

_RECV_SIZE = 65_536
_BATCH = 64  # datagrams read per wake-up, per link
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


class _Link:
    """One link's socket and counters."""

    def __init__(self, link: Link) -> None:
        self.link = link
        self.state = LinkState.CLOSED
        self.opened: LinkSocket | None = None
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
        # Reading on a grid (``read_on_grid``): its anchor and period in loop
        # time, and the pending drain; None: read at each arrival.
        self._grid: tuple[float, float] | None = None
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

    def send(self, data: bytes) -> None:
        """Send DATA on every link, to every destination. Never raises."""
        for entry in self._links.values():
            self._send(entry, data)

    def send_to(self, link_name: str, data: bytes) -> None:
        """Send DATA on one link. KeyError for a name not configured; never raises otherwise."""
        self._send(self._links[link_name], data)

    def _send(self, entry: _Link, data: bytes) -> None:
        opened = entry.opened
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

    def read_on_grid(self, anchor: float, period: float) -> None:
        """Drain every link at loop times ANCHOR + k × PERIOD, not at each arrival.

        What arrives waits at most PERIOD seconds in the socket buffer. Put the
        anchor on the caller's own timer grid (the keepalive schedule) and the
        two share their wake-ups. Links opened later are read the same way.
        """
        if period <= 0:
            raise ValueError(f"read period must be positive, not {period}")
        self._grid = (anchor, period)
        for entry in self._links.values():
            if entry.opened is not None:
                self._loop.remove_reader(entry.opened.sock.fileno())
        self._arm_grid()

    def drain(self) -> None:
        """Read what is waiting on every link now (one batch each), so a caller
        about to act on silence (a deadline) first hears what already arrived."""
        more = False
        for entry in self._links.values():
            if entry.opened is not None and self._on_readable(entry):
                more = True
        if more and self._draining is None:
            self._draining = self._loop.call_soon(self._drain_more)

    def _drain_more(self) -> None:
        self._draining = None
        self.drain()

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
        self.drain()
        self._arm_grid()

    def _on_readable(self, entry: _Link) -> bool:
        """Read one batch from ENTRY's socket; True when more may be waiting."""
        opened = entry.opened
        if opened is None:  # pragma: no cover - the reader is removed on close
            return False
        for _ in range(_BATCH):
            try:
                data, addr = opened.sock.recvfrom(_RECV_SIZE)
            except (BlockingIOError, InterruptedError):
                return False
            except OSError as exc:
                # A pending ICMP error surfaces here once; the next read goes on.
                entry.receive_errors += 1
                self._note_error(entry, "receive", exc.strerror or str(exc), None)
                continue
            entry.received += 1
            try:
                self._on_datagram(data, entry.link.name, (str(addr[0]), int(addr[1])))
            except Exception:
                entry.handler_errors += 1
                if entry.handler_errors % _LOG_EVERY == 1:
                    log.exception(
                        "datagram handler failed link=%s source=%s count=%d",
                        entry.link.name, format_addr(addr), entry.handler_errors,
                    )
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
            entry.state = LinkState.FAILED
            entry.last_error = f"open: {exc.strerror or exc}"
            log.error("link failed to open link=%s kind=%s error=%r",
                      entry.link.name, entry.link.kind.value, entry.last_error)
            return False
        for skipped in opened.skipped:
            log.warning("link destination left out link=%s destination=%r",
                        entry.link.name, skipped)
        entry.opened = opened
        entry.state = LinkState.OPEN
        entry.failing.clear()
        if self._grid is None:
            self._loop.add_reader(opened.sock.fileno(), self._on_readable, entry)
        elif self._grid_timer is None:
            self._arm_grid()
        log.info("link open link=%s kind=%s local=%s destinations=%s",
                 entry.link.name, entry.link.kind.value, opened.local,
                 ",".join(format_addr(d) for d in opened.destinations) or "-")
        return True

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
        opened, entry.opened = entry.opened, None
        entry.state = LinkState.CLOSED
        if opened is None:
            return
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
