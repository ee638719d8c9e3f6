"""Heartbeat names for the built-ins: ``heartbeat:IPaddr``, ``IPaddr2``, ``Filesystem``.

Used when no script of that name is installed, so an old ``haresources`` line
keeps working on a machine without Heartbeat's resource.d. Heartbeat's
positional arguments map onto the built-in's parameters:
``IPaddr::IP[/BITS[/IFACE[/BROADCAST]]]`` (the netmask may also be dotted) and
``Filesystem::DEVICE::DIRECTORY[::FSTYPE[::OPTIONS]]``.
"""

from __future__ import annotations

from collections.abc import Callable

from vigil.agents.base import (
    AgentContext,
    AgentReply,
    BuiltinAgent,
    OperationRequest,
    ParameterError,
)
from vigil.agents.builtin.declare import Builtin
from vigil.agents.builtin.filesystem import Filesystem
from vigil.agents.builtin.ipaddr import IpAddr
from vigil.agents.codes import OcfRc
from vigil.agents.metadata import AgentMetadata, ParameterInfo
from vigil.config import AgentSpec


def ipaddr_params(args: tuple[str, ...]) -> dict[str, str]:
    """``("10.0.0.5/24/eth0/10.0.0.255",)`` -> ip, cidr_netmask, nic, broadcast."""
    if len(args) != 1:
        raise ParameterError(
            f"IPaddr takes one argument IP[/BITS[/IFACE[/BROADCAST]]], got {len(args)}",
            OcfRc.ERR_ARGS)
    parts = args[0].split("/")
    if len(parts) > 4:
        raise ParameterError(f"{args[0]!r}: too many /-separated fields", OcfRc.ERR_ARGS)
    names = ("ip", "cidr_netmask", "nic", "broadcast")
    return {name: value for name, value in zip(names, parts, strict=False) if value}


def filesystem_params(args: tuple[str, ...]) -> dict[str, str]:
    """``("/dev/sdb1", "/data", "ext4")`` -> device, directory, fstype, options."""
    if not 2 <= len(args) <= 4:
        raise ParameterError(
            "Filesystem takes DEVICE::DIRECTORY[::FSTYPE[::OPTIONS]]", OcfRc.ERR_ARGS)
    names = ("device", "directory", "fstype", "options")
    return {name: value for name, value in zip(names, args, strict=False) if value}


class LegacyBuiltin(BuiltinAgent):
    """A built-in answering to a Heartbeat script name."""

    def __init__(self, name: str, target: Builtin,
                 mapping: Callable[[tuple[str, ...]], dict[str, str]]) -> None:
        self.spec = AgentSpec("heartbeat", name)
        self.target = target
        self.mapping = mapping

    def declaration(self) -> AgentMetadata:
        meta = self.target.declaration()
        usage = ("IP[/BITS[/IFACE[/BROADCAST]]]" if isinstance(self.target, IpAddr)
                 else "DEVICE::DIRECTORY[::FSTYPE[::OPTIONS]]")
        return AgentMetadata(
            name=self.spec.type,
            shortdesc=f"{meta.shortdesc} (built-in {self.target.spec}, Heartbeat arguments)",
            longdesc=f"No {self.spec.type} script is installed; vigil's built-in "
                     f"{self.target.spec} answers, taking {self.spec.type}::{usage}.",
            version=meta.version,
            parameters=(ParameterInfo("1", f"{usage}", required=True),),
            actions=meta.actions)

    async def run(self, request: OperationRequest, ctx: AgentContext) -> AgentReply:
        if request.action == "meta-data":
            return await self.target.run(request, ctx)
        params = dict(request.params) if request.params else self.mapping(request.args)
        translated = OperationRequest(
            action="monitor" if request.action == "status" else request.action,
            instance=request.instance, timeout_ms=request.timeout_ms, params=params,
            interval_ms=request.interval_ms, depth=request.depth)
        return await self.target.run(translated, ctx)


def legacy_builtins() -> dict[str, LegacyBuiltin]:
    ip = IpAddr()
    return {
        "IPaddr": LegacyBuiltin("IPaddr", ip, ipaddr_params),
        "IPaddr2": LegacyBuiltin("IPaddr2", ip, ipaddr_params),
        "Filesystem": LegacyBuiltin("Filesystem", Filesystem(), filesystem_params),
    }
