"""Running one agent program: argv only, its own process group, a hard timeout.

- No shell: argv items reach the program as they are, so ``10.0.0.5;rm -rf /``
  is one odd argument, never a command.
- The program leads its own process group (``setpgid(0, 0)``, as Pacemaker's
  execd does). At its timeout the whole group gets TERM, then KILL after the
  grace period: a script's children die with it. Not a new session: with the
  kernel's scheduler autogroups a new session is a new CPU group, which made
  each operation ~8 ms slower on a busy 2-core machine (bench/executor.py).
- Output (stdout and stderr together) is read from a pipe without blocking
  the event loop, keeping only the tail. When the program exits we take what
  is in the pipe and close it: a daemon the script started that kept our pipe
  open must not hold the operation (it gets EPIPE if it writes later, as under
  Pacemaker; well-behaved daemons close their stdio).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping

from vigil.agents import ProgramOutcome

OUTPUT_KEEP_BYTES = 64 * 1024
_REAP_AFTER_KILL_S = 5.0
_STDIN_MAX = 16 * 1024  # well under the 64 KiB a Linux pipe holds


class _Tail:
    """Reads a non-blocking pipe from the event loop, keeping the last bytes."""

    def __init__(self, fd: int, keep: int) -> None:
        self.fd = fd
        self.keep = keep
        self.buf = bytearray()
        self.loop = asyncio.get_running_loop()
        os.set_blocking(fd, False)
        self.loop.add_reader(fd, self._readable)
        self.open = True

    def _read_some(self) -> bool:
        """Read what is there; False at EOF."""
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except BlockingIOError:
                return True
            except OSError:
                return False
            if not chunk:
                return False
            self.buf += chunk
            if len(self.buf) > 2 * self.keep:
                del self.buf[:-self.keep]

    def _readable(self) -> None:
        if not self._read_some():
            self.loop.remove_reader(self.fd)

    def close(self) -> str:
        if self.open:
            self._read_some()
            self.loop.remove_reader(self.fd)
            os.close(self.fd)
            self.open = False
        return bytes(self.buf[-self.keep:]).decode("utf-8", errors="replace")


def _signal_group(pgid: int, sig: int) -> bool:
    """Signal the group; False when nobody is left in it."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def _end_group(proc: asyncio.subprocess.Process, grace_s: float) -> bool:
    """TERM the group, KILL it after GRACE_S; True when the leader needed KILL."""
    _signal_group(proc.pid, signal.SIGTERM)
    needed_kill = False
    try:
        await asyncio.wait_for(proc.wait(), grace_s)
    except TimeoutError:
        needed_kill = True
    # Children that ignored TERM or outlived the leader go too.
    _signal_group(proc.pid, signal.SIGKILL)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(proc.wait(), _REAP_AFTER_KILL_S)
    return needed_kill


async def run_program(argv: tuple[str, ...], env: Mapping[str, str], timeout_ms: int, *,
                      kill_grace_ms: int = 2000,
                      keep_bytes: int = OUTPUT_KEEP_BYTES,
                      stdin: bytes | None = None) -> ProgramOutcome:
    """Run ARGV with ENV; kill its process group after TIMEOUT_MS (TERM, grace, KILL).

    STDIN (fence agents read their options there) must fit a pipe's buffer: it
    is written in full before the program starts, so nothing here can block.
    """
    if stdin is not None and len(stdin) > _STDIN_MAX:
        raise ValueError(f"stdin of {len(stdin)} bytes exceeds {_STDIN_MAX}")
    started = time.monotonic()

    def elapsed() -> int:
        return round((time.monotonic() - started) * 1000)

    in_fd: int = subprocess.DEVNULL
    if stdin is not None:
        in_fd, in_w = os.pipe()
        os.write(in_w, stdin)
        os.close(in_w)
    rfd, wfd = os.pipe()
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=in_fd, stdout=wfd, stderr=wfd, env=dict(env),
            cwd="/", process_group=0)
    except OSError as e:
        os.close(rfd)
        return ProgramOutcome(None, "", elapsed(), exec_error=f"{argv[0]}: {e.strerror}",
                              exec_errno=e.errno)
    finally:
        os.close(wfd)
        if stdin is not None:
            os.close(in_fd)
    tail = _Tail(rfd, keep_bytes)
    timed_out = killed = False
    try:
        await asyncio.wait_for(proc.wait(), timeout_ms / 1000)
    except TimeoutError:
        timed_out = True
        killed = await _end_group(proc, kill_grace_ms / 1000)
    except asyncio.CancelledError:
        # Whoever asked went away (monitor cancelled, executor closing): leave nothing behind.
        _signal_group(proc.pid, signal.SIGKILL)
        tail.close()
        raise
    finally:
        output = tail.close()
    rc = proc.returncode
    if timed_out:
        return ProgramOutcome(None, output, elapsed(), timed_out=True, killed=killed)
    if rc is not None and rc < 0:
        return ProgramOutcome(None, output, elapsed(),
                              exec_error=f"killed by {signal.Signals(-rc).name}")
    return ProgramOutcome(rc, output, elapsed())
