"""The events log: what happened and why, in an administrator's words, bounded.

Each node keeps its own: the DC logs its decisions (every action with the
policy's reason), every node logs what it did to its own resources and why
(a failure, a lost quorum, a cleanup). ``vigil events`` shows it. The oldest
entries go first once ``MAX_EVENTS`` are kept.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass

from vigil.config import NodeName, ResourceId

MAX_EVENTS = 500


class EventKind(enum.Enum):
    DECISION = "decision"  # the DC planned a transition
    ACTION = "action"  # an operation on this node began or ended
    FAILURE = "failure"  # an operation failed, a monitor found a resource broken
    QUORUM = "quorum"  # quorum lost or at risk: local resources stopped
    ADMIN = "admin"  # an administrator command, or settings adopted
    FENCE = "fence"  # a node to fence, or a fence confirmed
    ROLE = "role"  # this node became DC, or stopped being it
    SPLIT_BRAIN = "split-brain"  # resources ran on both sides of a partition (issue 10)


@dataclass(frozen=True, slots=True)
class ClusterEvent:
    """One line of ``vigil events``: when, where, what kind, and the words."""

    seq: int
    at_ms: int
    node: NodeName  # the node that logged it
    kind: EventKind
    text: str
    resource: ResourceId | None = None

    def to_dict(self) -> dict[str, object]:
        return {"seq": self.seq, "at_ms": self.at_ms, "node": self.node,
                "kind": self.kind.value, "resource": self.resource, "text": self.text}


class EventLog:
    """The newest ``limit`` events of one node, numbered from 1."""

    def __init__(self, node: NodeName, limit: int = MAX_EVENTS) -> None:
        self.node = node
        self._entries: deque[ClusterEvent] = deque(maxlen=limit)
        self._seq = 0

    def add(self, at_ms: int, kind: EventKind, text: str,
            resource: ResourceId | None = None) -> ClusterEvent:
        self._seq += 1
        entry = ClusterEvent(self._seq, at_ms, self.node, kind, text, resource)
        self._entries.append(entry)
        return entry

    def since(self, seq: int = 0) -> tuple[ClusterEvent, ...]:
        """Entries numbered after SEQ still kept, oldest first."""
        return tuple(e for e in self._entries if e.seq > seq)

    def __len__(self) -> int:
        return len(self._entries)
