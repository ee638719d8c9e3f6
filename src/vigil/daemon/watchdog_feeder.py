"""Feeding the watchdog from the main loop, only while this node is healthy.

Rules of this file:
- The device is opened (armed, its timeout set to ``watchdog_timeout_ms``) at
  start-up, before any resource can start; a device that cannot be opened
  stops the daemon (a configured watchdog that is not there is not safety).
- Every keepalive, on the event loop itself, ``WatchdogGuard`` (the rule the
  simulator checks, ``vigil.coordinator.fencing_rules``) decides from how late
  this tick ran, quorum, whether the peers agree with this node's view, and
  whether anything runs here. A loop that hangs cannot feed at all.
- A clean stop writes the magic 'V' (disarm); anything else leaves it armed,
  so the node resets after the timeout, as Heartbeat's ``watchdog`` did.
- Each change between feeding and not feeding is logged once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vigil.config import ClusterConfig
from vigil.coordinator import WatchdogGuard, watchdog_timeout_ms
from vigil.daemon.clock import Clock
from vigil.daemon.logsetup import LOGGER_NAME, kv
from vigil.daemon.watchdog import Watchdog, WatchdogError
from vigil.exitcodes import VigilError

log = logging.getLogger(f"{LOGGER_NAME}.watchdog")


@dataclass(frozen=True, slots=True)
class Health:
    """What the feeder asks the daemon at each tick."""

    quorate: bool
    stable: bool
    resources_stopped: bool  # probed, and nothing active here
    blocked: bool = False  # a stop failed here


class WatchdogFeeder:
    """Feeds DEVICE every keepalive while ``health()`` says this node is healthy."""

    def __init__(self, config: ClusterConfig, device: Path, clock: Clock,
                 health: Callable[[], Health], *, watchdog: Watchdog | None = None) -> None:
        self.device = device
        self.clock = clock
        self.health = health
        self.period_ms = config.timing.keepalive_ms
        self.timeout_ms = watchdog_timeout_ms(config)
        self.guard = WatchdogGuard.for_config(config)
        self.watchdog = watchdog if watchdog is not None else Watchdog()
        self.feeding: bool | None = None
        self.reason = "not started"
        self._due_ms = 0
        self._handle: asyncio.TimerHandle | None = None

    def start(self) -> None:
        """Open (arm) the device and feed it at once; ``VigilError`` when it cannot."""
        try:
            self.watchdog.open(self.device, self.timeout_ms // 1000)
            self.watchdog.feed()
        except WatchdogError as e:
            self.watchdog.close()
            raise VigilError(str(e), hint="load softdog (modprobe softdog) or fix the "
                             "`watchdog` setting") from e
        self.feeding, self.reason = True, "armed and fed at start-up"
        log.info(kv("watchdog armed", device=self.device, timeout_ms=self.timeout_ms,
                    feed_every_ms=self.period_ms))
        self._schedule(self.clock.now_ms())

    def _schedule(self, now_ms: int) -> None:
        self._due_ms = now_ms + self.period_ms
        self._handle = self.clock.loop.call_later(self.period_ms / 1000, self._tick)

    def _tick(self) -> None:
        self._handle = None
        now = self.clock.now_ms()
        try:
            h = self.health()
        except Exception:  # a bug must not stop the ticks: not fed, and said loudly
            log.exception(kv("watchdog health check failed"))
            h = Health(quorate=False, stable=False, resources_stopped=False)
        feed, why = self.guard.decide(now, lag_ms=max(0, now - self._due_ms),
                                      quorate=h.quorate, stable=h.stable,
                                      resources_stopped=h.resources_stopped,
                                      blocked=h.blocked)
        if feed:
            try:
                self.watchdog.feed()
            except WatchdogError as e:
                feed, why = False, str(e)
        if feed != self.feeding:
            level = logging.INFO if feed else logging.ERROR
            log.log(level, kv("watchdog fed" if feed else
                              "watchdog NOT fed: this node resets unless it recovers",
                              reason=why, timeout_ms=self.timeout_ms))
        self.feeding, self.reason = feed, why
        self._schedule(now)

    def close(self, *, clean: bool) -> None:
        """Stop feeding; on a CLEAN stop disarm with the magic 'V', else leave it armed."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if clean:
            try:
                self.watchdog.close_cleanly()
            except WatchdogError as e:
                log.error(kv("watchdog not disarmed", error=e))
            log.info(kv("watchdog disarmed (magic close)", device=self.device))
        else:
            self.watchdog.close()

    def status_doc(self) -> dict[str, Any]:
        return {"device": str(self.device), "timeout_ms": self.timeout_ms,
                "feeding": self.feeding, "reason": self.reason, "feeds": self.watchdog.feeds}
