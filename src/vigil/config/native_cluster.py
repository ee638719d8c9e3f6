"""Membership tables of a native ``vigil.toml``: nodes, links, timing, auth, ping nodes,
and where each node serves its metrics.

Each ``read_*`` takes the document's top table, reports problems with their
line, and returns model objects (skipping the broken ones).
"""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vigil.config.files import check_private
from vigil.config.model import (
    Auth,
    AuthKey,
    AuthMethod,
    Connectivity,
    Endpoint,
    Link,
    LinkKind,
    Metrics,
    Node,
    NodeName,
    PingNode,
    SourceRef,
    Timing,
)
from vigil.config.native_fields import (
    Table,
    Unique,
    did_you_mean,
    format_duration,
    parse_endpoint,
    parse_host,
    read_listen_endpoint,
    read_name,
)
from vigil.config.native_schema import (
    AUTH_KEYS,
    CONNECTIVITY_KEYS,
    DEFAULT_DEADTIME_KEEPALIVES,
    DEFAULT_INITDEAD_DEADTIMES,
    DEFAULT_KEEPALIVE_MS,
    DEFAULT_PORT,
    KEY_KEYS,
    LINK_KEYS,
    MAX_AUTH_INDEX,
    MAX_LINK_PORT,
    METRICS_KEYS,
    NODE_KEYS,
    PING_KEYS,
    TIMING_KEYS,
)
from vigil.config.toml_lines import KeyPath

__all__ = ["AuthResult", "read_auth", "read_connectivity", "read_links", "read_metrics",
           "read_nodes", "read_timing"]

KEYGEN_HINT = ('add secret = "..." or key_file = "/etc/vigil/authkey" '
               "(make one with: openssl rand -hex 32)")


def _src(t: Table) -> SourceRef:
    return SourceRef(t.reader.file, t.line())


def read_node_endpoints(t: Table, nodes: tuple[NodeName, ...],
                        read: Callable[[Table, str, str, object], Endpoint | None]
                        ) -> dict[NodeName, Endpoint]:
    """``addresses = { NODE = "..." }`` of T: each configured node's endpoint as READ
    gives it; a name that is no [[node]] is reported, and so is a bad value (by READ)."""
    addresses: dict[NodeName, Endpoint] = {}
    for node, value in t.mapping("addresses").items():
        if node not in nodes:
            unknown_node(t, ("addresses", node), node, nodes, "addresses")
            continue
        ep = read(t, "addresses", node, value)
        if ep is not None:
            addresses[NodeName(node)] = ep
    return addresses


def unknown_node(t: Table, where: KeyPath, name: str, nodes: tuple[NodeName, ...],
                 what: str) -> None:
    """Report NAME, written at WHERE (a path under T), as no [[node]] of this file."""
    guess = did_you_mean(name, nodes)
    hint = f"did you mean {guess}?" if guess else (
        f"nodes are: {', '.join(nodes)}" if nodes else "declare it with [[node]] name = ...")
    t.reader.error(t.at(*where), f"{t.name}: {what}: unknown node {name!r}", hint)


def read_nodes(top: Table) -> tuple[Node, ...]:
    nodes: list[Node] = []
    seen = Unique("node")
    tables = top.tables("node", "[[node]]", NODE_KEYS)
    for t in tables:
        name = read_name(t, "name", "node name")
        votes = t.integer("votes", 1, minimum=0)
        t.done()
        if name is None or votes is None or not seen.add(t, "name", name):
            continue
        nodes.append(Node(NodeName(name), votes, _src(t)))
    if not tables:
        top.reader.error((), "no [[node]]: a cluster needs its nodes",
                         'add [[node]] name = "..." for each node (as uname -n prints it)')
    elif nodes and not any(n.votes for n in nodes):
        top.reader.error(("node",), "[[node]]: every node has votes = 0, so there is "
                         "never quorum", "give at least one node a vote")
    return tuple(nodes)


