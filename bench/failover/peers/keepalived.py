"""keepalived (VRRP) as packaged by Debian, one instance per node namespace.

    keepalived --dont-fork --vrrp --log-console --log-detail --no-syslog
               -f DIR/keepalived.conf -p DIR/keepalived.pid -r DIR/vrrp.pid -i NODE

VRRPv3 (sub-second ``advert_int`` needs it), both nodes ``state BACKUP`` with
``nopreempt`` (keepalived's equivalent of ``auto_failback off``), priorities
150 and 100. n1 starts first and becomes master after the master-down
interval; n2 then joins as backup. A profile maps to ``advert_int`` =
keepalive, and only profiles whose dead time is three intervals exist for VRRP
(master down = 3 x advert_int + skew). keepalived has no planned switchover.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

from ..matrix import Fault, Profile
from ..topology import IFACE, PREFIX, VIP, Lan
from .base import Peer, PeerNotReadyError, command_output, log_has, vip_on_n1_only, wait_for

BINARY = shutil.which("keepalived") or "/usr/sbin/keepalived"
PRIORITY = {"n1": 150, "n2": 100}

CONFIG = """\
global_defs {{
    router_id {node}
}}

vrrp_instance VI_BENCH {{
    version 3
    state BACKUP
    nopreempt
    interface {iface}
    virtual_router_id 51
    priority {priority}
    advert_int {advert_int}
    virtual_ipaddress {{
        {vip}/{prefix} dev {iface}
    }}
}}
"""


class Keepalived(Peer):
    name = "keepalived"

    def __init__(self) -> None:
        self._pids: dict[str, int] = {}

    def missing(self) -> str | None:
        return None if Path(BINARY).exists() else "keepalived is not installed"

    def version(self) -> str:
        out = command_output([BINARY, "--version"])
        return out.splitlines()[0] if out else "?"

    def unsupported(self, fault: Fault, profile: Profile) -> str | None:
        if fault is Fault.SWITCHOVER:
            return "keepalived has no planned switchover"
        if profile.deadtime_ms != 3 * profile.keepalive_ms:
            return "VRRP's dead time is always 3 x advert_int"
        return None

    def start(self, lan: Lan, profile: Profile, workdir: Path) -> None:
        advert = profile.keepalive_ms / 1000
        for node in ("n1", "n2"):
            directory = workdir / node
            directory.mkdir(parents=True, exist_ok=True)
            (directory / "keepalived.conf").write_text(CONFIG.format(
                node=node, iface=IFACE, priority=PRIORITY[node], advert_int=f"{advert:g}",
                vip=VIP, prefix=PREFIX))
        # n1 first, so it is the master when n2 arrives (both BACKUP + nopreempt).
        self._spawn(lan, "n1", workdir)
        wait_for(lambda: vip_on_n1_only(lan), 3 * advert + 10, "keepalived n1 holds the VIP")
        self._spawn(lan, "n2", workdir)
        log = workdir / "n2" / "keepalived.log"
        wait_for(lambda: log_has(log, "Entering BACKUP STATE"), 10, "keepalived n2 is backup")
        # n2 must have heard n1's adverts, else it would take the VIP too after 3 of them.
        time.sleep(4 * advert)
        wait_for(lambda: vip_on_n1_only(lan), 1, "keepalived: VIP on n1 only")

    def _spawn(self, lan: Lan, node: str, workdir: Path) -> None:
        d = workdir / node
        proc = lan.spawn(node, [BINARY, "--dont-fork", "--vrrp", "--log-console", "--log-detail",
                                "--no-syslog", "-f", str(d / "keepalived.conf"),
                                "-p", str(d / "keepalived.pid"), "-r", str(d / "vrrp.pid"),
                                "-i", f"{lan.tag}-{node}"], d / "keepalived.log")
        self._pids[node] = proc.pid

    def stop(self, lan: Lan, node: str) -> None:
        # SIGTERM to the parent: its VRRP child sends a priority-0 advert and drops the VIP.
        os.kill(self._pids[node], signal.SIGTERM)

    def switchover(self, lan: Lan, node: str) -> None:
        raise PeerNotReadyError("keepalived has no planned switchover", fault_only=True)
