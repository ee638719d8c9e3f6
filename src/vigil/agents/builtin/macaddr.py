"""``vigil:macaddr``: MAC address takeover of an interface, restored on stop.

What the ``Remac`` scripts in the 3-node field notes did by hand, done right:
the interface's own MAC is remembered in a state file before it is replaced
(kept under /run: it outlives a daemon restart, so stop restores the right
MAC, but not a reboot, which restores it anyway), a takeover already in place
is never mistaken for the original, and a gratuitous ARP for each IPv4 address
of the interface tells switches and neighbours where the MAC lives now. The
MAC is changed with the link up where the driver allows it, else down/up.
"""

from __future__ import annotations

import errno
import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vigil.agents.base import AgentContext, AgentReply, OperationRequest, ParameterError
from vigil.agents.builtin.announce import ArpMode, arp_announcer, mac_bytes, mac_text
from vigil.agents.builtin.declare import Builtin, Param, safe_name
from vigil.agents.builtin.ipaddr import IFNAME_RE
from vigil.agents.builtin.netns import in_netns
from vigil.agents.codes import OcfRc


class _MissingError(Exception):
    pass


def parse_mac(text: str) -> bytes:
    try:
        mac = mac_bytes(text)
    except ValueError as e:
        raise ParameterError(f"mac: {e}") from None
    if mac[0] & 1:
        raise ParameterError(f"mac={text!r} is a multicast address; use a unicast one")
    if mac == b"\x00" * 6:
        raise ParameterError("mac=00:00:00:00:00:00 is not usable")
    return mac


def _link(ipr: Any, nic: str) -> tuple[int, bytes]:
    found = ipr.link_lookup(ifname=nic)
    if not found:
        raise _MissingError(f"interface {nic} does not exist on this node")
    link = ipr.get_links(found[0])[0]
    return found[0], mac_bytes(link.get("IFLA_ADDRESS"))


def _current(nic: str) -> bytes:
    # imported here: pyroute2 costs ~15 MB, and most daemons never add a VIP
    from pyroute2 import IPRoute
    with IPRoute() as ipr:
        return _link(ipr, nic)[1]


def _set_mac(nic: str, mac: bytes, announce: bool) -> None:
    """Blocking: give NIC the MAC, then announce its IPv4 addresses with it."""
    # imported here: pyroute2 costs ~15 MB, and most daemons never add a VIP
    from pyroute2 import IPRoute
    from pyroute2.netlink.exceptions import NetlinkError
    with IPRoute() as ipr:
        index, _ = _link(ipr, nic)
        try:
            ipr.link("set", index=index, address=mac_text(mac))
        except NetlinkError as e:
            if e.code not in (errno.EBUSY, errno.EOPNOTSUPP):
                raise
            # Drivers without live MAC change need the link down for it.
            ipr.link("set", index=index, state="down")
            try:
                ipr.link("set", index=index, address=mac_text(mac))
            finally:
                ipr.link("set", index=index, state="up")
        addrs = [ipaddress.IPv4Address(m.get("IFA_LOCAL") or m.get("IFA_ADDRESS"))
                 for m in ipr.get_addr(family=2, index=index)]
    if announce:
        for ip in addrs:
            announcer = arp_announcer(nic, mac, ip, ArpMode.BOTH)
            try:
                announcer.send_round()
            finally:
                announcer.close()


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


class MacAddr(Builtin):
    NAME = "macaddr"
    SHORTDESC = "MAC address takeover, restored on stop"
    LONGDESC = " ".join((__doc__ or "").split("\n\n", 1)[-1].replace("``", "").split())
    PARAMS = (
        Param("nic", "Interface whose MAC is taken over", required=True),
        Param("mac", "The MAC it takes, e.g. 02:00:5e:00:01:0a", required=True),
        Param("announce", "Send a gratuitous ARP for the interface's addresses",
              default="true", type="boolean"),
    )

    def validate(self, params: Mapping[str, str]) -> None:
        if not IFNAME_RE.match(params["nic"]):
            raise ParameterError(f"nic={params['nic']!r} is not an interface name")
        parse_mac(params["mac"])

    @staticmethod
    def original_file(params: Mapping[str, str], ctx: AgentContext) -> Path:
        where = safe_name(ctx.netns) if ctx.netns else "host"
        return ctx.state_dir / f"macaddr-{where}-{safe_name(params['nic'])}.orig"

    async def start(self, request: OperationRequest, params: Mapping[str, str],
                    ctx: AgentContext) -> AgentReply:
        nic, mac = params["nic"], parse_mac(params["mac"])
        saved = self.original_file(params, ctx)
        try:
            current = await in_netns(ctx.netns, lambda: _current(nic))
        except _MissingError as e:
            return AgentReply.of(OcfRc.ERR_INSTALLED, str(e))
        if current == mac:
            return AgentReply.of(OcfRc.OK, f"{nic} already has {mac_text(mac)}")
        # A state file left by an earlier takeover holds the real original: keep it.
        if not saved.exists():
            _write_atomically(saved, mac_text(current) + "\n")
        announce = params["announce"].lower() in ("1", "true", "yes", "on", "y")
        await in_netns(ctx.netns, lambda: _set_mac(nic, mac, announce))
        return AgentReply.of(OcfRc.OK, f"{nic} now has {mac_text(mac)} "
                                       f"(was {saved.read_text().strip()}, saved in {saved})")

    async def stop(self, request: OperationRequest, params: Mapping[str, str],
                   ctx: AgentContext) -> AgentReply:
        nic = params["nic"]
        saved = self.original_file(params, ctx)
        if not saved.exists():
            return AgentReply.of(OcfRc.OK, f"no takeover of {nic} to undo")
        try:
            original = mac_bytes(saved.read_text())
        except ValueError:
            return AgentReply.of(OcfRc.ERR_GENERIC, f"{saved} does not hold a MAC address")
        try:
            await in_netns(ctx.netns, lambda: _set_mac(nic, original, False))
        except _MissingError as e:
            return AgentReply.of(OcfRc.ERR_INSTALLED, str(e))
        saved.unlink()
        return AgentReply.of(OcfRc.OK, f"{nic} restored to {mac_text(original)}")

    async def monitor(self, request: OperationRequest, params: Mapping[str, str],
                      ctx: AgentContext) -> AgentReply:
        nic, mac = params["nic"], parse_mac(params["mac"])
        try:
            current = await in_netns(ctx.netns, lambda: _current(nic))
        except _MissingError as e:
            return AgentReply.of(OcfRc.ERR_INSTALLED, str(e))
        taken = self.original_file(params, ctx).exists()
        if current == mac:
            return AgentReply.of(OcfRc.OK, f"{nic} has {mac_text(mac)}")
        if taken:
            return AgentReply.of(OcfRc.ERR_GENERIC, f"{nic} has {mac_text(current)}, expected "
                                                    f"{mac_text(mac)}: changed behind our back")
        return AgentReply.of(OcfRc.NOT_RUNNING, f"{nic} has its own MAC {mac_text(current)}")
