"""This node's connectivity to its ping nodes: pure rules, no sockets, no clock.

``ConnectivityTracker`` is fed ping replies and the time (``now_ms``) by the
daemon's pinger (``vigil.net.ping``) and says which ping nodes are up, which
changed, and the node's score (pingd's ``multiplier`` × reachable ping nodes),
which the policy reads as ``NodeAttributes.connectivity``.
"""

from __future__ import annotations

from vigil.connectivity.tracker import (
    ConnectivityStatus,
    ConnectivityTracker,
    PingNodeChanged,
    PingNodeState,
    PingNodeStatus,
)

__all__ = [
    "ConnectivityStatus",
    "ConnectivityTracker",
    "PingNodeChanged",
    "PingNodeState",
    "PingNodeStatus",
]
