"""This node's connectivity, live: pings the ping nodes every keepalive and tracks them.

The asyncio shell around ``vigil.connectivity.ConnectivityTracker`` (the
rules) and ``vigil.net.Pinger`` (the sockets). For the rest of the daemon:

- ``snapshot()``: the ``ConnectivityStatus`` now (per ping node state, reachable
  count, score = multiplier × reachable). The score is what the policy reads as
  ``NodeAttributes.connectivity``.
- ``subscribe(callback)``: CALLBACK(status) after every change of a ping
  node's state, so the coordinator can share the new score with the cluster.
- ``status_doc()``: the ``connectivity`` object of the status document
  (``docs/status.md``).

A configuration without ping nodes opens no socket and always scores 0. A
configuration with ping nodes that cannot open an ICMP socket does not start:
a node that cannot ping would look cut off and lose its resources for nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from vigil.config import Connectivity, Timing
from vigil.connectivity import (
    ConnectivityStatus,
    ConnectivityTracker,
    PingNodeChanged,
    PingNodeState,
)
from vigil.daemon.clock import Clock
from vigil.daemon.logsetup import LOGGER_NAME, kv
from vigil.exitcodes import VigilError
from vigil.net import Pinger, PingError

log = logging.getLogger(f"{LOGGER_NAME}.connectivity")

Listener = Callable[[ConnectivityStatus], None]


class ConnectivityMonitor:
    """Pings CONNECTIVITY's ping nodes every TIMING keepalive, on CLOCK."""

    def __init__(self, connectivity: Connectivity, timing: Timing, clock: Clock) -> None:
        self.clock = clock
        self.interval_ms = timing.keepalive_ms
        self.tracker = ConnectivityTracker(connectivity, timing.deadtime_ms, clock.now_ms())
        self.pinger = Pinger(self.tracker.addresses, self._on_reply)
        self.sockets: dict[int, str] = {}
        self._listeners: list[Listener] = []
        self._handle: asyncio.TimerHandle | None = None
        self._next_ms = 0

    def start(self) -> None:
        """Open the ICMP sockets and send the first round; ``VigilError`` if none can open."""
        self.open()
        self.run()

    def open(self) -> None:
        """Open the ICMP sockets (in the calling thread's network namespace)."""
        if not self.tracker.addresses:
            return
        try:
            self.sockets = self.pinger.open()
        except PingError as e:
            raise VigilError(str(e), hint="or remove the ping/ping_group lines") from e

    def run(self) -> None:
        """Ping every keepalive from now on, from the running event loop."""
        if not self.sockets:
            return
        self.pinger.start()
        log.info(kv("pinging ping nodes", addresses=",".join(self.tracker.addresses),
                    interval_ms=self.interval_ms, deadping_ms=self.tracker.deadping_ms,
                    sockets=",".join(sorted(self.sockets.values()))))
        self._next_ms = self.clock.now_ms()
        self._round()

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self.pinger.close()

    def snapshot(self) -> ConnectivityStatus:
        return self.tracker.status(self.clock.now_ms())

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def status_doc(self) -> dict[str, Any]:
        snap = self.snapshot()
        return {
            "score": snap.score,
            "reachable": snap.reachable,
            "multiplier": snap.multiplier,
            "deadping_ms": snap.deadping_ms,
            "ping_nodes": [{
                "name": p.name,
                "group": p.is_group,
                "addresses": list(p.addresses),
                "state": p.state.value,
                "last_reply_ms": p.last_reply_ago_ms,
                "reason": p.reason,
                "sent": sum(self.pinger.stats[a].sent for a in p.addresses),
                "received": sum(self.pinger.stats[a].received for a in p.addresses),
            } for p in snap.ping_nodes],
        }

    def _round(self) -> None:
        # A fixed grid (start + n × keepalive), as the heartbeats: a late wake-up
        # delays one round, never the ones after it.
        self._handle = None
        self.pinger.ping_round()
        self._changed(self.tracker.tick(self.clock.now_ms()))
        now = self.clock.now_ms()
        while self._next_ms <= now:
            self._next_ms += self.interval_ms
        self._handle = self.clock.loop.call_at(self.clock.loop_time(self._next_ms), self._round)

    def _on_reply(self, address: str) -> None:
        self._changed(self.tracker.reply_received(address, self.clock.now_ms()))

    def _changed(self, changes: tuple[PingNodeChanged, ...]) -> None:
        if not changes:
            return
        snap = self.snapshot()
        for change in changes:
            say = log.info if change.new is PingNodeState.UP else log.warning
            say(kv(f"ping node {change.new.value}", ping_node=change.name,
                   was=change.old.value, reason=change.reason, score=snap.score,
                   reachable=snap.reachable))
        for listener in self._listeners:
            try:
                listener(snap)
            except Exception:
                log.exception(kv("connectivity listener failed"))
