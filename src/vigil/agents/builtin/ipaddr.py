"""``vigil:ipaddr``: a virtual IPv4/IPv6 address, added by netlink and announced.

Start adds the address to the interface (pyroute2, no ``ip`` command), then
announces it: gratuitous ARP for IPv4 (``arp_mode``: request, reply or both;
``arp_count`` rounds ``arp_interval_ms`` apart, as IPaddr2's 5 x 200 ms), an
unsolicited neighbour advertisement for IPv6. The first round goes out before
start returns; the rest follow in the background, as Heartbeat ran send_arp.
IPv6 addresses are added without duplicate address detection (IFA_F_NODAD,
as keepalived does) so they answer at once. Monitor checks the address is
still there and, for IPv4, that no other host answers an ARP probe for it
(``probe_ms``; 0 turns the probe off). Without ``nic`` the interface is the one
holding a subnet that contains the address (IPaddr2's findif); without
``cidr_netmask`` the prefix is that subnet's (else /32 or /128).

While the address is held, one announcement round goes out again every
``arp_refresh_ms`` (0: never), so a client that missed the takeover or
learned a stale MAC during a split brain follows within that time (keepalived's
``garp_master_refresh``, on by default here). The ``reannounce`` action, which
the coordinator asks for when a partition heals, sends the full
``arp_count`` rounds again at once without touching the address.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vigil.agents.base import AgentContext, AgentReply, OperationRequest, ParameterError
from vigil.agents.builtin.announce import (
    Announcer,
    ArpMode,
    arp_announcer,
    find_other_holder,
    mac_bytes,
    mac_text,
    na_announcer,
)
from vigil.agents.builtin.declare import Builtin, Param, check_params
from vigil.agents.builtin.netns import in_netns
from vigil.agents.codes import OcfRc
from vigil.agents.metadata import ActionInfo

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IFNAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{1,15}$")
IFA_F_NODAD = 0x02
IFA_F_DADFAILED = 0x08


class _MissingError(Exception):
    """Something this node lacks (an interface, a subnet): OCF "not installed"."""


@dataclass(frozen=True, slots=True)
class Vip:
    ip: IPAddress
    prefix: int | None
    nic: str | None
    broadcast: ipaddress.IPv4Address | None
    label: str | None
    arp_count: int
    arp_interval_s: float
    arp_mode: ArpMode
    probe_s: float
    refresh_s: float = 0.0

    @property
    def family(self) -> int:
        return 4 if self.ip.version == 4 else 6


def parse_prefix(text: str, version: int) -> int:
    """``24`` or ``255.255.255.0`` -> 24."""
    width = 32 if version == 4 else 128
    if text.isdigit() and 0 < int(text) <= width:
        return int(text)
    if version == 4:
        try:
            return ipaddress.IPv4Network(f"0.0.0.0/{text}").prefixlen
        except ValueError:
            pass
    raise ParameterError(f"cidr_netmask={text!r} is not a prefix length (1-{width})")


def parse_vip(params: Mapping[str, str]) -> Vip:
    """The parameters checked and typed; raises ``ParameterError``."""
    try:
        ip = ipaddress.ip_address(params["ip"].strip())
    except ValueError:
        raise ParameterError(
            f"ip={params['ip']!r} is not an IPv4 or IPv6 address") from None
    prefix = parse_prefix(params["cidr_netmask"].strip(), ip.version) \
        if params.get("cidr_netmask") else None
    nic, label = params.get("nic") or None, params.get("label") or None
    if nic is not None and ":" in nic:  # Heartbeat wrote eth0:0 for a labelled alias
        nic, label = nic.split(":", 1)[0], label or nic
    for what, name in (("nic", nic), ("label", label)):
        if name is not None and not IFNAME_RE.match(name.replace(":", "_")):
            raise ParameterError(f"{what}={name!r} is not an interface name")
    broadcast = None
    if params.get("broadcast"):
        try:
            broadcast = ipaddress.IPv4Address(params["broadcast"].strip())
        except ValueError:
            raise ParameterError(
                f"broadcast={params['broadcast']!r} is not an IPv4 address") from None
    try:
        mode = ArpMode(params["arp_mode"])
    except ValueError:
        raise ParameterError(
            f"arp_mode={params['arp_mode']!r}: use request, reply or both") from None
    return Vip(ip, prefix, nic, broadcast, label, int(params["arp_count"]),
               int(params["arp_interval_ms"]) / 1000, mode, int(params["probe_ms"]) / 1000,
               int(params.get("arp_refresh_ms") or 0) / 1000)


@dataclass(frozen=True, slots=True)
class _Iface:
    index: int
    name: str
    mac: bytes


def _addresses(ipr: Any, version: int) -> list[tuple[int, IPAddress, int, int]]:
    """(ifindex, address, prefix, flags) of every address of that family."""
    out = []
    family = 2 if version == 4 else 10
    for msg in ipr.get_addr(family=family):
        raw = msg.get("IFA_LOCAL") or msg.get("IFA_ADDRESS")
        if raw is None:
            continue
        flags = msg.get("IFA_FLAGS")
        out.append((msg["index"], ipaddress.ip_address(raw), msg["prefixlen"],
                    flags if flags is not None else msg["flags"]))
    return out


def _iface(ipr: Any, index: int) -> _Iface:
    link = ipr.get_links(index)[0]
    return _Iface(index, link.get("IFLA_IFNAME"), mac_bytes(link.get("IFLA_ADDRESS")))


def _holding(ipr: Any, vip: Vip) -> tuple[_Iface, int, int] | None:
    """Where the address is configured now: (interface, prefix, flags), or None."""
    for index, addr, prefix, flags in _addresses(ipr, vip.ip.version):
        if addr == vip.ip:
            iface = _iface(ipr, index)
            if vip.nic is None or iface.name == vip.nic:
                return iface, prefix, flags
    return None


def _locate(ipr: Any, vip: Vip) -> tuple[_Iface, int]:
    """The interface and prefix the address goes on (IPaddr2's findif)."""
    width = vip.ip.max_prefixlen
    subnets = [(index, prefix) for index, addr, prefix, _ in _addresses(ipr, vip.ip.version)
               if addr != vip.ip and prefix < width
               and vip.ip in ipaddress.ip_network(f"{addr}/{prefix}", strict=False)]
    if vip.nic is not None:
        found = ipr.link_lookup(ifname=vip.nic)
        if not found:
            raise _MissingError(f"interface {vip.nic} does not exist on this node")
        index = found[0]
        same = [p for i, p in subnets if i == index]
        prefix = vip.prefix or (max(same) if same else width)
        return _iface(ipr, index), prefix
    if not subnets:
        raise _MissingError(f"no interface has a subnet containing {vip.ip}: give nic=")
    index, prefix = max(subnets, key=lambda s: s[1])
    return _iface(ipr, index), vip.prefix or prefix


def _announcer(iface: _Iface, vip: Vip) -> Announcer | None:
    if vip.arp_count <= 0:
        return None
    if isinstance(vip.ip, ipaddress.IPv4Address):
        return arp_announcer(iface.name, iface.mac, vip.ip, vip.arp_mode)
    return na_announcer(iface.index, iface.mac, vip.ip)


def _add(vip: Vip) -> tuple[str, bool, Announcer | None]:
    """Blocking: add the address unless present; open the announcer. (nic, added, announcer)"""
    # imported here: pyroute2 costs ~15 MB, and most daemons never add a VIP
    from pyroute2 import IPRoute
    from pyroute2.netlink.exceptions import NetlinkError
    with IPRoute() as ipr:
        held = _holding(ipr, vip)
        added = held is None
        if held is None:
            iface, prefix = _locate(ipr, vip)
            kwargs: dict[str, Any] = {"index": iface.index, "address": str(vip.ip),
                                      "prefixlen": prefix}
            if isinstance(vip.ip, ipaddress.IPv4Address):
                net = ipaddress.IPv4Network(f"{vip.ip}/{prefix}", strict=False)
                bcast = vip.broadcast or (net.broadcast_address if prefix <= 30 else None)
                if bcast is not None:
                    kwargs["broadcast"] = str(bcast)
                if vip.label:
                    kwargs["label"] = vip.label
            else:
                kwargs["flags"] = IFA_F_NODAD
            try:
                ipr.addr("add", **kwargs)
            except NetlinkError as e:
                if e.code != errno.EEXIST:
                    raise
        else:
            iface = held[0]
    return iface.name, added, _announcer(iface, vip)


def _remove(vip: Vip) -> str | None:
    """Blocking: delete the address where it is; the interface it was on, or None."""
    # imported here: pyroute2 costs ~15 MB, and most daemons never add a VIP
    from pyroute2 import IPRoute
    from pyroute2.netlink.exceptions import NetlinkError
    with IPRoute() as ipr:
        held = _holding(ipr, vip)
        if held is None:
            return None
        iface, prefix, _ = held
        try:
            ipr.addr("del", index=iface.index, address=str(vip.ip), prefixlen=prefix)
        except NetlinkError as e:
            if e.code != errno.EADDRNOTAVAIL:
                raise
        return iface.name


def _check(vip: Vip) -> tuple[str | None, int, bytes | None]:
    """Blocking: (interface holding it or None, flags, MAC of another holder or None)."""
    # imported here: pyroute2 costs ~15 MB, and most daemons never add a VIP
    from pyroute2 import IPRoute
    with IPRoute() as ipr:
        held = _holding(ipr, vip)
    if held is None:
        return None, 0, None
    iface, _, flags = held
    other = None
    if isinstance(vip.ip, ipaddress.IPv4Address) and vip.probe_s > 0:
        other = find_other_holder(iface.name, iface.mac, vip.ip, vip.probe_s)
    return iface.name, flags, other


def _held_announcer(vip: Vip) -> tuple[str, Announcer | None] | None:
    """Blocking: (interface, announcer) where the address is held now; None if it is not."""
    # imported here: pyroute2 costs ~15 MB, and most daemons never add a VIP
    from pyroute2 import IPRoute
    with IPRoute() as ipr:
        held = _holding(ipr, vip)
    if held is None:
        return None
    return held[0].name, _announcer(held[0], vip)


async def _announce_rest(announcer: Announcer, rounds: int, interval_s: float,
                         refresh_s: float = 0.0) -> None:
    """ROUNDS more rounds INTERVAL_S apart, then one every REFRESH_S (0: stop there)."""
    try:
        for _ in range(rounds):
            await asyncio.sleep(interval_s)
            announcer.send_round()
        while refresh_s > 0:
            await asyncio.sleep(refresh_s)
            announcer.send_round()
    finally:
        announcer.close()


def _key(vip: Vip) -> str:
    return f"ipaddr:{vip.ip}"


class IpAddr(Builtin):
    NAME = "ipaddr"
    SHORTDESC = "Virtual IPv4/IPv6 address with gratuitous ARP / unsolicited NA"
    LONGDESC = " ".join((__doc__ or "").split("\n\n", 1)[-1].replace("``", "").split())
    PARAMS = (
        Param("ip", "The virtual address (IPv4 or IPv6)", required=True),
        Param("cidr_netmask", "Prefix length or dotted netmask (default: the subnet's)"),
        Param("nic", "Interface (default: the one whose subnet contains ip)"),
        Param("broadcast", "IPv4 broadcast address (default: computed)"),
        Param("label", "IPv4 address label, e.g. eth0:vip"),
        Param("arp_count", "Announcement rounds (0: none)", default="5", type="integer"),
        Param("arp_interval_ms", "Time between rounds", default="200", type="integer"),
        Param("arp_mode", "Gratuitous ARP form: request, reply or both", default="both"),
        Param("probe_ms", "Monitor: listen this long for another holder (0: no probe)",
              default="200", type="integer"),
        Param("arp_refresh_ms", "Announce again every this long while held (0: never)",
              default="5000", type="integer"),
    )
    ACTIONS = (*Builtin.ACTIONS, ActionInfo("reannounce", 5_000))

    async def run(self, request: OperationRequest, ctx: AgentContext) -> AgentReply:
        if request.action != "reannounce":
            return await super().run(request, ctx)
        vip = parse_vip(check_params(str(self.spec), self.PARAMS, request.params))
        held = await in_netns(ctx.netns, lambda: _held_announcer(vip))
        if held is None:
            return AgentReply.of(OcfRc.NOT_RUNNING, f"{vip.ip} is not configured: not announced")
        nic, announcer = held
        if announcer is None:
            return AgentReply.of(OcfRc.OK, f"{vip.ip} on {nic}, not announced (arp_count=0)")
        announcer.send_round()
        ctx.background.replace(_key(vip), _announce_rest(
            announcer, vip.arp_count - 1, vip.arp_interval_s, vip.refresh_s),
            endless=vip.refresh_s > 0)
        return AgentReply.of(OcfRc.OK, f"{vip.ip} on {nic} announced again "
                                       f"({vip.arp_count} x {int(vip.arp_interval_s * 1000)} ms)")

    def validate(self, params: Mapping[str, str]) -> None:
        parse_vip(params)

    async def start(self, request: OperationRequest, params: Mapping[str, str],
                    ctx: AgentContext) -> AgentReply:
        vip = parse_vip(params)
        try:
            nic, added, announcer = await in_netns(ctx.netns, lambda: _add(vip))
        except _MissingError as e:
            return AgentReply.of(OcfRc.ERR_INSTALLED, str(e))
        what = f"added {vip.ip} to {nic}" if added else f"{vip.ip} already on {nic}"
        if announcer is None:
            return AgentReply.of(OcfRc.OK, f"{what}, not announced (arp_count=0)")
        announcer.send_round()
        ctx.background.replace(_key(vip), _announce_rest(
            announcer, vip.arp_count - 1, vip.arp_interval_s, vip.refresh_s),
            endless=vip.refresh_s > 0)
        how = "gratuitous ARP" if vip.ip.version == 4 else "unsolicited neighbour advertisement"
        return AgentReply.of(OcfRc.OK, f"{what}, announced by {how} "
                                       f"({vip.arp_count} x {int(vip.arp_interval_s * 1000)} ms)")

    async def stop(self, request: OperationRequest, params: Mapping[str, str],
                   ctx: AgentContext) -> AgentReply:
        vip = parse_vip(params)
        ctx.background.cancel(_key(vip))
        nic = await in_netns(ctx.netns, lambda: _remove(vip))
        if nic is None:
            return AgentReply.of(OcfRc.OK, f"{vip.ip} was not configured")
        return AgentReply.of(OcfRc.OK, f"removed {vip.ip} from {nic}")

    async def monitor(self, request: OperationRequest, params: Mapping[str, str],
                      ctx: AgentContext) -> AgentReply:
        vip = parse_vip(params)
        nic, flags, other = await in_netns(ctx.netns, lambda: _check(vip))
        if nic is None:
            return AgentReply.of(OcfRc.NOT_RUNNING, f"{vip.ip} is not configured")
        if flags & IFA_F_DADFAILED:
            return AgentReply.of(OcfRc.ERR_GENERIC,
                                 f"{vip.ip} on {nic} failed duplicate address detection")
        if other is not None:
            return AgentReply.of(OcfRc.ERR_GENERIC,
                                 f"{vip.ip} on {nic} is also held by {mac_text(other)}")
        if vip.refresh_s > 0 and vip.arp_count > 0 and _key(vip) not in ctx.background.pending():
            # Held but not refreshed (found by a probe after a daemon restart): resume.
            held = await in_netns(ctx.netns, lambda: _held_announcer(vip))
            if held is not None and held[1] is not None:
                ctx.background.replace(_key(vip), _announce_rest(held[1], 0, 0.0,
                                                                 vip.refresh_s), endless=True)
        return AgentReply.of(OcfRc.OK, f"{vip.ip} is on {nic}")
