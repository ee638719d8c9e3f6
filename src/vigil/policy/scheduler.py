"""``schedule``: one cluster state in, one transition out. Pure and deterministic.

Same input, same output, byte for byte: every loop runs in configuration order
(units as configured, nodes as configured), never in hash or set order, and no
clock is read (failure expiry uses ``ClusterState.now_ms``).
"""

from __future__ import annotations

from vigil.config import NoQuorumPolicy
from vigil.policy.facts import Facts, gather
from vigil.policy.graph import build_actions
from vigil.policy.placement import decide, no_quorum_phrase
from vigil.policy.plan import MemberPlan, plan_unit
from vigil.policy.state import ClusterState, ResourceState
from vigil.policy.transition import Placement, Transition
from vigil.policy.units import build_catalog


def schedule(state: ClusterState) -> Transition:
    """Decide where every configured resource belongs and the actions that get it there."""
    catalog = build_catalog(state.config)
    facts = gather(state, catalog)
    placements: list[Placement] = []
    plans: list[list[MemberPlan]] = []
    for unit in catalog.units:
        members = plan_unit(facts, decide(facts, unit))
        group = unit.group.id if unit.group is not None else None
        placements.extend(
            Placement(m.resource.id, group, m.node, m.change, m.reason) for m in members
        )
        plans.append(members)
    return Transition(
        placements=tuple(placements),
        actions=build_actions(facts, plans),
        notes=_notes(facts),
        recheck_at_ms=facts.recheck_at_ms,
    )


def _notes(facts: Facts) -> tuple[str, ...]:
    notes: list[str] = []
    if not facts.state.has_quorum:
        policy = facts.state.config.quorum.no_quorum_policy
        phrase = no_quorum_phrase(policy)
        if policy is NoQuorumPolicy.STOP:
            notes.append(f"Stop everything: {phrase}")
        elif policy is NoQuorumPolicy.FREEZE:
            notes.append(f"Start nothing, keep what runs: {phrase}")
        else:
            notes.append(f"Schedule as if quorate: {phrase}")
    notes.extend(facts.notes)
    for rid, node, rstate in facts.orphans:
        if rstate is ResourceState.BLOCKED:
            notes.append(f"{rid} is no longer configured but blocked on {node}: stop failed there")
    return tuple(notes)
