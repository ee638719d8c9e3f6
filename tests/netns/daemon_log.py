"""Moments read from a ``vigil daemon`` log, on the tests' CLOCK_MONOTONIC.

The daemon stamps its lines with the wall clock to the millisecond
(``2026-11-23T21:00:47.448 node0 vigil[42]: INFO: peer up node=node1 ...``);
the client, the holder sampler and the faults use CLOCK_MONOTONIC. ``Clock``
takes the offset between the two once, at the start of a test (the wall
clock is not stepped during one), so log moments line up with the rest to a
millisecond.
"""

from __future__ import annotations

import datetime
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

_STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}) ")


@dataclass(frozen=True)
class Clock:
    """Wall-clock seconds minus monotonic seconds, taken when made."""

    offset: float = field(default_factory=lambda: time.time() - time.monotonic())

    def monotonic(self, stamp: str) -> float:
        """A log line's local wall-clock stamp as CLOCK_MONOTONIC seconds."""
        wall = datetime.datetime.fromisoformat(stamp).timestamp()  # naive: local time
        return wall - self.offset


def lines_after(log: Path, clock: Clock, after: float, pattern: str) -> list[tuple[float, str]]:
    """(moment, line) of every line matching PATTERN stamped at or after AFTER (to the ms)."""
    found = []
    wanted = re.compile(pattern)
    for line in log.read_text(errors="replace").splitlines():
        stamp = _STAMP.match(line)
        if stamp is None or not wanted.search(line):
            continue
        moment = clock.monotonic(stamp.group(1))
        if moment >= after - 0.001:
            found.append((moment, line))
    return found


def heard_again(log: Path, clock: Clock, peer: str, after: float) -> float | None:
    """When the node of LOG first heard PEER again after AFTER (its ``peer up`` line)."""
    hits = lines_after(log, clock, after, rf"INFO: peer up node={re.escape(peer)} ")
    return hits[0][0] if hits else None


__all__ = ["Clock", "heard_again", "lines_after"]
