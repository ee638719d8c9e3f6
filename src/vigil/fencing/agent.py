"""Running one fence agent once: options on stdin, a timeout, the process group killed.

Uses the executor's ``run_program`` (no shell, own process group, TERM then
KILL at the timeout, output tail), feeding it the options the fence-agents
protocol reads from stdin. An agent named without a path is looked up where
Debian's ``fence-agents`` puts them (/usr/sbin) before $PATH.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Awaitable, Mapping
from typing import Protocol

from vigil.agents import ProgramOutcome
from vigil.config import FenceDevice
from vigil.executor import run_program
from vigil.fencing.results import DeviceOutcome, DeviceResult, FenceAction, tail
from vigil.fencing.topology import ParameterError, agent_options

AGENT_PATH = "/usr/sbin:/sbin:/usr/bin:/bin"
#: Grace between TERM and KILL at a timeout: a fence agent mid-IPMI-session has
#: nothing worth waiting for.
KILL_GRACE_MS = 1000


class StdinRunner(Protocol):
    """``vigil.executor.run_program``'s shape, with stdin."""

    def __call__(self, argv: tuple[str, ...], env: Mapping[str, str], timeout_ms: int, *,
                 kill_grace_ms: int = ..., stdin: bytes | None = ...,
                 ) -> Awaitable[ProgramOutcome]: ...


def resolve_agent(agent: str) -> str | None:
    """The program to run for AGENT: an absolute path as given, else found on AGENT_PATH."""
    if agent.startswith("/"):
        return agent
    return shutil.which(agent, path=f"{AGENT_PATH}:{os.environ.get('PATH', '')}")


async def run_agent(device: FenceDevice, action: FenceAction, plug: str | None, *,
                    runner: StdinRunner = run_program, delay_ms: int = 0) -> DeviceResult:
    """Run DEVICE's agent for ACTION on PLUG; never raises for the agent's failures."""

    def result(outcome: DeviceOutcome, code: int | None, output: str,
               duration_ms: int) -> DeviceResult:
        return DeviceResult(device.name, action, plug if action.targets_node else None,
                            outcome, code, tail(output), duration_ms, delay_ms)

    program = resolve_agent(device.agent)
    if program is None:
        return result(DeviceOutcome.ERROR, None, f"fence agent {device.agent} not found on "
                      f"{AGENT_PATH} or $PATH (Debian: apt install fence-agents)", 0)
    try:
        stdin = agent_options(device, action, plug)
    except ParameterError as e:
        return result(DeviceOutcome.ERROR, None, str(e), 0)
    env = {"PATH": AGENT_PATH, "LANG": "C.UTF-8"}
    out = await runner((program,), env, device.timeout_ms, kill_grace_ms=KILL_GRACE_MS,
                       stdin=stdin)
    if out.timed_out:
        return result(DeviceOutcome.TIMED_OUT, None,
                      f"{out.output}\n[vigil: no answer within {device.timeout_ms} ms; "
                      "process group killed]", out.duration_ms)
    if out.exec_error is not None:
        return result(DeviceOutcome.ERROR, None, f"{out.output}\n{out.exec_error}".strip(),
                      out.duration_ms)
    ok = out.exit_code == 0 or (action is FenceAction.STATUS and out.exit_code == 2)
    return result(DeviceOutcome.SUCCEEDED if ok else DeviceOutcome.FAILED, out.exit_code,
                  out.output, out.duration_ms)
