"""Clusters with resources for coordinator simulations, built directly (no parser)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from cluster_configs import cluster, timing
from vigil.config import (
    AgentSpec,
    AutoFailback,
    ClusterConfig,
    Group,
    GroupId,
    NodeName,
    NoQuorumPolicy,
    Operation,
    Quorum,
    Resource,
    ResourceId,
    Timing,
)

#: keepalive 100 ms, warntime 500, deadtime 1 s, initdead 3 s (the loopback example's).
FAST = timing(100, 1000, warntime=500, initdead=3000)
#: Every resource: a monitor every 500 ms; stop and start time out after 300 ms.
OPS = (Operation("monitor", 500, 300), Operation("start", 0, 300), Operation("stop", 0, 300))


def resource(rid: str, **kw: object) -> Resource:
    return Resource(ResourceId(rid), AgentSpec("vigil", "dummy"), operations=OPS,
                    **kw)  # type: ignore[arg-type]


def with_groups(
    nodes: int | Sequence[str],
    groups: Mapping[str, tuple[str | None, Sequence[str]]],
    *,
    timing: Timing = FAST,
    auto_failback: AutoFailback = AutoFailback.ON,
    no_quorum_policy: NoQuorumPolicy = NoQuorumPolicy.STOP,
    two_node: bool = False,
    **settings: object,
) -> ClusterConfig:
    """A cluster with GROUPS: id -> (preferred node or None, member resource ids)."""
    base = cluster(nodes, timing=timing,
                   quorum=Quorum(two_node=two_node, no_quorum_policy=no_quorum_policy))
    resources: list[Resource] = []
    built: list[Group] = []
    for gid, (preferred, members) in groups.items():
        resources.extend(resource(r) for r in members)
        built.append(Group(GroupId(gid), tuple(ResourceId(r) for r in members),
                           preferred_node=NodeName(preferred) if preferred else None))
    return replace(base, resources=tuple(resources), groups=tuple(built),
                   auto_failback=auto_failback, **settings)  # type: ignore[arg-type]


def nplus1(**kw: object) -> ClusterConfig:
    """The N+1 layout of the field notes (examples/heartbeat-3node): node0 and node2
    are the primaries of grp_vip1 and grp_vip2, node1 the standby of both."""
    config = with_groups(["node0", "node1", "node2"],
                         {"grp_vip1": ("node0", ["vip1", "remac1"]),
                          "grp_vip2": ("node2", ["vip2", "remac2"])}, **kw)  # type: ignore[arg-type]
    groups = tuple(replace(g, locations={NodeName("node1"): 50}) for g in config.groups)
    return replace(config, groups=groups)
