"""A vigil cluster in network namespaces, and a client that watches its services.

    ns node0  eth0 192.0.2.1   --+
    ns node1  eth0 192.0.2.2   --+-- br0 (ns of its own)
    ns node2  eth0 192.0.2.3   --+   (as many nodes as asked)
    ns client eth0 192.0.2.100 --+

Each node runs a real ``vigil daemon`` (``ip netns exec NODE unshare --mount``,
with the node's own directory bind-mounted over /etc/init.d, so ``lsb:`` agents
find the init scripts this module writes, as on a real machine). A group is a
``vigil:ipaddr`` VIP then an ``lsb:`` service: a small UDP server bound to the
VIP that answers every question with its node's name. The client asks every
VIP every 10 ms from its own namespace and never flushes its ARP cache, so only
the new holder's gratuitous ARP brings it over; every answer is logged with its
CLOCK_MONOTONIC time, the clock faults are stamped with.

Every namespace comes from the conftest ``netns`` factory (unique names,
deleted at teardown); ``destroy`` SIGKILLs every process in the nodes'
namespaces (all started here) and the daemons this module started, nothing else.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from agents_lan import in_ns, ip

from vigil.cli.control_client import request
from vigil.exitcodes import VigilError

VIGIL = Path(sys.executable).with_name("vigil")
HB_PORT = 6940
SERVICE_PORT = 7794
CLIENT_ADDR = "192.0.2.100"
SECRET = "netns-failover-test-secret-5d1f0c3a"
POLL_S = 0.05

#: The service an init script starts: binds VIP:PORT (IP_FREEBIND, so it may
#: start before the address settles), writes its pid file once it listens.
SERVER = r"""
import os, socket, sys
name, addr, port, pidfile = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_IP, 15, 1)  # IP_FREEBIND
s.bind((addr, port))
with open(pidfile + ".tmp", "w") as f:
    f.write(str(os.getpid()))
os.replace(pidfile + ".tmp", pidfile)
while True:
    data, peer = s.recvfrom(64)
    s.sendto(name.encode(), peer)
"""

#: An LSB init script (exit codes of the LSB core specification).
INIT_SCRIPT = """\
#!/bin/sh
### BEGIN INIT INFO
# Provides:          {service}
# Short-Description: answers UDP questions on {vip}:{port} with the node name
### END INIT INFO
PIDFILE={run}/{service}.pid
# A killed server is a zombie until init reaps it: alive means there and not a zombie.
alive() {{ [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status"; }}
running() {{ [ -f "$PIDFILE" ] && alive "$(cat "$PIDFILE")"; }}
case "$1" in
  start)
    running && exit 0
    rm -f "$PIDFILE"
    setsid {python} -I -S {server} {node} {vip} {port} "$PIDFILE" \
        </dev/null >>{run}/{service}.log 2>&1 &
    i=0
    while [ ! -f "$PIDFILE" ]; do
      i=$((i + 1)); [ $i -gt 500 ] && exit 1
      sleep 0.01
    done
    exit 0 ;;
  stop)
    if [ -f "$PIDFILE" ]; then
      pid=$(cat "$PIDFILE"); kill "$pid" 2>/dev/null
      while alive "$pid"; do sleep 0.01; done
      rm -f "$PIDFILE"
    fi
    exit 0 ;;
  status)
    if running; then echo "{service} is running"; exit 0; fi
    if [ -f "$PIDFILE" ]; then echo "{service} is dead but its pid file exists"; exit 1; fi
    echo "{service} is stopped"; exit 3 ;;
  restart|force-reload)
    "$0" stop; exec "$0" start ;;
  *) echo "usage: $0 start|stop|status|restart" >&2; exit 2 ;;
