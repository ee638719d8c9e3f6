"""Turning configured endpoints into socket addresses, and asking the kernel about interfaces."""

from __future__ import annotations

import fcntl
import ipaddress
import socket
import struct

from vigil.config import Endpoint

#: A socket address as ``sendto`` takes it: (host, port) or (host, port, flow, scope).
SockAddr = tuple[str, int] | tuple[str, int, int, int]

_SIOCGIFBRDADDR = 0x8919  # linux/sockios.h


def family_of(host: str) -> socket.AddressFamily:
    """AF_INET6 for an IPv6 literal (scope suffix allowed), else AF_INET."""
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return socket.AF_INET
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def resolve(
    endpoint: Endpoint,
    default_port: int,
    family: socket.AddressFamily,
    interface: str | None = None,
) -> SockAddr:
    """ENDPOINT as a socket address of FAMILY; OSError when it has none.

    Literals (and ``fe80::1%eth0``) resolve without DNS; a host name is looked
    up once, when the link opens, as Heartbeat's ucast did with gethostbyname.
    An IPv6 link-local address without a scope gets the link's INTERFACE.
    """
    port = endpoint.port if endpoint.port is not None else default_port
    infos = socket.getaddrinfo(endpoint.host, port, family, socket.SOCK_DGRAM)
    if not infos:  # pragma: no cover - getaddrinfo raises rather than return nothing
        raise OSError(f"{endpoint.host} has no {family.name} address")
    addr = infos[0][4]
    if family == socket.AF_INET6:
        host6, port6, flow, scope = addr  # type: ignore[misc]
        if not scope and interface and ipaddress.ip_address(str(host6)).is_link_local:
            scope = socket.if_nametoindex(interface)
        return (str(host6), int(port6), int(flow), int(scope))
    return (str(addr[0]), int(addr[1]))


def format_addr(addr: SockAddr | tuple[object, ...]) -> str:
    """``host:port``, with brackets for IPv6, for logs and stats."""
    host, port = str(addr[0]), addr[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def is_local(host: str) -> bool:
    """Whether HOST is an address of this machine (the kernel lets us bind it).

    Heartbeat's ucast skipped its own address, so one ha.cf listing every
    node's address serves every node; we skip the same way.
    """
    family = family_of(host)
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.bind((host, 0))
    except OSError:
        return False
    return True


def broadcast_address(interface: str | None) -> str:
    """The IPv4 broadcast address of INTERFACE (SIOCGIFBRDADDR), as Heartbeat's
    bcast found it; the limited broadcast 255.255.255.255 when it has none."""
    if interface is None:
        return "255.255.255.255"
    request = struct.pack("16s16x", interface.encode()[:15])
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            reply = fcntl.ioctl(probe.fileno(), _SIOCGIFBRDADDR, request)
    except OSError:
        return "255.255.255.255"
    address = socket.inet_ntoa(reply[20:24])  # ifr_broadaddr.sin_addr
    return "255.255.255.255" if address == "0.0.0.0" else address
