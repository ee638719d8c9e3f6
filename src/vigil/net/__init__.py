"""UDP links on asyncio: ucast, bcast and mcast, several per node.

The daemon calls ``open_links`` once; ``Links.send`` puts a datagram on every
link and ``on_datagram`` receives what arrives, with the link's name. What the
bytes mean is ``vigil.wire``'s business. ``Pinger`` sends ICMP echoes to the
ping nodes (``vigil.net.ping``).
"""

from __future__ import annotations

from vigil.net.links import (
    DatagramHandler,
    LinkError,
    Links,
    LinkState,
    LinkStats,
    open_links,
)
from vigil.net.ping import Pinger, PingError, PingStats

__all__ = [
    "DatagramHandler",
    "LinkError",
    "LinkState",
    "LinkStats",
    "Links",
    "PingError",
    "PingStats",
    "Pinger",
    "open_links",
]
