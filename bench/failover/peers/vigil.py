"""vigil, from this tree (``.venv/bin/vigil``), one daemon per node namespace.

    ip netns exec NS vigil daemon --config DIR/vigil.toml --node NODE
                                  --state-dir DIR/NODE/state --socket DIR/NODE/vigil.sock

One native TOML file for both nodes: a ucast link on eth0 with each node's
address, the profile's keepalive/warntime/deadtime/initdead, one
``vigil:ipaddr`` resource (ip, cidr_netmask, nic) in a group preferring n1,
``auto_failback = "off"``, and ``two_node = true`` (a lone survivor keeps
quorum, as Heartbeat's survivor took everything over). Stop is SIGTERM to the
daemon; the switchover is ``vigil standby n1 --socket ...`` (run from the host,
as an administrator would: its outage includes the command's own start-up).
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

from ..matrix import Fault, Profile
from ..topology import ADDRESSES, IFACE, NODES, PREFIX, VIP, Lan
from .base import Peer, vip_on_n1_only, wait_for

VIGIL = Path(sys.executable).with_name("vigil")
PORT = 6940


def config_toml(profile: Profile) -> str:
    addresses = ", ".join(f'{n} = "{ADDRESSES[n]}"' for n in NODES)
    nodes = "".join(f'\n[[node]]\nname = "{n}"\n' for n in NODES)
    return f"""\
# Written by bench/failover: two nodes, one VIP, timing {profile.label}.
[cluster]
name = "bench-failover"
auto_failback = "off"

[timing]
keepalive = "{profile.keepalive_ms}ms"
warntime = "{profile.warntime_ms}ms"
deadtime = "{profile.deadtime_ms}ms"
initdead = "{profile.initdead_ms}ms"
{nodes}
[[link]]
name = "lan"
kind = "ucast"
interface = "{IFACE}"
port = {PORT}
addresses = {{ {addresses} }}

[auth]

[[auth.key]]
method = "hmac-sha256"
secret = "vigil-bench-failover-not-a-secret"

[[resource]]
id = "vip"
agent = "vigil:ipaddr"
params = {{ ip = "{VIP}", cidr_netmask = "{PREFIX}", nic = "{IFACE}" }}

[[group]]
id = "service"
resources = ["vip"]
preferred_node = "n1"

[quorum]
two_node = true
"""


def status(sock: Path) -> dict[str, Any] | None:
    from vigil.cli.control_client import request
    from vigil.exitcodes import VigilError

    try:
        doc = request(sock, "status", 1.0)
    except VigilError:
        return None
    return doc if isinstance(doc, dict) else None


def both_in_view(socks: list[Path]) -> bool:
    for sock in socks:
        doc = status(sock)
        if doc is None:
            return False
        view = doc.get("view", {})
        if sorted(view.get("members", [])) != sorted(NODES) or not view.get("stable"):
            return False
    return True


class Vigil(Peer):
    name = "vigil"

    def __init__(self) -> None:
        self._pids: dict[str, int] = {}
        self._socks: dict[str, Path] = {}

    def missing(self) -> str | None:
        return None if VIGIL.exists() else f"{VIGIL} not found (make venv)"

    def version(self) -> str:
        from importlib.metadata import version

        return f"vigil {version('vigil-ha')}"

    def unsupported(self, fault: Fault, profile: Profile) -> str | None:
        return None

    def start(self, lan: Lan, profile: Profile, workdir: Path) -> None:
        config = workdir / "vigil.toml"
        config.write_text(config_toml(profile))
        config.chmod(0o600)  # the key is inline: vigil refuses it readable by others
        for node in NODES:
            d = workdir / node
            (d / "state").mkdir(parents=True, exist_ok=True)
            self._socks[node] = d / "vigil.sock"
            proc = lan.spawn(node, [str(VIGIL), "daemon", "--config", str(config),
                                    "--node", node, "--state-dir", str(d / "state"),
                                    "--socket", str(self._socks[node])], d / "vigil.log")
            self._pids[node] = proc.pid
        wait_for(lambda: both_in_view(list(self._socks.values())),
                 profile.initdead_ms / 1000 + 10, "vigil: both nodes in one stable view")
        wait_for(lambda: vip_on_n1_only(lan), profile.initdead_ms / 1000 + 10,
                 "vigil: VIP on n1 only")

    def stop(self, lan: Lan, node: str) -> None:
        os.kill(self._pids[node], signal.SIGTERM)

    def switchover(self, lan: Lan, node: str) -> None:
        lan.spawn_here([str(VIGIL), "standby", node, "--socket", str(self._socks[node])],
                       lan.workdir / "standby.out")
