"""The chaos records read back: moments with the service active twice, and nowhere."""

from __future__ import annotations

import pytest
from bench.chaos_check import check, down, intervals, parse

RECORDS = {
    # node0 runs it, is partitioned away and stops late; node1 starts before that stop.
    "overlap": ({"node0": "0.0 start-begin\n0.1 start-end 0\n5.0 stop-begin\n5.2 stop-end 0\n",
                 "node1": "4.0 start-begin\n4.1 start-end 0\n"},
                [(4.0, 5.2, ("node0", "node1"))], 0.0),
    # a clean move: stop done before the other start: no overlap, 0.3 s with nobody.
    "clean move": ({"node0": "0.0 start-begin\n3.0 stop-begin\n3.2 stop-end 0\n",
                    "node1": "3.5 start-begin\n3.6 start-end 0\n"}, [], 0.3),
    # a crash ends it at once (the harness records it); the standby starts after.
    "crash": ({"node0": "0.0 start-begin\n2.0 killed crash\n",
               "node1": "3.0 start-begin\n"}, [], 1.0),
    # a fence lands after the other side started: active twice until the kill.
    "late fence": ({"node0": "0.0 start-begin\n2.5 killed fence\n",
                    "node1": "2.0 start-begin\n"}, [(2.0, 2.5, ("node0", "node1"))], 0.0),
}


@pytest.mark.parametrize(("records", "overlaps", "outage_s"), RECORDS.values(), ids=RECORDS)
def test_records_give_every_moment_with_two_active_and_the_outage(
        records: dict[str, str], overlaps: list[tuple[float, float, tuple[str, ...]]],
        outage_s: float) -> None:
    report = check(records, 0.0, 10.0)
    assert [(o.start, o.end, o.nodes) for o in report.overlaps] == overlaps
    assert report.outage_s == pytest.approx(outage_s)


def test_a_service_never_started_is_an_outage_of_the_whole_run() -> None:
    report = check({"node0": "", "node1": ""}, 1.0, 4.0)
    assert report.overlaps == []
    assert report.outage_s == pytest.approx(3.0)
    assert "0 moments" in report.summary()


def test_three_nodes_active_at_once_is_one_moment_naming_all_three() -> None:
    report = check({n: f"{i}.0 start-begin\n" for i, n in enumerate(["a", "b", "c"])}, 0, 5)
    assert [o.nodes for o in report.overlaps] == [("a", "b"), ("a", "b", "c")]
    assert report.double_active_s == pytest.approx(4.0)


def test_torn_lines_are_skipped_and_a_stop_without_a_start_changes_nothing() -> None:
    events = parse("1.0 start-begin\ngarbage\n2.0\n3.0 stop-end 0\n4.0 stop-end 0\n5.0 killed")
    spans = intervals("n", events, 10.0)
    assert [(i.start, i.end, i.ended_by) for i in spans] == [(1.0, 3.0, "stop")]


def test_a_node_is_off_from_its_kill_to_its_boot_and_until_the_end_if_never_booted() -> None:
    events = parse("1.0 start-begin\n2.0 killed crash\n3.0 boot\n5.0 killed fence\n")
    assert down(events, 9.0) == [(2.0, 3.0), (5.0, 9.0)]
