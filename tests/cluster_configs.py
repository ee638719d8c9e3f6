"""Cluster configurations for membership and simulator tests, built directly (no parser)."""

from __future__ import annotations

from collections.abc import Sequence

from vigil.config import (
    Auth,
    AuthKey,
    AuthMethod,
    ClusterConfig,
    Link,
    LinkKind,
    Node,
    NodeName,
    Quorum,
    Timing,
)
from vigil.config.native_schema import (
    DEFAULT_DEADTIME_KEEPALIVES,
    DEFAULT_INITDEAD_DEADTIMES,
    DEFAULT_KEEPALIVE_MS,
)

#: The native default timing profile, from the native reader's own defaults.
_KEEPALIVE = DEFAULT_KEEPALIVE_MS
_DEADTIME = DEFAULT_DEADTIME_KEEPALIVES * _KEEPALIVE
NATIVE_DEFAULT = Timing(keepalive_ms=_KEEPALIVE, warntime_ms=_DEADTIME // 2,
                        deadtime_ms=_DEADTIME, initdead_ms=DEFAULT_INITDEAD_DEADTIMES * _DEADTIME)


def cluster(
    nodes: int | Sequence[str] = 3,
    *,
    timing: Timing = NATIVE_DEFAULT,
    links: Sequence[str] = ("eth0",),
    quorum: Quorum | None = None,
    votes: dict[str, int] | None = None,
) -> ClusterConfig:
    """A cluster of NODES (a count: node1…nodeN) on LINKS with TIMING."""
    names = [f"node{i}" for i in range(1, nodes + 1)] if isinstance(nodes, int) else list(nodes)
    votes = votes or {}
    return ClusterConfig(
        nodes=tuple(Node(NodeName(n), votes.get(n, 1)) for n in names),
        links=tuple(Link(name, LinkKind.UCAST, 694) for name in links),
        timing=timing,
        auth=Auth(1, {1: AuthKey(1, AuthMethod.HMAC_SHA256, b"sim")}),
        quorum=quorum or Quorum(),
    )


def timing(keepalive: int, deadtime: int, warntime: int | None = None,
           initdead: int | None = None) -> Timing:
    """A timing profile; warntime defaults to deadtime / 2, initdead to 3 × deadtime."""
    return Timing(keepalive, warntime if warntime is not None else deadtime // 2, deadtime,
                  initdead if initdead is not None else 3 * deadtime)
