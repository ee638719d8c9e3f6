"""What a node can be to its peers, and the one function that decides it from time.

Rules of this file:
- A link of a peer is ``up`` while heard within ``warntime``, ``late`` after
  ``warntime`` of silence, ``dead`` after ``deadtime`` of silence, and
  ``unknown`` before it was ever heard. A link never heard is ``dead`` once
  ``initdead`` has passed since start-up (Heartbeat's initdead: the network
  may need a while after boot).
- A peer's state is the best of its links, ranked up > late > dead > unknown.
  So, as Heartbeat, deadtime counts from the last heartbeat on ANY link, and a
  peer heard once and then silent is dead even before initdead has passed.
- A peer that said it is leaving (and so every link of it) is dead at once.
- Boundaries are exact: silent for exactly ``warntime`` ms is late, for
  exactly ``deadtime`` ms is dead, never a millisecond earlier.
- Dead is sticky: once declared dead, only a heartbeat brings a link back
  (a longer deadtime after a reload does not revive it: others may have acted
  on its death already).
- ``ALLOWED`` is the transition table; anything else is a bug, not an input.
"""

from __future__ import annotations

import enum

from vigil.config import Timing


class PeerState(enum.Enum):
    """A peer's (or a link's) state as ``vigil status`` shows it."""

    UP = "up"
    LATE = "late"
    DEAD = "dead"
    UNKNOWN = "unknown"


#: Best first: a peer is as alive as its best link.
RANK: dict[PeerState, int] = {
    PeerState.UP: 3,
    PeerState.LATE: 2,
    PeerState.DEAD: 1,
    PeerState.UNKNOWN: 0,
}

#: Which peer and link states may follow which. A restart is not a transition
#: but a new member: it is reported on its own (``ChangeCause.RESTARTED``).
ALLOWED: dict[PeerState, frozenset[PeerState]] = {
    PeerState.UNKNOWN: frozenset({PeerState.UP, PeerState.DEAD}),
    PeerState.UP: frozenset({PeerState.LATE, PeerState.DEAD}),
    PeerState.LATE: frozenset({PeerState.UP, PeerState.DEAD}),
    PeerState.DEAD: frozenset({PeerState.UP}),
}


def in_view(state: PeerState) -> bool:
    """Up and late peers are members of the view; dead and unknown ones are not."""
    return state is PeerState.UP or state is PeerState.LATE


def best(states: list[PeerState]) -> PeerState:
    """The best of STATES (unknown for none)."""
    result = PeerState.UNKNOWN
    for state in states:
        if RANK[state] > RANK[result]:
            result = state
    return result


def link_state_at(
    last_heard_ms: int | None, unknown_until_ms: int, now_ms: int, timing: Timing
) -> PeerState:
    """The state of a link last heard at LAST_HEARD_MS (None: never), at NOW_MS.

    ``unknown_until_ms`` is when a never-heard link stops being unknown and is
    dead: start-up plus initdead.
    """
    if last_heard_ms is None:
        return PeerState.DEAD if now_ms >= unknown_until_ms else PeerState.UNKNOWN
    silent = now_ms - last_heard_ms
    if silent >= timing.deadtime_ms:
        return PeerState.DEAD
    if silent >= timing.warntime_ms:
        return PeerState.LATE
    return PeerState.UP


def next_change_ms(
    last_heard_ms: int | None, unknown_until_ms: int, now_ms: int, timing: Timing
) -> int | None:
    """When ``link_state_at`` will next give a different answer without new input."""
    if last_heard_ms is None:
        return unknown_until_ms if now_ms < unknown_until_ms else None
    for at in (last_heard_ms + timing.warntime_ms, last_heard_ms + timing.deadtime_ms):
        if at > now_ms:
            return at
    return None


class ChangeCause(enum.Enum):
    """Why a peer or link changed state: for programs (the reason says it for people)."""

    HEARD = "heard"  # a heartbeat arrived
    WARNTIME = "warntime"  # silent for warntime: late
    DEADTIME = "deadtime"  # silent for deadtime on every link: dead
    INITDEAD = "initdead"  # never heard within initdead of start-up: dead
    LEFT = "left"  # it said it is leaving (a clean stop): dead at once
    RESTARTED = "restarted"  # a new incarnation: the old one is gone
    RECONFIGURED = "reconfigured"  # the configuration changed


class DropCause(enum.Enum):
    """Why membership ignored an authentic message; the daemon counts these."""

    FROM_SELF = "from_self"  # our own heartbeat looped back (bcast, mcast loop)
    UNKNOWN_NODE = "unknown_node"  # a sender the configuration does not list
    UNKNOWN_LINK = "unknown_link"  # received on a link the configuration does not list
    STALE_INCARNATION = "stale_incarnation"  # from an incarnation older than the known one
    AFTER_LEAVE = "after_leave"  # from an incarnation that already said it left
    STOPPED = "stopped"  # this node has left; it listens no more
