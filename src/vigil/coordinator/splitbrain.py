"""Saying a split brain happened: while it lasts (status) and when it heals (events).

Rules of this file:
- A split brain is a resource active on both sides of a partition. Only
  compatibility mode (no fencing, no quorum rule stopping the minority, no
  arbitrator) lets it happen; vigil cannot see the other side while it lasts,
  so status says "possible" from what it knows: a node left the view while
  running a resource, nobody fenced it, and the resource runs here now.
- Once the partition heals, the DC sees every copy in the members' reports:
  the events log says which resources were active where, and which copy the
  policy keeps and why (issue 10's rule, placement.py).
- Pure: reports and the policy's transition in, sentences out.
"""

from __future__ import annotations

from collections.abc import Iterable

from vigil.config import ClusterConfig, NodeName, ResourceId
from vigil.coordinator.clusterstate import Reports
from vigil.membership import View
from vigil.policy import ClusterState, Transition

HEAL_PREFIX = "split brain healed"


def multi_active(state: ClusterState) -> dict[ResourceId, tuple[NodeName, ...]]:
    """Configured resources active on two or more online nodes, in node order."""
    where: dict[ResourceId, list[NodeName]] = {}
    for node in state.config.node_names:
        if node not in state.online:
            continue
        for rid, rstate in state.reports.get(node, {}).items():
            if rstate.is_active:
                where.setdefault(rid, []).append(node)
    order = {r.id: i for i, r in enumerate(state.config.resources)}
    return {rid: tuple(nodes) for rid, nodes in sorted(where.items(),
                                                       key=lambda kv: order.get(kv[0], -1))
            if len(nodes) > 1 and rid in order}


def heal_notes(state: ClusterState, transition: Transition) -> list[str]:
    """One line per set of resources that ran on the same nodes: where, who keeps them, why."""
    copies = multi_active(state)
    if not copies:
        return []
    placed = {p.resource: p for p in transition.placements}
    lines: dict[tuple[tuple[NodeName, ...], str], list[ResourceId]] = {}
    for rid, nodes in copies.items():
        p = placed.get(rid)
        if p is None:
            continue
        if p.node is not None and p.node in nodes:
            why = p.reason.split(": ", 1)[-1]
            # "split brain healed: active on ...; the copy on X stays: ..." -> the rule
            rule = why.split("; ", 1)[-1] if why.startswith(HEAL_PREFIX) else why
            outcome = f"{p.node} keeps {{what}}, the other copies stop ({rule})"
        elif p.node is not None:
            outcome = f"every copy stops, {{what}} moves to {p.node} ({p.reason})"
        else:
            outcome = f"every copy stops ({p.reason})"
        lines.setdefault((nodes, outcome), []).append(rid)
    out = []
    for (nodes, outcome), rids in lines.items():
        what = ", ".join(rids)
        out.append(f"{HEAL_PREFIX}: {what} ran on {' and '.join(nodes)} at once during a "
                   f"partition; " + outcome.format(what="them" if len(rids) > 1 else "it"))
    return out


def suspected(config: ClusterConfig, reports: Reports, view: View,
              fenced_out: Iterable[NodeName] = ()) -> list[str]:
    """Status warnings: resources running here that a node out of the view, not fenced,
    was running when last heard: both sides may run them until the partition heals."""
    skip = set(fenced_out)
    here: dict[ResourceId, list[NodeName]] = {}
    for node in config.node_names:
        known = reports.current(node, view) if node in view else None
        if known is None:
            continue
        for rid, s in known.body.resources.items():
            if s.is_active:
                here.setdefault(rid, []).append(node)
    warnings = []
    for node in config.node_names:
        known = reports.get(node)
        if node in view or node in skip or known is None:
            continue
        both = [r.id for r in config.resources
                if known.body.state_of(r.id).is_active and r.id in here]
        if both:
            holders = sorted({n for r in both for n in here[r]})
            warnings.append(
                f"split brain possible: {', '.join(both)} run on {', '.join(holders)} and "
                f"ran on {node} when it left the view; nothing fenced {node}, so both "
                "sides may run them until the partition heals")
    return warnings


__all__ = ["HEAL_PREFIX", "heal_notes", "multi_active", "suspected"]
