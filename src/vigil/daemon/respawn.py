"""``respawn USER PATH [ARGS]``: programs the daemon starts, keeps running, and stops.

As Heartbeat 3.0.6 (``heartbeat/heartbeat.c``: ``start_a_child_client``,
``ManagedChildDied``, ``shutdown_last_client_child``):

- the program is checked for being executable before anything is forked, and
  runs as USER with USER's groups (``initgroups``, ``setgid``, ``setuid`` in
  the child), in its own process group, stdin/stdout/stderr on /dev/null;
- when it exits it is started again, unless it exited with code 100 ("do not
  respawn me") or the daemon is stopping;
- a run shorter than 30 s is a *short* run; each short run in a row adds one
  to a count that a long run resets, and a restarted program whose count is
  above zero waits 1 s before it starts (Heartbeat slept in the child);
- more than 10 short runs in a row: "respawning too fast", and it is given up
  on (Heartbeat logged the same and did not start it again);
- on shutdown each program gets SIGTERM (its whole process group), and
  SIGKILL after a grace period (Heartbeat waited for it, with no bound).

A user that does not exist is an error at start-up, not in the child: the
daemon refuses to start rather than leave a helper silently not running.
The give-up rule is pure (``RespawnRule.after_exit``) so it is tested with
exact times; ``Respawner`` is the asyncio shell.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import os
import pwd
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from vigil.config import Respawn
from vigil.daemon.logsetup import LOGGER_NAME, kv
from vigil.exitcodes import ExitCode, VigilError

log = logging.getLogger(f"{LOGGER_NAME}.respawn")

#: Heartbeat's "do not respawn me" exit code (``exitcode != 100`` in ManagedChildDied).
NO_RESPAWN_EXIT = 100


@dataclass(frozen=True, slots=True)
class RespawnRule:
    """When a program that exited is started again (Heartbeat's numbers by default)."""

    short_run_ms: int = 30_000  # a run shorter than this is "short" (minticks)
    max_short_runs: int = 10  # more short runs in a row than this: give up
    short_delay_ms: int = 1_000  # wait before restarting after a short run
    stop_grace_ms: int = 5_000  # SIGTERM, then SIGKILL after this long

    def after_exit(self, short_runs: int, ran_ms: int, exit_code: int | None) -> Decision:
        """What to do with a program that ran RAN_MS and exited after SHORT_RUNS short runs."""
        if exit_code == NO_RESPAWN_EXIT:
            return Decision(Verdict.LEAVE_STOPPED, short_runs, 0,
                            f"it exited with {NO_RESPAWN_EXIT}, which asks not to be respawned")
        short = ran_ms < self.short_run_ms
        count = short_runs + 1 if short else 0
        if count > self.max_short_runs:
            return Decision(Verdict.GIVE_UP, count, 0,
                            f"respawning too fast: {count} runs in a row shorter than "
                            f"{self.short_run_ms} ms")
        delay = self.short_delay_ms if count > 0 else 0
        why = (f"short run {count} of at most {self.max_short_runs}" if short
               else f"it ran {ran_ms} ms")
        return Decision(Verdict.RESTART, count, delay, why)


class Verdict(enum.Enum):
    RESTART = "restart"
    GIVE_UP = "give_up"
    LEAVE_STOPPED = "leave_stopped"


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    short_runs: int
    delay_ms: int
    reason: str


class ProgramState(enum.Enum):
    STARTING = "starting"
    RUNNING = "running"
    GAVE_UP = "gave_up"  # respawning too fast, or could not be started
    EXITED = "exited"  # exited 100: asked not to be respawned
    STOPPED = "stopped"  # stopped by the daemon


@dataclass(slots=True)
class _Program:
    entry: Respawn
    uid: int
    gid: int
    groups: list[int]
    state: ProgramState = ProgramState.STARTING
    pid: int | None = None
    restarts: int = 0
    short_runs: int = 0
    last_exit: str | None = None
    next_delay_ms: int = 0
    proc: asyncio.subprocess.Process | None = None
    task: asyncio.Task[None] | None = None
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def name(self) -> str:
        return self.entry.argv[0]


def resolve_user(user: str) -> tuple[int, int, list[int]]:
    """USER's uid, primary gid and all its groups; ``VigilError`` when there is no such user."""
    try:
        pw = pwd.getpwnam(user)
    except KeyError:
        raise VigilError(f"respawn user {user!r} does not exist on this machine",
                         code=ExitCode.NOT_FOUND,
                         hint="create the user, or change the respawn line") from None
    return pw.pw_uid, pw.pw_gid, os.getgrouplist(pw.pw_name, pw.pw_gid)


class Respawner:
    """Starts every ``respawn`` program, restarts it by ``RespawnRule``, stops them all."""

    def __init__(self, entries: Sequence[Respawn], rule: RespawnRule | None = None) -> None:
        self.rule = rule if rule is not None else RespawnRule()
        self.programs: list[_Program] = []
        for entry in entries:  # every user resolved before anything starts
            uid, gid, groups = resolve_user(entry.user)
            self.programs.append(_Program(entry, uid, gid, groups))
        self._stopping = False
        self._changed: asyncio.Condition | None = None

    async def start(self) -> None:
        """Start every program (in configuration order, as Heartbeat)."""
        self._changed = asyncio.Condition()
        for program in self.programs:
            program.task = asyncio.get_running_loop().create_task(
                self._keep_running(program), name=f"respawn {program.name}")

    def status(self) -> list[dict[str, object]]:
        """One entry per program: argv, user, state, pid, restarts, last exit."""
        return [{"argv": list(p.entry.argv), "user": p.entry.user, "state": p.state.value,
                 "pid": p.pid, "restarts": p.restarts, "short_runs": p.short_runs,
                 "last_exit": p.last_exit} for p in self.programs]

    async def stop(self) -> None:
        """SIGTERM every program (last configured first, as Heartbeat), SIGKILL after the grace."""
        self._stopping = True
        for program in reversed(self.programs):
            program.stopping.set()
            self._signal(program, signal.SIGTERM)
        tasks = [p.task for p in self.programs if p.task is not None]
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=self.rule.stop_grace_ms / 1000)
        for program in self.programs:
            if program.task in pending:
                log.warning(kv("respawned program ignored SIGTERM, killing it",
                               program=program.name, pid=program.pid,
                               grace_ms=self.rule.stop_grace_ms))
                self._signal(program, signal.SIGKILL)
        if pending:
            await asyncio.wait(pending, timeout=5.0)

    async def wait_for(self, check: Callable[[], bool], timeout_s: float) -> None:
        """Until CHECK holds after some program started or exited (``TimeoutError``)."""
        assert self._changed is not None, "start() first"
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(check), timeout_s)

    async def _notify(self) -> None:
        if self._changed is not None:
            async with self._changed:
                self._changed.notify_all()

    def _signal(self, program: _Program, sig: signal.Signals) -> None:
        if program.pid is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(program.pid, sig)  # its own process group: helpers it forked too

    async def _keep_running(self, program: _Program) -> None:
        loop = asyncio.get_running_loop()
        delay_ms = 0
        while not self._stopping:
            if delay_ms:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(program.stopping.wait(), delay_ms / 1000)
                if program.stopping.is_set():
                    break
            started = loop.time()
            code = await self._run_once(program)
            try:
                if not self._after_exit(program, code, started):
                    return
            finally:
                await self._notify()
            delay_ms = program.next_delay_ms
        program.state = ProgramState.STOPPED
        await self._notify()

    def _after_exit(self, program: _Program, code: int | None, started: float) -> bool:
        """Decide on PROGRAM that exited with CODE; True to start it again."""
        if code is None:  # could not be started at all: as Heartbeat, no respawn
            program.state = ProgramState.GAVE_UP
            return False
        if self._stopping:
            return True  # the loop sees it and marks it stopped
        ran_ms = round((asyncio.get_running_loop().time() - started) * 1000)
        decision = self.rule.after_exit(program.short_runs, ran_ms, code)
        program.short_runs = decision.short_runs
        fields = {"program": program.name, "user": program.entry.user,
                  "exit": program.last_exit, "ran_ms": ran_ms,
                  "restarts": program.restarts, "short_runs": decision.short_runs,
                  "reason": decision.reason}
        if decision.verdict is Verdict.GIVE_UP:
            program.state = ProgramState.GAVE_UP
            log.error(kv("respawned program gave up on", **fields))
            return False
        if decision.verdict is Verdict.LEAVE_STOPPED:
            program.state = ProgramState.EXITED
            log.info(kv("respawned program exited, not restarting it", **fields))
            return False
        program.restarts += 1
        fields["restarts"] = program.restarts
        log.warning(kv("respawning program", **fields, delay_ms=decision.delay_ms))
        program.next_delay_ms = decision.delay_ms
        return True

    async def _run_once(self, program: _Program) -> int | None:
        """Run PROGRAM until it exits; its exit code (-N: signal N), None if it cannot start."""
        argv = program.entry.argv
        if not os.access(argv[0], os.X_OK):  # as Heartbeat: never fork what cannot exec
            program.last_exit = "not executable"
            log.error(kv("cannot start respawned program", program=argv[0],
                         error="not found or not executable"))
            return None
        root = os.geteuid() == 0
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL, start_new_session=True, close_fds=True,
                cwd="/",
                # setgroups, setgid, setuid in the child (Heartbeat's initgroups order);
                # only root can change them, and need not when it already is the user.
                user=program.uid if root else None, group=program.gid if root else None,
                extra_groups=program.groups if root else None)
        except OSError as e:
            program.last_exit = f"start failed: {e.strerror}"
            log.error(kv("cannot start respawned program", program=argv[0],
                         user=program.entry.user, error=e.strerror))
            return None
        program.proc, program.pid, program.state = proc, proc.pid, ProgramState.RUNNING
        await self._notify()
        log.info(kv("respawned program started", program=argv[0], user=program.entry.user,
                    uid=program.uid, pid=proc.pid, restarts=program.restarts))
        code = await proc.wait()
        program.pid, program.proc = None, None
        program.last_exit = f"signal {-code}" if code < 0 else f"code {code}"
        return code
