"""When to push a new picture to the dashboard's open pages: when the cluster changed.

Rules of this file:
- Every change of cluster state is already one log line of the daemon at
  info or above (``peer dead``, ``view changed``, ``DC changed``, ``quorum``,
  the coordinator's decisions and actions, operation results: see
  docs/status.md and docs/coordinator.md). The feed listens to that stream
  instead of adding hooks to the membership and coordinator paths: nothing
  runs on the hot path for it.
- It listens only while at least one page is open (``watch``): with no
  browser connected the dashboard costs no CPU at all.
- Bursts are gathered (``debounce_s``): a failover logs a dozen lines within
  milliseconds and the pages need one new picture, not twelve.
- The dashboard's own log lines (``vigil.web``) never count: a login must not
  wake every page.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

__all__ = ["ChangeFeed"]


class ChangeFeed(logging.Handler):
    """A counter of changes (``version``) that ``wait`` can sleep on."""

    def __init__(self, logger: logging.Logger, debounce_s: float = 0.1) -> None:
        super().__init__(level=logging.INFO)
        self.logger = logger
        self.debounce_s = debounce_s
        self.version = 0
        self.watchers = 0
        self._changed = asyncio.Event()
        self._pending: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @contextlib.contextmanager
    def watch(self) -> Iterator[None]:
        """While inside: log lines count as changes (the first watcher attaches the feed)."""
        if self.watchers == 0:
            self._loop = asyncio.get_running_loop()
            self.logger.addHandler(self)
            # Nothing was counted while nobody watched: what was built before is stale.
            self.version += 1
        self.watchers += 1
        try:
            yield
        finally:
            self.watchers -= 1
            if self.watchers == 0:
                self.logger.removeHandler(self)
                if self._pending is not None:
                    self._pending.cancel()
                    self._pending = None

    def emit(self, record: logging.LogRecord) -> None:
        loop = self._loop
        if record.name.startswith(f"{self.logger.name}.web") or loop is None:
            return
        try:
            on_loop = asyncio.get_running_loop() is loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            self._schedule()
        else:  # a line logged by another thread: hand it to the loop
            loop.call_soon_threadsafe(self._schedule)

    def _schedule(self) -> None:
        if self._pending is None and self._loop is not None and self.watchers:
            self._pending = self._loop.call_later(self.debounce_s, self._fire)

    def bump(self) -> None:
        """Count a change now (the dashboard's own actions, a reload)."""
        self._fire()

    def _fire(self) -> None:
        self._pending = None
        self.version += 1
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait(self, seen: int, timeout_s: float) -> int:
        """The version after SEEN, or the current one after TIMEOUT_S without a change."""
        if self.version != seen:
            return self.version
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout_s)
        return self.version
