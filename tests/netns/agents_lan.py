"""A small LAN in network namespaces for the agent tests: nodes A and B and a client C
on one bridge (the bridge in a switch namespace of its own), each with a UDP
responder that answers with its node name.

    ns A eth0 192.0.2.1  02:00:00:00:00:0a --+
    ns B eth0 192.0.2.2  02:00:00:00:00:0b --+-- br0 (ns SW)
    ns C eth0 192.0.2.100 02:00:00:00:00:0c -+
(192.0.2.0/24 and 2001:db8::/64 are documentation ranges; nothing leaves the namespaces.)
"""

from __future__ import annotations

import ctypes
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
PORT = 7794
NET4, NET6 = "192.0.2", "2001:db8::"
NODES = {"A": ("192.0.2.1", "2001:db8::1", "02:00:00:00:00:0a"),
         "B": ("192.0.2.2", "2001:db8::2", "02:00:00:00:00:0b"),
         "C": ("192.0.2.100", "2001:db8::100", "02:00:00:00:00:0c")}
_libc = ctypes.CDLL(None, use_errno=True)

RESPONDER = r"""
import socket, sys, select
name = sys.argv[1].encode()
s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s4.bind(("0.0.0.0", int(sys.argv[2])))
s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1); s6.bind(("::", int(sys.argv[2])))
print("ready", flush=True)
while True:
    for s in select.select([s4, s6], [], [])[0]:
        data, peer = s.recvfrom(64)
        s.sendto(name, peer)
"""


def ip(*args: str) -> str:
    return subprocess.run(["ip", *args], check=True, capture_output=True, text=True,
                          timeout=10).stdout


def in_ns(ns: str, fn: Callable[[], T]) -> T:
    """FN() in a fresh thread inside network namespace NS (sockets made there stay there)."""
    box: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with open(f"/run/netns/{ns}", "rb") as f:
                if _libc.setns(f.fileno(), 0x40000000) != 0:
                    raise OSError(ctypes.get_errno(), "setns")
            box.append(fn())
        except BaseException as e:
            errors.append(e)

    t = threading.Thread(target=run)  # a throwaway thread: never returned to a pool
    t.start()
    t.join(10)
    if errors:
        raise errors[0]
    return box[0]


@dataclass
class Lan:
    ns: dict[str, str]
    responders: list[subprocess.Popen[str]] = field(default_factory=list)

    def mac(self, node: str) -> str:
        return NODES[node][2]

    def ipv4(self, node: str) -> str:
        return NODES[node][0]

    def link_mac(self, node: str) -> str:
        out = json.loads(ip("-n", self.ns[node], "-j", "link", "show", "eth0"))
        return str(out[0]["address"])

    def neighbour(self, addr: str) -> tuple[str | None, str]:
        """The client's neighbour entry for ADDR: (MAC or None, state)."""
        out = json.loads(ip("-n", self.ns["C"], "-j", "neigh", "show", addr, "dev", "eth0"))
        if not out:
            return None, "NONE"
        state = out[0].get("state", ["NONE"])
        return out[0].get("lladdr"), state[0] if isinstance(state, list) else str(state)

    def client_socket(self, family: int = socket.AF_INET) -> socket.socket:
        return in_ns(self.ns["C"], lambda: socket.socket(family, socket.SOCK_DGRAM))

    def ask(self, sock: socket.socket, addr: str, wait_s: float) -> str | None:
        """Send one question to ADDR; the name of who answered within WAIT_S, or None."""
        sock.settimeout(wait_s)
        sock.sendto(b"who", (addr, PORT))
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            try:
                data, _ = sock.recvfrom(64)
            except (TimeoutError, BlockingIOError):
                return None
            return data.decode()
        return None

    def first_answer(self, sock: socket.socket, addr: str, every_s: float,
                     limit_s: float) -> tuple[str | None, float]:
        """Ask ADDR every EVERY_S until someone answers: (who, seconds it took)."""
        began = time.monotonic()
        while (spent := time.monotonic() - began) < limit_s:
            who = self.ask(sock, addr, every_s)
            if who is not None:
                return who, time.monotonic() - began
        return None, spent


def build(make_ns: Callable[[], str]) -> Lan:
    """Create the LAN in namespaces from MAKE_NS (the conftest ``netns`` factory)."""
    sw = make_ns()
    lan = Lan({"SW": sw})
    ip("-n", sw, "link", "add", "br0", "type", "bridge")
    ip("-n", sw, "link", "set", "br0", "up")
    for node, (v4, v6, mac) in NODES.items():
        ns = make_ns()
        lan.ns[node] = ns
        for knob in ("net/ipv4/ip_forward", "net/ipv6/conf/all/forwarding"):
            in_ns(ns, lambda k=knob: Path(f"/proc/sys/{k}").write_text("0"))
        port = f"p{node}"
        ip("-n", sw, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns)
        ip("-n", sw, "link", "set", port, "master", "br0", "up")
        ip("-n", ns, "link", "set", "eth0", "address", mac)
        ip("-n", ns, "link", "set", "eth0", "up")
        ip("-n", ns, "addr", "add", f"{v4}/24", "dev", "eth0")
        ip("-n", ns, "addr", "add", f"{v6}/64", "dev", "eth0", "nodad")
        if node != "C":
            proc = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", RESPONDER,
                                     node, str(PORT)], stdout=subprocess.PIPE, text=True)
            lan.responders.append(proc)
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready"
    return lan


def teardown(lan: Lan) -> None:
    for proc in lan.responders:
        proc.kill()
        proc.wait(5)