esac
"""


@dataclass(frozen=True)
class Service:
    """A group: VIP ``vip-ID`` then the LSB service ``echo-ID``, preferring LOCATIONS."""

    id: str
    vip: str
    locations: dict[str, int]

    @property
    def members(self) -> tuple[str, str]:
        return f"vip-{self.id}", f"echo-{self.id}"


def config_toml(nodes: Sequence[str], addresses: dict[str, str], services: Sequence[Service],
                *, keepalive_ms: int, deadtime_ms: int, auto_failback: str,
                monitor_ms: int, migration_threshold: int | None, quorum: str) -> str:
    """Native TOML: one ucast link on eth0, the timing, a group per service."""
    lines = ["[cluster]", 'name = "netns-failover"', f'auto_failback = "{auto_failback}"', "",
             "[timing]", f'keepalive = "{keepalive_ms}ms"', f'warntime = "{deadtime_ms // 2}ms"',
             f'deadtime = "{deadtime_ms}ms"', f'initdead = "{2 * deadtime_ms}ms"', ""]
    for n in nodes:
        lines += ["[[node]]", f'name = "{n}"', ""]
    hosts = ", ".join(f'{n} = "{addresses[n]}"' for n in nodes)
    lines += ["[[link]]", 'name = "lan"', 'kind = "ucast"', 'interface = "eth0"',
              f"port = {HB_PORT}", f"addresses = {{ {hosts} }}", "",
              "[auth]", "[[auth.key]]", 'method = "hmac-sha256"', f'secret = "{SECRET}"', ""]
    if migration_threshold is not None:
        lines += ["[resource_defaults]", f"migration_threshold = {migration_threshold}", ""]
    for s in services:
        vip_id, svc_id = s.members
        scores = ", ".join(f"{n} = {v}" for n, v in s.locations.items())
        preferred = max(s.locations, key=lambda n: s.locations[n])
        lines += ["[[resource]]", f'id = "{vip_id}"', 'agent = "vigil:ipaddr"',
                  f'params = {{ ip = "{s.vip}", cidr_netmask = "24", nic = "eth0" }}', "",
                  "[[resource]]", f'id = "{svc_id}"', f'agent = "lsb:{svc_id}"',
                  f'op = [{{ name = "monitor", interval = "{monitor_ms}ms", timeout = "5s" }}]',
                  "", "[[group]]", f'id = "{s.id}"', f'resources = ["{vip_id}", "{svc_id}"]',
                  f'preferred_node = "{preferred}"', f"locations = {{ {scores} }}", ""]
    lines += ["[quorum]", *quorum.splitlines(), ""]
    return "\n".join(lines)


class Prober:
    """The client: asks every VIP every EVERY_S, logs each answer as (time, vip, node)."""

    def __init__(self, client_ns: str, vips: Sequence[str], every_s: float = 0.01) -> None:
        self.every_s = every_s
        self.socks = {vip: in_ns(client_ns, lambda: socket.socket(socket.AF_INET,
                                                                   socket.SOCK_DGRAM))
                      for vip in vips}
        self.answers: list[tuple[float, str, str]] = []
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._run, name="prober", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._halt.set()
        self._thread.join(5)
        for s in self.socks.values():
            s.close()

    def _run(self) -> None:
        by_fd = {s.fileno(): vip for vip, s in self.socks.items()}
        tick = time.monotonic()
        while not self._halt.is_set():
            for vip, s in self.socks.items():
                with contextlib.suppress(OSError):  # no route yet, ARP failed: try again
                    s.sendto(b"who", (vip, SERVICE_PORT))
            tick += self.every_s
            while (left := tick - time.monotonic()) > 0:
                ready, _, _ = select.select(list(self.socks.values()), [], [], left)
                for s in ready:
                    with contextlib.suppress(OSError):
                        data = s.recv(64)
                        self.answers.append((time.monotonic(), by_fd[s.fileno()],
                                             data.decode()))
            tick = max(tick, time.monotonic() - self.every_s)  # no burst after a stall

    def first_from(self, vip: str, node: str, after: float) -> float | None:
        """When NODE first answered for VIP after AFTER."""
        return next((t for t, v, who in list(self.answers)
                     if v == vip and who == node and t >= after), None)

    def last_before(self, vip: str, before: float) -> float | None:
        """When anyone last answered for VIP before BEFORE."""
        times = [t for t, v, _ in list(self.answers) if v == vip and t < before]
        return max(times) if times else None

    def answered_by(self, vip: str, after: float) -> set[str]:
        return {who for t, v, who in list(self.answers) if v == vip and t >= after}


@dataclass
class Outage:
    """What the client saw of one move: fault to first answer from the new node, and the
    silence (last answer from anyone to that first answer)."""

    outage_s: float
    silence_s: float

    def __str__(self) -> str:
        return (f"outage {self.outage_s * 1000:.0f} ms "
                f"(no answer at all for {self.silence_s * 1000:.0f} ms)")


@dataclass
class ClusterLan:
    """The namespaces, the daemons and the client of one test."""

    names: list[str]
    services: list[Service]
    make_ns: Callable[[], str]
    keepalive_ms: int = 100
    deadtime_ms: int = 500
    auto_failback: str = "on"
    monitor_ms: int = 200
    migration_threshold: int | None = None
    quorum: str = ""
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="vigil-fo-")))
    ns: dict[str, str] = field(default_factory=dict)
    daemons: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)
    prober: Prober | None = None

    # -- building -------------------------------------------------------------------

    def address(self, node: str) -> str:
        return f"192.0.2.{self.names.index(node) + 1}"

    def build(self) -> None:
        """Namespaces, bridge, init scripts, configuration; then the client starts asking."""
        sw = self.make_ns()
        self.ns["sw"] = sw
        ip("-n", sw, "link", "add", "br0", "type", "bridge")
        ip("-n", sw, "link", "set", "br0", "up")
        for role in [*self.names, "client"]:
            ns = self.ns[role] = self.make_ns()
            ip("-n", sw, "link", "add", f"p{role}", "type", "veth", "peer", "name", "eth0",
               "netns", ns)
            ip("-n", sw, "link", "set", f"p{role}", "master", "br0", "up")
            ip("-n", ns, "link", "set", "eth0", "up")
            addr = CLIENT_ADDR if role == "client" else self.address(role)
            ip("-n", ns, "addr", "add", f"{addr}/24", "dev", "eth0")
        (self.root / "server.py").write_text(SERVER)
        addresses = {n: self.address(n) for n in self.names}
        self.config.write_text(config_toml(
            self.names, addresses, self.services, keepalive_ms=self.keepalive_ms,
            deadtime_ms=self.deadtime_ms, auto_failback=self.auto_failback,
            monitor_ms=self.monitor_ms, migration_threshold=self.migration_threshold,
            quorum=self.quorum))
        self.config.chmod(0o600)  # the key is inline: refused when others can read it
        for node in self.names:
            for d in ("init.d", "run", "state"):
                (self.root / node / d).mkdir(parents=True)
            for s in self.services:
                script = self.root / node / "init.d" / s.members[1]
                script.write_text(INIT_SCRIPT.format(
                    service=s.members[1], vip=s.vip, port=SERVICE_PORT, node=node,
                    run=self.root / node / "run", python=sys.executable,
                    server=self.root / "server.py"))
                script.chmod(0o755)
        self.prober = Prober(self.ns["client"], [s.vip for s in self.services])
        self.prober.start()

    @property
    def config(self) -> Path:
        return self.root / "cluster.toml"

    def socket(self, node: str) -> Path:
        return self.root / node / "vigil.sock"

    def log(self, node: str) -> Path:
        return self.root / node / "vigil.log"

    # -- daemons --------------------------------------------------------------------

    def start(self, *nodes: str) -> None:
        for node in nodes or self.names:
            argv = ["ip", "netns", "exec", self.ns[node], "unshare", "--mount", "sh", "-c",
                    'mount --bind "$0" /etc/init.d && exec "$@"',
                    str(self.root / node / "init.d"), str(VIGIL), "daemon",
                    "--config", str(self.config), "--node", node,
                    "--state-dir", str(self.root / node / "state"),
                    "--socket", str(self.socket(node))]
            with self.log(node).open("ab") as out:
                # ip, unshare and sh each exec the next: the PID is the daemon's.
                proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                        stderr=subprocess.STDOUT)
            self.daemons[node] = proc
            self.started.append(proc)

    def vigil(self, node: str, *args: str) -> subprocess.CompletedProcess[str]:
        """``vigil ARGS --socket NODE's``, as an administrator on NODE types it."""
        return subprocess.run([str(VIGIL), *args, "--socket", str(self.socket(node))],
                              capture_output=True, text=True, timeout=30, check=False)

    def status(self, node: str) -> dict[str, Any]:
        doc = request(self.socket(node), "status", 2.0)
        assert isinstance(doc, dict)
        return doc

    def placement(self, node: str) -> dict[str, str | None]:
        """Each group's node as NODE's daemon reports it: where every member runs, or None."""
        resources = {r["id"]: r for r in self.status(node)["resources"]}
        out: dict[str, str | None] = {}
        for s in self.services:
            where = {resources[m]["node"] for m in s.members}
            running = all(resources[m]["state"] == "running" for m in s.members)
            out[s.id] = where.pop() if running and len(where) == 1 else None
        return out

    def resource(self, node: str, rid: str) -> dict[str, Any]:
        return next(dict(r) for r in self.status(node)["resources"] if r["id"] == rid)

    def agreed(self, nodes: Sequence[str]) -> bool:
        docs = [self.status(n) for n in nodes]
        return all(sorted(d["view"]["members"]) == sorted(nodes) and d["view"]["stable"]
                   for d in docs)

    # -- faults ---------------------------------------------------------------------

    def pids(self, node: str) -> list[int]:
        return [int(w) for w in ip("netns", "pids", self.ns[node]).split()]

    def crash(self, node: str) -> float:
        """Freeze every process on NODE (daemon and services), then pull its cable;
        the monotonic time the fault began."""
        began = time.monotonic()
        stopped: set[int] = set()
        for _ in range(5):  # again for anything forked meanwhile
            fresh = set(self.pids(node)) - stopped
            if not fresh:
                break
            for pid in fresh:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGSTOP)
            stopped |= fresh
        ip("-n", self.ns["sw"], "link", "set", f"p{node}", "down")
        return began

    def reboot(self, node: str) -> None:
        """NODE after a crash comes back as from a reboot: nothing of its old life runs,
        its addresses and pid files are gone, the cable is back, the daemon starts."""
        self.kill_all(node)
        for s in self.services:
            if s.vip in ip("-n", self.ns[node], "-br", "addr", "show", "dev", "eth0"):
                ip("-n", self.ns[node], "addr", "del", f"{s.vip}/24", "dev", "eth0")
        for pidfile in (self.root / node / "run").glob("*.pid"):
            pidfile.unlink()
        ip("-n", self.ns["sw"], "link", "set", f"p{node}", "up")
        self.start(node)

    def kill_all(self, node: str) -> None:
        deadline = time.monotonic() + 5
        while (pids := self.pids(node)) and time.monotonic() < deadline:
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)
        proc = self.daemons.get(node)
        if proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)

    def service_pid(self, node: str, service: Service) -> int:
        return int((self.root / node / "run" / f"{service.members[1]}.pid").read_text())

    # -- watching -------------------------------------------------------------------

    def wait_until(self, what: str, check: Callable[[], bool], timeout_s: float = 15.0) -> float:
        """Poll CHECK until it holds; the seconds it took. Fails with WHAT and the logs."""
        start = time.monotonic()
        while True:
            try:
                if check():
                    return time.monotonic() - start
            except (VigilError, KeyError, OSError):
                pass  # not up yet, or just restarted
            if time.monotonic() - start > timeout_s:
                pytest.fail(f"not within {timeout_s} s: {what}\n{self.diagnosis()}")
            time.sleep(POLL_S)

    def wait_placed(self, asked: str, where: dict[str, str], timeout_s: float = 15.0) -> None:
        """Until ASKED's daemon reports every group of WHERE running on its node."""
        self.wait_until(f"{asked} reports {where}",
                        lambda: all(self.placement(asked)[g] == n for g, n in where.items()),
                        timeout_s)

    def wait_served(self, service: Service, node: str, after: float,
                    timeout_s: float = 10.0) -> Outage:
        """Until the client is answered for SERVICE by NODE after AFTER; what it saw."""
        prober = self.prober
        assert prober is not None
        self.wait_until(f"client answered by {node} on {service.vip}",
                        lambda: prober.first_from(service.vip, node, after) is not None,
                        timeout_s)
        first = prober.first_from(service.vip, node, after)
        assert first is not None
        last = prober.last_before(service.vip, first)
        return Outage(first - after, first - (last if last is not None else after))

    def wait_steady(self, service: Service, node: str, window_s: float = 0.3) -> None:
        """Until the client has been answered only by NODE for WINDOW_S."""
        prober = self.prober
        assert prober is not None

        def steady() -> bool:
            since = time.monotonic() - window_s
            recent = [(t, who) for t, v, who in list(prober.answers)
                      if v == service.vip and t >= since]
            return len(recent) >= 5 and {who for _, who in recent} == {node}

        self.wait_until(f"client answered steadily by {node} on {service.vip}", steady)

    def diagnosis(self) -> str:
        parts = []
        for node in self.names:
            proc = self.daemons.get(node)
            state = ("not started" if proc is None else
                     f"exit {proc.returncode}" if proc.poll() is not None else "running")
            tail = self.log(node).read_text(errors="replace").splitlines()[-25:] \
                if self.log(node).exists() else []
            parts.append(f"--- {node} ({state})\n" + "\n".join(tail))
        return "\n".join(parts)

    # -- taking down ----------------------------------------------------------------

    def destroy(self) -> None:
        """Stop the client, kill everything in the nodes' namespaces and our daemons.
        (The ``netns`` fixture deletes the namespaces afterwards.)"""
        if self.prober is not None:
            self.prober.stop()
        for node in self.names:
            if node in self.ns:
                self.kill_all(node)
        for proc in self.started:
            if proc.poll() is None:
                proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)
        if os.environ.get("VIGIL_KEEP_NETNS_LOGS"):
            print(f"logs kept in {self.root}")
        else:
            shutil.rmtree(self.root, ignore_errors=True)
