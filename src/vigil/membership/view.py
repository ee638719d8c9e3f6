"""Membership views, their agreement, and the coordinator (DC) they elect.

Rules of this file:
- A view is the set of members (node and incarnation) a node counts as alive:
  itself and every peer up or late. Two views are the same when they hold the
  same nodes with the same incarnations: a restarted node is a new member.
- A view is stable at a node when every other member's latest heartbeat (the
  one with the highest sequence number from its current incarnation) reports
  exactly that view.
- The DC is the first node, in configuration order, of a stable view.
- While the view is not stable the DC stays what it was, as long as it is still
  a member of the current view (as Pacemaker, a surviving DC keeps its role
  through a membership change); a DC that left the view leaves no DC until a
  view is stable again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from vigil.config import NodeName


@dataclass(frozen=True, slots=True, order=True)
class ViewMember:
    """A node in one incarnation (it increases each time the node's daemon starts)."""

    node: NodeName
    incarnation: int

    def __str__(self) -> str:
        return f"{self.node}/{self.incarnation}"


@dataclass(frozen=True, slots=True)
class View:
    """A set of members; equal when the same nodes have the same incarnations."""

    members: frozenset[ViewMember]

    @classmethod
    def of(cls, members: Iterable[ViewMember]) -> View:
        return cls(frozenset(members))

    @property
    def nodes(self) -> frozenset[NodeName]:
        return frozenset(m.node for m in self.members)

    def incarnation_of(self, node: str) -> int | None:
        for m in self.members:
            if m.node == node:
                return m.incarnation
        return None

    def ordered(self, order: Sequence[NodeName]) -> tuple[ViewMember, ...]:
        """Members in configuration ORDER; names it does not know go last, by name."""
        rank = {name: i for i, name in enumerate(order)}
        return tuple(sorted(self.members, key=lambda m: (rank.get(m.node, len(rank)), m.node)))

    def __contains__(self, node: object) -> bool:
        return any(m.node == node for m in self.members)

    def __len__(self) -> int:
        return len(self.members)

    def __str__(self) -> str:
        return "{" + " ".join(str(m) for m in sorted(self.members)) + "}"


def disagreeing(mine: View, reported: Mapping[NodeName, View | None]) -> list[NodeName]:
    """Members of MINE whose latest reported view differs from it (None: no report yet).

    REPORTED holds each peer's latest reported view; this node agrees with itself.
    """
    return [
        m.node
        for m in mine.members
        if m.node in reported and reported[m.node] != mine
    ]


def first_in_order(view: View, order: Sequence[NodeName]) -> NodeName | None:
    """The DC of a stable VIEW: its first member in configuration ORDER."""
    for name in order:
        if name in view:
            return name
    return None


def view_reason(old: View | None, new: View, in_doubt: Sequence[NodeName],
                differ: Sequence[NodeName], initdead_ms: int) -> str:
    """Why the view is NEW (it was OLD), as ``ViewChanged`` says it: who joined or
    went, and what it is still waiting for (IN_DOUBT: peers not heard yet;
    DIFFER: members reporting another view)."""
    parts: list[str] = []
    if old is None:
        parts.append(f"start-up: view {new}")
    elif old != new:
        joined = sorted(new.members - old.members)
        gone = sorted(old.members - new.members)
        if joined:
            parts.append("joined " + ", ".join(map(str, joined)))
        if gone:
            parts.append("gone " + ", ".join(map(str, gone)))
    if in_doubt:
        parts.append(f"not stable: waiting to hear {', '.join(in_doubt)} "
                     f"(or for initdead, {initdead_ms} ms)")
    elif differ:
        # sorted: a frozenset's order changes with PYTHONHASHSEED; reasons must not
        parts.append(f"not stable: waiting for {', '.join(sorted(differ))} to report {new}")
    else:
        parts.append(f"stable: all {len(new)} members report {new}")
    return "; ".join(parts)
