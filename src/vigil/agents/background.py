"""Work a built-in leaves running after its operation has returned.

The virtual IP's start returns after the first gratuitous ARP so a group goes
on starting; the remaining announcements run here, keyed by address so the
stop of that address cancels them. Whoever owns the agents (the executor)
awaits ``wait()`` before it goes away. Work that never ends by itself (the
address's periodic refresh) is marked ``endless``: ``wait()`` cancels it once
the rest is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger("vigil.agents")


class BackgroundTasks:
    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._endless: set[asyncio.Task[None]] = set()

    def replace(self, key: str, work: Coroutine[Any, Any, None], *,
                endless: bool = False) -> None:
        """Run WORK under KEY, cancelling what ran under KEY before. ENDLESS: WORK runs
        until cancelled (``wait()`` does not wait for it)."""
        self.cancel(key)
        task = asyncio.get_running_loop().create_task(work, name=f"vigil-agent-{key}")
        self._tasks[key] = task
        if endless:
            self._endless.add(task)
            task.add_done_callback(self._endless.discard)

        def done(t: asyncio.Task[None]) -> None:
            if self._tasks.get(key) is t:
                del self._tasks[key]
            if not t.cancelled() and t.exception() is not None:
                log.warning("background agent work failed key=%s error=%r", key, t.exception())

        task.add_done_callback(done)

    def cancel(self, key: str) -> None:
        task = self._tasks.pop(key, None)
        if task is not None:
            task.cancel()

    def pending(self) -> tuple[str, ...]:
        return tuple(self._tasks)

    async def wait(self) -> None:
        """Let every piece of background work finish; cancel the endless ones."""
        while self._tasks:
            tasks = [t for t in self._tasks.values() if t not in self._endless]
            if not tasks:
                await self.cancel_all()
                return
            await asyncio.gather(*tasks, return_exceptions=True)

    async def cancel_all(self) -> None:
        tasks = list(self._tasks.values())
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        self._tasks.clear()
