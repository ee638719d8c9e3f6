"""The prober's log read back: the outage is fault to the first answer from the other node."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from bench.failover.probelog import Answer, ProbeLog, Question, measure, parse_line

MS = 1_000_000


def log_of(events: Sequence[tuple[int, str | None]]) -> ProbeLog:
    """A question every 10 ms from t=0; EVENTS: (send time ms, who answered 1 ms later)."""
    lines = []
    for seq, (sent_ms, who) in enumerate(events, 1):
        lines.append(f"S {seq} {sent_ms * MS}")
        if who is not None:
            lines.append(f"R {seq} {sent_ms * MS} {(sent_ms + 1) * MS} {who} 192.0.2.50")
    log = ProbeLog()
    log.feed("\n".join(lines) + "\n")
    return log


@pytest.mark.parametrize(("line", "record"), [
    ("S 7 123", Question(7, 123)),
    ("R 7 123 456 n2 192.0.2.50", Answer(7, 123, 456, "n2", "192.0.2.50")),
    ("R 7 123 45", None),          # torn while being written
    ("R x 123 456 n2 192.0.2.50", None),
    ("", None),
])
def test_log_lines_are_read_and_torn_ones_ignored(line: str, record: object) -> None:
    assert parse_line(line) == record


def test_a_line_split_across_reads_is_read_once_whole() -> None:
    log = ProbeLog()
    log.feed("S 1 10\nR 1 10 2")
    assert log.answers == []
    log.feed("0 n1 192.0.2.50\nS 2 ")
    assert log.answers == [Answer(1, 10, 20, "n1", "192.0.2.50")]
    assert log.questions == [Question(1, 10)]


def test_crash_outage_runs_from_fault_to_first_answer_of_the_standby() -> None:
    # n1 answers until 100 ms, fault at 105 ms, nobody until n2 answers the 400 ms probe.
    events = [(t, "n1" if t <= 100 else None) for t in range(0, 400, 10)]
    events += [(t, "n2") for t in range(400, 450, 10)]
    outage = measure(log_of(events), "n1", 105 * MS)
    assert outage is not None
    assert outage.outage_ms == pytest.approx(296)      # 401 - 105
    assert outage.silence_ms == pytest.approx(300)     # 401 - 101, the last n1 answer
    assert outage.lost == 29                           # 110 .. 390 unanswered
    assert outage.old_answers_after_fault == 0


def test_answers_from_the_old_node_after_the_fault_do_not_end_the_outage() -> None:
    # A graceful stop: n1 keeps answering 50 ms after the SIGTERM, then n2 takes over.
    events = [(t, "n1") for t in range(0, 150, 10)] + [(150, None), (160, "n2")]
    outage = measure(log_of(events), "n1", 95 * MS)
    assert outage is not None
    assert outage.outage_ms == pytest.approx(66)       # 161 - 95
    assert outage.silence_ms == pytest.approx(20)      # 161 - 141
    assert outage.old_answers_after_fault == 5         # 100 .. 140
    assert outage.lost == 1


def test_no_outage_is_reported_while_only_the_old_node_ever_answered() -> None:
    events = [(t, "n1") for t in range(0, 300, 10)]
    assert measure(log_of(events), "n1", 100 * MS) is None


def test_steady_means_only_that_node_answered_and_recently() -> None:
    log = log_of([(t, "n1") for t in range(0, 500, 10)])
    assert log.steady("n1", since_ns=0, now_ns=500 * MS, gap_ns=20 * MS)
    assert not log.steady("n1", since_ns=0, now_ns=600 * MS, gap_ns=20 * MS)  # went quiet
    assert not log.steady("n2", since_ns=0, now_ns=500 * MS, gap_ns=20 * MS)
    mixed = log_of([(0, "n2"), (10, "n1"), (20, "n1")])
    assert not mixed.steady("n1", since_ns=0, now_ns=25 * MS, gap_ns=20 * MS)
