"""What can happen to the coordinator: the inputs of ``Coordinator.step``.

Names are in the past tense: the shell reports that something happened; the
time comes with ``step(event, now_ms)``. Message events carry the envelope's
authenticated sender and incarnation and the already parsed body.
"""

from __future__ import annotations

from dataclasses import dataclass

from vigil.config import NodeName, ResourceId
from vigil.coordinator.admin import AdminCommand
from vigil.coordinator.messages import (
    ActionsBody,
    AdminRequestBody,
    EventsBody,
    EventsQueryBody,
    ReportBody,
)
from vigil.coordinator.states import OpKind, OpOutcome
from vigil.membership import Membership, PeerState, View
from vigil.quorum import QuorumStatus


@dataclass(frozen=True, slots=True)
class Started:
    """The daemon started: probe every resource, then report."""


@dataclass(frozen=True, slots=True)
class MembershipUpdated:
    """Membership's picture after a step that changed it.

    ``late`` holds the members of the view not heard within warntime: they
    still count for quorum, but a node that would lose quorum without them
    stops its resources before the others can declare it dead (see local.py).
    """

    view: View
    stable: bool
    dc: NodeName | None
    quorum: QuorumStatus
    late: frozenset[NodeName] = frozenset()

    @classmethod
    def of(cls, membership: Membership) -> MembershipUpdated:
        """What MEMBERSHIP says now (the shell calls this after each of its steps)."""
        view = membership.view
        late = frozenset(n for n in view.nodes
                         if n != membership.me and membership.peer_state(n) is PeerState.LATE)
        return cls(view, membership.stable, membership.dc, membership.quorum, late)


@dataclass(frozen=True, slots=True)
class ReportReceived:
    """An authentic report from SENDER in INCARNATION."""

    sender: NodeName
    incarnation: int
    body: ReportBody


@dataclass(frozen=True, slots=True)
class ActionsReceived:
    """An authentic actions message from SENDER (a DC, if membership agrees)."""

    sender: NodeName
    incarnation: int
    body: ActionsBody


@dataclass(frozen=True, slots=True)
class AdminReceived:
    """An authentic administrator command from node SENDER, for the DC."""

    sender: NodeName
    incarnation: int
    body: AdminRequestBody


@dataclass(frozen=True, slots=True)
class EventsQueried:
    """Node SENDER asks this node, if DC, for its newest events."""

    sender: NodeName
    incarnation: int
    body: EventsQueryBody


@dataclass(frozen=True, slots=True)
class EventsReceived:
    """The DC's answer to an events query (of this node, if ``body.node`` says so)."""

    sender: NodeName
    incarnation: int
    body: EventsBody


@dataclass(frozen=True, slots=True)
class EventsRequested:
    """The control API asked for the events (``vigil events``); answered by ``EventsAnswered``."""

    request: int


@dataclass(frozen=True, slots=True)
class OperationFinished:
    """An operation on this node's resource ended (the executor's ``OperationCompleted``).

    ``kind`` MONITOR is a result of the recurring monitor; the others answer a
    ``RunOperation`` with the same ``token``.
    """

    resource: ResourceId
    kind: OpKind
    outcome: OpOutcome
    token: int = 0
    reason: str = ""


@dataclass(frozen=True, slots=True)
class AdminRequested:
    """The control API asked for COMMAND; answered by ``AdminAnswered`` with REQUEST."""

    request: int
    command: AdminCommand


@dataclass(frozen=True, slots=True)
class ShutdownRequested:
    """This node is stopping (SIGTERM): hand its resources over, then ``ReadyToLeave``."""

    why: str


@dataclass(frozen=True, slots=True)
class FenceConfirmed:
    """NODE was fenced (powered off or cut off): what ran there runs no more."""

    node: NodeName
    reason: str


@dataclass(frozen=True, slots=True)
class FenceFailed:
    """A fence of NODE failed (every level); the shell retries. Logged for ``vigil events``."""

    node: NodeName
    reason: str


@dataclass(frozen=True, slots=True)
class ConnectivityChanged:
    """This node's ping nodes changed: SCORE is pingd's (multiplier × reachable)."""

    score: int


@dataclass(frozen=True, slots=True)
class Ticked:
    """The timer the core asked for (``SetTimer``) fired; early or extra ticks are harmless."""


Event = (
    Started
    | MembershipUpdated
    | ReportReceived
    | ActionsReceived
    | AdminReceived
    | EventsQueried
    | EventsReceived
    | EventsRequested
    | OperationFinished
    | AdminRequested
    | ShutdownRequested
    | FenceConfirmed
    | FenceFailed
    | ConnectivityChanged
    | Ticked
)
