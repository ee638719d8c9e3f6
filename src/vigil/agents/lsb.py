"""``lsb:NAME``: System V init scripts in /etc/init.d with LSB exit codes.

``status`` (what a monitor runs) answers 0 running, 3 stopped; 1 (dead, pid
file left) and 2 (dead, lock file left) and 4 (unknown) are errors, as the
LSB core specification lists them. For the other actions the LSB codes 1-7
mean what the OCF codes of the same number mean.
"""

from __future__ import annotations

from pathlib import Path

from vigil.agents.base import (
    AgentContext,
    AgentReply,
    Invocation,
    OperationRequest,
    ParameterError,
    ScriptAgent,
)
from vigil.agents.codes import OcfRc, describe_rc
from vigil.agents.metadata import ActionInfo, AgentMetadata
from vigil.agents.ocf import BASE_ENV
from vigil.config import AgentSpec

LSB_DIR = Path("/etc/init.d")

_STATUS = {
    0: (OcfRc.OK, "running"),
    1: (OcfRc.ERR_GENERIC, "dead, but its pid file remains"),
    2: (OcfRc.ERR_GENERIC, "dead, but its lock file remains"),
    3: (OcfRc.NOT_RUNNING, "not running"),
    4: (OcfRc.ERR_GENERIC, "status unknown"),
}

#: Init scripts have no meta-data: Pacemaker's LSB template advises 15 s for all.
LSB_ACTIONS = (
    ActionInfo("start", 15_000), ActionInfo("stop", 15_000), ActionInfo("status", 15_000),
    ActionInfo("restart", 15_000), ActionInfo("force-reload", 15_000),
    ActionInfo("monitor", 15_000, 15_000), ActionInfo("meta-data", 5_000),
)


def script_action(action: str) -> str:
    """Init-style scripts know ``status``, not ``monitor``."""
    return "status" if action == "monitor" else action


def lsb_reply(agent: AgentSpec, request: OperationRequest, exit_code: int,
              output: str) -> AgentReply:
    """Map an init-style script's exit code as LSB defines it."""
    if request.is_monitor:
        rc, meaning = _STATUS.get(exit_code, (OcfRc.ERR_GENERIC, "unexpected status code"))
    else:
        rc = OcfRc(exit_code) if 0 <= exit_code <= 7 else OcfRc.ERR_GENERIC
        meaning = describe_rc(rc)
    action = script_action(request.action)
    return AgentReply(int(rc), f"{action} of {agent} returned {exit_code} ({meaning})",
                      output, exit_code)


def lsb_header(path: Path) -> dict[str, str]:
    """The ``### BEGIN INIT INFO`` block's fields (continuation lines joined)."""
    fields: dict[str, str] = {}
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return fields
    inside, last = False, None
    for line in text.splitlines():
        if line.startswith("### BEGIN INIT INFO"):
            inside = True
        elif line.startswith("### END INIT INFO"):
            break
        elif inside and line.startswith("#"):
            body = line[1:]
            if body[:1] in (" ", "\t") and body[1:2] in (" ", "\t") and last:
                fields[last] += " " + body.strip()  # continuation line
            elif ":" in body:
                key, _, value = body.partition(":")
                last = key.strip()
                fields[last] = value.strip()
    return fields


class LsbAgent(ScriptAgent):
    def __init__(self, spec: AgentSpec, path: Path) -> None:
        self.spec = spec
        self.path = path

    def invocation(self, request: OperationRequest, ctx: AgentContext) -> Invocation:
        if request.args or request.params:
            raise ParameterError("LSB init scripts take no parameters", OcfRc.ERR_ARGS)
        return Invocation((str(self.path), script_action(request.action)), dict(BASE_ENV))

    def interpret(self, request: OperationRequest, exit_code: int, output: str) -> AgentReply:
        return lsb_reply(self.spec, request, exit_code, output)

    async def metadata(self, ctx: AgentContext) -> AgentMetadata:
        header = lsb_header(self.path)
        return AgentMetadata(
            name=self.spec.type,
            shortdesc=header.get("Short-Description", ""),
            longdesc=header.get("Description", ""),
            actions=LSB_ACTIONS,
        )
