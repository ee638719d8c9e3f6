"""Read a transition as a person would: before, what happens and why, after.

The layout follows ``crm_simulate``: the current cluster status, a summary of
the placement of every resource with its reason, the actions in order (each
with what it waits for), and the revised status once every action succeeded.
The golden files of tests/unit/policy/cases/ are this text.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from vigil.config import NodeName, ResourceId
from vigil.policy.state import ClusterState, ResourceState
from vigil.policy.transition import ActionKind, Transition

Reports = Mapping[NodeName, Mapping[ResourceId, ResourceState]]


def apply_actions(state: ClusterState, transition: Transition) -> ClusterState:
    """STATE as it would be once every action succeeded and every probe found nothing."""
    config = state.config
    reports: dict[NodeName, dict[ResourceId, ResourceState]] = {
        node: dict(report) for node, report in state.reports.items()
    }
    for node in config.node_names:
        if node in state.online and node not in reports:
            reports[node] = {}
    for action in transition.actions:
        report = reports[action.node]
        if action.kind is ActionKind.PROBE:
            if report.get(action.resource, ResourceState.UNKNOWN) is ResourceState.UNKNOWN:
                report[action.resource] = ResourceState.STOPPED
        elif action.kind is ActionKind.STOP:
            report[action.resource] = ResourceState.STOPPED
        else:
            report[action.resource] = ResourceState.RUNNING
    return dataclasses.replace(state, reports=reports)


def render(state: ClusterState, transition: Transition) -> str:
    lines = ["Current cluster status:"]
    lines += _status(state)
    if transition.notes:
        lines.append("Notes:")
        lines += [f"  {note}" for note in transition.notes]
    lines.append("Placement:")
    width = max((len(p.resource) for p in transition.placements), default=0)
    for p in transition.placements:
        node = p.node if p.node is not None else "-"
        lines.append(f"  {p.resource:<{width}}  {node:<6} {p.change.value:<8} {p.reason}")
    lines.append("Actions:")
    if not transition.actions:
        lines.append("  (none)")
    for a in transition.actions:
        after = f"  [after {', '.join(str(i) for i in a.after)}]" if a.after else ""
        lines.append(f"  {a.id:>3}. {a.reason}{after}")
    if transition.recheck_at_ms is not None:
        lines.append(f"Recheck at: {transition.recheck_at_ms} ms (a failure expires)")
    lines.append("Revised cluster status:")
    lines += _resources(apply_actions(state, transition))
    return "\n".join(lines) + "\n"


def _status(state: ClusterState) -> list[str]:
    config = state.config
    nodes = []
    for node in config.node_names:
        flags = []
        if node not in state.online:
            flags.append("OFFLINE")
        else:
            flags.append("online")
            attrs = state.attributes_of(node)
            if attrs.standby:
                flags.append("standby")
            if attrs.connectivity:
                flags.append(f"connectivity {attrs.connectivity}")
            if node not in state.reports:
                flags.append("not reported")
        nodes.append(f"{node} ({', '.join(flags)})")
    lines = [f"  Nodes: {'; '.join(nodes)}"]
    quorum = "yes" if state.has_quorum else "NO"
    lines.append(f"  Quorum: {quorum} (no_quorum_policy={config.quorum.no_quorum_policy.value})")
    for c in state.constraints:
        lines.append(f"  Constraint: {c.kind.value} {c.target} {c.node}")
    order = {n: i for i, n in enumerate(config.node_names)}
    for (rid, node), fails in sorted(state.failures.items(),
                                     key=lambda kv: (kv[0][0], order[kv[0][1]])):
        lines.append(f"  Failures: {rid} on {node}: {fails.count} "
                     f"(last at {fails.last_failure_ms} ms)")
    for (rid, node), origin in sorted(state.origins.items(),
                                      key=lambda kv: (kv[0][0], order[kv[0][1]])):
        if not origin.plain:
            words = [w for w, on in (("lost quorum", not origin.quorate),
                                     ("started after a fence", origin.fenced)) if on]
            lines.append(f"  Copy: {rid} on {node}: {', '.join(words)}")
    if state.now_ms:
        lines.append(f"  Now: {state.now_ms} ms")
    return lines + _resources(state)


def _resources(state: ClusterState) -> list[str]:
    config = state.config
    grouped = {rid: g for g in config.groups for rid in g.resources}
    lines = ["  Resources:"]
    width = max((len(r.id) for r in config.resources), default=0)
    agent_width = max((len(str(r.agent)) for r in config.resources), default=0) + 2
    seen_groups: set[str] = set()
    for resource in config.resources:
        group = grouped.get(resource.id)
        indent = "    "
        if group is not None:
            if group.id in seen_groups:
                continue
            seen_groups.add(group.id)
            lines.append(f"    group {group.id}:")
            members = [config.resource(rid) for rid in group.resources]
            indent = "      "
        else:
            members = [resource]
        for member in members:
            agent = f"({member.agent})"
            lines.append(f"{indent}{member.id:<{width}}  {agent:<{agent_width}}  "
                         f"{_where(state, member.id)}")
    orphans = sorted({
        rid for node in config.node_names if node in state.online
        for rid, s in state.reports.get(node, {}).items()
        if s is not ResourceState.STOPPED and rid not in {r.id for r in config.resources}
    })
    for rid in orphans:
        lines.append(f"    {rid:<{width}}  {'(orphan)':<{agent_width}}  {_where(state, rid)}")
    return lines


def _where(state: ClusterState, rid: ResourceId) -> str:
    by_state: dict[ResourceState, list[str]] = {}
    for node in state.config.node_names:
        if node not in state.online:
            continue
        report = state.reports.get(node)
        rstate = ResourceState.UNKNOWN if report is None else report.get(rid, ResourceState.STOPPED)
        by_state.setdefault(rstate, []).append(node)
    words = {
        ResourceState.RUNNING: "Started",
        ResourceState.FAILED: "FAILED",
        ResourceState.BLOCKED: "BLOCKED (stop failed)",
        ResourceState.UNKNOWN: "unknown",
    }
    parts = [f"{words[s]} {', '.join(by_state[s])}" for s in words if s in by_state]
    return "; ".join(parts) if parts else "Stopped"
