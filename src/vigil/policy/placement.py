"""Where each unit goes, and the one phrase that says why.

The cases, checked in this order for every unit:
1. blocked: a member's stop failed on an online node. The unit is held there;
   nothing of it starts anywhere (Pacemaker: a failed stop without fencing
   blocks the resource).
2. no quorum: ``no_quorum_policy`` stop stops it; freeze keeps what runs where
   it runs and starts nothing; ignore goes on to the normal rules.
3. target-role stopped on the first member: the unit stays stopped (a later
   member's target-role only stops that member and the ones after it).
4. active on two or more nodes that can take it (a healed partition, issue 10):
   one copy stays, the others stop, never all. The copy that stays is the
   one that kept quorum while it ran, then the one whose side fenced, then
   the scoring rules among the copies (move, connectivity, score), then node
   order. The winner keeps running throughout; a later run may still move
   it by the ordinary rules (auto_failback), as it would without the split.
   When the ordinary rules want a node that has no copy, they apply at once
   (every copy stops, it starts there): the heal is then an ordinary move.
5. otherwise the scoring rules of ``scoring.py`` pick a node, or none.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from vigil.config import NodeName, NoQuorumPolicy
from vigil.policy.explain import why_chosen, why_copy_stays, why_none
from vigil.policy.facts import Facts
from vigil.policy.scoring import NodeScore, UnitScorer
from vigil.policy.state import CopyOrigin, ResourceState
from vigil.policy.units import Unit


class Mode(enum.Enum):
    PLACED = "placed"
    NO_NODE = "no node"
    BLOCKED = "blocked"
    NO_QUORUM_STOP = "no quorum, stop"
    FROZEN = "no quorum, freeze"
    TARGET_STOPPED = "target-role stopped"


@dataclass(frozen=True, slots=True)
class HealChoice:
    """A unit active on several nodes: the copy that stays, and why each other one stops."""

    keeper: NodeName
    copies: tuple[NodeName, ...]  # every eligible node with a copy, in node order
    why_lost: Mapping[NodeName, str]  # loser -> "the copy on node1 stays: ..."


@dataclass(frozen=True, slots=True)
class Decision:
    """A unit's node (None: stopped), how it was decided, and why."""

    unit: Unit
    mode: Mode
    node: NodeName | None
    why: str
    scorer: UnitScorer
    winner: NodeScore | None
    #: Members that may run: those before the first one with target-role stopped.
    runnable: int
    heal: HealChoice | None = None


def no_quorum_phrase(policy: NoQuorumPolicy) -> str:
    return f"no quorum (no_quorum_policy={policy.value})"


def decide(facts: Facts, unit: Unit) -> Decision:
    scorer = UnitScorer(facts, unit)
    runnable = scorer.runnable
    blocked_on = _blocked_node(facts, unit)
    if blocked_on is not None:
        return Decision(unit, Mode.BLOCKED, blocked_on, blocked_phrase(facts, blocked_on),
                        scorer, None, runnable)
    policy = facts.state.config.quorum.no_quorum_policy
    if not facts.state.has_quorum and policy is NoQuorumPolicy.STOP:
        return Decision(unit, Mode.NO_QUORUM_STOP, None, no_quorum_phrase(policy),
                        scorer, None, runnable)
    if runnable == 0:
        return Decision(unit, Mode.TARGET_STOPPED, None, "target-role is stopped",
                        scorer, None, runnable)
    if not facts.state.has_quorum and policy is NoQuorumPolicy.FREEZE:
        return _freeze(facts, unit, scorer, runnable)
    heal = _heal(facts, scorer)
    if heal is not None:
        runner_up = next(n for n in heal.copies if n != heal.keeper)
        why = (f"split brain healed: active on {_and(heal.copies)}; "
               f"{heal.why_lost[runner_up]}")
        return Decision(unit, Mode.PLACED, heal.keeper, why, scorer, scorer.detail(heal.keeper),
                        runnable, heal)
    node = scorer.choose()
    if node is None:
        return Decision(unit, Mode.NO_NODE, None, why_none(scorer, facts.nodes),
                        scorer, None, runnable)
    winner = scorer.detail(node)
    previous = _previous(facts, unit)
    return Decision(unit, Mode.PLACED, node, why_chosen(scorer, winner, previous),
                    scorer, winner, runnable)


def _freeze(facts: Facts, unit: Unit, scorer: UnitScorer, runnable: int) -> Decision:
    """Keep the unit where it runs (the best-scoring copy if several); start nothing."""
    phrase = no_quorum_phrase(NoQuorumPolicy.FREEZE)
    active = scorer.active_nodes
    if not active:
        return Decision(unit, Mode.FROZEN, None, f"{phrase} starts nothing", scorer, None, runnable)
    index = facts.catalog.node_index
    node = max(active, key=lambda n: (scorer.total(n), -index[n]))
    return Decision(unit, Mode.FROZEN, node, f"{phrase} keeps what runs where it runs",
                    scorer, scorer.detail(node), runnable)


def _and(nodes: tuple[NodeName, ...]) -> str:
    return ", ".join(nodes[:-1]) + f" and {nodes[-1]}"


def copy_origin(facts: Facts, scorer: UnitScorer, node: NodeName) -> CopyOrigin:
    """The unit's copy on NODE: quorate if every member active there is, fenced if any is."""
    state = facts.state
    origins = [state.origin_of(m.id, node) for m in scorer.unit.members[: scorer.runnable]
               if any(n == node and s.is_active for n, s in facts.present.get(m.id, ()))]
    return CopyOrigin(quorate=all(o.quorate for o in origins),
                      fenced=any(o.fenced for o in origins))


def _heal(facts: Facts, scorer: UnitScorer) -> HealChoice | None:
    """The copy that stays when the unit is active on two or more eligible nodes."""
    copies = tuple(n for n in scorer.active_nodes if scorer.detail(n).eligible)
    if len(copies) < 2 or scorer.choose() not in copies:
        # No split, or the ordinary rules want a node with no copy (a move, a
        # better-connected node): every copy stops and it starts there, one step.
        return None
    origin = {n: copy_origin(facts, scorer, n) for n in copies}
    detail = {n: scorer.detail(n) for n in copies}

    def rank(n: NodeName) -> tuple[bool, bool, tuple[bool, int, int, bool, int]]:
        return (origin[n].quorate, origin[n].fenced, detail[n].rank())

    keeper = max(copies, key=rank)
    why = {n: why_copy_stays(detail[keeper], origin[keeper], detail[n], origin[n],
                             scorer.unit.preferred)
           for n in copies if n != keeper}
    return HealChoice(keeper, copies, why)


def _blocked_node(facts: Facts, unit: Unit) -> NodeName | None:
    """The first node, in node order, where a member is blocked."""
    found: NodeName | None = None
    index = facts.catalog.node_index
    for member in unit.members:
        for node, rstate in facts.present.get(member.id, ()):
            if rstate is ResourceState.BLOCKED and (found is None or index[node] < index[found]):
                found = node
    return found


def blocked_phrase(facts: Facts, node: NodeName) -> str:
    if facts.state.config.fencing.enabled:
        return f"stop failed on {node}; it stays blocked until {node} is fenced or cleaned up"
    return f"stop failed on {node} and no fencing is configured"


def _previous(facts: Facts, unit: Unit) -> tuple[NodeName, ...]:
    nodes = {n for m in unit.members for n in facts.previous.get(m.id, ())}
    return tuple(n for n in facts.nodes if n in nodes)
