"""The typed, immutable cluster configuration every other package reads.

Rules of this file:
- One model for both sources (legacy Heartbeat files and native TOML). Parsers
  build it; nothing else constructs it except tests.
- Times are integer milliseconds (``*_ms``): the simulator asserts exact timings
  and floats would make "to the tick" fuzzy.
- Where an object came from (file and line) is kept for error messages but is
  never part of equality: converting legacy files to TOML and reading them back
  must give an equal model.
- Values are validated by the parsers, which know the file and line; the
  constructors here only hold data.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NewType

NodeName = NewType("NodeName", str)
ResourceId = NewType("ResourceId", str)
GroupId = NewType("GroupId", str)

#: Scores as Pacemaker uses them: INFINITY means "always", -INFINITY "never".
INFINITY = 1_000_000


@dataclass(frozen=True, slots=True)
class SourceRef:
    """Where a piece of configuration was written: for messages, not equality."""

    file: Path
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line is not None else str(self.file)


def _src() -> SourceRef | None:
    return None


class ConfigFormat(enum.Enum):
    LEGACY = "legacy"  # ha.cf + haresources + authkeys
    NATIVE = "toml"  # vigil.toml


@dataclass(frozen=True, slots=True)
class Node:
    name: NodeName
    votes: int = 1
    source: SourceRef | None = field(default_factory=_src, compare=False)


class LinkKind(enum.Enum):
    UCAST = "ucast"
    BCAST = "bcast"
    MCAST = "mcast"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A UDP address; ``port`` None means the link's port."""

    host: str
    port: int | None = None

    def __str__(self) -> str:
        if self.port is None:
            return self.host
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True, slots=True)
class Link:
    """One heartbeat medium. Every node sends every heartbeat on every link.

    - ``ucast``: sent to each of ``peers`` and to every other node's entry in
      ``addresses``. Legacy ``ucast eth0 IP`` lines on one interface make one
      link with several peers (Heartbeat skips its own address, and so do we).
    - ``bcast``: sent to the interface's broadcast address on ``port``.
    - ``mcast``: sent to ``group`` on ``port`` with ``ttl`` and ``loop``.
    ``addresses`` (native only) gives each node's own address on this link: the
    daemon binds it, which is what lets several nodes share one machine.
    """

    name: str
    kind: LinkKind
    port: int
    interface: str | None = None
    peers: tuple[Endpoint, ...] = ()
    addresses: Mapping[NodeName, Endpoint] = field(default_factory=dict)
    group: str | None = None
    ttl: int = 1
    loop: bool = False
    source: SourceRef | None = field(default_factory=_src, compare=False)


@dataclass(frozen=True, slots=True)
class Timing:
    """Heartbeat's four timers, in milliseconds, meaning what they meant there.

    keepalive: interval between heartbeats; warntime: a peer not heard for this
    long is logged as late; deadtime: not heard for this long, it is dead;
    initdead: deadtime used once at start-up, while the network settles.
    """

    keepalive_ms: int
    warntime_ms: int
    deadtime_ms: int
    initdead_ms: int


class AuthMethod(enum.Enum):
    CRC = "crc"  # authenticates nothing; accepted for compatibility only
    MD5 = "md5"
    SHA1 = "sha1"
    HMAC_SHA256 = "hmac-sha256"


@dataclass(frozen=True, slots=True)
class AuthKey:
    index: int
    method: AuthMethod
    secret: bytes = field(repr=False)
    source: SourceRef | None = field(default_factory=_src, compare=False)


@dataclass(frozen=True, slots=True)
class Auth:
    """``active`` signs outgoing messages; every key in ``keys`` is accepted."""

    active: int
    keys: Mapping[int, AuthKey]

    @property
    def signing_key(self) -> AuthKey:
        return self.keys[self.active]


@dataclass(frozen=True, slots=True)
class AgentSpec:
    """``class:provider:type`` or ``class:type``.

    Classes: ``ocf`` (provider required), ``lsb``, ``heartbeat`` (resource.d
    scripts), ``systemd``, and ``vigil`` for the built-ins (ipaddr, macaddr,
    filesystem, dummy).
    """

    cls: str
    type: str
    provider: str | None = None

    def __str__(self) -> str:
        if self.provider is not None:
            return f"{self.cls}:{self.provider}:{self.type}"
        return f"{self.cls}:{self.type}"


