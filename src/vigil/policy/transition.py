"""What the scheduler answers: where each resource belongs and what to do to get there.

Rules of this file:
- ``Transition.actions`` is in dependency order: an action's ``after`` only
  names actions listed before it, so running them in list order is always safe,
  and any action whose ``after`` are all done may run at once.
- Every placement and every action carries its reason, in words an
  administrator reads in ``vigil status`` and ``vigil events``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from vigil.config import GroupId, NodeName, ResourceId


class ActionKind(enum.Enum):
    PROBE = "probe"  # one-shot status check: is it running there?
    STOP = "stop"
    START = "start"


@dataclass(frozen=True, slots=True)
class Action:
    """Run ``kind`` for ``resource`` on ``node`` once every action in ``after`` succeeded."""

    id: int  # position in Transition.actions
    kind: ActionKind
    resource: ResourceId
    node: NodeName
    after: tuple[int, ...]
    reason: str

    def __str__(self) -> str:
        return f"{self.kind.value} {self.resource} on {self.node}"


class Change(enum.Enum):
    """What happens to a resource, as crm_simulate's transition summary says it."""

    LEAVE = "leave"  # stays as it is (running or stopped)
    START = "start"
    STOP = "stop"
    MOVE = "move"
    RECOVER = "recover"  # failed: stop and start again on the same node
    RESTART = "restart"  # runs after a recovered group member: restarts with it
    BLOCKED = "blocked"  # a stop failed: left alone until fenced or cleaned up


@dataclass(frozen=True, slots=True)
class Placement:
    """Where one configured resource belongs after this transition, and why.

    ``node`` is None when it is to be stopped. A blocked resource's node is the
    node it is stuck on, whatever that node's state.
    """

    resource: ResourceId
    group: GroupId | None
    node: NodeName | None
    change: Change
    reason: str


@dataclass(frozen=True, slots=True)
class Transition:
    """The scheduler's output for one ``ClusterState``.

    ``placements`` follow configuration order. ``notes`` are cluster-wide remarks
    (no quorum, expired failures). ``recheck_at_ms`` is when a failure expires
    and the scheduler should run again even if nothing else happens (Pacemaker's
    cluster-recheck), or None.
    """

    placements: tuple[Placement, ...]
    actions: tuple[Action, ...]
    notes: tuple[str, ...] = ()
    recheck_at_ms: int | None = None

    @property
    def target(self) -> Mapping[ResourceId, NodeName | None]:
        """Resource -> the node it should run on, None for stopped."""
        return {p.resource: p.node for p in self.placements}

    def placement(self, resource: str) -> Placement:
        for p in self.placements:
            if p.resource == resource:
                return p
        raise KeyError(resource)
