"""How a built-in agent declares itself: its parameters and actions, in Python.

The declaration is the built-in's meta-data (``vigil agent info vigil:ipaddr``)
and its validation: an unknown or missing parameter, or a value of the wrong
type, is refused before anything is touched (OCF ``ERR_CONFIGURED``).
"""

from __future__ import annotations

import abc
import re
from collections.abc import Mapping
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from vigil.agents.base import (
    AgentContext,
    AgentReply,
    BuiltinAgent,
    OperationRequest,
    ParameterError,
)
from vigil.agents.codes import OcfRc
from vigil.agents.metadata import ActionInfo, AgentMetadata, ParameterInfo
from vigil.config import AgentSpec

_TRUE = {"1", "true", "yes", "on", "y"}
_FALSE = {"0", "false", "no", "off", "n"}


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    shortdesc: str
    required: bool = False
    default: str | None = None
    type: str = "string"  # string, integer, boolean


def as_bool(value: str) -> bool:
    return value.strip().lower() in _TRUE


def safe_name(text: str) -> str:
    """TEXT usable as one file name (state files are named after instances)."""
    return re.sub(r"[^A-Za-z0-9_.@-]", "_", text) or "_"


def check_params(agent: str, decl: tuple[Param, ...], given: Mapping[str, str]) -> dict[str, str]:
    """GIVEN checked against DECL, with defaults filled in; raises ``ParameterError``."""
    known = {p.name: p for p in decl}
    for name in given:
        if name not in known:
            raise ParameterError(
                f"{agent} has no parameter {name!r} (it takes: {', '.join(known)})")
    out: dict[str, str] = {}
    for p in decl:
        value = given.get(p.name, p.default)
        if value is None:
            if p.required:
                raise ParameterError(f"{agent} needs parameter {p.name} ({p.shortdesc})")
            continue
        if p.type == "integer" and not re.fullmatch(r"\d+", value.strip()):
            raise ParameterError(f"{agent}: {p.name}={value!r} is not a whole number")
        if p.type == "boolean" and value.strip().lower() not in _TRUE | _FALSE:
            raise ParameterError(f"{agent}: {p.name}={value!r} is not true or false")
        out[p.name] = value.strip() if p.type != "string" else value
    return out


def metadata_xml(meta: AgentMetadata) -> str:
    """DECLARATION written as OCF meta-data XML, for ``meta-data`` on a built-in."""
    lines = ['<?xml version="1.0"?>', f"<resource-agent name={quoteattr(meta.name)}>",
             f"<version>{escape(meta.version)}</version>",
             f'<longdesc lang="en">{escape(meta.longdesc)}</longdesc>',
             f'<shortdesc lang="en">{escape(meta.shortdesc)}</shortdesc>', "<parameters>"]
    for p in meta.parameters:
        lines.append(f"<parameter name={quoteattr(p.name)} required="
                     f'"{int(p.required)}" unique="{int(p.unique)}">')
        lines.append(f'<shortdesc lang="en">{escape(p.shortdesc)}</shortdesc>')
        default = f" default={quoteattr(p.default)}" if p.default is not None else ""
        lines.append(f"<content type={quoteattr(p.type)}{default} />")
        lines.append("</parameter>")
    lines.append("</parameters>")
    lines.append("<actions>")
    for a in meta.actions:
        attrs = f"name={quoteattr(a.name)}"
        if a.timeout_ms is not None:
            attrs += f' timeout="{a.timeout_ms}ms"'
        if a.interval_ms is not None:
            attrs += f' interval="{a.interval_ms}ms"'
        lines.append(f"<action {attrs} />")
    lines += ["</actions>", "</resource-agent>"]
    return "\n".join(lines) + "\n"


class Builtin(BuiltinAgent):
    """Base of the built-ins: declaration, parameter checks and action dispatch."""

    NAME: str = ""
    SHORTDESC: str = ""
    LONGDESC: str = ""
    PARAMS: tuple[Param, ...] = ()
    ACTIONS: tuple[ActionInfo, ...] = (
        ActionInfo("start", 20_000), ActionInfo("stop", 20_000),
        ActionInfo("monitor", 20_000, 10_000), ActionInfo("validate-all", 5_000),
        ActionInfo("meta-data", 5_000),
    )

    def __init__(self) -> None:
        self.spec = AgentSpec("vigil", self.NAME)

    def declaration(self) -> AgentMetadata:
        return AgentMetadata(
            name=self.NAME, shortdesc=self.SHORTDESC, longdesc=self.LONGDESC, version="1.0",
            parameters=tuple(ParameterInfo(p.name, p.shortdesc, type=p.type, default=p.default,
                                           required=p.required) for p in self.PARAMS),
            actions=self.ACTIONS)

    async def run(self, request: OperationRequest, ctx: AgentContext) -> AgentReply:
        if request.action == "meta-data":
            return AgentReply.of(OcfRc.OK, "meta-data", metadata_xml(self.declaration()))
        if request.args:
            raise ParameterError(
                f"{self.spec} takes KEY=VALUE parameters, not positional arguments",
                OcfRc.ERR_ARGS)
        params = check_params(str(self.spec), self.PARAMS, request.params)
        self.validate(params)
        if request.action == "validate-all":
            return AgentReply.of(OcfRc.OK, "parameters are valid")
        if request.action == "start":
            return await self.start(request, params, ctx)
        if request.action == "stop":
            return await self.stop(request, params, ctx)
        if request.is_monitor:
            return await self.monitor(request, params, ctx)
        return AgentReply.of(OcfRc.ERR_UNIMPLEMENTED,
                             f"{self.spec} does not implement {request.action!r}")

    def validate(self, params: Mapping[str, str]) -> None:
        """Check parameter values beyond their types; raise ``ParameterError``."""

    @abc.abstractmethod
    async def start(self, request: OperationRequest, params: Mapping[str, str],
                    ctx: AgentContext) -> AgentReply: ...

    @abc.abstractmethod
    async def stop(self, request: OperationRequest, params: Mapping[str, str],
                   ctx: AgentContext) -> AgentReply: ...

    @abc.abstractmethod
    async def monitor(self, request: OperationRequest, params: Mapping[str, str],
                      ctx: AgentContext) -> AgentReply: ...
