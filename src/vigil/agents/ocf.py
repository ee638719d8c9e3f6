"""``ocf:PROVIDER:TYPE``: Open Cluster Framework agents, such as Debian's resource-agents.

The agent is ``$OCF_ROOT/resource.d/PROVIDER/TYPE``, called with the action as
its only argument; everything else travels in the environment, as Pacemaker's
execd sets it: ``OCF_RESKEY_<name>`` per parameter, ``OCF_RESOURCE_INSTANCE``,
``OCF_RESKEY_CRM_meta_timeout``/``_interval`` in milliseconds (an interval of 0
on a monitor is what ``ocf_is_probe`` looks for). Exit codes are OCF's own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
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
from vigil.agents.metadata import AgentMetadata, MetadataError, parse_ocf_metadata
from vigil.config import AgentSpec

OCF_ROOT = Path("/usr/lib/ocf")
#: The environment every external agent starts from: nothing inherited from
#: whoever started vigil, so an agent behaves the same from the daemon and the CLI.
BASE_ENV: Mapping[str, str] = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LC_ALL": "C",
}
META_DATA_TIMEOUT_MS = 5_000
_PARAM_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_EXIT_REASON = "ocf-exit-reason:"


def check_param(name: str, value: str) -> None:
    """Parameters become environment variables: the name must be one, the value NUL-free."""
    if not _PARAM_NAME_RE.match(name):
        raise ParameterError(
            f"parameter name {name!r} is not valid (letters, digits and _ only)")
    if "\0" in value:
        raise ParameterError(f"parameter {name} contains a NUL byte")


def exit_reason(output: str) -> str | None:
    """The last ``ocf-exit-reason:`` line an agent printed (``ocf_exit_reason``)."""
    found = None
    for line in output.splitlines():
        i = line.find(_EXIT_REASON)
        if i >= 0:
            found = line[i + len(_EXIT_REASON):].strip() or None
    return found


class OcfAgent(ScriptAgent):
    validates_before_start = True

    def __init__(self, spec: AgentSpec, path: Path, ocf_root: Path = OCF_ROOT) -> None:
        self.spec = spec
        self.path = path
        self.ocf_root = ocf_root

    def environment(self, request: OperationRequest, ctx: AgentContext) -> dict[str, str]:
        env = dict(BASE_ENV)
        env.update({
            "OCF_ROOT": str(self.ocf_root),
            "OCF_RA_VERSION_MAJOR": "1",
            "OCF_RA_VERSION_MINOR": "1",
            "OCF_RESOURCE_INSTANCE": request.instance,
            "OCF_RESOURCE_TYPE": self.spec.type,
            "OCF_RESOURCE_PROVIDER": self.spec.provider or "",
            "OCF_CHECK_LEVEL": str(request.depth),
            "OCF_RESKEY_CRM_meta_name": request.action,
            "OCF_RESKEY_CRM_meta_timeout": str(request.timeout_ms),
            "OCF_RESKEY_CRM_meta_interval": str(request.interval_ms),
        })
        if ctx.node_name:
            env["OCF_RESKEY_CRM_meta_on_node"] = ctx.node_name
        for name, value in request.params.items():
            check_param(name, value)
            env[f"OCF_RESKEY_{name}"] = value
        return env

    def invocation(self, request: OperationRequest, ctx: AgentContext) -> Invocation:
        if request.args:
            raise ParameterError(
                "OCF agents take KEY=VALUE parameters, not positional arguments "
                f"(got {' '.join(request.args)!r})", OcfRc.ERR_ARGS)
        return Invocation((str(self.path), request.action), self.environment(request, ctx))

    def interpret(self, request: OperationRequest, exit_code: int, output: str) -> AgentReply:
        try:
            rc = OcfRc(exit_code)
        except ValueError:
            rc = OcfRc.ERR_GENERIC
        why = exit_reason(output)
        reason = f"{request.action} of {self.spec} returned {exit_code} ({describe_rc(rc)})"
        if why:
            reason += f": {why}"
        return AgentReply(int(rc), reason, output, exit_code)

    async def metadata(self, ctx: AgentContext) -> AgentMetadata:
        req = OperationRequest("meta-data", self.spec.type, META_DATA_TIMEOUT_MS)
        inv = Invocation((str(self.path), "meta-data"), self.environment(req, ctx))
        out = await ctx.run_program(inv.argv, inv.env, META_DATA_TIMEOUT_MS)
        if out.exit_code != 0:
            what = "timed out" if out.timed_out else (out.exec_error or f"exit {out.exit_code}")
            raise MetadataError(f"{self.spec} meta-data failed: {what}")
        return parse_ocf_metadata(out.output)
