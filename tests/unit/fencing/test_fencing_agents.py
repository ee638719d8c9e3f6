"""Fencing with real agents: Debian's fence_dummy and scripts speaking the fence-agents
protocol (options on stdin, exit 0 for success)."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from prereqs import require
from vigil.config import FenceDevice, NodeName
from vigil.fencing import (
    DeviceOutcome,
    FenceAction,
    Fencer,
    PowerState,
)

pytestmark = pytest.mark.timeout(60)

ME, N2, N3 = NodeName("node1"), NodeName("node2"), NodeName("node3")
FENCE_DUMMY = "/usr/sbin/fence_dummy"

# A fence agent as a script: logs what it read on stdin, then exits with rc= (default 0);
# hang=1 starts a child and waits forever, to be killed with its process group.
SCRIPT = """#!/bin/sh
opts=$(cat)
get() { printf '%s\\n' "$opts" | sed -n "s/^$1=//p" | tail -n 1; }
printf '%s\\n--\\n' "$opts" >> "$(get log)"
if [ "$(get hang)" = 1 ]; then
  sleep 30 &
  echo $! > "$(get pidfile)"
  wait
fi
echo "script agent says action=$(get action) plug=$(get plug)"
rc=$(get rc)
exit "${rc:-0}"
"""


@pytest.fixture
def fence_dummy() -> str:
    require(Path(FENCE_DUMMY).exists(),
            "needs fence_dummy (Debian fence-agents; scripts/system-deps.sh installs it)")
    return FENCE_DUMMY


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "fence_script"
    path.write_text(SCRIPT)
    path.chmod(0o755)
    return path


def calls(log: Path) -> list[str]:
    """What each run of the script read, one string per run."""
    if not log.exists():
        return []
    return [c.strip() for c in log.read_text().split("--\n") if c.strip()]


def dummy(name: str, status_file: Path, *, fail: bool = False, **kw: object) -> FenceDevice:
    # type=fail never sees the power go off: it gives up after power_timeout (seconds).
    params = {"status_file": str(status_file), "type": "fail" if fail else "file"}
    if fail:
        params["power_timeout"] = "1"
    return FenceDevice(name, "fence_dummy", params, **kw)  # type: ignore[arg-type]


async def test_fence_dummy_powers_the_node_off_and_status_reads_it_back(
        fence_dummy: str, tmp_path: Path) -> None:
    state = tmp_path / "power"
    state.write_text("on")
    fencer = Fencer([dummy("dummy", state, nodes=(N2,))], ME)
    before = await fencer.device_action("dummy", FenceAction.STATUS, N2)
    result = await fencer.fence(N2, "node2 left without saying goodbye", FenceAction.OFF)
    after = await fencer.device_action("dummy", FenceAction.STATUS, N2)
    assert result.succeeded, result.output
    assert result.devices == ("dummy",)
    assert state.read_text() == "off"
    assert (before.power, after.power) == (PowerState.ON, PowerState.OFF)
    assert (await fencer.device_action("dummy", FenceAction.MONITOR)).succeeded


async def test_failing_agent_fails_the_fence_and_keeps_its_last_words(
        fence_dummy: str, tmp_path: Path) -> None:
    fencer = Fencer([dummy("broken", tmp_path / "p", fail=True, nodes=(N2,))], ME)
    result = await fencer.fence(N2, "stop failed")
    assert not result.succeeded
    assert result.attempts[0].outcome is DeviceOutcome.FAILED
    assert result.attempts[0].exit_code == 1
    assert "Failed" in result.output
    assert "every fencing level failed for node2" in result.summary


async def test_hung_agent_is_killed_with_its_children_at_the_device_timeout(
        script: Path, tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    device = FenceDevice("hangs", str(script), {"log": str(tmp_path / "log"), "hang": "1",
                                                 "pidfile": str(pidfile)},
                         nodes=(N2,), timeout_ms=300)
    fencer = Fencer([device], ME)
    result = await asyncio.wait_for(fencer.fence(N2, "test"), 10)
    assert not result.succeeded
    assert result.attempts[0].outcome is DeviceOutcome.TIMED_OUT
    assert "no answer within 300 ms" in result.output
    child = int(pidfile.read_text())
    stat = Path(f"/proc/{child}/stat")

    def gone() -> bool:
        try:
            return stat.read_text().split(") ")[1].startswith("Z")
        except FileNotFoundError:
            return True

    # SIGKILL was sent when the fence returned; on a loaded machine the child may
    # need a moment to be scheduled and die. A survivor would stay: 2 s is plenty.
    for _ in range(200):
        if gone():
            break
        await asyncio.sleep(0.01)
    assert gone(), "the agent's child outlived the timeout"


async def test_level_of_two_devices_where_one_fails_falls_back_to_the_next_level(
        fence_dummy: str, script: Path, tmp_path: Path) -> None:
    log, state = tmp_path / "log", tmp_path / "power"
    state.write_text("on")
    devices = [FenceDevice("psu-a", str(script), {"log": str(log)}),
               FenceDevice("psu-b", str(script), {"log": str(tmp_path / "b"), "rc": "1"}),
               dummy("ipmi", state)]
    fencer = Fencer(devices, ME, topology={N2: [["psu-a", "psu-b"], ["ipmi"]]})
    result = await fencer.fence(N2, "lost", FenceAction.OFF)
    assert result.succeeded
    assert result.devices == ("ipmi",)
    assert [(a.device, a.outcome) for a in result.attempts] == [
        ("psu-a", DeviceOutcome.SUCCEEDED), ("psu-b", DeviceOutcome.FAILED),
        ("ipmi", DeviceOutcome.SUCCEEDED)]
    assert "level 1 failed at psu-b" in result.summary
    assert calls(log) == ["log=" + str(log) + "\naction=off\nplug=node2"]
    assert state.read_text() == "off"


async def test_every_device_is_its_own_level_in_config_order_without_a_topology(
        fence_dummy: str, script: Path, tmp_path: Path) -> None:
    log = tmp_path / "log"
    devices = [FenceDevice("first", str(script), {"log": str(tmp_path / "1"), "rc": "5"}),
               FenceDevice("second", str(script), {"log": str(log)}, host_map={N3: "vm-3"})]
    fencer = Fencer(devices, ME)
    result = await fencer.fence(N3, "stale incarnation")
    assert result.succeeded
    assert result.devices == ("second",)
    assert calls(log) == [f"log={log}\naction=reboot\nplug=vm-3"]


async def test_random_delay_is_drawn_from_the_seeded_rng_and_waited_before_the_agent(
        script: Path, tmp_path: Path) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    device = FenceDevice("slow-side", str(script), {"log": str(tmp_path / "log")},
                         nodes=(N2,), delay_ms=1000, random_delay_ms=5000)
    fencer = Fencer([device], ME, rng=random.Random(42), sleep=sleep)
    first = await fencer.fence(N2, "split")
    second = await fencer.fence(N2, "split")
    expected = random.Random(42)
    draws = [1000 + expected.randint(0, 5000) for _ in range(2)]
    assert [first.attempts[0].delay_ms, second.attempts[0].delay_ms] == draws
    assert slept == [d / 1000 for d in draws]


async def test_history_says_who_fenced_whom_when_with_what_and_how_it_ended(
        fence_dummy: str, tmp_path: Path) -> None:
    now = iter([1_700_000_000_000, 1_700_000_060_000, 1_700_000_120_000])
    fencer = Fencer([FenceDevice("broken", "/bin/false", nodes=(N2,)),
                     dummy("dummy", tmp_path / "p", nodes=(N3,))], ME,
                    clock_ms=lambda: next(now), history_limit=2)
    await fencer.fence(N2, "stop of db failed on node2")
    await fencer.fence(N3, "node3 left without saying goodbye", FenceAction.OFF)
    fencer.confirm(N2, "operator pulled the plug")
    assert len(fencer.history) == 2  # bounded: the oldest went
    fenced, manual = fencer.history.records
    assert fenced.as_dict() | {"duration_ms": 0, "attempts": []} == {
        "node": "node3", "action": "off", "succeeded": True,
        "reason": "node3 left without saying goodbye",
        "summary": "node3 fenced (off) by level 1: dummy", "origin": "node1",
        "started_ms": 1_700_000_060_000, "duration_ms": 0, "devices": ["dummy"],
        "manual": False, "attempts": []}
    attempt = fenced.as_dict()["attempts"][0]  # type: ignore[index]
    assert attempt["device"] == "dummy"
    assert attempt["outcome"] == "succeeded"
    assert manual.manual
    assert manual.succeeded
    assert manual.started_ms == 1_700_000_120_000
    assert fencer.history.last_success(N2) is manual


async def test_concurrent_requests_to_fence_one_node_run_the_agent_once(
        script: Path, tmp_path: Path) -> None:
    log = tmp_path / "log"
    fencer = Fencer([FenceDevice("s", str(script), {"log": str(log)}, nodes=(N2,))], ME)
    a, b = await asyncio.gather(fencer.fence(N2, "from coordinator"),
                                fencer.fence(N2, "from admin"))
    assert a is b
    assert a.succeeded
    assert len(calls(log)) == 1


async def test_fencing_this_node_or_with_no_device_fails_without_running_anything(
        script: Path, tmp_path: Path) -> None:
    log = tmp_path / "log"
    fencer = Fencer([FenceDevice("s", str(script), {"log": str(log)})], ME)
    own = await fencer.fence(ME, "confused")
    assert not own.succeeded
    assert "it is this node" in own.summary
    none = await Fencer([], ME).fence(N2, "lost")
    assert not none.succeeded
    assert none.summary == "no fence device can fence node2"
    assert calls(log) == []


async def test_device_without_node_list_is_asked_with_list_and_skipped_if_absent(
        script: Path, tmp_path: Path) -> None:
    lister = tmp_path / "fence_lister"
    lister.write_text("#!/bin/sh\ncat > /dev/null\necho 'vm-a,node3'\necho vm-b\n")
    lister.chmod(0o755)
    fencer = Fencer([FenceDevice("virsh", str(lister))], ME)
    assert [lv.devices for lv in await fencer.levels(N3)] == [("virsh",)]
    assert await fencer.levels(N2) == ()


async def test_missing_agent_program_is_an_error_naming_the_package() -> None:
    fencer = Fencer([FenceDevice("ghost", "fence_no_such_agent", nodes=(N2,))], ME)
    result = await fencer.fence(N2, "lost")
    assert result.attempts[0].outcome is DeviceOutcome.ERROR
    assert "apt install fence-agents" in result.output
