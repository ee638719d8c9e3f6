"""The daemon's one clock, and the one alarm the membership core asks for.

Every ``now_ms`` the core sees comes from ``Clock.now_ms``, which reads the
event loop's monotonic clock: wall-clock jumps (NTP, an administrator's
``date``) cannot make a peer look dead or alive.

Heartbeats do not drift under load because nothing here sleeps for an
interval: the core keeps a fixed grid (start + n × keepalive, missed slots
skipped, not bunched) and names the next moment something is due
(``SetTimer(at_ms)``); ``Alarm`` fires at that absolute moment with
``loop.call_at``. A late wake-up makes one beat late, never the ones after
it (as keepalived's single timer thread on one monotonic clock).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from vigil.daemon.logsetup import LOGGER_NAME, kv

log = logging.getLogger(f"{LOGGER_NAME}.clock")


class Clock:
    """Milliseconds since the daemon started, from the loop's monotonic clock."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.origin = loop.time()

    def now_ms(self) -> int:
        # rounded, not truncated: a timer set for T must read T when it fires
        return round((self.loop.time() - self.origin) * 1000)

    def loop_time(self, at_ms: int) -> float:
        """The loop time at which ``now_ms()`` reaches AT_MS (for ``call_at``)."""
        return self.origin + at_ms / 1000


class Alarm:
    """One absolute-time alarm: ``set(at_ms)`` replaces the previous one."""

    def __init__(self, clock: Clock, callback: Callable[[int], None], name: str) -> None:
        self.clock = clock
        self.callback = callback
        self.name = name
        self.at_ms: int | None = None
        self.fired = 0
        self.late_ms_max = 0  # the worst lateness seen: how loaded the loop has been
        self._handle: asyncio.TimerHandle | None = None

    def set(self, at_ms: int) -> None:
        self.cancel()
        self.at_ms = at_ms
        self._handle = self.clock.loop.call_at(self.clock.loop_time(at_ms), self._fire)

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self.at_ms = None

    def _fire(self) -> None:
        due, self._handle, self.at_ms = self.at_ms, None, None
        now = self.clock.now_ms()
        if due is not None and now - due > self.late_ms_max:
            self.late_ms_max = now - due
        self.fired += 1
        try:
            self.callback(now)
        except Exception:
            # A bug in one step must not stop the heartbeat; log it and go on.
            log.exception(kv("timer callback failed", timer=self.name))
