"""``vigil:dummy``: a resource that is a state file, for tests and demos.

Like ``ocf:heartbeat:Dummy``: start creates the file, stop removes it, monitor
reports whether it exists. ``op_sleep_ms`` makes every operation take that
long, to rehearse timeouts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path

from vigil.agents.base import AgentContext, AgentReply, OperationRequest
from vigil.agents.builtin.declare import Builtin, Param, safe_name
from vigil.agents.codes import OcfRc


class Dummy(Builtin):
    NAME = "dummy"
    SHORTDESC = "A state file standing for a service (tests and demos)"
    LONGDESC = ("Start creates the state file, stop removes it, monitor reports whether it "
                "exists. Default file: STATE_DIR/dummy-INSTANCE.state.")
    PARAMS = (
        Param("state", "State file (default: in vigil's agent state directory)"),
        Param("op_sleep_ms", "Sleep this long in every start, stop and monitor",
              default="0", type="integer"),
    )

    @staticmethod
    def state_file(request: OperationRequest, params: Mapping[str, str],
                   ctx: AgentContext) -> Path:
        if "state" in params:
            return Path(params["state"])
        return ctx.state_dir / f"dummy-{safe_name(request.instance)}.state"

    async def _pause(self, params: Mapping[str, str]) -> None:
        ms = int(params["op_sleep_ms"])
        if ms:
            await asyncio.sleep(ms / 1000)

    async def start(self, request: OperationRequest, params: Mapping[str, str],
                    ctx: AgentContext) -> AgentReply:
        await self._pause(params)
        path = self.state_file(request, params, ctx)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        return AgentReply.of(OcfRc.OK, f"created {path}")

    async def stop(self, request: OperationRequest, params: Mapping[str, str],
                   ctx: AgentContext) -> AgentReply:
        await self._pause(params)
        path = self.state_file(request, params, ctx)
        path.unlink(missing_ok=True)
        return AgentReply.of(OcfRc.OK, f"removed {path}")

    async def monitor(self, request: OperationRequest, params: Mapping[str, str],
                      ctx: AgentContext) -> AgentReply:
        await self._pause(params)
        path = self.state_file(request, params, ctx)
        if path.exists():
            return AgentReply.of(OcfRc.OK, f"{path} exists")
        return AgentReply.of(OcfRc.NOT_RUNNING, f"{path} does not exist")
