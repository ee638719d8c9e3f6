"""The figures of a run: per (fault, profile, peer) the outages measured, summarised
as median (min–max), the ratio vigil/peer, as a table for people or JSON. Pure.
"""

from __future__ import annotations

import enum
import statistics
from dataclasses import dataclass, field
from typing import Any

from .matrix import Fault, Profile, Row

REFERENCE = "vigil"


class Status(enum.Enum):
    MEASURED = "measured"
    UNSUPPORTED = "unsupported"   # the peer has no such thing: "—"
    NOT_READY = "not ready"       # vigil before the feature lands
    MISSING = "not installed"


@dataclass(frozen=True, slots=True)
class Stats:
    median: float
    low: float
    high: float
    count: int


def stats(values: list[float]) -> Stats | None:
    if not values:
        return None
    return Stats(statistics.median(values), min(values), max(values), len(values))


@dataclass
class Cell:
    """One peer at one fault and profile, over all runs."""

    peer: str
    fault: Fault
    profile: Profile
    status: Status = Status.MEASURED
    note: str = ""
    outages_ms: list[float] = field(default_factory=list)
    silences_ms: list[float] = field(default_factory=list)
    lost: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    #: Partition trials: per measure of PARTITION_MEASURES, the value of every trial that had
    #: one (a trial that never settled has none for "one holder" and "client").
    partition: dict[str, list[float]] = field(default_factory=dict)
    unsettled: int = 0

    @property
    def settled(self) -> bool:
        """Nothing more to run for it (a peer that cannot, or is not there)."""
        return self.status is not Status.MEASURED


def _ms(value: float) -> str:
    return f"{value:.0f}"


def figure(cell: Cell | None, values: str = "outages_ms") -> str:
    """``1328 (1210–1410)``; ``—`` for what the peer has not; words for the rest."""
    if cell is None:
        return ""
    if cell.status is Status.UNSUPPORTED:
        return "—"
    if cell.status is not Status.MEASURED:
        return str(cell.status.value)
    summary = stats(cell.silences_ms if values == "silences_ms" else cell.outages_ms)
    failed = f", {len(cell.failures)} failed" if cell.failures else ""
    if summary is None:
        return f"no result{failed}" if cell.failures else "not run"
    return f"{_ms(summary.median)} ({_ms(summary.low)}–{_ms(summary.high)}){failed}"


def ratio(mine: Cell | None, theirs: Cell | None) -> float | None:
    """vigil's median outage over the peer's, when both were measured."""
    if mine is None or theirs is None:
        return None
    a, b = stats(mine.outages_ms), stats(theirs.outages_ms)
    if a is None or b is None or b.median == 0:
        return None
    return a.median / b.median


#: What a partition trial measures, in the order of the table, with the words of its rows.
PARTITION_MEASURES: tuple[tuple[str, str], ...] = (
    ("two_holders_ms", "VIP on both nodes, ms"),
    ("one_holder_ms", "heal to one holder for good, ms"),
    ("client_ms", "heal to the client answered by that holder, ms"),
    ("lost", "client questions lost (cut to then)"),
)


def summary(values: list[float]) -> str:
    s = stats(values)
    return "" if s is None else f"{_ms(s.median)} ({_ms(s.low)}–{_ms(s.high)})"


def partition_table(rows: tuple[Row, ...], cells: dict[tuple[str, Fault, Profile], Cell],
                    peers: tuple[str, ...]) -> str:
    """A Markdown table of the partition rows: a line per (profile, measure), a column per
    peer, each median (min–max) of the trials that had the figure."""
    header = ["keepalive/deadtime", "measure", *peers]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for row in rows:
        if row.fault is not Fault.PARTITION:
            continue
        for key, words in PARTITION_MEASURES:
            out = [row.profile.label, words]
            for p in peers:
                cell = cells.get((p, row.fault, row.profile))
                if cell is None or p not in row.peers:
                    out.append("")
                elif cell.status is not Status.MEASURED:
                    out.append(figure(cell))
                else:
                    text = summary(cell.partition.get(key, [])) or "—"
                    if key in ("one_holder_ms", "client_ms") and cell.unsettled:
                        text += f", {cell.unsettled} never settled"
                    out.append(text)
            lines.append("| " + " | ".join(out) + " |")
    return "\n".join(lines)


