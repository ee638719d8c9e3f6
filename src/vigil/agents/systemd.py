"""``systemd:UNIT``: units driven through ``systemctl`` (start, stop, is-active).

``UNIT`` without a suffix means ``UNIT.service``. ``systemctl start`` waits
for its job, so start returns when the unit is up (or failed). A monitor asks
``is-active``: active, reloading, activating and deactivating count as running
(something of the service is alive, and starting it elsewhere would be unsafe);
inactive and failed as stopped, as Pacemaker's systemd class reads them.
"""

from __future__ import annotations

import re
from pathlib import Path

from vigil.agents.base import (
    AgentContext,
    AgentReply,
    AgentUnavailableError,
    Invocation,
    OperationRequest,
    ParameterError,
    ScriptAgent,
)
from vigil.agents.codes import OcfRc
from vigil.agents.lsb import lsb_reply
from vigil.agents.metadata import ActionInfo, AgentMetadata
from vigil.agents.ocf import BASE_ENV
from vigil.config import AgentSpec

SYSTEMD_RUNTIME = Path("/run/systemd/system")  # exists iff systemd is PID 1 (sd_booted)
_UNIT_RE = re.compile(r"^[A-Za-z0-9:_.\\@][A-Za-z0-9:_.\\@-]*$")
_ACTIVE = {"active", "reloading", "refreshing", "activating", "deactivating"}
_STOPPED = {"inactive", "failed"}

#: Pacemaker's systemd template: units may take long to start.
SYSTEMD_ACTIONS = (
    ActionInfo("start", 100_000), ActionInfo("stop", 100_000), ActionInfo("status", 100_000),
    ActionInfo("monitor", 100_000, 60_000), ActionInfo("meta-data", 5_000),
)


def systemd_running(runtime_dir: Path = SYSTEMD_RUNTIME) -> bool:
    """Whether systemd manages this machine (what ``sd_booted()`` checks)."""
    return runtime_dir.is_dir()


def unit_name(type_: str) -> str:
    if not _UNIT_RE.match(type_) or "/" in type_:
        raise ParameterError(f"{type_!r} is not a systemd unit name", OcfRc.ERR_CONFIGURED)
    return type_ if "." in type_ else f"{type_}.service"


class SystemdAgent(ScriptAgent):
    def __init__(self, spec: AgentSpec, systemctl: str = "systemctl",
                 runtime_dir: Path = SYSTEMD_RUNTIME) -> None:
        self.spec = spec
        self.path = Path(systemctl)
        self.runtime_dir = runtime_dir

    def invocation(self, request: OperationRequest, ctx: AgentContext) -> Invocation:
        if request.args or request.params:
            raise ParameterError("systemd units take no parameters", OcfRc.ERR_ARGS)
        if not systemd_running(self.runtime_dir):
            raise AgentUnavailableError(
                f"{self.spec}: systemd is not running on this machine",
                "use lsb: or heartbeat: scripts, or run vigil where systemd is PID 1")
        unit = unit_name(self.spec.type)
        if request.is_monitor:
            argv: tuple[str, ...] = (str(self.path), "is-active", "--", unit)
        else:
            argv = (str(self.path), "--no-ask-password", request.action, "--", unit)
        return Invocation(argv, dict(BASE_ENV))

    def interpret(self, request: OperationRequest, exit_code: int, output: str) -> AgentReply:
        if not request.is_monitor:
            return lsb_reply(self.spec, request, exit_code, output)
        words = output.split()
        state = words[-1] if words else ""
        if state in _ACTIVE:
            return AgentReply(int(OcfRc.OK), f"{self.spec} is {state}", output, exit_code)
        if state in _STOPPED:
            return AgentReply(int(OcfRc.NOT_RUNNING), f"{self.spec} is {state}", output,
                              exit_code)
        return AgentReply(int(OcfRc.ERR_GENERIC),
                          f"{self.spec}: is-active said {state or 'nothing'!r} (exit {exit_code})",
                          output, exit_code)

    async def metadata(self, ctx: AgentContext) -> AgentMetadata:
        return AgentMetadata(name=self.spec.type,
                             shortdesc=f"systemd unit {unit_name(self.spec.type)}",
                             actions=SYSTEMD_ACTIONS)
