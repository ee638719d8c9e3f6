"""ha.cf's heartbeat media (bcast, ucast, mcast) and the links they make.

Syntax and checks as Heartbeat 3.0.6's plugins in ``lib/plugins/HBcomm``:

- ``bcast IFACE...``: one medium per interface (``bcast_new``).
- ``ucast IFACE PEER``: the peer is an IPv4 address or a host name
  (``gethostbyname``); words after it were ignored (``ucast_parse``).
- ``mcast IFACE GROUP PORT TTL LOOP``: all five are required; GROUP is a class D
  address, LOOP 0 or 1 (``mcast_parse``). TTL: ha.cf(5) says 1 to 255 and we
  follow it (3.0.6's mcast.c refused more than 4, and took 0, which keeps
  heartbeats on the sending host).
- ``ping HOST...`` and ``ping_group NAME HOST...``: ping nodes are media too in
  Heartbeat (plugins ``ping`` and ``ping_group``), watched but not cluster nodes.

Links: ``ucast`` lines on one interface make one link with several peers (named
after the interface); each ``bcast`` interface is a link; each ``mcast`` line is
a link. Every link uses ``udpport`` except mcast, which names its own port.
When two links would share a name, the later one gets ``-KIND`` appended.
The interface names are not checked against this machine: configurations are
often checked elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vigil.config.diagnostics import Diagnostics
from vigil.config.legacy_values import is_number, parse_ipv4, problem_host, problem_interface
from vigil.config.model import Endpoint, Link, LinkKind, PingNode, SourceRef

__all__ = ["Medium", "build_links", "read_mcast", "read_ping", "read_ping_group", "read_ucast"]


@dataclass(frozen=True, slots=True)
class Medium:
    """One medium as written: a bcast interface, a ucast peer or an mcast line."""

    kind: LinkKind
    interface: str
    line: int
    peer: str | None = None
    group: str | None = None
    port: int | None = None
    ttl: int = 1
    loop: bool = False


def _interface_ok(path: Path, number: int, kind: str, iface: str, diags: Diagnostics) -> bool:
    problem = problem_interface(iface)
    if problem:
        diags.error(path, number, f"{kind} interface {iface!r} {problem}",
                    f"name the interface heartbeats use, e.g. `{kind} eth1 ...`")
    return problem is None


def _ignored(path: Path, number: int, kind: str, extra: list[str], *, diags: Diagnostics,
             hint: str) -> None:
    if extra:
        diags.warning(path, number, f"{kind}: words after the last argument are ignored, "
                      f"as Heartbeat did: {' '.join(extra)}", hint)


def read_ucast(path: Path, number: int, words: list[str], diags: Diagnostics) -> Medium | None:
    """``ucast IFACE PEER``."""
    if len(words) < 2:
        diags.error(path, number, "ucast needs an interface and the peer's address "
                    "(Heartbeat: missing target IP address/hostname)",
                    "e.g. `ucast eth1 10.0.0.2`, one line per peer")
        return None
    iface, peer = words[0], words[1]
    if not _interface_ok(path, number, "ucast", iface, diags):
        return None
    problem = problem_host(peer)
    if problem:
        diags.error(path, number, f"ucast peer {peer!r} {problem}",
                    "give the peer's IPv4 address on that interface, e.g. 10.0.0.2")
        return None
    _ignored(path, number, "ucast", words[2:], diags=diags,
             hint="write one `ucast IFACE ADDRESS` per peer")
    return Medium(LinkKind.UCAST, iface, number, peer=peer)


def read_mcast(path: Path, number: int, words: list[str], diags: Diagnostics) -> Medium | None:
    """``mcast IFACE GROUP PORT TTL LOOP``."""
    usage = "syntax: mcast IFACE GROUP PORT TTL LOOP, e.g. `mcast eth1 239.192.0.1 694 1 0`"
    names = ("interface", "multicast group", "port", "ttl", "loop")
    if len(words) < 5:
        diags.error(path, number, f"mcast is missing its {names[len(words)]} "
                    f"(it needs all of: {', '.join(names)})", usage)
        return None
    iface, group, port, ttl, loop = words[:5]
    if not _interface_ok(path, number, "mcast", iface, diags):
        return None
    address = parse_ipv4(group)
    if address is None or not address.is_multicast:
        diags.error(path, number, f"mcast group {group!r} is not an IPv4 multicast address "
                    "(224.0.0.0 to 239.255.255.255)",
                    "ha.cf(5) advises the organization-local scope, e.g. 239.192.0.1")
        return None
    if not is_number(port) or not 0 < int(port) < 65535:
        diags.error(path, number, f"mcast port {port!r} is not a UDP port vigil can use "
                    "(1 to 65534: control messages use port + 1)",
                    "use the same port as udpport, e.g. 694")
        return None
    if not is_number(ttl) or not 0 < int(ttl) < 256:
        diags.error(path, number, f"mcast ttl {ttl!r} is not 1 to 255 "
                    "(ha.cf(5): must be greater than zero)", "1 keeps heartbeats on this subnet")
        return None
    if loop not in ("0", "1"):
        diags.error(path, number, f"mcast loop {loop!r} is not 0 or 1",
                    "ha.cf(5) says 0: do not loop heartbeats back to this host")
        return None
    _ignored(path, number, "mcast", words[5:], diags=diags, hint=usage)
    return Medium(LinkKind.MCAST, iface, number, group=group, port=int(port), ttl=int(ttl),
                  loop=loop == "1")


def read_ping(path: Path, number: int, words: list[str], diags: Diagnostics,
              known: Sequence[PingNode]) -> list[PingNode]:
    """``ping HOST...``: one ping node per host; KNOWN are the ping nodes so far."""
    found: list[PingNode] = []
    for host in words:
        problem = problem_host(host)
        if problem:
            diags.error(path, number, f"ping node {host!r} {problem}",
                        "give the address of a router or server every node can reach")
        elif any(p.name == host for p in (*known, *found)):
            diags.warning(path, number, f"ping node {host} is given twice", "remove one of them")
        else:
            found.append(PingNode(host, (host,), source=SourceRef(path, number)))
    return found


def read_ping_group(path: Path, number: int, words: list[str], diags: Diagnostics,
                    known: Sequence[PingNode]) -> PingNode | None:
    """``ping_group NAME HOST...``: up while any of the hosts answers."""
    if len(words) < 2:
        diags.error(path, number, "ping_group needs a name and at least one address",
                    "e.g. `ping_group routers 10.0.0.1 10.0.0.2`")
        return None
    name, hosts = words[0], words[1:]
    for host in hosts:
        problem = problem_host(host)
        if problem:
            diags.error(path, number, f"ping_group {name}: {host!r} {problem}",
                        "give addresses of routers or servers every node can reach")
            return None
    if any(p.name == name for p in known):
        diags.error(path, number, f"ping node or group {name} is given twice",
                    "rename one of them")
        return None
    return PingNode(name, tuple(hosts), is_group=True, source=SourceRef(path, number))


def build_links(path: Path, media: list[Medium], udpport: int, diags: Diagnostics,
                other_media: list[str]) -> tuple[Link, ...]:
    """The links MEDIA make; an error when there is none (OTHER_MEDIA: unsupported ones seen)."""
    firsts: list[Medium] = []  # the medium that opens each link, in file order
    peers: dict[str, list[Medium]] = {}
    opened: dict[tuple[LinkKind, str, str | None, int | None], int] = {}
    for m in media:
        if m.kind is LinkKind.UCAST:
            same = peers.setdefault(m.interface, [])
            dup = next((p for p in same if p.peer == m.peer), None)
            if dup is not None:
                diags.warning(path, m.line, f"ucast {m.interface} {m.peer} is given twice "
                              f"(first at line {dup.line})", "remove one of the lines")
                continue
            if not same:
                firsts.append(m)
            same.append(m)
            continue
        key = (m.kind, m.interface, m.group, m.port)
        if key in opened:
            diags.error(path, m.line, f"{m.kind.value} {m.interface} is given twice (first at "
                        f"line {opened[key]}): both would use one socket",
                        "remove one of the lines")
            continue
        opened[key] = m.line
        firsts.append(m)
    if not firsts:
        also = f" ({', '.join(other_media)} is not supported)" if other_media else ""
        diags.error(path, None, "no bcast, ucast or mcast line: no link to send heartbeats on"
                    f"{also} (Heartbeat: No heartbeat media defined)",
                    "add one, e.g. `bcast eth1` or `ucast eth1 10.0.0.2`")
    used: set[str] = set()
    links = []
    for m in firsts:
        name = m.interface if m.interface not in used else f"{m.interface}-{m.kind.value}"
        n = 2
        while name in used:
            name, n = f"{m.interface}-{m.kind.value}-{n}", n + 1
        used.add(name)
        source = SourceRef(path, m.line)
        if m.kind is LinkKind.UCAST:
            endpoints = tuple(Endpoint(p.peer) for p in peers[m.interface] if p.peer)
            links.append(Link(name, m.kind, udpport, interface=m.interface, peers=endpoints,
                              source=source))
        elif m.kind is LinkKind.BCAST:
            links.append(Link(name, m.kind, udpport, interface=m.interface, source=source))
        else:
            links.append(Link(name, m.kind, m.port or udpport, interface=m.interface,
                              group=m.group, ttl=m.ttl, loop=m.loop, source=source))
    return tuple(links)
