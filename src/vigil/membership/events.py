"""What can happen to membership: the inputs of ``Membership.step``.

Names are in the past tense: the shell reports that something happened; the
time comes with ``step(event, now_ms)``, never inside the event. The envelope
fields (sender, incarnation, seq, link) are the wire layer's, already
authenticated; the body is already parsed (``HeartbeatBody.from_body``).
"""

from __future__ import annotations

from dataclasses import dataclass

from vigil.config import ClusterConfig, NodeName
from vigil.membership.messages import HeartbeatBody, LeaveBody
from vigil.quorum import ArbiterVote


@dataclass(frozen=True, slots=True)
class Started:
    """The daemon started: begin heartbeating and start the initdead clock."""


@dataclass(frozen=True, slots=True)
class HeartbeatReceived:
    """An authentic heartbeat from SENDER arrived on LINK (a ``Link.name``).

    ARRIVED_MS: when it arrived, if the shell knows (a socket read on a grid
    hands it up later); never after the step's ``now_ms``. None: at ``now_ms``.
    """

    sender: NodeName
    incarnation: int
    seq: int
    link: str
    body: HeartbeatBody
    arrived_ms: int | None = None


@dataclass(frozen=True, slots=True)
class LeaveReceived:
    """An authentic leave message: SENDER in INCARNATION stopped cleanly."""

    sender: NodeName
    incarnation: int
    link: str
    body: LeaveBody


@dataclass(frozen=True, slots=True)
class Ticked:
    """A timer the core asked for (``SetTimer``) fired; early or extra ticks are harmless."""


@dataclass(frozen=True, slots=True)
class StopRequested:
    """This node is stopping (SIGTERM): heartbeats from now on say it is leaving."""

    why: str


@dataclass(frozen=True, slots=True)
class LeaveRequested:
    """This node is about to exit: tell the peers it left, then fall silent."""

    why: str


@dataclass(frozen=True, slots=True)
class ConfigChanged:
    """The configuration was reloaded (SIGHUP) and found valid."""

    config: ClusterConfig
    config_digest: str


@dataclass(frozen=True, slots=True)
class ArbiterVoteChanged:
    """What the arbitrator last said about this node's partition (None: no vote at all).

    It counts towards quorum as ``ArbiterVote.counts`` says, until its deadline."""

    vote: ArbiterVote | None


Event = (
    Started
    | HeartbeatReceived
    | LeaveReceived
    | Ticked
    | StopRequested
    | LeaveRequested
    | ConfigChanged
    | ArbiterVoteChanged
)
