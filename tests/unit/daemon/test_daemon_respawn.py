"""respawn: helpers kept running as Heartbeat did, given up on when they die too fast."""

from __future__ import annotations

import asyncio
import os
import pwd
import signal
from pathlib import Path

import pytest

from prereqs import require_root
from vigil.config import Respawn
from vigil.daemon.respawn import (
    Decision,
    ProgramState,
    Respawner,
    RespawnRule,
    Verdict,
)
from vigil.exitcodes import ExitCode, VigilError

ME = pwd.getpwuid(os.geteuid()).pw_name
#: Heartbeat's numbers, but no 1 s pause: the tests need seconds, not minutes.
FAST = RespawnRule(short_delay_ms=0, stop_grace_ms=2_000)


@pytest.mark.parametrize(
    ("short_runs", "ran_ms", "code", "expected"),
    [
        # A long run resets the count: restarted at once.
        (7, 30_000, 1, Decision(Verdict.RESTART, 0, 0, "it ran 30000 ms")),
        # A short run: counted, and the next start waits 1 s (Heartbeat's sleep(1)).
        (0, 29_999, 0, Decision(Verdict.RESTART, 1, 1_000, "short run 1 of at most 10")),
        (9, 5, -9, Decision(Verdict.RESTART, 10, 1_000, "short run 10 of at most 10")),
        # The 11th short run in a row: "respawning too fast", given up on.
        (10, 5, 1, Decision(Verdict.GIVE_UP, 11, 0,
                            "respawning too fast: 11 runs in a row shorter than 30000 ms")),
        # Exit code 100 asks Heartbeat not to respawn, whatever the count.
        (0, 60_000, 100, Decision(Verdict.LEAVE_STOPPED, 0, 0,
                                  "it exited with 100, which asks not to be respawned")),
    ],
)
def test_restart_rule_is_heartbeats_30s_short_run_and_11th_in_a_row_gives_up(
    short_runs: int, ran_ms: int, code: int, expected: Decision
) -> None:
    assert RespawnRule().after_exit(short_runs, ran_ms, code) == expected


def test_unknown_respawn_user_refuses_to_start_the_daemon() -> None:
    with pytest.raises(VigilError) as e:
        Respawner([Respawn("no-such-user-vigil", ("/bin/sleep", "60"))])
    assert e.value.code == ExitCode.NOT_FOUND
    assert "'no-such-user-vigil' does not exist" in e.value.message


async def test_helper_killed_five_times_is_restarted_each_time_and_stopped_on_daemon_stop(
) -> None:
    respawner = Respawner([Respawn(ME, ("/bin/sleep", "60"))], FAST)
    [program] = respawner.programs
    await respawner.start()
    pids: list[int] = []
    try:
        for kill in range(5):
            await respawner.wait_for(lambda: program.pid is not None and
                                     program.pid not in pids, 5.0)
            assert program.pid is not None
            pids.append(program.pid)
            os.kill(program.pid, signal.SIGKILL)
            await respawner.wait_for(lambda k=kill: program.restarts == k + 1, 5.0)
        await respawner.wait_for(lambda: program.pid is not None and program.pid not in pids, 5)
        assert program.state is ProgramState.RUNNING
        assert len(set(pids)) == 5
        assert program.last_exit == "signal 9"
        last = program.pid
    finally:
        await respawner.stop()
    assert program.state is ProgramState.STOPPED
    assert program.pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(last, 0)  # really gone (and reaped), not just forgotten


async def test_helper_that_exits_at_once_is_given_up_on_after_eleven_short_runs() -> None:
    respawner = Respawner([Respawn(ME, ("/bin/true",))], FAST)
    [program] = respawner.programs
    await respawner.start()
    try:
        await respawner.wait_for(lambda: program.state is ProgramState.GAVE_UP, 10.0)
    finally:
        await respawner.stop()
    assert program.restarts == 10  # started 11 times: the 11th short run gives up
    assert program.state is ProgramState.GAVE_UP


async def test_helper_ignoring_sigterm_is_killed_after_the_grace() -> None:
    trap = "trap '' TERM; while :; do sleep 0.05; done"
    respawner = Respawner([Respawn(ME, ("/bin/sh", "-c", trap))],
                          RespawnRule(short_delay_ms=0, stop_grace_ms=200))
    [program] = respawner.programs
    await respawner.start()
    await respawner.wait_for(lambda: program.pid is not None, 5.0)
    pid = program.pid
    assert pid is not None
    await asyncio.wait_for(respawner.stop(), 5.0)
    assert program.state is ProgramState.STOPPED
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


async def test_helper_runs_as_the_given_user_with_its_groups() -> None:
    require_root()
    nobody = pwd.getpwnam("nobody")
    respawner = Respawner([Respawn("nobody", ("/bin/sleep", "60"))], FAST)
    [program] = respawner.programs
    await respawner.start()
    try:
        await respawner.wait_for(lambda: program.pid is not None, 5.0)
        fields = dict(line.split(":", 1) for line in
                      Path(f"/proc/{program.pid}/status").read_text().splitlines())
    finally:
        await respawner.stop()
    # real, effective, saved and filesystem ids all nobody's: no way back to root
    assert fields["Uid"].split() == [str(nobody.pw_uid)] * 4
    assert fields["Gid"].split() == [str(nobody.pw_gid)] * 4
    assert sorted(fields["Groups"].split()) == sorted(
        str(g) for g in os.getgrouplist("nobody", nobody.pw_gid))


async def test_program_that_is_not_executable_is_not_forked_and_not_respawned(
    tmp_path: Path
) -> None:
    respawner = Respawner([Respawn(ME, (str(tmp_path / "missing"),))], FAST)
    [program] = respawner.programs
    await respawner.start()
    await respawner.wait_for(lambda: program.state is ProgramState.GAVE_UP, 5.0)
    await respawner.stop()
    assert (program.restarts, program.last_exit) == (0, "not executable")

