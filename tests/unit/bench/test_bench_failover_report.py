"""The figures table: median (min–max) per peer, ratios to vigil, and honest blanks."""

from __future__ import annotations

import pytest
from bench.failover.matrix import (
    DEFAULT_ROWS,
    FAST,
    HB_FAST,
    SLOW,
    Fault,
    Profile,
    Row,
    parse_profile,
    select_rows,
)
from bench.failover.report import Cell, Status, as_json, figure, ratio, table


@pytest.mark.parametrize(("text", "profile"), [
    ("100ms/300ms", Profile(100, 300)),
    ("0.1s/0.3s", Profile(100, 300)),
    ("200ms/1s", Profile(200, 1000)),
    ("1s/3s", Profile(1000, 3000)),
])
def test_profiles_read_as_written_on_the_command_line(text: str, profile: Profile) -> None:
    assert parse_profile(text) == profile


@pytest.mark.parametrize(("text", "why"), [
    ("200ms", "write a profile as KEEPALIVE/DEADTIME"),
    ("200ms/400ms", "more than twice the interval"),
    ("2/6", "not a duration"),
    ("1.0005s/3s", "whole number of milliseconds"),
    ("0ms/1s", "positive"),
])
def test_a_profile_that_cannot_work_is_refused_with_the_reason(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_profile(text)


def test_profile_labels_are_the_ones_people_write() -> None:
    assert [FAST.label, HB_FAST.label, SLOW.label] == ["100ms/300ms", "200ms/1s", "1s/3s"]


def test_choosing_peers_and_faults_keeps_only_rows_where_one_of_them_runs() -> None:
    rows = select_rows(("keepalived",), (Fault.CRASH, Fault.SWITCHOVER), None,
                       ("vigil", "keepalived", "heartbeat"))
    assert rows == (Row(Fault.CRASH, FAST, ("keepalived",)),
                    Row(Fault.CRASH, SLOW, ("keepalived",)))


def test_explicit_profiles_run_every_fault_for_every_chosen_peer() -> None:
    rows = select_rows(("heartbeat", "vigil"), (Fault.STOP,), (FAST, SLOW),
                       ("vigil", "keepalived", "heartbeat"))
    assert rows == (Row(Fault.STOP, FAST, ("vigil", "heartbeat")),
                    Row(Fault.STOP, SLOW, ("vigil", "heartbeat")))


def test_every_default_row_compares_vigil_with_a_peer() -> None:
    for row in DEFAULT_ROWS:
        assert row.peers[0] == "vigil"
        assert len(row.peers) >= 2


def cells_for(row: Row, **outages: list[float]) -> dict[tuple[str, Fault, Profile], Cell]:
    return {(peer, row.fault, row.profile):
            Cell(peer, row.fault, row.profile, outages_ms=values, silences_ms=values)
            for peer, values in outages.items()}


def test_a_cell_shows_median_min_and_max_and_counts_failures() -> None:
    cell = Cell("heartbeat", Fault.CRASH, HB_FAST, outages_ms=[1400.0, 1300.4, 1328.0])
    assert figure(cell) == "1328 (1300–1400)"
    cell.failures.append("n2 did not answer within 15 s")
    assert figure(cell) == "1328 (1300–1400), 1 failed"


@pytest.mark.parametrize(("status", "shown"), [
    (Status.UNSUPPORTED, "—"),
    (Status.NOT_READY, "not ready"),
    (Status.MISSING, "not installed"),
])
def test_a_cell_without_figures_says_why(status: Status, shown: str) -> None:
    assert figure(Cell("x", Fault.CRASH, FAST, status=status)) == shown


def test_the_ratio_is_vigils_median_over_the_peers() -> None:
    row = Row(Fault.CRASH, FAST, ("vigil", "keepalived"))
    cells = cells_for(row, vigil=[150.0, 160.0, 170.0], keepalived=[300.0, 320.0, 340.0])
    assert ratio(cells[("vigil", Fault.CRASH, FAST)],
                 cells[("keepalived", Fault.CRASH, FAST)]) == pytest.approx(0.5)
    text = table((row,), cells, ("vigil", "keepalived"))
    assert "| crash (frozen + link down) | 100ms/300ms | 160 (150–170) | 320 (300–340) | 0.50 |" \
        in text


def test_no_ratio_while_vigil_is_not_ready() -> None:
    row = Row(Fault.SWITCHOVER, HB_FAST, ("vigil", "heartbeat"))
    cells = cells_for(row, heartbeat=[561.0])
    cells[("vigil", Fault.SWITCHOVER, HB_FAST)] = Cell(
        "vigil", Fault.SWITCHOVER, HB_FAST, status=Status.NOT_READY, note="no standby yet")
    assert table((row,), cells, ("vigil", "heartbeat")).splitlines()[-1] == \
        "| planned switchover | 200ms/1s | not ready | 561 (561–561) |  |"
    doc = as_json((row,), cells, {"seed": 1})
    assert doc["rows"][0]["ratios"] == {}
    assert doc["rows"][0]["peers"]["vigil"]["status"] == "not ready"
    assert doc["rows"][0]["peers"]["heartbeat"]["outage_ms"]["median"] == 561.0
