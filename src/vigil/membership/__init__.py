"""Membership: failure detection per peer and link, incarnations, views, agreement, DC.

Pure: ``Membership.step(event, now_ms)`` returns effects; no clock, socket or
thread inside. The daemon and the simulator (``vigil.sim``) drive the same object.
"""

from __future__ import annotations

from vigil.membership.checks import MembershipConfigError
from vigil.membership.effects import (
    CoordinatorChanged,
    Effect,
    LinkStateChanged,
    LogConfigMismatch,
    LogLateHeartbeat,
    PeerStateChanged,
    QuorumChanged,
    RecordDrop,
    Send,
    SetTimer,
    ViewChanged,
)
from vigil.membership.events import (
    ArbiterVoteChanged,
    ConfigChanged,
    Event,
    HeartbeatReceived,
    LeaveReceived,
    LeaveRequested,
    Started,
    StopRequested,
    Ticked,
)
from vigil.membership.machine import Membership
from vigil.membership.messages import (
    Body,
    HeartbeatBody,
    LeaveBody,
    MalformedBody,
    MessageKind,
    parse_body,
)
from vigil.membership.states import ChangeCause, DropCause, PeerState
from vigil.membership.status import LinkStatus, MembershipSnapshot, NodeStatus
from vigil.membership.view import View, ViewMember

__all__ = [
    "ArbiterVoteChanged",
    "Body",
    "ChangeCause",
    "ConfigChanged",
    "CoordinatorChanged",
    "DropCause",
    "Effect",
    "Event",
    "HeartbeatBody",
    "HeartbeatReceived",
    "LeaveBody",
    "LeaveReceived",
    "LeaveRequested",
    "LinkStateChanged",
    "LinkStatus",
    "LogConfigMismatch",
    "LogLateHeartbeat",
    "MalformedBody",
    "Membership",
    "MembershipConfigError",
    "MembershipSnapshot",
    "MessageKind",
    "NodeStatus",
    "PeerState",
    "PeerStateChanged",
    "QuorumChanged",
    "RecordDrop",
    "Send",
    "SetTimer",
    "Started",
    "StopRequested",
    "Ticked",
    "View",
    "ViewChanged",
    "ViewMember",
    "parse_body",
]