@dataclass(frozen=True, slots=True)
class Operation:
    """An operation with its interval (0 for one-shot) and timeout."""

    name: str  # start, stop, monitor, status, ...
    interval_ms: int
    timeout_ms: int


class TargetRole(enum.Enum):
    STARTED = "started"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class Resource:
    """A program that starts, stops and reports status.

    ``args`` are positional (``heartbeat:`` scripts: ``IPaddr::10.0.0.5/24``);
    ``params`` are named (OCF ``OCF_RESKEY_*`` and the built-ins).
    ``stickiness``, ``migration_threshold`` and ``failure_timeout_ms`` left None
    fall back to the cluster defaults.
    """

    id: ResourceId
    agent: AgentSpec
    args: tuple[str, ...] = ()
    params: Mapping[str, str] = field(default_factory=dict)
    operations: tuple[Operation, ...] = ()
    stickiness: int | None = None
    migration_threshold: int | None = None
    failure_timeout_ms: int | None = None
    target_role: TargetRole = TargetRole.STARTED
    exclusive: bool = True
    source: SourceRef | None = field(default_factory=_src, compare=False)


@dataclass(frozen=True, slots=True)
class Group:
    """Resources started in order and stopped in reverse, always together.

    ``locations`` are scores per node (higher is preferred; -INFINITY bans);
    from ``haresources`` the first column gets a positive score.
    """

    id: GroupId
    resources: tuple[ResourceId, ...]
    preferred_node: NodeName | None = None
    locations: Mapping[NodeName, int] = field(default_factory=dict)
    source: SourceRef | None = field(default_factory=_src, compare=False)


class AutoFailback(enum.Enum):
    ON = "on"  # stickiness 0: resources go back to their preferred node
    OFF = "off"  # stickiness INFINITY: they stay where they are
    LEGACY = "legacy"  # Heartbeat: on, unless some node does not support it


class NoQuorumPolicy(enum.Enum):
    STOP = "stop"
    FREEZE = "freeze"
    IGNORE = "ignore"


@dataclass(frozen=True, slots=True)
class Quorum:
    expected_votes: int | None = None  # None: the sum of the nodes' votes
    two_node: bool = False
    wait_for_all: bool = False
    no_quorum_policy: NoQuorumPolicy = NoQuorumPolicy.STOP


@dataclass(frozen=True, slots=True)
class Logging:
    logfile: Path | None = None
    debugfile: Path | None = None
    logfacility: str | None = None  # syslog facility name; None: no syslog
    debug: int = 0


@dataclass(frozen=True, slots=True)
class PingNode:
    """A ping node (``ping``) or a ping group (``ping_group``: up while any answers)."""

    name: str
    addresses: tuple[str, ...]
    is_group: bool = False
    source: SourceRef | None = field(default_factory=_src, compare=False)


@dataclass(frozen=True, slots=True)
class Connectivity:
    ping_nodes: tuple[PingNode, ...] = ()
    deadping_ms: int | None = None  # None: deadtime, as Heartbeat
    multiplier: int = 1  # pingd's -m: score per reachable ping node


@dataclass(frozen=True, slots=True)
class Respawn:
    user: str
    argv: tuple[str, ...]
    source: SourceRef | None = field(default_factory=_src, compare=False)


@dataclass(frozen=True, slots=True)
class ApiAuth:
    """``apiauth CLIENT uid=a,b gid=c``: who may use the control API as CLIENT."""

    client: str
    uids: tuple[str, ...] = ()
    gids: tuple[str, ...] = ()
    source: SourceRef | None = field(default_factory=_src, compare=False)


