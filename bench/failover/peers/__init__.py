"""The peers' runners, by the name used on the command line."""

from __future__ import annotations

from .base import Peer, PeerNotReadyError, StartError
from .heartbeat import Heartbeat
from .keepalived import Keepalived
from .vigil import Vigil

#: In the order of the table's columns.
PEERS: dict[str, type[Peer]] = {"vigil": Vigil, "keepalived": Keepalived, "heartbeat": Heartbeat}

__all__ = ["PEERS", "Heartbeat", "Keepalived", "Peer", "PeerNotReadyError", "StartError", "Vigil"]
