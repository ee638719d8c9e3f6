"""The words: why a node won, why another lost, why nothing can run.

Phrases are built from ``NodeScore`` parts only, so an explanation can never
disagree with the decision it explains. They read as the second half of a
sentence: "Start web on node1: <phrase>".
"""

from __future__ import annotations

from collections.abc import Sequence

from vigil.config import NodeName
from vigil.policy.scores import format_score
from vigil.policy.scoring import NodeScore, UnitScorer
from vigil.policy.state import CopyOrigin


def why_chosen(scorer: UnitScorer, winner: NodeScore, previous: Sequence[NodeName]) -> str:
    """Why WINNER takes the unit, naming the nodes a reader would expect instead."""
    if winner.moved:
        return f"moved to {winner.node} by the administrator"
    unit = scorer.unit
    moved_to = scorer.moved_to
    expected: list[NodeName] = []
    candidates = (unit.preferred, *scorer.active_nodes, *previous)
    for node in candidates:
        if node is not None and node not in (winner.node, moved_to) and node not in expected:
            expected.append(node)
    parts = [why_not(scorer.detail(n), winner, unit.preferred, previous) for n in expected]
    if moved_to is not None:
        # The move names a node that cannot take the unit (else it would have won).
        refused = exclusion_phrase(scorer.detail(moved_to))
        parts.insert(0, f"the administrator's move to {moved_to} cannot apply: {refused}")
        expected.append(moved_to)
    runner = scorer.runner_up(winner.node)
    if not parts:
        parts.append(_why_best(winner, runner, unit.preferred, scorer))
    elif runner is not None and runner.node not in expected:
        # Say why this node and not the next best one (the N+1 standby's case).
        if _ties(winner, runner):
            parts.append(_tie(winner, runner))
        elif winner.connectivity == runner.connectivity:
            parts.append(f"{describe(winner, own=True)} outweighs {describe(runner, own=False)}")
    return "; ".join(parts)


def why_not(loser: NodeScore, winner: NodeScore, preferred: NodeName | None,
            previous: Sequence[NodeName] = ()) -> str:
    """Why LOSER does not take the unit that WINNER takes."""
    label = _label(loser.node, preferred, previous)
    if not loser.eligible:
        return exclusion_phrase(loser, label)
    if winner.moved:
        return f"moved to {winner.node} by the administrator"
    if loser.connectivity < winner.connectivity:
        return (f"{label} reaches fewer ping nodes than {winner.node} "
                f"(connectivity {loser.connectivity} < {winner.connectivity})")
    if winner.total > loser.total:
        return f"{describe(winner, own=True)} outweighs {describe(loser, own=False)}"
    return _tie(winner, loser)


def why_copy_stays(keeper: NodeScore, kept: CopyOrigin, loser: NodeScore, lost: CopyOrigin,
                   preferred: NodeName | None) -> str:
    """Why the copy on KEEPER stays and LOSER's stops, after a heal: issue 10's rule."""
    k, n = keeper.node, loser.node
    head = f"the copy on {k} stays"
    if kept.quorate and not lost.quorate:
        return f"{head}: {k} had quorum while it ran, {n} lost quorum"
    if kept.fenced and not lost.fenced:
        return f"{head}: {k}'s side fenced a node before starting it, {n}'s did not"
    if keeper.moved or keeper.connectivity != loser.connectivity:
        return f"{head}: {why_not(loser, keeper, preferred)}"
    if keeper.total > loser.total:
        return (f"{head}: it has the higher score ({k} {format_score(keeper.total)} > "
                f"{n} {format_score(loser.total)})")
    return f"{head}: both score {format_score(keeper.total)}, and {k} comes first in node order"


def exclusion_phrase(score: NodeScore, label: str | None = None) -> str:
    label = label or score.node
    if score.exclusion == "offline":
        return f"{label} is offline"
    if score.exclusion == "standby":
        return f"{label} is in standby"
    if score.exclusion == "banned":
        return f"{label} is banned by the administrator"
    if score.exclusion == "failed" and score.failed is not None:
        rid, count, threshold = score.failed
        return f"{rid} failed {count} times on {score.node} (migration-threshold {threshold})"
    if score.exclusion == "location":
        return f"{label} has location score -INFINITY"
    return f"{label} has a negative score ({format_score(score.total)})"


def why_none(scorer: UnitScorer, nodes: Sequence[NodeName]) -> str:
    """Why no node can take the unit: each reason once, with its nodes."""
    if not nodes:
        return "no nodes are configured"
    return f"no node can run it ({_exclusions(scorer, nodes)})"


def _exclusions(scorer: UnitScorer, nodes: Sequence[NodeName]) -> str:
    by_reason: dict[str, list[str]] = {}
    for node in nodes:
        detail = scorer.detail(node)
        if detail.exclusion == "failed" and detail.failed is not None:
            rid, _, threshold = detail.failed
            key = f"{rid} reached migration-threshold {threshold}"
        else:
            key = _EXCLUSION_HEADINGS.get(detail.exclusion or "", "cannot run it")
        by_reason.setdefault(key, []).append(node)
    return "; ".join(f"{reason}: {', '.join(ns)}" for reason, ns in by_reason.items())


_EXCLUSION_HEADINGS = {
    "offline": "offline",
    "standby": "in standby",
    "banned": "banned by the administrator",
    "location": "location score -INFINITY",
    "negative": "negative score",
}


def describe(score: NodeScore, *, own: bool) -> str:
    """A node's score in its parts: "preference 100 for node0 + stickiness 0 (auto_failback on)".

    OWN: the node is the one the sentence is about, so stickiness needs no "on".
    """
    parts: list[str] = []
    if score.location > 0:
        parts.append(f"preference {format_score(score.location)} for {score.node}")
    elif score.location < 0:
        parts.append(f"location {format_score(score.location)} on {score.node}")
    if score.active:
        where = "" if own else f" on {score.node}"
        parts.append(f"stickiness {format_score(score.stickiness)}{_source(score)}{where}")
    if not parts:
        return f"score 0 on {score.node}"
    return " + ".join(parts)


def _source(score: NodeScore) -> str:
    return f" ({score.stickiness_source})" if score.stickiness_source else ""


def _why_best(winner: NodeScore, runner: NodeScore | None, preferred: NodeName | None,
              scorer: UnitScorer) -> str:
    if runner is None:
        others = [n for n in scorer.all_nodes if n != winner.node]
        if not others:
            return f"{winner.node} is the only node"
        return f"the only node that can run it ({_exclusions(scorer, others)})"
    if winner.node == preferred:
        return f"preferred node (score {format_score(winner.total)})"
    if winner.connectivity > runner.connectivity:
        return (f"{winner.node} reaches more ping nodes than {runner.node} "
                f"(connectivity {winner.connectivity} > {runner.connectivity})")
    if winner.total > runner.total:
        return f"{describe(winner, own=True)} outweighs {describe(runner, own=False)}"
    return _tie(winner, runner)


def _ties(winner: NodeScore, other: NodeScore) -> bool:
    return (winner.connectivity, winner.total) == (other.connectivity, other.total)


def _tie(winner: NodeScore, loser: NodeScore) -> str:
    score = format_score(winner.total)
    if winner.active and not loser.active:
        return f"{winner.node} and {loser.node} score the same ({score}); it stays where it runs"
    return (f"{winner.node} and {loser.node} score the same ({score}); "
            f"{winner.node} comes first in node order")


def _label(node: NodeName, preferred: NodeName | None, previous: Sequence[NodeName]) -> str:
    if node == preferred:
        return f"preferred node {node}"
    if node in previous:
        return f"{node}, where it ran,"
    return node