def _row_label(row: Row) -> tuple[str, str]:
    return row.fault.title, row.profile.label


def table(rows: tuple[Row, ...], cells: dict[tuple[str, Fault, Profile], Cell],
          peers: tuple[str, ...], values: str = "outages_ms") -> str:
    """A Markdown table: a row per (fault, profile), a column per peer, then the ratios."""
    others = [p for p in peers if p != REFERENCE]
    with_ratio = REFERENCE in peers and values == "outages_ms"
    header = ["fault", "keepalive/deadtime", *(f"{p} ms" for p in peers)]
    if with_ratio:
        header += [f"{REFERENCE}/{p}" for p in others]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for row in rows:
        if row.fault is Fault.PARTITION:
            continue  # its own table: partition_table
        found = {p: cells.get((p, row.fault, row.profile)) for p in peers}
        words = [*_row_label(row), *(figure(found[p], values) for p in peers)]
        if with_ratio:
            for p in others:
                r = ratio(found[REFERENCE], found[p])
                words.append("" if r is None else f"{r:.2f}")
        lines.append("| " + " | ".join(words) + " |")
    return "\n".join(lines)


def notes(cells: dict[tuple[str, Fault, Profile], Cell]) -> list[str]:
    """One line per distinct reason a cell holds no figure, and per failed trial."""
    seen: list[str] = []
    for cell in cells.values():
        if cell.note and cell.status is not Status.MEASURED:
            line = f"{cell.peer} {cell.status.value}: {cell.note}"
            if line not in seen:
                seen.append(line)
        for failure in cell.failures:
            seen.append(f"{cell.peer} {cell.fault.value} {cell.profile.label} failed: {failure}")
    return seen


def _summary_json(values: list[float]) -> dict[str, Any] | None:
    s = stats(values)
    return None if s is None else {"median": round(s.median, 1), "min": round(s.low, 1),
                                   "max": round(s.high, 1), "count": s.count}


def as_json(rows: tuple[Row, ...], cells: dict[tuple[str, Fault, Profile], Cell],
            header: dict[str, Any]) -> dict[str, Any]:
    out_rows = []
    for row in rows:
        peers_json = {}
        for p in row.peers:
            cell = cells.get((p, row.fault, row.profile))
            if cell is None:
                continue
            doc: dict[str, Any] = {
                "status": cell.status.value,
                "note": cell.note,
                "outage_ms": _summary_json(cell.outages_ms),
                "silence_ms": _summary_json(cell.silences_ms),
                "outages_ms": [round(v, 1) for v in cell.outages_ms],
                "silences_ms": [round(v, 1) for v in cell.silences_ms],
                "lost_probes": cell.lost,
                "failures": cell.failures,
            }
            peers_json[p] = doc
            if row.fault is Fault.PARTITION:
                doc["partition"] = {
                    key: {"summary": _summary_json(cell.partition.get(key, [])),
                          "values": [round(v, 1) for v in cell.partition.get(key, [])]}
                    for key, _ in PARTITION_MEASURES}
                doc["never_settled"] = cell.unsettled
        ratios = {}
        mine = cells.get((REFERENCE, row.fault, row.profile))
        for p in row.peers:
            r = ratio(mine, cells.get((p, row.fault, row.profile))) if p != REFERENCE else None
            if r is not None:
                ratios[f"{REFERENCE}/{p}"] = round(r, 3)
        out_rows.append({"fault": row.fault.value,
                         "keepalive_ms": row.profile.keepalive_ms,
                         "deadtime_ms": row.profile.deadtime_ms,
                         "peers": peers_json, "ratios": ratios})
    return {**header, "rows": out_rows}
