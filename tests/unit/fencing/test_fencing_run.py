"""A fence run through its levels: fallback, all-devices-must-succeed, reboot as off+on."""

from __future__ import annotations

from vigil.config import NodeName
from vigil.fencing import DeviceOutcome, DeviceResult, FenceAction, FenceRun, Level, Step

N2 = NodeName("node2")


def result(step: Step, ok: bool) -> DeviceResult:
    return DeviceResult(step.device, step.action, "node2",
                        DeviceOutcome.SUCCEEDED if ok else DeviceOutcome.FAILED,
                        0 if ok else 1, "", 10)


def drive(run: FenceRun, failing: set[tuple[str, FenceAction]]) -> list[tuple[str, str]]:
    """Run to the end; the (device, action) pairs in FAILING fail. The steps taken."""
    taken = []
    while (step := run.next_step()) is not None:
        taken.append((step.device, step.action.value))
        run.record(result(step, (step.device, step.action) not in failing))
    return taken


def test_first_level_success_stops_there() -> None:
    run = FenceRun(N2, FenceAction.OFF, (Level(1, ("ipmi",)), Level(2, ("pdu",))))
    assert drive(run, set()) == [("ipmi", "off")]
    assert run.succeeded
    assert run.devices == ("ipmi",)


def test_failed_level_falls_back_to_the_next() -> None:
    run = FenceRun(N2, FenceAction.OFF, (Level(1, ("ipmi",)), Level(2, ("pdu",))))
    assert drive(run, {("ipmi", FenceAction.OFF)}) == [("ipmi", "off"), ("pdu", "off")]
    assert run.succeeded
    assert run.devices == ("pdu",)
    assert "level 1 failed at ipmi" in run.summary


def test_level_of_two_devices_fails_when_one_does_and_skips_the_rest_of_it() -> None:
    levels = (Level(1, ("psu-a", "psu-b", "psu-c")), Level(2, ("ipmi",)))
    run = FenceRun(N2, FenceAction.OFF, levels)
    taken = drive(run, {("psu-b", FenceAction.OFF)})
    assert taken == [("psu-a", "off"), ("psu-b", "off"), ("ipmi", "off")]
    assert run.devices == ("ipmi",)


def test_every_level_failing_fails_the_fence_and_says_which() -> None:
    run = FenceRun(N2, FenceAction.REBOOT, (Level(1, ("ipmi",)), Level(2, ("pdu",))))
    drive(run, {("ipmi", FenceAction.REBOOT), ("pdu", FenceAction.REBOOT)})
    assert run.done
    assert not run.succeeded
    assert run.devices == ()
    assert "level 1 failed at ipmi" in run.summary
    assert "level 2 failed at pdu" in run.summary


def test_reboot_through_two_power_supplies_is_all_off_then_all_on() -> None:
    run = FenceRun(N2, FenceAction.REBOOT, (Level(1, ("psu-a", "psu-b")),))
    assert drive(run, set()) == [("psu-a", "off"), ("psu-b", "off"),
                                 ("psu-a", "on"), ("psu-b", "on")]
    assert run.succeeded


def test_failed_power_on_after_every_off_still_counts_as_fenced() -> None:
    run = FenceRun(N2, FenceAction.REBOOT, (Level(1, ("psu-a", "psu-b")),))
    drive(run, {("psu-b", FenceAction.ON)})
    assert run.succeeded
    assert "psu-b did not power node2 back on" in run.summary


def test_no_capable_device_is_a_failed_run_with_no_steps() -> None:
    run = FenceRun(N2, FenceAction.OFF, ())
    assert run.next_step() is None
    assert run.done
    assert not run.succeeded
    assert run.summary == "no fence device can fence node2"
