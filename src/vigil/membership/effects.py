"""What membership asks the shell to do or to know: the outputs of ``Membership.step``.

Every effect carries a ``reason`` in words an administrator understands; the
shell logs it as it is. ``Send`` and ``SetTimer`` are orders; the other effects
report a change the shell shows, logs, or passes on to the coordinator.
"""

from __future__ import annotations

from dataclasses import dataclass

from vigil.config import NodeName
from vigil.membership.messages import Body, MessageKind
from vigil.membership.states import ChangeCause, DropCause, PeerState
from vigil.membership.view import View
from vigil.quorum import QuorumStatus


@dataclass(frozen=True, slots=True)
class Send:
    """Send BODY as a message of KIND to every peer on every link."""

    kind: MessageKind
    body: Body
    reason: str


@dataclass(frozen=True, slots=True)
class SetTimer:
    """Call ``step(Ticked(), now)`` at AT_MS. There is one timer: this replaces the last."""

    at_ms: int
    reason: str


@dataclass(frozen=True, slots=True)
class PeerStateChanged:
    """A peer changed state, or restarted (then OLD may equal NEW)."""

    node: NodeName
    old: PeerState
    new: PeerState
    incarnation: int | None
    cause: ChangeCause
    reason: str


@dataclass(frozen=True, slots=True)
class LinkStateChanged:
    """One link to a peer changed state."""

    node: NodeName
    link: str
    old: PeerState
    new: PeerState
    cause: ChangeCause
    reason: str


@dataclass(frozen=True, slots=True)
class ViewChanged:
    """This node's view changed its members, or became stable or unstable."""

    view: View
    stable: bool
    reason: str


@dataclass(frozen=True, slots=True)
class CoordinatorChanged:
    """The DC this node recognises changed (None: no DC until a view is stable)."""

    old: NodeName | None
    new: NodeName | None
    reason: str


@dataclass(frozen=True, slots=True)
class QuorumChanged:
    """Quorum was gained or lost, or the votes present changed."""

    status: QuorumStatus
    reason: str


@dataclass(frozen=True, slots=True)
class LogLateHeartbeat:
    """Log Heartbeat's warning: a heartbeat came after more than warntime of silence."""

    node: NodeName
    link: str
    interval_ms: int
    reason: str


@dataclass(frozen=True, slots=True)
class LogConfigMismatch:
    """A peer runs with a configuration whose digest differs from ours."""

    node: NodeName
    theirs: str
    ours: str
    reason: str


@dataclass(frozen=True, slots=True)
class RecordDrop:
    """Count an authentic message membership ignored, by cause."""

    sender: NodeName
    cause: DropCause
    reason: str


Effect = (
    Send
    | SetTimer
    | PeerStateChanged
    | LinkStateChanged
    | ViewChanged
    | CoordinatorChanged
    | QuorumChanged
    | LogLateHeartbeat
    | LogConfigMismatch
    | RecordDrop
)
