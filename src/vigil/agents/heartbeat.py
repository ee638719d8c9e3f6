"""``heartbeat:NAME``: Heartbeat's ``resource.d`` scripts, called as Heartbeat called them.

``SCRIPT arg1 arg2 ... start|stop|status``, looked up in the configured resource
directories then /etc/init.d. Heartbeat did not trust a script's status exit
code; it read the output (cluster-glue ``raexechb.c``, ``map_ra_retvalue``):
lower-cased output matching ``*stopped*`` or ``*not*running*`` is stopped,
otherwise ``*running*`` (lower-cased) or ``*OK*`` (as written) is running, and
anything else, silence included, is stopped. Where the output says nothing and
the script exits with an LSB error code (1, 2, 4) we report that error rather
than a clean stop. Start and stop exit codes are LSB's.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path

from vigil.agents.base import (
    AgentContext,
    AgentReply,
    Invocation,
    OperationRequest,
    ParameterError,
    ScriptAgent,
)
from vigil.agents.codes import OcfRc
from vigil.agents.lsb import lsb_reply, script_action
from vigil.agents.metadata import ActionInfo, AgentMetadata, ParameterInfo
from vigil.agents.ocf import BASE_ENV
from vigil.config import AgentSpec

_STOPPED = ("*stopped*", "*not*running*")

#: As cluster-glue's heartbeat-class template: 15 s for everything.
HEARTBEAT_ACTIONS = (
    ActionInfo("start", 15_000), ActionInfo("stop", 15_000), ActionInfo("status", 15_000),
    ActionInfo("monitor", 15_000, 15_000), ActionInfo("meta-data", 5_000),
)


def status_from_output(output: str) -> bool | None:
    """True running, False stopped, None when the output names neither."""
    text = output.strip()
    if not text:
        return None
    lower = text.lower()
    if any(fnmatch.fnmatchcase(lower, p) for p in _STOPPED):
        return False
    if fnmatch.fnmatchcase(lower, "*running*") or fnmatch.fnmatchcase(text, "*OK*"):
        return True
    return None


def heartbeat_status_reply(agent: AgentSpec, exit_code: int, output: str) -> AgentReply:
    said = status_from_output(output)
    if said is True:
        return AgentReply(int(OcfRc.OK), f"status of {agent} says running", output, exit_code)
    if said is False:
        return AgentReply(int(OcfRc.NOT_RUNNING), f"status of {agent} says stopped",
                          output, exit_code)
    # raexechb.c: "It didn't say it was running - must be stopped", whatever the exit
    # code: resource.d scripts without a status action (the field notes' Remac1 prints
    # its usage and exits 1) are stopped, not failed, as Heartbeat read them.
    return AgentReply(int(OcfRc.NOT_RUNNING),
                      f"status of {agent} did not say running (exit {exit_code}): stopped, "
                      "as Heartbeat read it", output, exit_code)


class HeartbeatAgent(ScriptAgent):
    def __init__(self, spec: AgentSpec, path: Path) -> None:
        self.spec = spec
        self.path = path

    def invocation(self, request: OperationRequest, ctx: AgentContext) -> Invocation:
        if request.params:
            raise ParameterError(
                "heartbeat: scripts take positional arguments (NAME::arg1::arg2), "
                f"not KEY=VALUE parameters (got {', '.join(request.params)})", OcfRc.ERR_ARGS)
        for a in request.args:
            if "\0" in a:
                raise ParameterError("an argument contains a NUL byte", OcfRc.ERR_ARGS)
        argv = (str(self.path), *request.args, script_action(request.action))
        return Invocation(argv, dict(BASE_ENV))

    def interpret(self, request: OperationRequest, exit_code: int, output: str) -> AgentReply:
        if request.is_monitor:
            return heartbeat_status_reply(self.spec, exit_code, output)
        return lsb_reply(self.spec, request, exit_code, output)

    async def metadata(self, ctx: AgentContext) -> AgentMetadata:
        params = tuple(
            ParameterInfo(str(i), shortdesc=f"argv[{i}]",
                          longdesc=f"positional argument {i} (NAME::arg1::arg2 in haresources)")
            for i in range(1, 6))
        return AgentMetadata(
            name=self.spec.type,
            shortdesc=f"Heartbeat resource script {self.path}",
            parameters=params,
            actions=HEARTBEAT_ACTIONS,
        )
