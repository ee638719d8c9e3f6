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
    delay_ms: int = 0
    random_delay_ms: int = 0
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

    @property
    def enabled(self) -> bool:
        return bool(self.devices or self.legacy)


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
