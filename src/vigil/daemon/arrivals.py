"""Counting histograms for what must be observed as it happens: heartbeat gaps, operation times.

Rules of this file:
- An observation is one ``bisect`` and two integer additions: the heartbeat
  receive path runs it for every accepted datagram and is CPU-sensitive.
- Everything else the metrics show is read from the daemon's state when
  scraped (``vigil.web.metrics``); only these need a record of the past.
- Bucket bounds are fixed when the daemon starts (a reload that changes
  keepalive keeps them): a series must not change its buckets under Prometheus.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["OPERATION_BOUNDS_MS", "Buckets", "HeartbeatArrivals", "HistogramSeries",
           "heartbeat_bounds_ms"]

K = TypeVar("K", bound=Hashable)

#: Agent operations: from a built-in's microseconds to a database's minutes.
OPERATION_BOUNDS_MS = (5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000,
                       60_000, 120_000)
#: Heartbeat gaps, in keepalives: on time, a little late (warntime territory), lost ones.
_HEARTBEAT_KEEPALIVES = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 5.0, 10.0)


def heartbeat_bounds_ms(keepalive_ms: int) -> tuple[int, ...]:
    """Bucket bounds for heartbeat gaps at KEEPALIVE_MS: fractions and multiples of it."""
    return tuple(sorted({max(1, round(f * keepalive_ms)) for f in _HEARTBEAT_KEEPALIVES}))


@dataclass(frozen=True, slots=True)
class HistogramSeries(Generic[K]):
    """One series at scrape time: non-cumulative ``counts`` (the last is above every bound)."""

    key: K
    bounds_ms: tuple[int, ...]
    counts: tuple[int, ...]
    sum_ms: int

    @property
    def count(self) -> int:
        return sum(self.counts)


class Buckets(Generic[K]):
    """Histograms keyed by K, sharing one set of bounds (milliseconds, upper bounds inclusive)."""

    __slots__ = ("_counts", "_sums", "bounds_ms")

    def __init__(self, bounds_ms: Sequence[int]) -> None:
        self.bounds_ms = tuple(bounds_ms)
        self._counts: dict[K, list[int]] = {}
        self._sums: dict[K, int] = {}

    def observe(self, key: K, value_ms: int) -> None:
        counts = self._counts.get(key)
        if counts is None:
            counts = self._counts[key] = [0] * (len(self.bounds_ms) + 1)
            self._sums[key] = 0
        # bisect_left: a value equal to a bound belongs to it (Prometheus's le).
        counts[bisect_left(self.bounds_ms, value_ms)] += 1
        self._sums[key] += value_ms

    def series(self) -> Iterator[HistogramSeries[K]]:
        for key, counts in self._counts.items():
            yield HistogramSeries(key, self.bounds_ms, tuple(counts), self._sums[key])


class HeartbeatArrivals:
    """The gap between two heartbeats of one peer on one link, as they arrived.

    The runtime reads its sockets on a grid, but passes each heartbeat's arrival
    time from the kernel's stamp: a steady peer shows gaps of one keepalive,
    give or take the network's jitter (without stamps, give or take a read period).
    """

    __slots__ = ("_last", "buckets")

    def __init__(self, keepalive_ms: int) -> None:
        self.buckets: Buckets[tuple[str, str]] = Buckets(heartbeat_bounds_ms(keepalive_ms))
        self._last: dict[tuple[str, str], int] = {}

    def observe(self, node: str, link: str, now_ms: int) -> None:
        """A heartbeat of NODE was accepted on LINK at NOW_MS."""
        key = (node, link)
        last = self._last.get(key)
        self._last[key] = now_ms
        if last is not None:
            self.buckets.observe(key, now_ms - last)