@dataclass(frozen=True, slots=True)
class FenceDevice:
    """A fence agent (``fence_*`` protocol or a script) and whom it can fence."""

    name: str
    agent: str
    params: Mapping[str, str] = field(default_factory=dict)
    nodes: tuple[NodeName, ...] = ()  # empty: every node except the one running it
    host_map: Mapping[NodeName, str] = field(default_factory=dict)  # node -> plug
    timeout_ms: int = 60_000
    delay_ms: int = 0  # before fencing any node not in delay_by_node
    random_delay_ms: int = 0
    source: SourceRef | None = field(default_factory=_src, compare=False)
    #: Per target, as pcmk_delay_base's "node1:5s;node2:0s": wait before fencing that node.
    delay_by_node: Mapping[NodeName, int] = field(default_factory=dict)

    def delay_for_node(self, node: NodeName | None) -> int:
        """The static delay before fencing NODE (``delay_by_node``, else ``delay_ms``)."""
        return self.delay_by_node.get(node, self.delay_ms) if node is not None else self.delay_ms


@dataclass(frozen=True, slots=True)
class FenceLevel:
    """``[[fencing.level]]``: NODE's level INDEX (tried in ascending order, from 1); it
    fences the node only when every one of its DEVICES does (Pacemaker's fencing-topology)."""

    node: NodeName
    index: int
    devices: tuple[str, ...]
    source: SourceRef | None = field(default_factory=_src, compare=False)


@dataclass(frozen=True, slots=True)
class LegacyStonith:
    """ha.cf ``stonith TYPE FILE`` / ``stonith_host FROM TYPE PARAMS...``, as written."""

    directive: str
    words: tuple[str, ...]
    source: SourceRef | None = field(default_factory=_src, compare=False)


@dataclass(frozen=True, slots=True)
class Fencing:
    devices: tuple[FenceDevice, ...] = ()
    legacy: tuple[LegacyStonith, ...] = ()
    #: Explicit levels; a node without any gets one level per capable device.
    levels: tuple[FenceLevel, ...] = ()

    @property
    def enabled(self) -> bool:
        return bool(self.devices or self.legacy)

    def levels_of(self, node: NodeName) -> tuple[FenceLevel, ...]:
        """NODE's explicit levels in the order they are tried (by index)."""
        return tuple(sorted((lv for lv in self.levels if lv.node == node),
                            key=lambda lv: lv.index))


class ArbiterBackend(enum.Enum):
    VIGIL = "vigil"  # `vigil arbiter` on a third machine
    ETCD = "etcd"  # an etcd cluster's leases


#: What stands between the moment a lease holder gives up its vote (having
#: stopped its exclusive resources) and the end of its lease at the lease
#: service: see ``vigil.quorum.arbiter`` for what it covers.
LEASE_MARGIN_MS = 500


@dataclass(frozen=True, slots=True)
class Arbiter:
    """``[arbiter]``: the lease service whose vote breaks ties (a quorum device).

    ``address`` for the ``vigil`` backend (``vigil arbiter --listen``), which
    authenticates with the cluster's key; ``endpoints`` (``http://host:port``)
    for etcd, where the lease key is named after the cluster. ``lease_ttl_ms``
    is how long a grant lasts without renewal.
    """

    backend: ArbiterBackend
    lease_ttl_ms: int
    address: Endpoint | None = None
    endpoints: tuple[str, ...] = ()
    source: SourceRef | None = field(default_factory=_src, compare=False)


@dataclass(frozen=True, slots=True)
class Compression:
    method: str | None = None  # zlib, bz2 (ha.cf); None: off
    threshold_bytes: int = 2 * 1024  # ha.cf gives KB: compression_threshold 2


@dataclass(frozen=True, slots=True)
class Metrics:
    """``[metrics]``: where each daemon serves ``/metrics`` (Prometheus); off when absent.

    ``listen`` holds for every node unless ``addresses`` names it; a node with
    neither serves nothing. ``token_file`` (optional) holds the bearer token a
    scraper must send; independent of the dashboard's users.
    """

    listen: Endpoint | None = None
    addresses: Mapping[NodeName, Endpoint] = field(default_factory=dict)
    token_file: Path | None = None

    @property
    def enabled(self) -> bool:
        return self.listen is not None or bool(self.addresses)

    def address_for(self, node: str) -> Endpoint | None:
        """Where NODE serves /metrics, or None."""
        return self.addresses.get(NodeName(node), self.listen)


class WebRole(enum.Enum):
    """What a dashboard user may do: operators act, read-only users only look."""

    OPERATOR = "operator"
    READ_ONLY = "read-only"