def read_timing(top: Table) -> Timing:
    """The four timers; unwritten ones follow keepalive (see native_schema)."""
    t = top.table("timing", "[timing]", TIMING_KEYS)
    if t is None:
        t = top.reader.table({}, ("timing",), "[timing]", TIMING_KEYS)
    keepalive = t.duration("keepalive", DEFAULT_KEEPALIVE_MS, minimum=1)
    deadtime = t.duration("deadtime", DEFAULT_DEADTIME_KEEPALIVES * keepalive, minimum=1)
    warntime = t.duration("warntime", max(deadtime // 2, 1), minimum=1)
    initdead = t.duration("initdead", DEFAULT_INITDEAD_DEADTIMES * deadtime, minimum=1)
    t.done()
    # Heartbeat's own checks (config.c): deadtime must exceed two keepalives,
    # initdead must not be shorter than deadtime.
    if deadtime <= 2 * keepalive:
        t.error("deadtime" if t.has("deadtime") else "keepalive",
                f"[timing]: deadtime {format_duration(deadtime)} is too small for keepalive "
                f"{format_duration(keepalive)}: a peer would be declared dead after "
                "two late heartbeats",
                f"make deadtime at least {format_duration(2 * keepalive + 1)}; "
                f"10 keepalives ({format_duration(10 * keepalive)}) rides out 20% packet loss")
    if initdead < deadtime:
        t.error("initdead", f"[timing]: initdead {format_duration(initdead)} is shorter "
                f"than deadtime {format_duration(deadtime)}",
                "initdead is the deadtime used at start-up: make it at least deadtime")
    if warntime >= deadtime:
        t.warning("warntime", f"[timing]: warntime {format_duration(warntime)} is not "
                  f"below deadtime {format_duration(deadtime)}: no late-peer warning "
                  "comes before a peer is declared dead", "make warntime about deadtime / 2")
    elif warntime <= keepalive:
        t.warning("warntime", f"[timing]: warntime {format_duration(warntime)} is not "
                  f"above keepalive {format_duration(keepalive)}: every heartbeat that is "
                  "a little late will be logged", "make warntime about deadtime / 2")
    return Timing(keepalive, warntime, deadtime, initdead)


def _read_endpoint(t: Table, key: str, sub: str | int, text: object) -> Endpoint | None:
    if not isinstance(text, str):
        t.reader.error(t.at(key, sub), f"{t.name}: {key} entries must be strings "
                       '("10.0.0.2" or "10.0.0.2:6940")')
        return None
    try:
        endpoint = parse_endpoint(text)
    except ValueError as e:
        t.reader.error(t.at(key, sub), f"{t.name}: {key}: {e}",
                       'write "IP", "IP:PORT" or "[IPV6]:PORT"')
        return None
    if endpoint.port is not None and endpoint.port > MAX_LINK_PORT:
        t.reader.error(t.at(key, sub), f"{t.name}: {key}: port {endpoint.port} leaves no port "
                       "for control messages, which use port + 1",
                       f"give a port from 1 to {MAX_LINK_PORT}")
        return None
    return endpoint


def _read_link(t: Table, index: int, nodes: tuple[NodeName, ...]) -> Link | None:
    name = read_name(t, "name", "link name", required=False) or f"link{index}"
    t.name = f"[[link]] {name!r}"
    kind_word = t.string("kind", required=True, choices=[k.value for k in LinkKind],
                         hint='kind = "ucast", "bcast" or "mcast" (as the ha.cf directives)')
    if t.data.get("port") == MAX_LINK_PORT + 1:
        t.error("port", f"{t.name}: port = {MAX_LINK_PORT + 1} leaves no port for control "
                "messages, which use port + 1", f"give a port from 1 to {MAX_LINK_PORT}")
        port: int | None = DEFAULT_PORT
    else:
        port = t.integer("port", DEFAULT_PORT, minimum=1, maximum=MAX_LINK_PORT)
    interface = t.string("interface")
    if interface is not None and (not interface or "/" in interface or len(interface) > 15
                                  or any(c.isspace() for c in interface)):
        t.error("interface", f"{t.name}: bad interface name {interface!r}",
                "give the interface as ip link shows it, e.g. eth0 (at most 15 characters)")
    peers: list[Endpoint] = []
    for i, text in enumerate(t.str_list("peers") or ()):
        ep = _read_endpoint(t, "peers", i, text)
        if ep is not None:
            peers.append(ep)
    addresses = read_node_endpoints(t, nodes, _read_endpoint)
    group = t.string("group")
    ttl = t.integer("ttl", 1, minimum=0, maximum=255)
    loop = t.boolean("loop", False)
    t.done()
    if kind_word is None or port is None or ttl is None:
        return None
    kind = LinkKind(kind_word)
    ok = True
    if kind is not LinkKind.MCAST:
        for key in ("group", "ttl", "loop"):
            if t.has(key):
                t.error(key, f"{t.name}: {key} applies to mcast links only")
                ok = False
    if kind is not LinkKind.UCAST and t.has("peers"):
        t.error("peers", f"{t.name}: peers apply to ucast links only",
                f"a {kind.value} link reaches every node without naming them")
        ok = False
    if kind is LinkKind.UCAST and not t.has("peers") and not t.has("addresses"):
        t.error(None, f"{t.name}: a ucast link needs peers or addresses",
                'add addresses = { node1 = "10.0.0.1", node2 = "10.0.0.2" }')
        ok = False
    if kind is LinkKind.BCAST and interface is None:
        t.error(None, f"{t.name}: a bcast link needs its interface", 'add interface = "eth1"')
        ok = False
    if kind is LinkKind.MCAST:
        if group is None:
            t.error(None, f"{t.name}: an mcast link needs its multicast group",
                    'add group = "239.0.0.1"')
            ok = False
        else:
            try:
                multicast = ipaddress.ip_address(group).is_multicast
            except ValueError:
                multicast = False
            if not multicast:
                t.error("group", f"{t.name}: group {group!r} is not a multicast address",
                        "use 224.0.0.0/4 or ff00::/8, e.g. 239.0.0.1")
                ok = False
    if addresses and len(addresses) < len(nodes) and ok:
        missing = [n for n in nodes if n not in addresses]
        t.warning("addresses", f"{t.name}: no address for {', '.join(missing)}",
                  "those nodes bind every address on this link's port")
    if not ok:
        return None
    return Link(name, kind, port, interface, tuple(peers), addresses, group, ttl, loop, _src(t))


def read_links(top: Table, nodes: tuple[NodeName, ...]) -> tuple[Link, ...]:
    tables = top.tables("link", "[[link]]", LINK_KEYS)
    if not tables:
        top.reader.error((), "no [[link]]: the nodes have no way to hear each other",
                         'add [[link]] kind = "ucast" with the nodes\' addresses')
    links: list[Link] = []
    names = Unique("link name")
    bound: dict[tuple[str, int], str] = {}
    for i, t in enumerate(tables):
        link = _read_link(t, i, nodes)
        if link is None or not names.add(t, "name", link.name):
            continue
        for node, ep in link.addresses.items():
            where = (ep.host, ep.port if ep.port is not None else link.port)
            if where in bound:
                t.error("addresses", f"{t.name}: {node} would bind {ep.host}:{where[1]}, "
                        f"which {bound[where]} binds already",
                        "give each node its own address or port")
            bound[where] = f"{node} on link {link.name!r}"
        links.append(link)
    return tuple(links)


@dataclass(frozen=True, slots=True)
class AuthResult:
    """The keys, and what the file check needs: inline secrets, key files read."""

    auth: Auth | None
    inline_secret: bool
    key_files: tuple[Path, ...]


def _read_secret(t: Table, method: AuthMethod, key_files: list[Path]) -> tuple[bytes, bool]:
    """The key's secret and whether it was written inline; reports missing ones."""
    given = [k for k in ("secret", "secret_base64", "key_file") if t.has(k)]
    secret = t.string("secret")
    b64 = t.string("secret_base64")
    key_file = t.string("key_file")
    if len(given) > 1:
        t.error(given[1], f"{t.name}: give one of secret, secret_base64, key_file, "
                f"not {' and '.join(given)}")
        return b"", False
    if method is AuthMethod.CRC:
        if given:
            # As Heartbeat's auth.c: "Auth method [crc] doesn't use a key".
            t.error(given[0], f"{t.name}: crc does not use a secret",
                    'remove it, or better use method = "hmac-sha256" with the secret')
        return b"", False
    if not given:
        t.error(None, f"{t.name}: {method.value} needs a secret", KEYGEN_HINT)
        return b"", False
    value = b""
    if secret is not None:
        value = secret.encode("utf-8")
    elif b64 is not None:
        try:
            value = base64.b64decode(b64, validate=True)
        except ValueError:
            t.error("secret_base64", f"{t.name}: secret_base64 is not valid base64")
            return b"", True
    elif key_file is not None:
        path = Path(key_file)
        if not path.is_absolute():
            path = t.reader.file.parent / path
        if not path.is_file():
            t.error("key_file", f"{t.name}: key_file {str(path)!r} does not exist", KEYGEN_HINT)
            return b"", False
        if not check_private(path, t.reader.diags, None):
            return b"", False
        try:
            value = path.read_bytes()
        except OSError as e:
            t.reader.diags.error(path, None, f"cannot read key file: {e.strerror or e}")
            return b"", False
        key_files.append(path)
        # One trailing newline is not part of the key: `echo SECRET > file` and
        # `openssl rand -hex 32 > file` mean what they say.
        value = value.removesuffix(b"\n").removesuffix(b"\r")
        if not value:
            t.reader.diags.error(path, None, "key file is empty", KEYGEN_HINT)
            return b"", False
        return value, False
    if not value:
        t.error(given[0], f"{t.name}: the secret is empty", KEYGEN_HINT)
    return value, True


def read_auth(top: Table) -> AuthResult:
    t = top.table("auth", "[auth]", AUTH_KEYS)
    if t is None:
        top.reader.error((), "no [auth]: every message must be signed",
                         '[[auth.key]] secret = "..." (make one with: openssl rand -hex 32)')
        return AuthResult(None, False, ())
    tables = t.tables("key", "[[auth.key]]", KEY_KEYS)
    keys: dict[int, AuthKey] = {}
    indexes = Unique("key index")
    inline = False
    key_files: list[Path] = []
    for k in tables:
        index = k.integer("index", 1 if len(tables) == 1 else None, minimum=0,
                          maximum=MAX_AUTH_INDEX, required=len(tables) > 1)
        method_word = k.string("method", AuthMethod.HMAC_SHA256.value,
                               choices=[m.value for m in AuthMethod])
        method = AuthMethod(method_word or AuthMethod.HMAC_SHA256.value)
        k.name = f"[[auth.key]] {index}" if index is not None else "[[auth.key]]"
        secret, was_inline = _read_secret(k, method, key_files)
        inline = inline or was_inline
        k.done()
        if method is AuthMethod.CRC:
            k.warning("method", f"{k.name}: crc authenticates nothing: anyone on the "
                      "network can forge heartbeats", 'use method = "hmac-sha256" with a secret')
        if index is None or method_word is None or not indexes.add(k, "index", index):
            continue
        if method is not AuthMethod.CRC and not secret:
            continue
        keys[index] = AuthKey(index, method, secret, SourceRef(t.reader.file, k.line()))
    if not tables:
        t.error(None, "[auth]: no [[auth.key]]: every message must be signed", KEYGEN_HINT)
    default_active = next(iter(keys)) if len(tables) == 1 and keys else None
    active = t.integer("active", default_active, minimum=0, maximum=MAX_AUTH_INDEX,
                       required=len(tables) > 1)
    t.done()
    if active is None or not keys:
        return AuthResult(None, inline, tuple(key_files))
    if active not in keys:
        have = ", ".join(str(i) for i in sorted(keys))
        t.error("active", f"[auth]: active = {active} names no [[auth.key]]",
                f"keys defined: {have}")
        return AuthResult(None, inline, tuple(key_files))
    return AuthResult(Auth(active, keys), inline, tuple(key_files))


def read_connectivity(top: Table, keepalive_ms: int) -> Connectivity:
    t = top.table("connectivity", "[connectivity]", CONNECTIVITY_KEYS)
    if t is None:
        return Connectivity()
    deadping = t.optional_duration("deadping", minimum=1)
    multiplier = t.integer("multiplier", 1, minimum=0)
    pings: list[PingNode] = []
    names = Unique("ping name")
    for p in t.tables("ping", "[[connectivity.ping]]", PING_KEYS):
        is_group = p.boolean("group", False)
        addresses = p.str_list("addresses", allow_string=True) or ()
        for i, address in enumerate(addresses):
            try:
                parse_host(address)
            except ValueError as e:
                p.reader.error(p.at("addresses", i), f"{p.name}: {e}")
        name = read_name(p, "name", "ping name", required=is_group or len(addresses) != 1)
        p.done()
        if not addresses:
            p.error(None, f"{p.name}: no addresses to ping", 'add addresses = ["10.0.0.254"]')
            continue
        name = name or addresses[0]
        if not names.add(p, "name", name):
            continue
        pings.append(PingNode(name, addresses, is_group, SourceRef(p.reader.file, p.line())))
    t.done()
    if deadping is not None and deadping <= 2 * keepalive_ms:
        # Heartbeat config.c: "Ping dead time [...] is too small compared to keepalive".
        t.error("deadping", f"[connectivity]: deadping {format_duration(deadping)} is too "
                f"small for keepalive {format_duration(keepalive_ms)}",
                f"make it more than {format_duration(2 * keepalive_ms)}")
    return Connectivity(tuple(pings), deadping, 1 if multiplier is None else multiplier)


def read_metrics(top: Table, nodes: tuple[NodeName, ...]) -> Metrics:
    """[metrics]: ``listen`` for every node, ``addresses`` per node, ``token_file``."""
    t = top.table("metrics", "[metrics]", METRICS_KEYS)
    if t is None:
        return Metrics()
    listen: Endpoint | None = None
    if t.has("listen"):
        listen = _metrics_endpoint(t, "listen", None, t.data["listen"])
    addresses = read_node_endpoints(t, nodes, _metrics_endpoint)
    token = t.string("token_file")
    if token is not None and not token:
        t.error("token_file", "[metrics]: token_file is empty",
                "omit it (no authentication), or give the path of a file holding the token")
    t.done()
    if listen is None and not addresses and not t.has("listen"):
        t.error(None, "[metrics]: say where to serve /metrics",
                'add listen = "127.0.0.1:9940" (every node), or addresses = { node1 = ... }')
    return Metrics(listen, addresses, Path(token) if token else None)


def _metrics_endpoint(t: Table, key: str, sub: str | None, text: object) -> Endpoint | None:
    return read_listen_endpoint(
        t, "[metrics]", key, sub, text,
        hint='write "IP:PORT" or "[IPV6]:PORT", e.g. "127.0.0.1:9940" or "[::]:9940"')
