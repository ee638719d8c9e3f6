"""A read-only picture of membership at one moment, for ``vigil status`` and the web.

Times are the core's own milliseconds (the shell's monotonic clock); ``heard_ago_ms``
is computed for the moment the snapshot was taken.
"""

from __future__ import annotations

from dataclasses import dataclass

from vigil.config import NodeName
from vigil.membership.states import PeerState
from vigil.membership.view import ViewMember
from vigil.quorum import QuorumStatus


@dataclass(frozen=True, slots=True)
class LinkStatus:
    name: str
    state: PeerState
    last_heard_ms: int | None
    heard_ago_ms: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class NodeStatus:
    """One configured node as this node sees it (itself included, always up)."""

    name: NodeName
    state: PeerState
    incarnation: int | None
    is_me: bool
    last_heard_ms: int | None
    heard_ago_ms: int | None
    links: tuple[LinkStatus, ...]
    leaving: bool  # its heartbeats say it is stopping
    left: bool  # it said it left: dead without waiting for deadtime
    config_digest: str | None
    reason: str  # why it is in this state


@dataclass(frozen=True, slots=True)
class MembershipSnapshot:
    node: NodeName
    incarnation: int
    taken_at_ms: int
    view: tuple[ViewMember, ...]  # in configuration order
    stable: bool
    dc: NodeName | None
    quorum: QuorumStatus
    nodes: tuple[NodeStatus, ...]  # every configured node, in configuration order
    leaving: bool
