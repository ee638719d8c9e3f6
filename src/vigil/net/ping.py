"""ICMP echo to the ping nodes, IPv4 and IPv6, from the daemon itself (no ``ping`` spawned).

Socket kinds, tried in this order for each family:
- an unprivileged ICMP datagram socket (``SOCK_DGRAM`` + ``IPPROTO_ICMP`` /
  ``IPPROTO_ICMPV6``): the kernel keeps the echo identifier and hands back
  only our replies; allowed when ``net.ipv4.ping_group_range`` (which also
  governs IPv6) includes one of our groups;
- a raw socket (``SOCK_RAW``, needs root or CAP_NET_RAW): we get every ICMP
  packet of the host and keep the replies that carry our identifier and our
  random token.

Each echo carries a sequence number that maps back to the address it was sent
to; a reply counts for that address only when it also comes from it. Nothing
here decides up or dead: replies go to ``on_reply(address)`` and the caller
(``vigil.connectivity``) applies the rules. Sockets are created by ``open()``
(synchronous, so a test can create them inside a network namespace) and read
with the event loop's reader callbacks: nothing blocks.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import secrets
import socket
import struct
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["PingError", "PingStats", "Pinger"]

_V4, _V6 = int(socket.AF_INET), int(socket.AF_INET6)
_ECHO_REQUEST: dict[int, int] = {_V4: 8, _V6: 128}
_ECHO_REPLY: dict[int, int] = {_V4: 0, _V6: 129}
_PROTO: dict[int, int] = {_V4: socket.IPPROTO_ICMP, _V6: socket.IPPROTO_ICMPV6}
_HEADER = struct.Struct("!BBHHH")  # type, code, checksum, identifier, sequence
#: Echoes remembered for matching replies: a reply later than this many sends is ignored.
_OUTSTANDING = 1024


class PingError(Exception):
    """No socket could be opened for a family the ping nodes need."""


@dataclass(slots=True)
class PingStats:
    sent: int = 0
    received: int = 0
    send_errors: int = 0
    last_error: str | None = None


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _family(address: str) -> int:
    host = address.split("%", 1)[0]
    return _V6 if ipaddress.ip_address(host).version == 6 else _V4


class Pinger:
    """Sends one echo to each of ADDRESSES per ``ping_round()``; calls ON_REPLY(address)."""

    def __init__(self, addresses: Sequence[str], on_reply: Callable[[str], None],
                 kinds: Sequence[int] = (socket.SOCK_DGRAM, socket.SOCK_RAW)) -> None:
        self.addresses = tuple(addresses)
        self.on_reply = on_reply
        self.kinds = tuple(kinds)
        self.stats = {a: PingStats() for a in self.addresses}
        self._targets: dict[str, tuple[int, tuple[object, ...], str]] = {}
        for address in self.addresses:
            family = _family(address)
            info = socket.getaddrinfo(address, None, family, socket.SOCK_DGRAM)[0][4]
            self._targets[address] = (family, tuple(info), str(info[0]))
        self._socks: dict[int, tuple[socket.socket, int]] = {}  # family -> (socket, kind)
        self._ident = os.getpid() & 0xFFFF
        self._token = secrets.token_bytes(8)
        self._seq = 0
        self._sent: OrderedDict[int, str] = OrderedDict()  # sequence -> address
        self._loop: asyncio.AbstractEventLoop | None = None

    def open(self) -> dict[int, str]:
        """Open a socket per family needed; the kind opened per family ("dgram"/"raw").

        ``PingError`` when a family has no socket of any kind (say why, and how to
        allow it)."""
        opened: dict[int, str] = {}
        for family in sorted({t[0] for t in self._targets.values()}):
            errors: list[str] = []
            for kind in self.kinds:
                try:
                    sock = socket.socket(family, kind | socket.SOCK_NONBLOCK |
                                         socket.SOCK_CLOEXEC, _PROTO[family])
                except OSError as e:
                    errors.append(f"{'dgram' if kind == socket.SOCK_DGRAM else 'raw'}: "
                                  f"{e.strerror}")
                    continue
                self._socks[family] = (sock, kind)
                opened[family] = "dgram" if kind == socket.SOCK_DGRAM else "raw"
                break
            else:
                self.close()
                name = "IPv6" if family == socket.AF_INET6 else "IPv4"
                raise PingError(
                    f"cannot open an ICMP socket for {name} ping nodes ({'; '.join(errors)}): "
                    "run the daemon as root (or with CAP_NET_RAW), or allow its group in "
                    "sysctl net.ipv4.ping_group_range")
        return opened

    def start(self) -> None:
        """Read replies from the running event loop from now on."""
        self._loop = asyncio.get_running_loop()
        for family, (sock, kind) in self._socks.items():
            self._loop.add_reader(sock.fileno(), self._read, family, sock, kind)

    def close(self) -> None:
        for sock, _ in self._socks.values():
            if self._loop is not None:
                with contextlib.suppress(Exception):
                    self._loop.remove_reader(sock.fileno())
            sock.close()
        self._socks.clear()

    def ping_round(self) -> None:
        """One echo request to every address; errors are counted, never raised."""
        for address in self.addresses:
            family, sockaddr, _ = self._targets[address]
            entry = self._socks.get(family)
            if entry is None:
                continue
            sock, _kind = entry
            self._seq = (self._seq + 1) & 0xFFFF
            self._sent[self._seq] = address
            self._sent.move_to_end(self._seq)
            while len(self._sent) > _OUTSTANDING:
                self._sent.popitem(last=False)
            body = self._token
            header = _HEADER.pack(_ECHO_REQUEST[family], 0, 0, self._ident, self._seq)
            # IPv4 raw: we sum; ICMPv6 raw and both datagram kinds: the kernel sums
            # (it overwrites the field), so computing it always is harmless.
            packet = _HEADER.pack(_ECHO_REQUEST[family], 0, _checksum(header + body),
                                  self._ident, self._seq) + body
            stats = self.stats[address]
            try:
                sock.sendto(packet, sockaddr)
                stats.sent += 1
            except OSError as e:  # unreachable network, no route: the node is just silent
                stats.send_errors += 1
                stats.last_error = e.strerror or str(e)

    def _read(self, family: int, sock: socket.socket, kind: int) -> None:
        for _ in range(64):  # a bounded batch: other callbacks get their turn
            try:
                data, peer = sock.recvfrom(2048)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # an ICMP error queued on the socket; the echo simply went unanswered
            self._match(family, kind, data, str(peer[0]))

    def _match(self, family: int, kind: int, data: bytes, source: str) -> None:
        if family == socket.AF_INET and kind == socket.SOCK_RAW:
            if len(data) < 20:
                return
            data = data[(data[0] & 0x0F) * 4:]  # raw IPv4 hands us the IP header too
        if len(data) < _HEADER.size + len(self._token):
            return
        icmp_type, _code, _sum, ident, seq = _HEADER.unpack_from(data)
        if icmp_type != _ECHO_REPLY[family] or data[_HEADER.size:_HEADER.size + 8] != self._token:
            return
        if kind == socket.SOCK_RAW and ident != self._ident:
            return  # datagram sockets: the kernel rewrote it and demultiplexes for us
        address = self._sent.get(seq)
        if address is None or not _same_host(self._targets[address][2], source):
            return
        self.stats[address].received += 1
        self.on_reply(address)


def _same_host(expected: str, source: str) -> bool:
    try:
        return (ipaddress.ip_address(expected.split("%", 1)[0])
                == ipaddress.ip_address(source.split("%", 1)[0]))
    except ValueError:
        return False
