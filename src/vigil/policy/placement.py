"""Where each unit goes, and the one phrase that says why.

The cases, checked in this order for every unit:
1. blocked: a member's stop failed on an online node. The unit is held there;
   nothing of it starts anywhere (Pacemaker: a failed stop without fencing
   blocks the resource).
2. no quorum: ``no_quorum_policy`` stop stops it; freeze keeps what runs where
   it runs and starts nothing; ignore goes on to the normal rules.
3. target-role stopped on the first member: the unit stays stopped (a later
   member's target-role only stops that member and the ones after it).
4. otherwise the scoring rules of ``scoring.py`` pick a node, or none.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from vigil.config import NodeName, NoQuorumPolicy
from vigil.policy.explain import why_chosen, why_none
from vigil.policy.facts import Facts
from vigil.policy.scoring import NodeScore, UnitScorer
from vigil.policy.state import ResourceState
from vigil.policy.units import Unit


class Mode(enum.Enum):
    PLACED = "placed"
    NO_NODE = "no node"
    BLOCKED = "blocked"
    NO_QUORUM_STOP = "no quorum, stop"
    FROZEN = "no quorum, freeze"
    TARGET_STOPPED = "target-role stopped"


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
