"""The holder sampler's log and the partition figures: two holders, one holder, the client."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.failover.holders import HolderLog
from bench.failover.partition import client_follows, figures
from bench.failover.probelog import ProbeLog

VIP = "192.0.2.50"
MS = 1_000_000


def holder_log(tmp_path: Path, samples: list[tuple[int, str]], took_ms: int = 1) -> HolderLog:
    """SAMPLES: (start ms, holders comma-separated) on a 10 ms grid."""
    path = tmp_path / "holders.log"
    path.write_text("".join(f"{t * MS} {(t + took_ms) * MS} {VIP}={who}\n" for t, who in samples))
    return HolderLog(path).poll()


def probe_log(answers: list[tuple[int, str | None]]) -> ProbeLog:
    log = ProbeLog()
    lines = []
    for seq, (t, who) in enumerate(answers, 1):
        lines.append(f"S {seq} {t * MS}")
        if who:
            lines.append(f"R {seq} {t * MS} {(t + 1) * MS} {who} {VIP}")
    log.feed("\n".join(lines) + "\n")
    return log


def test_split_brain_then_heal_gives_two_holder_time_and_the_final_holder(
        tmp_path: Path) -> None:
    # n1 alone, both from 100 ms, heal at 300, n2 gives up at 350: n1 alone for good.
    samples = [(t, "n1" if t < 100 or t >= 350 else "n1,n2") for t in range(0, 600, 10)]
    log = holder_log(tmp_path, samples)
    assert log.multi_holder_s(VIP, 0.0, 0.6) == pytest.approx(0.25)
    settled = log.settled_on_one(VIP, 0.3, 0.6)
    assert settled is not None
    assert settled[0] == pytest.approx(0.351)
    assert settled[1] == "n1"
    assert log.resolution(0.0, 0.591) == pytest.approx(0.011)
    probes = probe_log([(t, "n2" if 100 <= t < 380 else "n1") for t in range(0, 600, 10)])
    got = figures(log, probes, cut_ns=100 * MS, heal_ns=300 * MS, end_s=0.6, delay_ms=5.0)
    assert got.final == "n1"
    assert got.two_holders_ms == pytest.approx(250)
    assert got.one_holder_ms == pytest.approx(51)
    assert got.client_ms == pytest.approx(81)
    assert got.lost == 0


def test_a_client_stuck_on_the_loser_loses_questions_until_it_follows(tmp_path: Path) -> None:
    log = holder_log(tmp_path, [(t, "n1") for t in range(0, 600, 10)])
    probes = probe_log([(t, None if 200 <= t < 400 else "n1") for t in range(0, 600, 10)])
    got = figures(log, probes, cut_ns=100 * MS, heal_ns=150 * MS, end_s=0.6, delay_ms=0.0)
    assert got.lost == 20
    assert client_follows(probes, "n1", 150 * MS) == 401 * MS


def test_nobody_holding_at_the_end_never_settles(tmp_path: Path) -> None:
    log = holder_log(tmp_path, [(t, "n1,n2" if t < 300 else "") for t in range(0, 600, 10)])
    got = figures(log, probe_log([]), cut_ns=0, heal_ns=200 * MS, end_s=0.6, delay_ms=0.0)
    assert got.final is None
    assert got.one_holder_ms is None
    assert got.client_ms is None


def test_a_stalled_sampler_shows_in_the_resolution(tmp_path: Path) -> None:
    log = holder_log(tmp_path, [(0, "n1"), (10, "n1"), (80, "n1"), (90, "n1")])
    assert log.resolution(0.0, 0.091) == pytest.approx(0.071)  # 81 ms end - 10 ms start
