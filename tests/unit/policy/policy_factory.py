"""Build configurations and cluster states for policy tests from plain dicts.

(Kept out of conftest.py so test modules can import it by a unique name.)

The same dict shape is what the golden cases' input.toml holds, so a case reads
like a note an administrator would write. We build ``ClusterConfig`` directly
(no parser): the policy depends on the model, not on how files are read.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vigil.config import (
    AgentSpec,
    Auth,
    AuthKey,
    AuthMethod,
    AutoFailback,
    ClusterConfig,
    FenceDevice,
    Fencing,
    Group,
    GroupId,
    Node,
    NodeName,
    NoQuorumPolicy,
    Quorum,
    Resource,
    ResourceId,
    TargetRole,
    Timing,
)
from vigil.policy import (
    AdminConstraint,
    ClusterState,
    ConstraintKind,
    CopyOrigin,
    FailCount,
    NodeAttributes,
    ResourceState,
)

TIMING = Timing(keepalive_ms=1000, warntime_ms=5000, deadtime_ms=10_000, initdead_ms=30_000)
AUTH = Auth(active=1, keys={1: AuthKey(1, AuthMethod.HMAC_SHA256, b"test-secret")})


def config_from_dict(spec: Mapping[str, Any]) -> ClusterConfig:
    """A ClusterConfig from the ``[config]`` table of a case (see cases/README.md)."""
    nodes = tuple(Node(NodeName(n)) for n in spec.get("nodes", ("node0", "node1")))
    overrides: Mapping[str, Mapping[str, Any]] = spec.get("resource", {})
    order: list[str] = []
    groups: list[Group] = []
    for g in spec.get("groups", ()):
        members = tuple(ResourceId(r) for r in g["resources"])
        order.extend(members)
        preferred = g.get("preferred_node")
        groups.append(Group(
            id=GroupId(g["id"]),
            resources=members,
            preferred_node=NodeName(preferred) if preferred else None,
            locations={NodeName(n): int(s) for n, s in g.get("locations", {}).items()},
        ))
    order.extend(spec.get("resources", ()))
    resources = tuple(_resource(rid, overrides.get(rid, {})) for rid in order)
    fencing = Fencing()
    if spec.get("fencing", False):
        fencing = Fencing(devices=(FenceDevice(name="fence0", agent="fence_dummy"),))
    extra: dict[str, Any] = {}
    if "default_stickiness" in spec:
        extra["default_stickiness"] = int(spec["default_stickiness"])
    if "migration_threshold" in spec:
        extra["migration_threshold"] = int(spec["migration_threshold"])
    if "failure_timeout_ms" in spec:
        extra["failure_timeout_ms"] = int(spec["failure_timeout_ms"])
    return ClusterConfig(
        nodes=nodes,
        links=(),
        timing=TIMING,
        auth=AUTH,
        resources=resources,
        groups=tuple(groups),
        auto_failback=AutoFailback(spec.get("auto_failback", "on")),
        quorum=Quorum(no_quorum_policy=NoQuorumPolicy(spec.get("no_quorum_policy", "stop"))),
        fencing=fencing,
        **extra,
    )


def _resource(rid: str, spec: Mapping[str, Any]) -> Resource:
    agent = spec.get("agent", "heartbeat:IPaddr" if rid.startswith("vip") else "vigil:dummy")
    cls, _, kind = agent.partition(":")
    return Resource(
        id=ResourceId(rid),
        agent=AgentSpec(cls, kind),
        stickiness=spec.get("stickiness"),
        migration_threshold=spec.get("migration_threshold"),
        failure_timeout_ms=spec.get("failure_timeout_ms"),
        target_role=TargetRole(spec.get("target_role", "started")),
    )


def state_from_dict(config: ClusterConfig, spec: Mapping[str, Any]) -> ClusterState:
    """A ClusterState from a case's top-level tables (online, reports, failures...)."""
    online = spec.get("online", [str(n) for n in config.node_names])
    return ClusterState(
        config=config,
        online=frozenset(NodeName(n) for n in online),
        has_quorum=bool(spec.get("quorum", True)),
        reports={
            NodeName(node): {ResourceId(r): ResourceState(s) for r, s in states.items()}
            for node, states in spec.get("reports", {}).items()
        },
        failures={
            (ResourceId(f["resource"]), NodeName(f["node"])):
                FailCount(int(f["count"]), int(f.get("last_failure_ms", 0)))
            for f in spec.get("failures", ())
        },
        attributes={
            NodeName(node): NodeAttributes(
                standby=bool(a.get("standby", False)),
                connectivity=int(a.get("connectivity", 0)),
            )
            for node, a in spec.get("attributes", {}).items()
        },
        constraints=tuple(
            AdminConstraint(ConstraintKind(c["kind"]), c["target"], NodeName(c["node"]))
            for c in spec.get("constraints", ())
        ),
        now_ms=int(spec.get("now_ms", 0)),
        origins={
            (ResourceId(rid), NodeName(node)): CopyOrigin(
                quorate=bool(o.get("quorate", True)), fenced=bool(o.get("fenced", False)))
            for node, copies in spec.get("origins", {}).items()
            for rid, o in copies.items()
        },
    )


CASES = Path(__file__).parent / "cases"
