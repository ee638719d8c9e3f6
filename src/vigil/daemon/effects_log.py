"""The log line for each membership change, at the level an administrator expects.

As Heartbeat: a peer going dead, a late heartbeat and a lost link are warnings
(``WARN: node node2: is dead``, ``WARN: Late heartbeat``); coming up and view
or DC changes are information. One event per line, the core's reason quoted.
"""

from __future__ import annotations

import logging

from vigil.daemon.logsetup import kv
from vigil.membership import (
    ChangeCause,
    CoordinatorChanged,
    Effect,
    LinkStateChanged,
    LogConfigMismatch,
    LogLateHeartbeat,
    Membership,
    PeerState,
    PeerStateChanged,
    QuorumChanged,
    ViewChanged,
)

_PEER_WORDS = {
    PeerState.UP: ("peer up", logging.INFO),
    PeerState.LATE: ("peer late", logging.WARNING),
    PeerState.DEAD: ("peer dead", logging.WARNING),
    PeerState.UNKNOWN: ("peer unknown", logging.INFO),
}


def _heard_ago(membership: Membership, node: str, link: str | None, now_ms: int) -> int | None:
    """Milliseconds since NODE was last heard (on LINK, or on any link)."""
    for status in membership.snapshot(now_ms).nodes:
        if status.name != node:
            continue
        if link is None:
            return status.heard_ago_ms
        for ls in status.links:
            if ls.name == link:
                return ls.heard_ago_ms
    return None


def log_effect(log: logging.Logger, effect: Effect, membership: Membership,
               now_ms: int) -> None:
    """Log one report-type effect (not ``Send``, ``SetTimer`` or ``RecordDrop``)."""
    if isinstance(effect, PeerStateChanged):
        if effect.cause is ChangeCause.RESTARTED:
            sentence, level = "peer restarted", logging.INFO
        elif effect.cause is ChangeCause.LEFT:
            sentence, level = "peer left", logging.INFO
        else:
            sentence, level = _PEER_WORDS[effect.new]
        log.log(level, kv(sentence, node=effect.node, incarnation=effect.incarnation,
                          last_heard_ms=_heard_ago(membership, effect.node, None, now_ms),
                          was=effect.old.value, cause=effect.cause.value, reason=effect.reason))
    elif isinstance(effect, LinkStateChanged):
        level = logging.WARNING if effect.new in (PeerState.DEAD, PeerState.LATE) \
            and effect.cause is not ChangeCause.LEFT else logging.INFO
        log.log(level, kv(f"link {effect.new.value}", node=effect.node, link=effect.link,
                          last_heard_ms=_heard_ago(membership, effect.node, effect.link, now_ms),
                          was=effect.old.value, cause=effect.cause.value,
                          reason=effect.reason))
    elif isinstance(effect, ViewChanged):
        members = ",".join(str(m) for m in effect.view.ordered(membership.config.node_names))
        log.info(kv("view changed", members=members, stable=effect.stable,
                    reason=effect.reason))
    elif isinstance(effect, CoordinatorChanged):
        log.info(kv("DC changed", dc=effect.new, was=effect.old, reason=effect.reason))
    elif isinstance(effect, QuorumChanged):
        st = effect.status
        log.log(logging.INFO if st.quorate else logging.WARNING,
                kv("quorum" if st.quorate else "no quorum", votes=st.votes_present,
                   needed=st.votes_needed, expected=st.expected_votes,
                   policy=st.no_quorum_policy.value, reason=effect.reason))
    elif isinstance(effect, LogLateHeartbeat):
        log.warning(kv("late heartbeat", node=effect.node, link=effect.link,
                       interval_ms=effect.interval_ms, reason=effect.reason))
    elif isinstance(effect, LogConfigMismatch):
        log.warning(kv("configuration differs", node=effect.node, theirs=effect.theirs,
                       ours=effect.ours, reason=effect.reason))
