"""Two nodes and a client in network namespaces on one bridge, and the faults done to them.

    ns <tag>-n1     eth0 192.0.2.1   --+
    ns <tag>-n2     eth0 192.0.2.2   --+-- br0 (ns <tag>-sw): ports pn1, pn2, pclient
    ns <tag>-client eth0 192.0.2.100 --+
    VIP 192.0.2.50/24, held by whichever node the cluster chose

(192.0.2.0/24 is a documentation range; nothing leaves the namespaces.) A
partition is an nftables table in the switch namespace dropping frames between
pn1 and pn2; the holder sampler (holders.py) watches which node has the VIP. Every
name carries a tag unique to the run and the trial, so runs never meet, and
every process started in a node namespace is one this harness started: freezing
or killing "everything in the namespace" touches nothing else on the machine.
``destroy`` is idempotent and is called from ``finally`` and on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

NODES = ("n1", "n2")
CLIENT = "client"
SWITCH = "sw"
ADDRESSES = {"n1": "192.0.2.1", "n2": "192.0.2.2", CLIENT: "192.0.2.100"}
VIP = "192.0.2.50"
PREFIX = 24
IFACE = "eth0"
PORT = 7795
FAULTS = "vigil_bench_faults"  # the nftables table of a partition
HERE = Path(__file__).resolve().parent


def ip(*args: str, check: bool = True) -> str:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=15, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def netns_pids(ns: str) -> list[int]:
    """Every process in network namespace NS (``ip netns pids``)."""
    return [int(word) for word in ip("netns", "pids", ns, check=False).split()]


#: Every LAN not yet destroyed, for ``destroy_all`` when the run is interrupted.
_LIVE: list[Lan] = []
_DEFERRED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextlib.contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Ctrl-C (or SIGTERM) during the block is held until it ends, then raised,
    so that taking a LAN down is never cut short half-way."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, _frame: caught.append(signum))
                for sig in _DEFERRED}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if caught:
            raise KeyboardInterrupt


def destroy_all() -> None:
    for lan in list(_LIVE):
        lan.destroy()


def other(node: str) -> str:
    return NODES[1 - NODES.index(node)]


@dataclass(eq=False)
class Lan:
    """The namespaces of one trial and the processes started in them."""

    tag: str
    workdir: Path
    ns: dict[str, str] = field(default_factory=dict)
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _logs: list[IO[bytes]] = field(default_factory=list)

    # -- building ----------------------------------------------------------------

    @classmethod
    def create(cls, tag: str, workdir: Path) -> Lan:
        """Build the LAN; on any error what was built is removed before raising."""
        lan = cls(tag, workdir)
        _LIVE.append(lan)
        try:
            lan._build()
        except BaseException:
            lan.destroy()
            raise
        return lan

    def _add_ns(self, role: str) -> str:
        name = f"{self.tag}-{role}"
        ip("netns", "add", name)
        self.ns[role] = name
        ip("-n", name, "link", "set", "lo", "up")
        return name

    def _build(self) -> None:
        sw = self._add_ns(SWITCH)
        ip("-n", sw, "link", "add", "br0", "type", "bridge")
        ip("-n", sw, "link", "set", "br0", "up")
        for role in (*NODES, CLIENT):
            ns = self._add_ns(role)
            ip("-n", sw, "link", "add", self.port(role), "type", "veth",
               "peer", "name", IFACE, "netns", ns)
            ip("-n", sw, "link", "set", self.port(role), "master", "br0", "up")
            ip("-n", ns, "link", "set", IFACE, "up")
            ip("-n", ns, "addr", "add", f"{ADDRESSES[role]}/{PREFIX}", "dev", IFACE)

    @staticmethod
    def port(role: str) -> str:
        return f"p{role}"

    # -- processes ---------------------------------------------------------------

    def spawn(self, role: str, argv: list[str], log: Path,
              env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """ARGV in ROLE's namespace, stdout and stderr to LOG, in a session of its own
        (a Ctrl-C reaches only the harness, which then takes everything down in order)."""
        return self.spawn_here(["ip", "netns", "exec", self.ns[role], *argv], log, env)

    def spawn_here(self, argv: list[str], log: Path,
                   env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """ARGV as it is (a command that enters a namespace itself), tracked like ``spawn``."""
        out = log.open("ab")
        self._logs.append(out)
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True, env=env)
        self.procs.append(proc)
        return proc

    def start_responders(self) -> None:
        for node in NODES:
            self.spawn(node, [sys.executable, str(HERE / "responder.py"), node, str(PORT)],
                       self.workdir / f"responder-{node}.log")

    def start_prober(self, log: Path, interval_ms: float = 10.0) -> None:
        self.spawn(CLIENT, [sys.executable, str(HERE / "prober.py"), "--target", VIP,
                            "--port", str(PORT), "--interval-ms", str(interval_ms),
                            "--log", str(log)], self.workdir / "prober.out")

    # -- looking -----------------------------------------------------------------

    def addresses(self, role: str) -> list[str]:
        out = json.loads(ip("-n", self.ns[role], "-j", "addr", "show", "dev", IFACE) or "[]")
        return [str(a["local"]) for link in out for a in link.get("addr_info", [])]

    def holders(self, address: str = VIP) -> list[str]:
        return [node for node in NODES if address in self.addresses(node)]

    # -- faults ------------------------------------------------------------------

    def freeze(self, role: str) -> int:
        """SIGSTOP every process in ROLE's namespace (again for any forked meanwhile)."""
        stopped: set[int] = set()
        for _ in range(5):
            fresh = set(netns_pids(self.ns[role])) - stopped
            if not fresh:
                break
            for pid in fresh:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGSTOP)
            stopped |= fresh
        return len(stopped)

    def cut(self) -> None:
        """Drop every frame between the nodes' switch ports, both ways (nftables, bridge
        family, in the switch namespace); each node's path to the client stays whole."""
        a, b = (self.port(n) for n in NODES)
        self._nft(f"add table bridge {FAULTS}\n"
                  f"add chain bridge {FAULTS} cut {{ type filter hook forward priority 0; "
                  "policy accept; }\n"
                  f'add rule bridge {FAULTS} cut iifname "{a}" oifname "{b}" drop\n'
                  f'add rule bridge {FAULTS} cut iifname "{b}" oifname "{a}" drop\n')

    def heal(self) -> None:
        """Undo ``cut``."""
        self._nft(f"delete table bridge {FAULTS}\n")

    def _nft(self, script: str) -> None:
        done = subprocess.run(["ip", "netns", "exec", self.ns[SWITCH], "nft", "-f", "-"],
                              input=script, capture_output=True, text=True, timeout=15,
                              check=False)
        if done.returncode != 0:
            raise RuntimeError(f"nft: {done.stderr.strip()}")

    def start_holder_sampler(self, log: Path) -> None:
        """bench/failover/holders.py on both nodes' namespaces, tracked like every process."""
        argv = [sys.executable, str(HERE / "holders.py"), "--every-ms", "10", "--log", str(log),
                "--vip", VIP, *(f"{n}={self.ns[n]}" for n in NODES)]
        chrt = shutil.which("chrt")
        self.spawn_here([chrt, "--fifo", "20", *argv] if chrt else argv,
                        self.workdir / "holders.out")

    def link_down(self, role: str) -> None:
        """The switch port of ROLE down: the cable pulled (its veth loses carrier too)."""
        ip("-n", self.ns[SWITCH], "link", "set", self.port(role), "down")

    # -- taking down -------------------------------------------------------------

    def destroy(self) -> None:
        """Kill every process in our namespaces, reap ours, delete the namespaces."""
        with interrupts_deferred():
            self._destroy()

    def _destroy(self) -> None:
        for role in (*NODES, CLIENT):
            name = self.ns.get(role)
            if name is None:
                continue
            deadline = time.monotonic() + 5
            while (pids := netns_pids(name)) and time.monotonic() < deadline:
                for pid in pids:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                time.sleep(0.02)
        for proc in self.procs:
            # `ip netns exec` execs its command, so each PID is the program itself.
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)
        self.procs.clear()
        for out in self._logs:
            out.close()
        self._logs.clear()
        for role in reversed(list(self.ns)):
            ip("netns", "del", self.ns.pop(role), check=False)
        if self in _LIVE:
            _LIVE.remove(self)
