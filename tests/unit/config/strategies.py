"""Hypothesis strategies: arbitrary *valid* ``ClusterConfig`` objects.

Valid means what ``config check`` accepts (warnings allowed): unique names,
references to declared nodes and resources, timing Heartbeat would accept,
links whose fields fit their kind, keys with the secrets their method needs.
Everything else is drawn freely, including awkward text (quotes, backslashes,
non-ASCII) in arguments, parameters and secrets, and non-UTF-8 secrets.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import strategies as st

from vigil.config import (
    INFINITY,
    AgentSpec,
    ApiAuth,
    Auth,
    AuthKey,
    AuthMethod,
    AutoFailback,
    ClusterConfig,
    Compression,
    Connectivity,
    Endpoint,
    FenceDevice,
    FenceLevel,
    Fencing,
    Group,
    GroupId,
    LegacyStonith,
    Link,
    LinkKind,
    Logging,
    Metrics,
    Node,
    NodeName,
    NoQuorumPolicy,
    Operation,
    PasswordHash,
    PingNode,
    Quorum,
    Resource,
    ResourceId,
    Respawn,
    TargetRole,
    Timing,
    Web,
    WebRole,
    WebUser,
)

__all__ = ["cluster_configs"]

_LABEL = "abcdefghijklmnopqrstuvwxyz"
names = st.builds(
    lambda head, tail: head + tail,
    st.sampled_from(_LABEL),
    st.text(alphabet=_LABEL + "0123456789-_.", max_size=10),
)
# Node names also appear as keys of inline tables: include ones that need quoting.
node_names = st.one_of(names, st.sampled_from(["node.1", "Node-A", "n@host", "ü-node"]))
words = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)
paths = st.builds(lambda parts: Path("/" + "/".join(parts)),
                  st.lists(names, min_size=1, max_size=3))
ipv4 = st.ip_addresses(v=4).map(str)
ipv6 = st.ip_addresses(v=6).map(str)
hosts = st.one_of(ipv4, ipv6, st.sampled_from(["gateway", "db1.example.com", "router-2"]))
ports = st.integers(1, 65535)
#: A link's ports: port + 1 carries its control messages.
link_ports = st.integers(1, 65534)
scores = st.one_of(st.integers(-INFINITY, INFINITY), st.sampled_from([INFINITY, -INFINITY]))
ms = st.integers(0, 10_000_000)


@st.composite
def timings(draw: st.DrawFn) -> Timing:
    keepalive = draw(st.integers(1, 5_000))
    deadtime = draw(st.integers(2 * keepalive + 1, 100 * keepalive + 1))
    warntime = draw(st.integers(1, 2 * deadtime))
    initdead = draw(st.integers(deadtime, 5 * deadtime))
    return Timing(keepalive, warntime, deadtime, initdead)


@st.composite
def links(draw: st.DrawFn, nodes: tuple[NodeName, ...], name: str,
          bound: set[tuple[str, int]]) -> Link:
    kind = draw(st.sampled_from(LinkKind))
    port = draw(link_ports)
    addresses: dict[NodeName, Endpoint] = {}
    for node in draw(st.lists(st.sampled_from(nodes), unique=True)) if nodes else []:
        ep = draw(st.builds(Endpoint, hosts, st.none() | link_ports))
        where = (ep.host, ep.port if ep.port is not None else port)
        if where in bound:
            continue
        bound.add(where)
        addresses[node] = ep
    interface = draw(st.none() | st.sampled_from(["eth0", "eth1", "bond0", "enp3s0f1"]))
    if kind is LinkKind.UCAST:
        peers = tuple(draw(st.lists(st.builds(Endpoint, hosts, st.none() | link_ports),
                                    min_size=0 if addresses else 1, max_size=3)))
        return Link(name, kind, port, interface, peers, addresses)
    if kind is LinkKind.BCAST:
        return Link(name, kind, port, interface or "eth1", (), addresses)
    group = draw(st.sampled_from(["239.0.0.1", "225.0.0.1", "ff02::1:3", "239.255.42.1"]))
    return Link(name, kind, port, interface, (), addresses, group,
                draw(st.integers(0, 255)), draw(st.booleans()))


@st.composite
def auths(draw: st.DrawFn) -> Auth:
    indexes = draw(st.lists(st.integers(0, 15), min_size=1, max_size=3, unique=True))
    keys: dict[int, AuthKey] = {}
    for index in indexes:
        method = draw(st.sampled_from(AuthMethod))
        if method is AuthMethod.CRC:
            secret = b""
        else:
            secret = draw(st.one_of(
                st.binary(min_size=1, max_size=40),
                words.filter(bool).map(lambda s: s.encode("utf-8")),
            ))
        keys[index] = AuthKey(index, method, secret)
    return Auth(draw(st.sampled_from(indexes)), keys)


agents = st.one_of(
    st.builds(lambda p, t: AgentSpec("ocf", t, p), st.sampled_from(["heartbeat", "pacemaker"]),
              st.sampled_from(["IPaddr2", "Filesystem", "apache", "Dummy"])),
    st.builds(AgentSpec, st.sampled_from(["lsb", "heartbeat", "systemd"]),
              st.sampled_from(["IPaddr", "httpd", "Remac1", "nginx.service", "tomcat"])),
    st.builds(AgentSpec, st.just("vigil"),
              st.sampled_from(["ipaddr", "macaddr", "filesystem", "dummy"])),
)


@st.composite
def operations(draw: st.DrawFn) -> tuple[Operation, ...]:
    ops: dict[tuple[str, int], Operation] = {}
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from(["start", "stop", "monitor", "status", "promote"]))
        interval = draw(st.integers(0, 600_000)) if name in ("monitor", "status") else 0
        ops.setdefault((name, interval), Operation(name, interval, draw(st.integers(1, 600_000))))
    return tuple(ops.values())


param_keys = st.text(alphabet=_LABEL + "ABCXYZ0123456789_.-", min_size=1, max_size=12)


@st.composite
def resources(draw: st.DrawFn, rid: str) -> Resource:
    return Resource(
        ResourceId(rid),
        draw(agents),
        tuple(draw(st.lists(words, max_size=3))),
        draw(st.dictionaries(param_keys, words, max_size=3)),
        draw(operations()),
        draw(st.none() | scores),
        draw(st.none() | st.integers(1, INFINITY)),
        draw(st.none() | ms),
        draw(st.sampled_from(TargetRole)),
        draw(st.booleans()),
    )


@st.composite
def groups(draw: st.DrawFn, nodes: tuple[NodeName, ...],
           rids: list[ResourceId], taken: set[str]) -> list[Group]:
    out: list[Group] = []
    free = list(rids)
    while free:
        if not draw(st.booleans()):
            break
        count = draw(st.integers(1, len(free)))
        members = tuple(free[:count])
        free = free[count:]
        gid = draw(names.filter(lambda n: n not in taken))
        taken.add(gid)
        out.append(Group(
            GroupId(gid), members,
            draw(st.none() | st.sampled_from(nodes)),
            draw(st.dictionaries(st.sampled_from(nodes), scores, max_size=len(nodes))),
        ))
    return out


@st.composite
def fence_devices(draw: st.DrawFn, nodes: tuple[NodeName, ...]) -> tuple[FenceDevice, ...]:
    devices = []
    for name in draw(st.lists(names, unique=True, max_size=2)):
        # A delay per target (pcmk_delay_base's node1:5s form) replaces the single one.
        by_node = draw(st.dictionaries(st.sampled_from(nodes), ms, max_size=len(nodes)))
        devices.append(FenceDevice(
            name,
            draw(st.sampled_from(["fence_ipmilan", "fence_virsh", "/usr/local/sbin/fence_x"])),
            draw(st.dictionaries(param_keys, words, max_size=3)),
            tuple(draw(st.lists(st.sampled_from(nodes), unique=True))),
            draw(st.dictionaries(st.sampled_from(nodes), words, max_size=len(nodes))),
            draw(st.integers(1, 600_000)),
            0 if by_node else draw(ms),
            draw(ms),
            delay_by_node=by_node,
        ))
    return tuple(devices)


@st.composite
def fence_levels(draw: st.DrawFn, nodes: tuple[NodeName, ...],
                 devices: tuple[FenceDevice, ...]) -> tuple[FenceLevel, ...]:
    if not devices:
        return ()
    levels = []
    for node in draw(st.lists(st.sampled_from(nodes), unique=True, max_size=2)):
        for index in draw(st.lists(st.integers(1, 9), unique=True, min_size=1, max_size=3)):
            chosen = draw(st.lists(st.sampled_from([d.name for d in devices]), unique=True,
                                   min_size=1))
            levels.append(FenceLevel(node, index, tuple(chosen)))
    return tuple(levels)


@st.composite
def connectivities(draw: st.DrawFn, keepalive_ms: int) -> Connectivity:
    pings: list[PingNode] = []
    for name in draw(st.lists(names, unique=True, max_size=3)):
        if draw(st.booleans()):
            address = draw(st.one_of(ipv4, ipv6))
            # A ping node is named by its address unless named otherwise.
            pings.append(PingNode(draw(st.sampled_from([address, name])), (address,)))
        else:
            pings.append(PingNode(name, tuple(draw(st.lists(hosts, min_size=1, max_size=3))),
                                  is_group=True))
    if len({p.name for p in pings}) != len(pings):
        pings = pings[:1]
    deadping = draw(st.none() | st.integers(2 * keepalive_ms + 1, 100 * keepalive_ms + 1))
    return Connectivity(tuple(pings), deadping, draw(st.integers(0, 1000)))


@st.composite
def metrics(draw: st.DrawFn, nodes: tuple[NodeName, ...]) -> Metrics:
    """Off, or served on LISTEN and/or per-node addresses (a port is required)."""
    if not draw(st.booleans()):
        return Metrics()
    endpoint = st.builds(Endpoint, st.one_of(ipv4, ipv6), ports)
    listen = draw(st.none() | endpoint)
    addresses = draw(st.dictionaries(st.sampled_from(nodes), endpoint,
                                     min_size=0 if listen is not None else 1,
                                     max_size=len(nodes)))
    return Metrics(listen, addresses, draw(st.none() | paths))


@st.composite
def webs(draw: st.DrawFn, nodes: tuple[NodeName, ...]) -> Web:
    """Off, or the dashboard on LISTEN and/or per-node addresses, with users or a token."""
    if not draw(st.booleans()):
        return Web()
    endpoint = st.builds(Endpoint, st.one_of(ipv4, ipv6), ports)
    listen = draw(st.none() | endpoint)
    addresses = draw(st.dictionaries(st.sampled_from(nodes), endpoint,
                                     min_size=0 if listen is not None else 1,
                                     max_size=len(nodes)))
    hashes = st.builds(PasswordHash, st.integers(12, 20), st.integers(1, 32),
                       st.integers(1, 16), st.binary(min_size=16, max_size=32),
                       st.binary(min_size=32, max_size=64))
    user_names = draw(st.lists(names, unique=True, max_size=3))
    users = tuple(WebUser(n, draw(st.sampled_from(WebRole)), draw(hashes)) for n in user_names)
    token = draw(st.none() | paths) if users else draw(paths)
    # certificate and key must exist when read: a file every machine has stands in
    tls = draw(st.booleans())
    pem = Path(__file__).resolve() if tls else None
    return Web(listen, addresses, pem, pem, users, token, draw(st.sampled_from(WebRole)),
               draw(st.integers(60_000, 10 * 86_400_000)))


@st.composite
def cluster_configs(draw: st.DrawFn) -> ClusterConfig:
    node_list = draw(st.lists(node_names, min_size=1, max_size=5, unique=True))
    nodes = tuple(NodeName(n) for n in node_list)
    votes = draw(st.lists(st.integers(0, 3), min_size=len(nodes), max_size=len(nodes))
                 .filter(lambda v: sum(v) > 0))
    timing = draw(timings())
    bound: set[tuple[str, int]] = set()
    link_names = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    link_list = tuple(draw(links(nodes, name, bound)) for name in link_names)
    rid_list = [ResourceId(r) for r in draw(st.lists(names, max_size=5, unique=True))]
    resource_list = tuple(draw(resources(rid)) for rid in rid_list)
    group_list = draw(groups(nodes, rid_list, set(rid_list)))
    two_node = len(nodes) == 2 and draw(st.booleans())
    devices = draw(fence_devices(nodes))
    return ClusterConfig(
        nodes=tuple(Node(n, v) for n, v in zip(nodes, votes, strict=True)),
        links=link_list,
        timing=timing,
        auth=draw(auths()),
        resources=resource_list,
        groups=tuple(group_list),
        cluster_name=draw(names),
        auto_failback=draw(st.sampled_from(AutoFailback)),
        default_stickiness=draw(st.none() | scores),
        migration_threshold=draw(st.integers(1, INFINITY)),
        failure_timeout_ms=draw(ms),
        quorum=Quorum(draw(st.none() | st.integers(1, 40)), two_node, draw(st.booleans()),
                      draw(st.sampled_from(NoQuorumPolicy))),
        logging=Logging(draw(st.none() | paths), draw(st.none() | paths),
                        draw(st.none() | st.sampled_from(["daemon", "local0", "user"])),
                        draw(st.integers(0, 255))),
        connectivity=draw(connectivities(timing.keepalive_ms)),
        respawn=tuple(draw(st.lists(st.builds(
            Respawn, st.sampled_from(["root", "hacluster"]),
            st.lists(words, min_size=1, max_size=3).map(tuple)), max_size=2))),
        apiauth=tuple(draw(st.lists(st.builds(
            ApiAuth, names, st.lists(names, max_size=2).map(tuple),
            st.lists(names, max_size=2).map(tuple)), max_size=2))),
        watchdog=draw(st.none() | st.just(Path("/dev/watchdog"))),
        fencing=Fencing(devices, tuple(draw(st.lists(st.builds(
            LegacyStonith, st.sampled_from(["stonith", "stonith_host"]),
            st.lists(words, max_size=4).map(tuple)), max_size=2))),
            draw(fence_levels(nodes, devices))),
        compression=Compression(draw(st.none() | st.sampled_from(["zlib", "bz2"])),
                                draw(st.integers(1, 1 << 20))),
        metrics=draw(metrics(nodes)),
        web=draw(webs(nodes)),
        autojoin=draw(st.sampled_from(["none", "other", "any"])),
        crm=draw(st.sampled_from(["no", "yes", "respawn", "minimal"])),
        resource_dirs=tuple(draw(st.lists(paths, max_size=3))),
        unsupported=tuple(draw(st.lists(words, max_size=3))),
    )

