"""From a unit's decision to what happens to each member: stay, start, stop, recover.

Rules of this file:
- A member active on a node other than its target is stopped there; a member
  not running on its target is started there; a member that failed on its
  target is recovered (stop, then start, as Pacemaker's "Recover").
- In a group, once a member (re)starts, every later member already running on
  that node restarts too: they were started after it and depend on it.
- Nothing here orders actions; ``graph.py`` does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vigil.config import NodeName, Resource, ResourceId
from vigil.policy.explain import exclusion_phrase, why_not
from vigil.policy.facts import Facts
from vigil.policy.placement import Decision, Mode, blocked_phrase
from vigil.policy.state import ResourceState
from vigil.policy.transition import Change


@dataclass(slots=True)
class MemberPlan:
    """One member's fate: its placement, and the stops/start it needs."""

    resource: Resource
    node: NodeName | None
    change: Change
    reason: str  # the placement's reason, "Start on node1: ..."
    stops: list[tuple[NodeName, str]] = field(default_factory=list)  # (node, phrase)
    start: str | None = None  # the start's phrase on ``node``


def plan_unit(facts: Facts, decision: Decision) -> list[MemberPlan]:
    mode = decision.mode
    if mode is Mode.BLOCKED:
        return _blocked(facts, decision)
    if mode is Mode.FROZEN:
        return _frozen(facts, decision)
    if mode is Mode.PLACED:
        return _placed(facts, decision)
    # Stopped as a whole: no quorum (stop), target-role, or no node can take it.
    return [_stopped(facts, decision, m, decision.why) for m in decision.unit.members]


def _placed(facts: Facts, decision: Decision) -> list[MemberPlan]:
    target = decision.node
    assert target is not None
    assert decision.winner is not None
    unit, why = decision.unit, decision.why
    plans: list[MemberPlan] = []
    cascade: ResourceId | None = None  # the member whose (re)start later members follow
    cascade_verb = "starts"
    for i, member in enumerate(unit.members):
        if i >= decision.runnable:
            plans.append(_stopped(facts, decision, member, _target_role_phrase(decision, i)))
            continue
        entries = facts.present.get(member.id, ())
        here = next((s for n, s in entries if n == target), None)
        plan = MemberPlan(member, target, Change.LEAVE, f"Stay on {target}: {why}")
        for node, _ in entries:
            if node != target:
                plan.stops.append((node, _stop_elsewhere(facts, decision, node, here is not None)))
        if here is ResourceState.FAILED:
            phrase = f"restart in place after a failure{_failcount(facts, member, target)}"
            plan.change, plan.reason = Change.RECOVER, f"Recover on {target}: {phrase}"
            plan.stops.append((target, phrase))
            plan.start = phrase
        elif here is ResourceState.RUNNING and cascade is not None:
            phrase = f"it runs after {cascade} in group {unit.id}, which {cascade_verb} on {target}"
            plan.change, plan.reason = Change.RESTART, f"Restart on {target}: {phrase}"
            plan.stops.append((target, phrase))
            plan.start = phrase
        elif here is None:
            moving_from = next((n for n, _ in entries if n != target), None)
            if moving_from is None:
                plan.change, plan.reason = Change.START, f"Start on {target}: {why}"
            else:
                plan.change = Change.MOVE
                plan.reason = f"Move from {moving_from} to {target}: {why}"
            plan.start = why
        if plan.start is not None and cascade is None:
            cascade = member.id
            restarting = plan.change in (Change.RECOVER, Change.RESTART)
            cascade_verb = "restarts" if restarting else "starts"
        plans.append(plan)
    return plans


def _stop_elsewhere(facts: Facts, decision: Decision, node: NodeName, also_on_target: bool) -> str:
    """Why a member active on NODE is stopped there while the unit goes to the target."""
    winner = decision.winner
    assert winner is not None
    loser = decision.scorer.detail(node)
    target = winner.node
    if not (also_on_target or node in _active_on(facts, decision, target)):
        phrase = why_not(loser, winner, decision.unit.preferred)
        return phrase if winner.moved else f"{phrase}, so it moves to {target}"
    # Active twice (a healed partition): placement.py chose the copy that stays.
    both = f"active on both {node} and {target}"
    heal = decision.heal
    if heal is not None and node in heal.why_lost:
        return f"split brain: {both}; {heal.why_lost[node]}"
    if not loser.eligible:
        return f"{both}; {exclusion_phrase(loser)}"
    return f"{both}; {why_not(loser, winner, decision.unit.preferred)}"


