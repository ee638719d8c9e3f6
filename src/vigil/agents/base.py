"""What an agent is: the shapes every agent class shares.

Two kinds:
- ``ScriptAgent``: an external program (OCF, LSB, Heartbeat ``resource.d``,
  systemd through ``systemctl``). It only *plans* an invocation (argv and
  environment, never a shell line) and *interprets* the exit code and output;
  the executor runs the program, with the timeout. Both halves are pure.
- ``BuiltinAgent``: Python code (ipaddr, macaddr, filesystem, dummy), awaited
  in the executor's event loop; anything blocking inside runs in a thread, and
  any program it needs goes through ``AgentContext.run_program``.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from vigil.agents.background import BackgroundTasks
from vigil.agents.codes import OcfRc, describe_rc
from vigil.agents.metadata import AgentMetadata
from vigil.config import AgentSpec

#: Action names are words, never paths or options: checked before anything runs.
ACTION_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


class ParameterError(Exception):
    """The request cannot be run as given (bad value, unknown or missing parameter)."""

    def __init__(self, message: str, rc: OcfRc = OcfRc.ERR_CONFIGURED) -> None:
        super().__init__(message)
        self.message = message
        self.rc = rc


class AgentUnavailableError(Exception):
    """The agent cannot run on this node (its program or service manager is missing)."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True, slots=True)
class OperationRequest:
    """One operation of one resource, as the agent sees it.

    ``instance`` is the resource id (``OCF_RESOURCE_INSTANCE``); ``args`` are
    positional (Heartbeat scripts), ``params`` named (OCF and built-ins).
    """

    action: str
    instance: str
    timeout_ms: int
    args: tuple[str, ...] = ()
    params: Mapping[str, str] = field(default_factory=dict)
    interval_ms: int = 0
    depth: int = 0  # OCF_CHECK_LEVEL

    @property
    def is_monitor(self) -> bool:
        return self.action in ("monitor", "status")

    @property
    def is_probe(self) -> bool:
        """A one-shot monitor: "is it running here?" asked without expectation."""
        return self.is_monitor and self.interval_ms == 0


@dataclass(frozen=True, slots=True)
class Invocation:
    """A program to run: argv items and environment, passed as they are (no shell)."""

    argv: tuple[str, ...]
    env: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class ProgramOutcome:
    """How a program run ended.

    ``exit_code`` is None when it did not exit by itself (timed out, or could
    not be started: then ``exec_error`` says why).
    """

    exit_code: int | None
    output: str
    duration_ms: int
    timed_out: bool = False
    killed: bool = False  # needed SIGKILL after the TERM grace
    exec_error: str | None = None
    exec_errno: int | None = None


class ProgramRunner(Protocol):
    """Runs argv with a timeout, killing the whole process group when it expires."""

    def __call__(self, argv: tuple[str, ...], env: Mapping[str, str],
                 timeout_ms: int) -> Awaitable[ProgramOutcome]: ...


@dataclass(frozen=True, slots=True)
class AgentContext:
    """Where and how this node runs agents.

    ``netns``: run agents inside this named network namespace (``ip netns``):
    lets several nodes share one machine, as the namespace tests and demos do.
    ``state_dir``: where built-ins keep state that must survive a daemon
    restart but not a reboot (MAC originals, dummy state): under /run.
    """

    run_program: ProgramRunner
    state_dir: Path = Path("/run/vigil/agents")
    netns: str | None = None
    node_name: str | None = None
    background: BackgroundTasks = field(default_factory=BackgroundTasks, compare=False)


@dataclass(frozen=True, slots=True)
class AgentReply:
    """An agent's answer in OCF terms, plus what the program itself said."""

    rc: int
    reason: str
    output: str = ""
    exit_code: int | None = None  # the program's own code, when one ran

    @classmethod
    def of(cls, rc: OcfRc, reason: str | None = None, output: str = "") -> AgentReply:
        return cls(int(rc), reason if reason is not None else describe_rc(rc), output,
                   int(rc))


class ScriptAgent(abc.ABC):
    """An agent that is an external program."""

    spec: AgentSpec
    path: Path

    @abc.abstractmethod
    def invocation(self, request: OperationRequest, ctx: AgentContext) -> Invocation:
        """The argv and environment for REQUEST; raises ``ParameterError``."""

    @abc.abstractmethod
    def interpret(self, request: OperationRequest, exit_code: int, output: str) -> AgentReply:
        """Map the program's exit code (and, for some classes, output) onto OCF codes."""

    @abc.abstractmethod
    async def metadata(self, ctx: AgentContext) -> AgentMetadata:
        """Parameters, actions and default timeouts (may run the agent's ``meta-data``)."""

    #: OCF agents are validated once before their first start.
    validates_before_start: bool = False


class BuiltinAgent(abc.ABC):
    """An agent written in Python, run inside vigil."""

    spec: AgentSpec

    @abc.abstractmethod
    def declaration(self) -> AgentMetadata:
        """What the agent accepts: its parameters, from the Python declaration."""

    @abc.abstractmethod
    async def run(self, request: OperationRequest, ctx: AgentContext) -> AgentReply:
        """Perform REQUEST; raises ``ParameterError`` for bad parameters."""

    async def metadata(self, ctx: AgentContext) -> AgentMetadata:
        return self.declaration()


Agent = ScriptAgent | BuiltinAgent
