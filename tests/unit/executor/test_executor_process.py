"""Running agent programs: output, timeouts that kill the whole process group, and
scripts that ignore TERM or leave daemons holding our pipe."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from vigil.executor import run_program

ENV = {"PATH": "/usr/bin:/bin"}


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def gone(pid: int) -> bool:
    """Whether PID dies within a few seconds (a signalled process takes a moment)."""
    deadline = time.monotonic() + 3
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    return not alive(pid)


async def test_exit_code_and_output_of_both_streams() -> None:
    out = await run_program(("sh", "-c", "echo out; echo err >&2; exit 3"), ENV, 5000)
    assert out.exit_code == 3
    assert not out.timed_out
    assert out.output.splitlines() == ["out", "err"]


async def test_hung_program_is_killed_with_its_children_at_the_timeout(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    script = f"sleep 60 & echo $! > {pidfile}; wait"
    out = await run_program(("sh", "-c", script), ENV, 300, kill_grace_ms=1000)
    assert out.timed_out
    assert out.exit_code is None
    assert not out.killed  # TERM was enough
    assert gone(int(pidfile.read_text()))


async def test_program_ignoring_term_is_killed_after_the_grace(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    script = f"trap '' TERM; sleep 60 & echo $! > {pidfile}; while :; do wait; done"
    out = await run_program(("sh", "-c", script), ENV, 200, kill_grace_ms=300)
    assert out.timed_out
    assert out.killed
    assert out.duration_ms >= 500
    assert gone(int(pidfile.read_text()))


async def test_missing_program_is_an_exec_error_not_an_exception() -> None:
    out = await run_program(("/nonexistent/agent", "start"), ENV, 1000)
    assert out.exit_code is None
    assert out.exec_errno == 2
    assert out.exec_error is not None
    assert "/nonexistent/agent" in out.exec_error


async def test_daemon_left_holding_the_pipe_does_not_hold_the_operation(tmp_path: Path) -> None:
    pidfile = tmp_path / "daemon.pid"
    # A badly behaved init script: starts a "daemon" that keeps stdout open.
    script = f"sleep 30 & echo $! > {pidfile}; echo started; exit 0"
    began = time.monotonic()
    out = await run_program(("sh", "-c", script), ENV, 10_000)
    assert out.exit_code == 0
    assert "started" in out.output
    assert time.monotonic() - began < 5
    pid = int(pidfile.read_text())
    assert alive(pid)  # a successful start's daemon is not killed
    os.kill(pid, 9)


async def test_output_keeps_only_the_tail() -> None:
    out = await run_program(("sh", "-c", "seq 1 200000"), ENV, 10_000, keep_bytes=1000)
    assert len(out.output) <= 1000
    assert out.output.splitlines()[-1] == "200000"


async def test_event_loop_keeps_running_while_a_program_hangs() -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    out = await run_program(("sleep", "5"), ENV, 400, kill_grace_ms=100)
    task.cancel()
    assert out.timed_out
    assert ticks >= 10  # ~40 expected; the loop was never blocked for long
