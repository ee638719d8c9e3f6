"""Units of placement: a group, or a resource that belongs to no group.

A group is placed as one unit (its members are colocated and ordered); a lone
resource is a unit of one. Everything here comes from the configuration alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from vigil.config import INFINITY, ClusterConfig, Group, NodeName, Resource, ResourceId
from vigil.policy.scores import PREFERRED_NODE_SCORE
from vigil.policy.state import PolicyInputError


@dataclass(frozen=True, slots=True)
class Unit:
    """What the scheduler places on one node.

    ``location`` is sparse (nodes absent score 0); ``preferred`` is the node
    with the highest positive location score, the earlier in node order on a
    tie, or None.
    """

    id: str
    group: Group | None
    members: tuple[Resource, ...]
    location: Mapping[NodeName, int]
    preferred: NodeName | None


@dataclass(frozen=True, slots=True)
class Settings:
    """One resource's effective settings, the cluster defaults filled in."""

    stickiness: int
    stickiness_source: str  # "auto_failback on", "default-resource-stickiness", "" (own)
    migration_threshold: int  # 0: failures never move it
    failure_timeout_ms: int  # 0: failures never expire


@dataclass(frozen=True, slots=True)
class Catalog:
    """The configuration turned into what the scheduler looks things up in."""

    units: tuple[Unit, ...]
    unit_of: Mapping[ResourceId, Unit]
    settings: Mapping[ResourceId, Settings]
    node_index: Mapping[NodeName, int]


def build_catalog(config: ClusterConfig) -> Catalog:
    node_index = {name: i for i, name in enumerate(config.node_names)}
    by_id = {r.id: r for r in config.resources}
    grouped: dict[ResourceId, Group] = {}
    for group in config.groups:
        for rid in group.resources:
            if rid not in by_id:
                raise PolicyInputError(
                    f"group {group.id} lists resource {rid}, which is not configured",
                    "define the resource, or remove it from the group",
                )
            grouped.setdefault(rid, group)

    units: list[Unit] = []
    unit_of: dict[ResourceId, Unit] = {}
    emitted: set[str] = set()
    # Units follow configuration order: a group where its first member is listed.
    for resource in config.resources:
        owner = grouped.get(resource.id)
        if owner is None:
            unit = Unit(str(resource.id), None, (resource,), {}, None)
        elif owner.id in emitted:
            continue
        else:
            emitted.add(owner.id)
            location = _group_location(owner, node_index)
            unit = Unit(
                str(owner.id),
                owner,
                tuple(by_id[rid] for rid in owner.resources if grouped[rid] is owner),
                location,
                _preferred(location, node_index),
            )
        units.append(unit)
        for member in unit.members:
            unit_of[member.id] = unit
    return Catalog(
        tuple(units),
        unit_of,
        _all_settings(config),
        node_index,
    )


def _group_location(group: Group, node_index: Mapping[NodeName, int]) -> dict[NodeName, int]:
    location = dict(group.locations)
    if group.preferred_node is not None and group.preferred_node not in location:
        # haresources' first column: a preference, as haresources2cib.py wrote it.
        location[group.preferred_node] = PREFERRED_NODE_SCORE
    for node in location:
        if node not in node_index:
            raise PolicyInputError(
                f"group {group.id} has a location score for node {node}, "
                "which is not in the configuration",
                "add the node, or drop the score",
            )
    return location


def _preferred(
    location: Mapping[NodeName, int], node_index: Mapping[NodeName, int]
) -> NodeName | None:
    best: NodeName | None = None
    for node in sorted(location, key=node_index.__getitem__):
        score = location[node]
        if score > 0 and (best is None or score > location[best]):
            best = node
    return best


def _all_settings(config: ClusterConfig) -> dict[ResourceId, Settings]:
    if config.default_stickiness is not None:
        default = (config.default_stickiness, "default-resource-stickiness")
    else:
        default = (config.stickiness, f"auto_failback {config.auto_failback.value}")
    shared: dict[tuple[int | None, int | None, int | None], Settings] = {}
    result: dict[ResourceId, Settings] = {}
    for r in config.resources:
        key = (r.stickiness, r.migration_threshold, r.failure_timeout_ms)
        settings = shared.get(key)
        if settings is None:
            settings = shared[key] = _settings(config, r, default)
        result[r.id] = settings
    return result


def _settings(config: ClusterConfig, resource: Resource, default: tuple[int, str]) -> Settings:
    if resource.stickiness is not None:
        stickiness, source = resource.stickiness, ""
    else:
        stickiness, source = default
    threshold = (
        resource.migration_threshold
        if resource.migration_threshold is not None
        else config.migration_threshold
    )
    if threshold >= INFINITY or threshold < 0:
        threshold = 0  # Pacemaker: INFINITY (the default) never moves on failures
    timeout = (
        resource.failure_timeout_ms
        if resource.failure_timeout_ms is not None
        else config.failure_timeout_ms
    )
    return Settings(stickiness, source, threshold, max(timeout, 0))
