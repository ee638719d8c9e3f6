"""Just enough of an asyncio loop for the daemon's Alarm: time moves only when the test says."""

from __future__ import annotations

from collections.abc import Callable


class _Handle:
    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class VirtualLoop:
    """``time`` and ``call_at`` of an event loop; callbacks fire as the test moves time."""

    def __init__(self, now: float) -> None:
        self.now = now
        self.pending: list[tuple[float, Callable[[], None], _Handle]] = []

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback: Callable[[], None]) -> _Handle:
        handle = _Handle()
        self.pending.append((when, callback, handle))
        return handle

    def run_until(self, t: float) -> None:
        """Fire every callback due by T, in time order, then stand at T."""
        while True:
            due = sorted((p for p in self.pending if not p[2].cancelled), key=lambda p: p[0])
            if not due or due[0][0] > t:
                self.now = t
                return
            self.pending.remove(due[0])
            self.now = max(self.now, due[0][0])
            due[0][1]()

    def advance(self, ms: int) -> None:
        self.run_until(self.now + ms / 1000)
