"""The cluster state digested once per run into lookups the scheduler needs.

Everything is indexed so that a run costs O(resources × nodes) at most, and
every list is built in node order (never in the order a caller's dict happens
to iterate), so equal inputs give byte-identical output.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from vigil.config import NodeName, ResourceId
from vigil.policy.state import ClusterState, ConstraintKind, ResourceState
from vigil.policy.units import Catalog


@dataclass(frozen=True, slots=True)
class FailureFact:
    """A failure count still in force, and whether it bans the node."""

    count: int
    threshold: int  # 0: failures never move the resource
    banning: bool


@dataclass(frozen=True, slots=True)
class Facts:
    catalog: Catalog
    state: ClusterState
    nodes: tuple[NodeName, ...]
    online: frozenset[NodeName]
    standby: frozenset[NodeName]
    #: Online, not in standby, with connectivity: (index, node, connectivity).
    eligible: tuple[tuple[int, NodeName, int], ...]
    #: Per resource, (node, state) on online nodes for RUNNING, FAILED, BLOCKED.
    present: Mapping[ResourceId, tuple[tuple[NodeName, ResourceState], ...]]
    #: Per resource, offline nodes where it was last reported active.
    previous: Mapping[ResourceId, tuple[NodeName, ...]]
    #: Per resource, online nodes where its state is unknown (to probe).
    unknown: Mapping[ResourceId, tuple[NodeName, ...]]
    #: Online nodes that sent no report at all: everything is unknown there.
    unreported: tuple[NodeName, ...]
    failures: Mapping[ResourceId, Mapping[NodeName, FailureFact]]
    moves: Mapping[str, NodeName]  # unit id -> node
    bans: Mapping[str, frozenset[NodeName]]  # unit id -> nodes
    #: Resources reported by online nodes but absent from the configuration.
    orphans: tuple[tuple[ResourceId, NodeName, ResourceState], ...]
    notes: tuple[str, ...]
    recheck_at_ms: int | None

    def unknown_on(self, rid: ResourceId) -> tuple[NodeName, ...]:
        explicit = self.unknown.get(rid, ())
        if not self.unreported:
            return explicit
        return tuple(n for n in self.nodes if n in self.unreported or n in explicit)


def gather(state: ClusterState, catalog: Catalog) -> Facts:
    config = state.config
    nodes = config.node_names
    online = frozenset(n for n in nodes if n in state.online)
    standby = frozenset(n for n in nodes if n in online and state.attributes_of(n).standby)
    eligible = tuple(
        (i, n, state.attributes_of(n).connectivity)
        for i, n in enumerate(nodes)
        if n in online and n not in standby
    )

    present: dict[ResourceId, list[tuple[NodeName, ResourceState]]] = {}
    previous: dict[ResourceId, list[NodeName]] = {}
    unknown: dict[ResourceId, list[NodeName]] = {}
    unreported: list[NodeName] = []
    orphans: list[tuple[ResourceId, NodeName, ResourceState]] = []
    for node in nodes:
        report = state.reports.get(node)
        if report is None:
            if node in online:
                unreported.append(node)
            continue
        for rid, rstate in report.items():
            configured = rid in catalog.unit_of
            if node not in online:
                if configured and (rstate.is_active or rstate is ResourceState.BLOCKED):
                    previous.setdefault(rid, []).append(node)
            elif not configured:
                if rstate is not ResourceState.STOPPED and rstate is not ResourceState.UNKNOWN:
                    orphans.append((rid, node, rstate))
            elif rstate is ResourceState.UNKNOWN:
                unknown.setdefault(rid, []).append(node)
            elif rstate is not ResourceState.STOPPED:
                present.setdefault(rid, []).append((node, rstate))

    failures, fail_notes, recheck = _failures(state, catalog)
    moves: dict[str, NodeName] = {}
    bans: dict[str, set[NodeName]] = {}
    for constraint in state.constraints:
        unit = catalog.unit_of.get(ResourceId(constraint.target))
        unit_id = unit.id if unit is not None else constraint.target
        if constraint.kind is ConstraintKind.MOVE:
            moves[unit_id] = constraint.node
        else:
            bans.setdefault(unit_id, set()).add(constraint.node)

    orphans.sort(key=lambda o: (o[0], catalog.node_index[o[1]]))
    return Facts(
        catalog=catalog,
        state=state,
        nodes=nodes,
        online=online,
        standby=standby,
        eligible=eligible,
        present={rid: tuple(v) for rid, v in present.items()},
        previous={rid: tuple(v) for rid, v in previous.items()},
        unknown={rid: tuple(v) for rid, v in unknown.items()},
        unreported=tuple(unreported),
        failures=failures,
        moves=moves,
        bans={u: frozenset(v) for u, v in bans.items()},
        orphans=tuple(orphans),
        notes=tuple(fail_notes),
        recheck_at_ms=recheck,
    )


def _failures(
    state: ClusterState, catalog: Catalog
) -> tuple[dict[ResourceId, dict[NodeName, FailureFact]], list[str], int | None]:
    """Failure counts still in force; notes for expired ones; the next expiry."""
    facts: dict[ResourceId, dict[NodeName, FailureFact]] = {}
    notes: list[str] = []
    recheck: int | None = None
    order = catalog.node_index
    ordered = sorted(state.failures.items(), key=lambda kv: (kv[0][0], order[kv[0][1]]))
    for (rid, node), fails in ordered:
        settings = catalog.settings.get(rid)
        if settings is None or fails.count <= 0:
            continue  # an orphan's failures, or a cleaned-up count
        timeout = settings.failure_timeout_ms
        if timeout > 0:
            expires = fails.last_failure_ms + timeout
            if state.now_ms >= expires:
                notes.append(
                    f"Failures of {rid} on {node} expired: the last was "
                    f"{state.now_ms - fails.last_failure_ms} ms ago (failure-timeout {timeout} ms)"
                )
                continue
            recheck = expires if recheck is None else min(recheck, expires)
        threshold = settings.migration_threshold
        banning = threshold > 0 and fails.count >= threshold
        facts.setdefault(rid, {})[node] = FailureFact(fails.count, threshold, banning)
    return facts, notes, recheck
