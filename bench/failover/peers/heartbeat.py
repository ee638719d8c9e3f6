"""Heartbeat 3.0.6 (Debian's ``heartbeat`` package) in R1 mode: ``haresources``, crm off.

Heartbeat wants, per node, its own host name, ``/etc/ha.d``, ``/run`` and
``/var/lib/heartbeat``. Each node therefore runs in a mount and UTS namespace
of its own inside the node's network namespace:

    ip netns exec NS unshare --mount --uts --propagation private sh -c
        'mount --bind DIR/etc /etc/ha.d && mount --bind DIR/run /run &&
         mount --bind DIR/lib /var/lib/heartbeat && hostname NODE &&
         exec /usr/libexec/heartbeat/heartbeat -f'

``DIR/etc`` is a copy of the package's ``/etc/ha.d`` (harc, rc.d, resource.d,
shellfuncs) plus ``ha.cf``, ``haresources`` (``n1 IPaddr::VIP/24/eth0``: the
package's resource.d/IPaddr, which adds the address and announces it with its
own send_arp) and ``authkeys`` (sha1, mode 0600). ``ha.cf``: ucast on eth0,
keepalive and deadtime from the profile, ``auto_failback off``, ``crm off``.
Heartbeat takes about 12 s to come up (it waits for its peer's resource
messages); the runner reads both logs for "Initial resource acquisition
complete" before a trial. The switchover runs the package's ``hb_standby``
inside n1's namespaces (nsenter).
"""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

from ..matrix import Profile
from ..topology import ADDRESSES, IFACE, NODES, PREFIX, VIP, Lan
from .base import Peer, command_output, log_has, vip_on_n1_only, wait_for

DAEMON = Path("/usr/libexec/heartbeat/heartbeat")
HB_STANDBY = Path("/usr/share/heartbeat/hb_standby")
HA_D = Path("/etc/ha.d")
LIB = Path("/var/lib/heartbeat")
READY = "Initial resource acquisition complete"
#: /run as Heartbeat's tmpfiles.d sets it up (owned by hacluster:haclient), and IPaddr's state.
RUN_DIRS = ("heartbeat", "heartbeat/ccm", "heartbeat/crm", "heartbeat/dopd", "crm",
            "resource-agents")


def ms(value: int) -> str:
    return f"{value}ms"


def ha_cf(node_dir: Path, profile: Profile) -> str:
    lines = [
        f"logfile {node_dir / 'ha-log'}",
        f"debugfile {node_dir / 'ha-debug'}",
        "use_logd no",
        f"keepalive {ms(profile.keepalive_ms)}",
        f"warntime {ms(profile.warntime_ms)}",
        f"deadtime {ms(profile.deadtime_ms)}",
        f"initdead {ms(profile.initdead_ms)}",
        # Heartbeat skips a ucast line naming its own address, so one file serves both.
        *(f"ucast {IFACE} {ADDRESSES[n]}" for n in NODES),
        "auto_failback off",
        "crm off",
        *(f"node {n}" for n in NODES),
    ]
    return "\n".join(lines) + "\n"


class Heartbeat(Peer):
    name = "heartbeat"

    def __init__(self) -> None:
        self._pids: dict[str, int] = {}

    def missing(self) -> str | None:
        for path in (DAEMON, HB_STANDBY, HA_D / "resource.d" / "IPaddr"):
            if not path.exists():
                return f"heartbeat is not installed ({path} missing)"
        return None

    def version(self) -> str:
        out = command_output(["dpkg-query", "-W", "-f", "${Version}", "heartbeat"])
        return f"Heartbeat {out}" if out else "Heartbeat ?"

    def _prepare(self, node: str, profile: Profile, workdir: Path) -> Path:
        d = workdir / node
        if d.exists():
            shutil.rmtree(d)
        shutil.copytree(HA_D, d / "etc", symlinks=True)
        # Without the host's node identity, if it ever ran Heartbeat: each node makes its own.
        shutil.copytree(LIB, d / "lib", symlinks=True, ignore=shutil.ignore_patterns(
            "hb_uuid", "hb_generation", "hostcache", "delhostcache"))
        for sub in RUN_DIRS:
            (d / "run" / sub).mkdir(parents=True, exist_ok=True)
        shutil.chown(d / "run" / "heartbeat", "hacluster", "haclient")
        for sub in ("heartbeat/ccm", "heartbeat/crm", "heartbeat/dopd", "crm"):
            shutil.chown(d / "run" / sub, "hacluster", "haclient")
        (d / "etc" / "ha.cf").write_text(ha_cf(d, profile))
        (d / "etc" / "haresources").write_text(f"n1 IPaddr::{VIP}/{PREFIX}/{IFACE}\n")
        keys = d / "etc" / "authkeys"
        keys.write_text("auth 1\n1 sha1 vigil-bench-failover\n")
        keys.chmod(0o600)
        return d

    def start(self, lan: Lan, profile: Profile, workdir: Path) -> None:
        for node in NODES:
            d = self._prepare(node, profile, workdir)
            script = (f"mount --bind {d}/etc {HA_D} && mount --bind {d}/run /run && "
                      f"mount --bind {d}/lib {LIB} && hostname {node} && exec {DAEMON} -f")
            proc = lan.spawn(node, ["unshare", "--mount", "--uts", "--propagation", "private",
                                    "sh", "-c", script], d / "heartbeat.out")
            self._pids[node] = proc.pid
        wait_for(lambda: all(log_has(workdir / n / "ha-log", READY) for n in NODES),
                 profile.initdead_ms / 1000 + 30, "heartbeat: both nodes acquired resources")
        wait_for(lambda: vip_on_n1_only(lan), 10, "heartbeat: VIP on n1 only")

    def stop(self, lan: Lan, node: str) -> None:
        # What `heartbeat -k` (the unit's ExecStop) does: SIGTERM to the master control process.
        os.kill(self._pids[node], signal.SIGTERM)

    def switchover(self, lan: Lan, node: str) -> None:
        # hb_standby writes to the FIFO under NODE's own /var/lib/heartbeat: enter its mounts.
        lan.spawn_here(["nsenter", "-t", str(self._pids[node]), "-m", "-u", "-n",
                        str(HB_STANDBY)], lan.workdir / "hb_standby.out")
