"""The watchdog: fed only while healthy, disarmed with 'V' on a clean shutdown."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from vigil.coordinator.fencing_rules import WatchdogGuard
from vigil.daemon.watchdog import Watchdog, WatchdogError


@pytest.mark.parametrize(("lag", "quorate", "stopped", "feed", "says"), [
    (10, True, False, True, "quorum held"),
    (10, False, True, True, "no resource runs here"),
    (10, False, False, False, "resources still active"),
    (1000, True, False, True, "quorum held"),  # exactly at the limit is not stalled
    (1001, True, False, False, "stalled 1001 ms"),
    (5000, False, True, True, "no resource runs here"),  # a stall with nothing to protect
])
def test_watchdog_is_fed_only_while_the_loop_runs_and_quorum_or_nothing_to_protect(
        lag: int, quorate: bool, stopped: bool, feed: bool, says: str) -> None:
    guard = WatchdogGuard(max_lag_ms=1000, max_unstable_ms=3000)
    fed, why = guard.decide(0, lag_ms=lag, quorate=quorate, stable=True,
                            resources_stopped=stopped)
    assert fed is feed
    assert says in why


def test_a_stall_with_resources_active_stops_feeding_for_good() -> None:
    guard = WatchdogGuard(max_lag_ms=1000, max_unstable_ms=3000)
    assert guard.decide(0, lag_ms=1500, quorate=True, stable=True,
                        resources_stopped=False)[0] is False
    assert guard.decide(100, lag_ms=0, quorate=True, stable=True,
                        resources_stopped=False)[0] is False


def test_a_failed_stop_here_stops_feeding_for_good_so_the_reset_makes_it_certain() -> None:
    # As SBD: a resource whose stop failed may still run; with no device able to
    # fence this node (or this node being the DC), only its own reset settles it.
    guard = WatchdogGuard(max_lag_ms=1000, max_unstable_ms=3000)
    fed, why = guard.decide(0, lag_ms=0, quorate=True, stable=True, resources_stopped=False,
                            blocked=True)
    assert (fed, "a stop failed here" in why) == (False, True)
    # A cleanup that unblocks it comes too late: the reset is on its way.
    assert guard.decide(100, lag_ms=0, quorate=True, stable=True, resources_stopped=False,
                        blocked=False)[0] is False


def test_a_view_peers_disagree_with_for_too_long_stops_feeding() -> None:
    guard = WatchdogGuard(max_lag_ms=1000, max_unstable_ms=3000)
    assert guard.decide(0, lag_ms=0, quorate=True, stable=False, resources_stopped=False)[0]
    fed, why = guard.decide(3001, lag_ms=0, quorate=True, stable=False,
                            resources_stopped=False)
    assert fed is False
    assert "peers disagree" in why


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A FIFO standing in for /dev/watchdog, with its reading end open."""
    path = tmp_path / "watchdog"
    os.mkfifo(path)
    reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        yield path, reader
    finally:
        os.close(reader)


def test_each_feed_reaches_the_device(fifo: tuple[Path, int]) -> None:
    path, reader = fifo
    dog = Watchdog()
    dog.open(path)
    for _ in range(3):
        dog.feed()
    assert os.read(reader, 100) == b"\0\0\0"
    assert dog.feeds == 3
    dog.close()


def test_clean_shutdown_writes_the_magic_v_and_closes(fifo: tuple[Path, int]) -> None:
    path, reader = fifo
    dog = Watchdog()
    dog.open(path)
    dog.feed()
    dog.close_cleanly()
    assert os.read(reader, 100) == b"\0V"
    assert os.read(reader, 100) == b""  # writer closed: EOF
    assert not dog.is_open
    dog.close_cleanly()  # a second shutdown path does nothing


def test_close_without_magic_leaves_the_watchdog_armed(tmp_path: Path) -> None:
    device = tmp_path / "watchdog-file"
    device.touch()
    dog = Watchdog()
    dog.open(device, timeout_s=30)  # not a character device: no ioctl
    dog.feed()
    dog.close()
    assert device.read_bytes() == b"\0"


def test_missing_device_is_an_error_naming_softdog(tmp_path: Path) -> None:
    with pytest.raises(WatchdogError, match="softdog"):
        Watchdog().open(tmp_path / "no-watchdog")


def test_feeding_a_closed_watchdog_is_an_error_not_a_silent_skip() -> None:
    with pytest.raises(WatchdogError, match="not open"):
        Watchdog().feed()
