"""The alarm fires at the absolute moment asked for, and the core reads that moment."""

from __future__ import annotations

import asyncio
from typing import cast

from virtual_loop import VirtualLoop

from vigil.daemon.clock import Alarm, Clock


def _setup() -> tuple[VirtualLoop, Clock]:
    loop = VirtualLoop(1000.0)
    return loop, Clock(cast(asyncio.AbstractEventLoop, loop))


def test_alarm_reads_exactly_the_deadline_it_was_set_for() -> None:
    loop, clock = _setup()
    seen: list[int] = []
    alarm = Alarm(clock, seen.append, "membership")
    # 0.1 s steps are not exact in binary floating point; the core must still read 100, 200...
    for at in (100, 200, 300, 1300):
        alarm.set(at)
        loop.run_until(1000.0 + at / 1000 + 0.0004)
    assert seen == [100, 200, 300, 1300]


def test_setting_the_alarm_again_replaces_the_earlier_deadline() -> None:
    loop, clock = _setup()
    seen: list[int] = []
    alarm = Alarm(clock, seen.append, "membership")
    alarm.set(500)
    alarm.set(200)
    loop.run_until(1001.0)
    assert seen == [200]


def test_a_late_wake_up_is_measured_and_a_failing_callback_does_not_stop_the_alarm() -> None:
    loop, clock = _setup()
    calls: list[int] = []

    def flaky(now_ms: int) -> None:
        calls.append(now_ms)
        raise RuntimeError("bug in one step")

    alarm = Alarm(clock, flaky, "membership")
    alarm.set(100)
    loop.now = 1000.35  # the process was stalled past the deadline
    loop.run_until(1000.4)
    alarm.set(500)
    loop.run_until(1001.0)
    assert calls == [350, 500]
    assert alarm.late_ms_max == 250