def _active_on(facts: Facts, decision: Decision, target: NodeName) -> set[NodeName]:
    """Nodes where a member runs while some member also runs on TARGET (a split group)."""
    nodes = {
        n for m in decision.unit.members for n, s in facts.present.get(m.id, ()) if s.is_active
    }
    return nodes if target in nodes else set()


def _stopped(facts: Facts, decision: Decision, member: Resource, phrase: str) -> MemberPlan:
    entries = [n for n, s in facts.present.get(member.id, ()) if s.is_active]
    if entries:
        plan = MemberPlan(member, None, Change.STOP, f"Stop: {phrase}")
        plan.stops = [(n, phrase) for n in entries]
        return plan
    return MemberPlan(member, None, Change.LEAVE, f"Stay stopped: {phrase}")


def _target_role_phrase(decision: Decision, i: int) -> str:
    first = decision.unit.members[decision.runnable]
    if i == decision.runnable:
        return "target-role is stopped"
    return f"comes after {first.id} in group {decision.unit.id}, which is stopped (target-role)"


def _frozen(facts: Facts, decision: Decision) -> list[MemberPlan]:
    keep = decision.node
    plans: list[MemberPlan] = []
    for i, member in enumerate(decision.unit.members):
        if i >= decision.runnable:
            plans.append(_stopped(facts, decision, member, _target_role_phrase(decision, i)))
            continue
        entries = [(n, s) for n, s in facts.present.get(member.id, ()) if s.is_active]
        here = next((s for n, s in entries if n == keep), None)
        if here is ResourceState.RUNNING:
            plan = MemberPlan(member, keep, Change.LEAVE, f"Stay on {keep}: {decision.why}")
        elif here is ResourceState.FAILED:
            plan = MemberPlan(member, keep, Change.LEAVE,
                              f"Left failed on {keep}: {decision.why}, so no recovery")
        else:
            plan = MemberPlan(member, None, Change.LEAVE, f"Stay stopped: {decision.why}")
        for node, _ in entries:
            if node != keep:
                plan.stops.append((node, f"{decision.why}: the unit stays on {keep}"))
        if plan.stops and plan.node is None:
            plan.change = Change.STOP
        plans.append(plan)
    return plans


def _blocked(facts: Facts, decision: Decision) -> list[MemberPlan]:
    hold = decision.node
    assert hold is not None
    plans: list[MemberPlan] = []
    for member in decision.unit.members:
        entries = facts.present.get(member.id, ())
        blocked = [n for n, s in entries if s is ResourceState.BLOCKED]
        if blocked:
            where = hold if hold in blocked else blocked[0]
            phrase = decision.why if where == hold else blocked_phrase(facts, where)
            plan = MemberPlan(member, where, Change.BLOCKED, f"Leave blocked on {where}: {phrase}")
            stop_phrase = f"{member.id} is blocked on {where}: the copy here must not run too"
        else:
            blocker = _first_blocked(facts, decision, hold)
            phrase = f"held on {hold} with {blocker}, which is blocked there"
            here = next((s for n, s in entries if n == hold), None)
            if here is not None and here.is_active:
                plan = MemberPlan(member, hold, Change.LEAVE, f"Stay on {hold}: {phrase}")
            else:
                plan = MemberPlan(member, None, Change.LEAVE, f"Stay stopped: {phrase}")
            stop_phrase = phrase
        for node, rstate in entries:
            if rstate.is_active and node != plan.node:
                plan.stops.append((node, stop_phrase))
        plans.append(plan)
    return plans


def _first_blocked(facts: Facts, decision: Decision, node: NodeName) -> ResourceId:
    for member in decision.unit.members:
        entries = facts.present.get(member.id, ())
        if any(n == node and s is ResourceState.BLOCKED for n, s in entries):
            return member.id
    raise AssertionError("a blocked decision without a blocked member")


def _failcount(facts: Facts, member: Resource, node: NodeName) -> str:
    fact = facts.failures.get(member.id, {}).get(node)
    if fact is None:
        return ""
    if fact.threshold:
        return f" (failcount {fact.count}, migration-threshold {fact.threshold})"
    return f" (failcount {fact.count})"