@dataclass(frozen=True, slots=True)
class PasswordHash:
    """A scrypt password hash, written ``$scrypt$ln=14,r=8,p=5$SALT$HASH`` (base64).

    ``ln`` is log2 of scrypt's N; salt and digest are raw bytes. Made by
    ``vigil web passwd``; checked by the dashboard at login.
    """

    ln: int
    r: int
    p: int
    salt: bytes = field(repr=False)
    digest: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class WebUser:
    """``[[web.user]]``: a person who may log in to the dashboard."""

    name: str
    role: WebRole
    password: PasswordHash = field(repr=False)
    source: SourceRef | None = field(default_factory=_src, compare=False)


@dataclass(frozen=True, slots=True)
class Web:
    """``[web]``: the dashboard each daemon serves (docs/web.md); off when absent.

    ``listen``/``addresses`` as ``[metrics]``. TLS when ``certificate`` and
    ``key`` are given. ``token_file`` (optional) holds a bearer token for
    scripts, acting with ``token_role``. Sessions end after ``session_timeout_ms``
    without a request.
    """

    listen: Endpoint | None = None
    addresses: Mapping[NodeName, Endpoint] = field(default_factory=dict)
    certificate: Path | None = None
    key: Path | None = None
    users: tuple[WebUser, ...] = ()
    token_file: Path | None = None
    token_role: WebRole = WebRole.READ_ONLY
    session_timeout_ms: int = 8 * 3_600_000

    @property
    def enabled(self) -> bool:
        return self.listen is not None or bool(self.addresses)

    @property
    def tls(self) -> bool:
        return self.certificate is not None and self.key is not None

    def address_for(self, node: str) -> Endpoint | None:
        """Where NODE serves the dashboard, or None."""
        return self.addresses.get(NodeName(node), self.listen)


@dataclass(frozen=True, slots=True)
class ClusterConfig:
    """Everything one node needs to know about its cluster."""

    nodes: tuple[Node, ...]
    links: tuple[Link, ...]
    timing: Timing
    auth: Auth
    resources: tuple[Resource, ...] = ()
    groups: tuple[Group, ...] = ()
    cluster_name: str = "vigil"
    auto_failback: AutoFailback = AutoFailback.ON
    default_stickiness: int | None = None  # None: from auto_failback
    migration_threshold: int = INFINITY  # Pacemaker's default: never move on failures
    failure_timeout_ms: int = 0  # 0: failure counts never expire
    quorum: Quorum = field(default_factory=Quorum)
    logging: Logging = field(default_factory=Logging)
    connectivity: Connectivity = field(default_factory=Connectivity)
    respawn: tuple[Respawn, ...] = ()
    apiauth: tuple[ApiAuth, ...] = ()
    watchdog: Path | None = None
    fencing: Fencing = field(default_factory=Fencing)
    compression: Compression = field(default_factory=Compression)
    metrics: Metrics = field(default_factory=Metrics)
    arbiter: Arbiter | None = None
    web: Web = field(default_factory=Web)
    autojoin: str = "none"  # none, other, any (Heartbeat)
    crm: str = "no"  # ha.cf crm: with "yes"/"respawn" Heartbeat ignored haresources
    resource_dirs: tuple[Path, ...] = (Path("/etc/ha.d/resource.d"), Path("/etc/init.d"))
    # Directives accepted as written but not acted on (yet): shown by config check.
    unsupported: tuple[str, ...] = ()
    format: ConfigFormat = field(default=ConfigFormat.NATIVE, compare=False)
    sources: tuple[Path, ...] = field(default=(), compare=False)

    @property
    def node_names(self) -> tuple[NodeName, ...]:
        return tuple(n.name for n in self.nodes)

    @property
    def stickiness(self) -> int:
        """The cluster's default stickiness: explicit, else from auto_failback."""
        if self.default_stickiness is not None:
            return self.default_stickiness
        return INFINITY if self.auto_failback is AutoFailback.OFF else 0

    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    def resource(self, rid: str) -> Resource:
        for r in self.resources:
            if r.id == rid:
                return r
        raise KeyError(rid)

    def group_of(self, rid: str) -> Group | None:
        for g in self.groups:
            if rid in g.resources:
                return g
        return None
