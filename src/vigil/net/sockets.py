"""One non-blocking UDP socket per link, set up as its kind (ucast, bcast, mcast) needs.

Rules of this file:
- Everything here is synchronous and quick (no DNS for address literals), so
  a link can be opened inside a network namespace entered by the caller.
- A link that cannot be set up raises OSError with the step that failed; the
  caller records it and carries on with the other links.

Binding, as Heartbeat did per medium: ``ucast`` binds the node's own address
on the link when the configuration gives one (several nodes on one machine),
else the wildcard with SO_BINDTODEVICE on the interface; ``bcast`` binds the
wildcard on the interface (broadcasts only reach wildcard-bound sockets);
``mcast`` binds the group itself, so other groups on the same port stay out.
bcast and mcast sockets set SO_REUSEADDR so several nodes on one host can
listen; ucast does not, so two daemons claiming one address fail loudly
instead of splitting the traffic.
"""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import struct
from dataclasses import dataclass

from vigil.config import Endpoint, Link, LinkKind, NodeName
from vigil.net.addresses import (
    SockAddr,
    broadcast_address,
    family_of,
    format_addr,
    is_local,
    resolve,
)


@dataclass(frozen=True, slots=True)
class LinkSocket:
    """An open link: its socket, where each datagram goes, and what was left out."""

    sock: socket.socket
    destinations: tuple[SockAddr, ...]
    local: str  # the bound address, host:port
    skipped: tuple[str, ...] = ()  # destinations left out, with the reason


def open_link_socket(link: Link, me: NodeName) -> LinkSocket:
    """The socket for LINK as node ME sees it; OSError when it cannot be set up."""
    if link.kind is LinkKind.UCAST:
        return _open_ucast(link, me)
    if link.kind is LinkKind.BCAST:
        return _open_bcast(link)
    return _open_mcast(link, me)


def control_link(link: Link) -> Link:
    """LINK moved to its control port: every port (the link's, each address's) plus one.

    Everything but steady-state heartbeats travels there (see ``Links``), so the
    daemon can read it at arrival and heartbeats on a grid: Corosync likewise
    uses two ports per ring (``mcastport`` and ``mcastport - 1``). Opened with
    ``open_link_socket`` like any link.
    """
    def shifted(ep: Endpoint) -> Endpoint:
        return ep if ep.port is None else dataclasses.replace(ep, port=ep.port + 1)

    return dataclasses.replace(
        link, port=link.port + 1, peers=tuple(shifted(ep) for ep in link.peers),
        addresses={node: shifted(ep) for node, ep in link.addresses.items()})


#: Linux's SO_TIMESTAMPNS (asm-generic/socket.h; Python 3.11 does not name it):
#: the kernel stamps each datagram with its arrival time (CLOCK_REALTIME).
SO_TIMESTAMPNS = 35


def _new_socket(family: socket.AddressFamily, link: Link, *, reuse: bool) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.setblocking(False)
        # Heartbeats read on a grid keep the moment they arrived: a peer's
        # silence is measured from its last heartbeat, not from our read.
        with contextlib.suppress(OSError):  # no stamps: the read time stands in
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        if reuse:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if link.interface:
            try:
                sock.setsockopt(
                    socket.SOL_SOCKET, socket.SO_BINDTODEVICE, link.interface.encode()
                )
            except OSError as exc:
                raise OSError(
                    exc.errno, f"bind to interface {link.interface}: {exc.strerror}"
                ) from None
    except BaseException:
        sock.close()
        raise
    return sock


def _bind(sock: socket.socket, addr: SockAddr) -> None:
    try:
        sock.bind(addr)
    except OSError as exc:
        sock.close()
        raise OSError(exc.errno, f"bind {format_addr(addr)}: {exc.strerror}") from None


def _open_ucast(link: Link, me: NodeName) -> LinkSocket:
    own = link.addresses.get(me)
    targets: list[Endpoint] = list(link.peers)
    targets += [ep for node, ep in link.addresses.items() if node != me]
    if own is not None:
        family = family_of(own.host)
    elif targets:
        family = family_of(targets[0].host)
    else:
        family = socket.AF_INET
    sock = _new_socket(family, link, reuse=False)
    if own is not None:
        try:
            bind_addr = resolve(own, link.port, family, link.interface)
        except OSError as exc:
            sock.close()
            raise OSError(exc.errno, f"own address {own}: {exc.strerror}") from None
    else:
        bind_addr = ("::", link.port, 0, 0) if family == socket.AF_INET6 else ("0.0.0.0", link.port)
    _bind(sock, bind_addr)
    destinations: list[SockAddr] = []
    skipped: list[str] = []
    for ep in targets:
        if family_of(ep.host) != family:
            skipped.append(f"{ep}: not {'IPv6' if family == socket.AF_INET6 else 'IPv4'}"
                           " like this link's own address")
            continue
        try:
            addr = resolve(ep, link.port, family, link.interface)
        except OSError as exc:
            skipped.append(f"{ep}: {exc.strerror or exc}")
            continue
        # As Heartbeat: one ha.cf lists every node, each skips its own address.
        if addr[:2] == bind_addr[:2] or (own is None and is_local(addr[0])):
            continue
        if addr not in destinations:
            destinations.append(addr)
    return LinkSocket(sock, tuple(destinations), format_addr(bind_addr), tuple(skipped))


def _open_bcast(link: Link) -> LinkSocket:
    sock = _new_socket(socket.AF_INET, link, reuse=True)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    except OSError:
        sock.close()
        raise
    _bind(sock, ("0.0.0.0", link.port))
    destination = (broadcast_address(link.interface), link.port)
    return LinkSocket(sock, (destination,), format_addr(("0.0.0.0", link.port)))


def _open_mcast(link: Link, me: NodeName) -> LinkSocket:
    if link.group is None:
        raise OSError(0, "mcast link without a group")
    family = family_of(link.group)
    ifindex = socket.if_nametoindex(link.interface) if link.interface else 0
    own = link.addresses.get(me)
    sock = _new_socket(family, link, reuse=True)
    try:
        if family == socket.AF_INET6:
            group6 = socket.inet_pton(socket.AF_INET6, link.group)
            mreq6 = group6 + struct.pack("@I", ifindex)
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq6)
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, ifindex)
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, link.ttl)
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, int(link.loop))
            bind_addr: SockAddr = (link.group, link.port, 0, ifindex)
        else:
            # ip_mreqn: the group, our address on the link (the source of what
            # we send; 0.0.0.0 lets the kernel choose) and the interface.
            local = own.host if own is not None else "0.0.0.0"
            mreqn = struct.pack(
                "@4s4si", socket.inet_aton(link.group), socket.inet_aton(local), ifindex
            )
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreqn)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, mreqn)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, link.ttl)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, int(link.loop))
            bind_addr = (link.group, link.port)
    except OSError as exc:
        sock.close()
        raise OSError(exc.errno, f"join {link.group} on {link.interface or 'any'}:"
                                 f" {exc.strerror}") from None
    _bind(sock, bind_addr)
    return LinkSocket(sock, (bind_addr,), format_addr(bind_addr))
