"""The status document: what ``vigil status --json`` prints. A stable interface.

Documented field by field in ``docs/status.md``; add fields freely, but never
rename, remove or change the meaning of one without bumping ``schema``.
Durations named ``*_ms`` are milliseconds; ``last_heard_ms`` is how long ago,
measured on the daemon's monotonic clock when it answered.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from vigil import __version__

if TYPE_CHECKING:
    from vigil.daemon.runtime import NodeRuntime

SCHEMA = 1


def build_status(rt: NodeRuntime, now_ms: int) -> dict[str, Any]:
    """The status document of RT at NOW_MS (see docs/status.md)."""
    snap = rt.membership.snapshot(now_ms)
    config = rt.membership.config
    quorum = snap.quorum
    timing = config.timing
    votes = {n.name: n.votes for n in config.nodes}
    in_view = {m.node for m in snap.view}
    nodes: list[dict[str, Any]] = []
    for ns in snap.nodes:
        change = rt.last_change.get(ns.name)
        nodes.append({
            "name": ns.name,
            "self": ns.is_me,
            "state": ns.state.value,
            "incarnation": ns.incarnation,
            "votes": votes.get(ns.name, 0),
            "in_view": ns.name in in_view,
            "last_heard_ms": ns.heard_ago_ms,
            "state_since_ms": None if change is None else now_ms - change[1],
            "left": ns.left,
            "leaving": ns.leaving,
            "config_digest": ns.config_digest,
            "reason": ns.reason,
            "links": [{"name": ls.name, "state": ls.state.value,
                       "last_heard_ms": ls.heard_ago_ms, "reason": ls.reason}
                      for ls in ns.links],
        })
    links: list[dict[str, Any]] = []
    if rt.links is not None:
        kinds = {link.name: link.kind.value for link in config.links}
        for name, st in rt.links.stats().items():
            links.append({
                "name": name,
                "kind": kinds.get(name, st.kind),
                "state": st.state.value,
                "address": st.local,
                "destinations": list(st.destinations),
                "sent": st.sent,
                "send_errors": st.send_errors,
                "received": st.received,
                "receive_errors": st.receive_errors,
                "last_error": st.last_error,
            })
    by_reason = rt.drop_counts()
    return {
        "schema": SCHEMA,
        "version": __version__,
        "cluster": config.cluster_name,
        "node": snap.node,
        "incarnation": snap.incarnation,
        "pid": os.getpid(),
        "uptime_ms": now_ms - rt.started_ms,
        "dc": snap.dc,
        "quorate": quorum.quorate,
        "quorum": {
            "votes": quorum.votes_present,
            "needed": quorum.votes_needed,
            "expected": quorum.expected_votes,
            "two_node": config.quorum.two_node,
            "wait_for_all": config.quorum.wait_for_all,
            "waiting_for_all": quorum.waiting_for_all,
            "no_quorum_policy": quorum.no_quorum_policy.value,
            "reason": quorum.reason,
        },
        "view": {
            "members": [m.node for m in snap.view],
            "incarnations": {m.node: m.incarnation for m in snap.view},
            "stable": snap.stable,
        },
        "leaving": snap.leaving,
        "timing_ms": {
            "keepalive": timing.keepalive_ms,
            "warntime": timing.warntime_ms,
            "deadtime": timing.deadtime_ms,
            "initdead": timing.initdead_ms,
        },
        "nodes": nodes,
        "links": links,
        "drops": {"total": sum(by_reason.values()), "by_reason": by_reason},
        "config": {
            "path": str(rt.config_path),
            "digest": rt.digest,
            "loaded_ms_ago": now_ms - rt.config_loaded_ms,
            "reload_errors": [],
        },
    }
