"""The action graph: every probe, stop and start, with what each must wait for.

Orderings (Pacemaker's implicit ones for primitives and groups):
- a resource starts only after every stop of it (on any node) and every probe
  of it (on any node) is done: never two copies, never a start blind;
- on one node, group members stop in reverse order and start in order, and a
  member starts only after any later member's stop on that node;
- actions are numbered probes first, then stops, then starts; within each, in
  unit order, so every ``after`` points backwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from vigil.config import NodeName, ResourceId
from vigil.policy.facts import Facts
from vigil.policy.plan import MemberPlan
from vigil.policy.transition import Action, ActionKind


@dataclass(slots=True, eq=False)
class _Pending:
    kind: ActionKind
    resource: ResourceId
    node: NodeName
    reason: str
    after: list[_Pending] = field(default_factory=list)
    id: int = -1


def build_actions(facts: Facts, plans: Sequence[Sequence[MemberPlan]]) -> tuple[Action, ...]:
    probes: list[_Pending] = []
    stops: list[_Pending] = []
    starts: list[_Pending] = []
    for members in plans:
        _unit_actions(facts, members, probes, stops, starts)
    for rid, node, rstate in facts.orphans:
        if rstate.is_active:
            stops.append(_Pending(ActionKind.STOP, rid, node,
                                  f"Stop {rid} on {node}: no longer in the configuration"))

    ordered = [*probes, *stops, *starts]
    for i, pending in enumerate(ordered):
        pending.id = i
    return tuple(
        Action(p.id, p.kind, p.resource, p.node, tuple(sorted({a.id for a in p.after})), p.reason)
        for p in ordered
    )


def _unit_actions(
    facts: Facts,
    members: Sequence[MemberPlan],
    probes: list[_Pending],
    stops: list[_Pending],
    starts: list[_Pending],
) -> None:
    node_index = facts.catalog.node_index
    probes_of: list[list[_Pending]] = []
    for plan in members:
        rid = plan.resource.id
        mine = [
            _Pending(ActionKind.PROBE, rid, node,
                     f"Probe {rid} on {node}: its state there is unknown")
            for node in facts.unknown_on(rid)
        ]
        probes.extend(mine)
        probes_of.append(mine)

    # Stops: per node, the last member first; each waits for the later member's stop.
    stops_of: list[list[_Pending]] = [[] for _ in members]
    stop_at: list[dict[NodeName, _Pending]] = [{} for _ in members]
    nodes = sorted({n for plan in members for n, _ in plan.stops}, key=node_index.__getitem__)
    for node in nodes:
        later: _Pending | None = None
        for i in range(len(members) - 1, -1, -1):
            plan = members[i]
            phrase = next((p for n, p in plan.stops if n == node), None)
            if phrase is None:
                continue
            rid = plan.resource.id
            stop = _Pending(ActionKind.STOP, rid, node, f"Stop {rid} on {node}: {phrase}")
            if later is not None:
                stop.after.append(later)
            stops.append(stop)
            stops_of[i].append(stop)
            stop_at[i][node] = stop
            later = stop

    # Starts, in member order, each after the previous member's start on that node.
    previous_start: dict[NodeName, _Pending] = {}
    for i, plan in enumerate(members):
        if plan.start is None or plan.node is None:
            continue
        rid, node = plan.resource.id, plan.node
        start = _Pending(ActionKind.START, rid, node, f"Start {rid} on {node}: {plan.start}")
        start.after.extend(stops_of[i])
        start.after.extend(probes_of[i])
        earlier = previous_start.get(node)
        if earlier is not None:
            start.after.append(earlier)
        later_stop = next((stop_at[j][node] for j in range(i + 1, len(members))
                           if node in stop_at[j]), None)
        if later_stop is not None:
            start.after.append(later_stop)
        starts.append(start)
        previous_start[node] = start
