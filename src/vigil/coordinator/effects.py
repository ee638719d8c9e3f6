"""What the coordinator asks the shell to do: the outputs of ``Coordinator.step``.

Every effect carries a ``reason`` in words an administrator understands.
``Send`` goes to every peer on every link (bodies say whom they are for);
``RunOperation`` is answered by ``OperationFinished`` with the same ``token``.
"""

from __future__ import annotations

from dataclasses import dataclass

from vigil.config import NodeName, ResourceId
from vigil.coordinator.eventlog import ClusterEvent
from vigil.coordinator.messages import Body, MessageKind
from vigil.coordinator.states import OpKind


@dataclass(frozen=True, slots=True)
class Send:
    """Send BODY as a message of KIND to every peer."""

    kind: MessageKind
    body: Body
    reason: str


@dataclass(frozen=True, slots=True)
class RunOperation:
    """Run KIND (start, stop or probe) on this node's RESOURCE; answer with TOKEN."""

    resource: ResourceId
    kind: OpKind
    token: int
    reason: str


@dataclass(frozen=True, slots=True)
class StartMonitor:
    """Start RESOURCE's configured recurring monitor (its results come as MONITOR)."""

    resource: ResourceId
    reason: str


@dataclass(frozen=True, slots=True)
class StopMonitor:
    resource: ResourceId
    reason: str


@dataclass(frozen=True, slots=True)
class SetTimer:
    """Call ``step(Ticked(), now)`` at AT_MS. One timer: this replaces the last."""

    at_ms: int
    reason: str


@dataclass(frozen=True, slots=True)
class Fence:
    """Fence NODE; answer with ``FenceConfirmed``. Only ever asked when fencing is configured."""

    node: NodeName
    reason: str


@dataclass(frozen=True, slots=True)
class Reannounce:
    """Announce RESOURCE's address again (gratuitous ARP / unsolicited NA): the
    agent's ``reannounce`` action. Fire and forget; nothing answers it."""

    resource: ResourceId
    reason: str


@dataclass(frozen=True, slots=True)
class AdminAnswered:
    """Answer the control API's REQUEST: accepted by the DC, or refused and why."""

    request: int
    accepted: bool
    reason: str
    hint: str = ""


@dataclass(frozen=True, slots=True)
class EventsAnswered:
    """Answer the control API's events REQUEST: this node's events and the DC's, by time.

    ``reason`` says whose they are (and that the DC did not answer, if so).
    """

    request: int
    events: tuple[ClusterEvent, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class ReadyToLeave:
    """After ``ShutdownRequested``: nothing runs here any more; leave the cluster now."""

    reason: str


@dataclass(frozen=True, slots=True)
class Log:
    """An entry of the events log (``vigil events``); the shell also logs it."""

    entry: ClusterEvent

    @property
    def reason(self) -> str:
        return self.entry.text


Effect = (
    Send
    | RunOperation
    | StartMonitor
    | StopMonitor
    | SetTimer
    | Fence
    | Reannounce
    | AdminAnswered
    | EventsAnswered
    | ReadyToLeave
    | Log
)
