"""How good each node is for a unit, and which node wins.

The rules, in the order they decide (docs/policy.md tells the same story):
1. A node can take the unit only if it is online, not in standby, and the
   unit's score there is not negative (Pacemaker: a negative score is
   "cannot run here"; -INFINITY is "never").
2. A node the administrator moved the unit to wins if it can take it.
3. Better connectivity wins (ipfail: resources go to the node that still
   reaches its ping nodes; equal connectivity changes nothing).
4. The higher score wins. Score = location (the preferred node's 100, or the
   configured scores) + stickiness of every member active on that node
   + administrator constraints (+/-INFINITY) + -INFINITY where a member's
   failure count reached its migration-threshold.
5. On equal scores the node where the unit runs now wins (Pacemaker does the
   same), then the earlier node in configuration order.
"""

from __future__ import annotations

from dataclasses import dataclass

from vigil.config import INFINITY, NodeName, ResourceId, TargetRole
from vigil.policy.facts import Facts
from vigil.policy.scores import add_scores
from vigil.policy.units import Unit


@dataclass(frozen=True, slots=True)
class NodeScore:
    """A unit's score on one node, with its parts, for explanations."""

    node: NodeName
    index: int
    location: int
    stickiness: int  # summed over members active on the node; 0 if none
    stickiness_source: str  # "auto_failback off", ... when all those members share it
    active: bool  # some member runs (or failed) there
    moved: bool  # the administrator moved the unit here
    banned: bool  # the administrator banned the unit from here
    failed: tuple[ResourceId, int, int] | None  # (member, count, threshold) banning it
    connectivity: int
    total: int
    exclusion: str | None  # why it cannot take the unit: None if it can

    @property
    def eligible(self) -> bool:
        return self.exclusion is None

    def rank(self) -> tuple[bool, int, int, bool, int]:
        return (self.moved, self.connectivity, self.total, self.active, -self.index)


class UnitScorer:
    """Scores of one unit; cheap for the node loop, detailed on demand."""

    __slots__ = ("_ban_nodes", "_facts", "_move", "_stickiness", "runnable", "unit")

    def __init__(self, facts: Facts, unit: Unit) -> None:
        self._facts = facts
        self.unit = unit
        self._move = facts.moves.get(unit.id)
        #: Members that may run: those before the first with target-role stopped.
        #: Only they count: the others will not stay, so neither their stickiness
        #: nor their failures say anything about where the unit belongs.
        self.runnable = next(
            (i for i, m in enumerate(unit.members) if m.target_role is TargetRole.STOPPED),
            len(unit.members),
        )
        bans = set(facts.bans.get(unit.id, ()))
        stickiness: dict[NodeName, int] = {}
        settings = facts.catalog.settings
        for member in unit.members[: self.runnable]:
            for node, rstate in facts.present.get(member.id, ()):
                if rstate.is_active:
                    stickiness[node] = add_scores(
                        stickiness.get(node, 0), settings[member.id].stickiness
                    )
            for node, fact in facts.failures.get(member.id, {}).items():
                if fact.banning:
                    bans.add(node)
        self._stickiness = stickiness
        self._ban_nodes = bans

    @property
    def moved_to(self) -> NodeName | None:
        """Where the administrator moved the unit (vigil move), if anywhere."""
        return self._move

    @property
    def all_nodes(self) -> tuple[NodeName, ...]:
        return self._facts.nodes

    @property
    def active_nodes(self) -> tuple[NodeName, ...]:
        """Online nodes where some member runs or failed, in node order."""
        order = self._facts.catalog.node_index
        return tuple(sorted(self._stickiness, key=order.__getitem__))

    def total(self, node: NodeName) -> int:
        score = add_scores(self.unit.location.get(node, 0), self._stickiness.get(node, 0))
        if node == self._move:
            score = add_scores(score, INFINITY)
        if node in self._ban_nodes:
            score = -INFINITY
        return score

    def choose(self) -> NodeName | None:
        """The winning node, by the rules at the top of this file."""
        return self._best(None)

    def runner_up(self, winner: NodeName) -> NodeScore | None:
        """The best node other than WINNER that could take the unit."""
        node = self._best(winner)
        return None if node is None else self.detail(node)

    def _best(self, skip: NodeName | None) -> NodeName | None:
        # The hot loop of a run (units × nodes): plain locals, no objects per node.
        best: tuple[bool, int, int, bool, int] | None = None
        winner: NodeName | None = None
        move, location = self._move, self.unit.location
        stickiness, bans = self._stickiness, self._ban_nodes
        for index, node, connectivity in self._facts.eligible:
            if node in bans or node == skip:
                continue
            score = location.get(node, 0)
            sticky = stickiness.get(node)
            if sticky is not None:
                score = add_scores(score, sticky)
            if node == move:
                score = add_scores(score, INFINITY)
            if score < 0:
                continue
            key = (node == move, connectivity, score, sticky is not None, -index)
            if best is None or key > best:
                best, winner = key, node
        return winner

    def detail(self, node: NodeName) -> NodeScore:
        facts = self._facts
        failed: tuple[ResourceId, int, int] | None = None
        for member in self.unit.members[: self.runnable]:
            fact = facts.failures.get(member.id, {}).get(node)
            if fact is not None and fact.banning:
                failed = (member.id, fact.count, fact.threshold)
                break
        sources = {
            facts.catalog.settings[m.id].stickiness_source
            for m in self.unit.members[: self.runnable]
            for n, rstate in facts.present.get(m.id, ())
            if n == node and rstate.is_active
        }
        banned = node in facts.bans.get(self.unit.id, ())
        location = self.unit.location.get(node, 0)
        total = self.total(node)
        exclusion: str | None = None
        if node not in facts.online:
            exclusion = "offline"
        elif node in facts.standby:
            exclusion = "standby"
        elif banned:
            exclusion = "banned"
        elif failed is not None:
            exclusion = "failed"
        elif location <= -INFINITY:
            exclusion = "location"
        elif total < 0:
            exclusion = "negative"
        return NodeScore(
            node=node,
            index=facts.catalog.node_index[node],
            location=location,
            stickiness=self._stickiness.get(node, 0),
            stickiness_source=sources.pop() if len(sources) == 1 else "",
            active=node in self._stickiness,
            moved=node == self._move,
            banned=banned,
            failed=failed,
            connectivity=facts.state.attributes_of(node).connectivity,
            total=total,
            exclusion=exclusion,
        )
