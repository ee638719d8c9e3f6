"""Reading the chaos records: when the exclusive service was active where, twice, or nowhere.

Every node keeps a record file its service's init script appends to (and the
harness, and the fence agent, when they kill what runs on the node), one line
per event, CLOCK_MONOTONIC seconds first::

    12.345678 start-begin          the init script was asked to start the service
    12.401234 start-end 0          ... and returned (its exit code)
    20.000001 stop-begin
    20.051234 stop-end 0           the server is gone
    25.500000 killed crash         every process of the node frozen (a crash)
    25.500000 killed fence         the fence agent killed every process of the node
    28.000000 boot                 the harness started the node again

The service counts as active on a node from ``start-begin`` (it may be
running from then on) to the next ``stop-end`` or ``killed`` (it certainly is
not): the widest interval, so an overlap of two nodes is never missed. Pure:
text in, figures out.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Interval:
    node: str
    start: float
    end: float  # the end of the run, when the service was still active then
    ended_by: str  # "stop", "crash", "fence", "still active"


@dataclass(frozen=True, slots=True)
class Overlap:
    """A stretch of time with the service active on two or more nodes."""

    start: float
    end: float
    nodes: tuple[str, ...]

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass
class ChaosReport:
    """The figures of one chaos run over [BEGIN, END]."""

    begin: float
    end: float
    intervals: list[Interval] = field(default_factory=list)
    overlaps: list[Overlap] = field(default_factory=list)
    outage_s: float = 0.0
    starts: int = 0
    kills: dict[str, int] = field(default_factory=dict)

    @property
    def double_active_s(self) -> float:
        return sum(o.seconds for o in self.overlaps)

    def summary(self) -> str:
        kills = ", ".join(f"{n} {why}" for why, n in sorted(self.kills.items())) or "none"
        worst = max((o.seconds for o in self.overlaps), default=0.0)
        return (f"{self.end - self.begin:.1f} s: {len(self.overlaps)} moments with the service "
                f"active on two nodes ({self.double_active_s * 1000:.0f} ms in all, longest "
                f"{worst * 1000:.0f} ms); outage (active nowhere) {self.outage_s * 1000:.0f} ms; "
                f"{self.starts} starts; killed: {kills}")


def parse(text: str) -> list[tuple[float, str]]:
    """(time, event) per line; torn or foreign lines are skipped."""
    out = []
    for line in text.splitlines():
        words = line.split()
        if len(words) < 2:
            continue
        try:
            out.append((float(words[0]), " ".join(words[1:])))
        except ValueError:
            continue
    return sorted(out)


def intervals(node: str, events: list[tuple[float, str]], end: float) -> list[Interval]:
    """NODE's active intervals (see the module's rule), the last one open up to END."""
    out: list[Interval] = []
    began: float | None = None
    for moment, event in events:
        kind = event.split()[0]
        if kind == "start-begin" and began is None:
            began = moment
        elif kind in ("stop-end", "killed") and began is not None:
            why = "stop" if kind == "stop-end" else event.split()[-1]
            out.append(Interval(node, began, moment, why))
            began = None
    if began is not None:
        out.append(Interval(node, began, max(end, began), "still active"))
    return out


def down(events: list[tuple[float, str]], end: float) -> list[tuple[float, float]]:
    """When the node was off (killed, not yet booted again): its addresses, still configured
    in its namespace behind a dead link, serve nobody then."""
    out: list[tuple[float, float]] = []
    since: float | None = None
    for moment, event in events:
        if event.startswith("killed") and since is None:
            since = moment
        elif event == "boot" and since is not None:
            out.append((since, moment))
            since = None
    if since is not None:
        out.append((since, end))
    return out


def check(records: dict[str, str], begin: float, end: float) -> ChaosReport:
    """The report of RECORDS (node -> its record file's text) over [BEGIN, END]."""
    report = ChaosReport(begin, end)
    for node, text in sorted(records.items()):
        events = parse(text)
        report.intervals += intervals(node, events, end)
        report.starts += sum(1 for t, e in events if e == "start-begin" and begin <= t <= end)
        for t, e in events:
            if e.startswith("killed") and begin <= t <= end:
                why = e.split()[-1]
                report.kills[why] = report.kills.get(why, 0) + 1
    # Sweep the interval edges: how many nodes are active between consecutive edges.
    edges = sorted({begin, end, *(x for i in report.intervals for x in (i.start, i.end)
                                  if begin < x < end)})
    for a, b in itertools.pairwise(edges):
        mid = (a + b) / 2
        active = tuple(sorted({i.node for i in report.intervals if i.start <= mid < i.end}))
        if len(active) > 1:
            last = report.overlaps[-1] if report.overlaps else None
            if last is not None and last.end == a and last.nodes == active:
                report.overlaps[-1] = Overlap(last.start, b, active)
            else:
                report.overlaps.append(Overlap(a, b, active))
        elif not active:
            report.outage_s += b - a
    return report


def read(record_files: dict[str, Path], begin: float, end: float) -> ChaosReport:
    """``check`` of the record files that exist (a node that never started has none)."""
    texts = {node: path.read_text() for node, path in record_files.items() if path.exists()}
    return check(texts, begin, end)


__all__ = ["ChaosReport", "Interval", "Overlap", "check", "down", "intervals", "parse", "read"]
