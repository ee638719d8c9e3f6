"""make demo, as root: a two-node vigil cluster in network namespaces fails over.

    ns node1  eth0 192.0.2.1   --+
    ns node2  eth0 192.0.2.2   --+-- br0 (a namespace of its own)
    ns client eth0 192.0.2.100 --+      VIP 192.0.2.50

Each node runs ``vigil daemon`` in its namespace (and a mount namespace whose
/etc/init.d is the node's own directory): a group of the VIP (``vigil:ipaddr``)
and an LSB service bound to it that answers with its node's name. The client
asks the VIP every 10 ms, never flushing its ARP cache, and says who answers.
The story: start, status, crash node1 (frozen, cable pulled), the service on
node2, node1 back (auto_failback on: the service returns), status. Every
namespace and process it made is removed on exit, Ctrl-C included. Names carry
the PID, so nothing else on the machine is touched.

Each node also serves the dashboard ([web], docs/web.md) with a demo user whose
password is made up at start and printed first. The dashboards live inside the
namespaces; the demo forwards 127.0.0.1:9941 (node1) and :9942 (node2) of this
machine to them, so a browser here can watch. With chromium installed it saves
screenshots of node2's dashboard (healthy, node down, after failover) to
docs/img/ (scripts/dashboard_shots.py).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

VIGIL = Path(sys.executable).with_name("vigil")
TAG = f"vigil-demo-{os.getpid()}"
NODES = ("node1", "node2")
ADDR = {"node1": "192.0.2.1", "node2": "192.0.2.2", "client": "192.0.2.100"}
VIP, PORT = "192.0.2.50", 7794
BOLD, PLAIN = ("\033[1m", "\033[0m") if sys.stdout.isatty() else ("", "")

SERVER = r"""
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_IP, 15, 1)  # IP_FREEBIND
s.bind((sys.argv[2], int(sys.argv[3])))
pidfile = sys.argv[4]
open(pidfile + ".tmp", "w").write(str(os.getpid())); os.replace(pidfile + ".tmp", pidfile)
while True:
    data, peer = s.recvfrom(64); s.sendto(sys.argv[1].encode(), peer)
"""

INIT = """#!/bin/sh
### BEGIN INIT INFO
# Provides:          demo-echo
# Short-Description: the demo's service: answers on {vip}:{port} with the node name
### END INIT INFO
P={run}/demo-echo.pid
alive() {{ [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status"; }}
case "$1" in
  start) [ -f $P ] && alive "$(cat $P)" && exit 0; rm -f $P
         setsid {py} -I -S {server} {node} {vip} {port} $P </dev/null >/dev/null 2>&1 &
         i=0; while [ ! -f $P ]; do i=$((i+1)); [ $i -gt 500 ] && exit 1; sleep 0.01; done ;;
  stop) [ -f $P ] && {{ pid=$(cat $P); kill $pid; while alive $pid; do sleep 0.01; done; }}
        rm -f $P ;;
  status) [ -f $P ] && alive "$(cat $P)" && {{ echo running; exit 0; }}
          [ -f $P ] && exit 1; exit 3 ;;
  *) exit 2 ;;
esac
"""

CONFIG = """[cluster]
name = "demo"
auto_failback = "on"        # the service goes back to node1 when it returns

[timing]
keepalive = "100ms"
warntime = "250ms"
deadtime = "500ms"
initdead = "1s"

[[node]]
name = "node1"

[[node]]
name = "node2"

[[link]]
name = "lan"
kind = "ucast"
interface = "eth0"
port = 6940
addresses = {{ node1 = "{node1}", node2 = "{node2}" }}

[auth]
[[auth.key]]
method = "hmac-sha256"
secret = "netns-demo-key-not-a-secret-8c1d"

[[resource]]
id = "vip"
agent = "vigil:ipaddr"
params = {{ ip = "{vip}", cidr_netmask = "24", nic = "eth0" }}

[[resource]]
id = "echo"
agent = "lsb:demo-echo"
op = [{{ name = "monitor", interval = "1s", timeout = "5s" }}]

[[group]]
id = "service"
resources = ["vip", "echo"]
preferred_node = "node1"

[quorum]
two_node = true             # the survivor of two keeps quorum, as Heartbeat's did

[web]                       # the dashboard, on each node's own address
addresses = {{ node1 = "{node1}:{web_port}", node2 = "{node2}:{web_port}" }}

[[web.user]]
name = "demo"
role = "operator"
password_hash = "{password_hash}"
"""
WEB_PORT = 9941


def ip(*args: str, check: bool = True) -> str:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10,
                          check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def step(text: str) -> None:
    print(f"\n{BOLD}== {text}{PLAIN}", flush=True)


def say(text: str) -> None:
    print(f"   {text}", flush=True)


def enter_netns(ns: str) -> None:
    """Move the calling thread (only it) into network namespace NS."""
    libc = ctypes.CDLL(None, use_errno=True)
    with open(f"/run/netns/{ns}", "rb") as f:
        if libc.setns(f.fileno(), 0x40000000) != 0:  # CLONE_NEWNET
            raise OSError(ctypes.get_errno(), "setns")


class Forward:
    """127.0.0.1:PORT of this machine to TARGET inside namespace NS, for a browser here.

    The listening socket is made here (this machine's namespace); each outgoing
    one by a thread that entered NS, so it connects from there."""

    def __init__(self, ns: str, target: tuple[str, int], port: int) -> None:
        try:
            self.listener = socket.create_server(("127.0.0.1", port))
        except OSError:
            self.listener = socket.create_server(("127.0.0.1", 0))  # taken: any free port
        self.port = self.listener.getsockname()[1]
        self.ns, self.target = ns, target
        threading.Thread(target=self.run, daemon=True).start()

    def run(self) -> None:
        enter_netns(self.ns)
        while True:
            try:
                inside, _ = self.listener.accept()
            except OSError:
                return  # closed
            try:
                outside = socket.create_connection(self.target, timeout=2)
                outside.settimeout(None)
            except OSError:
                inside.close()
                continue
            for a, b in ((inside, outside), (outside, inside)):
                threading.Thread(target=self.pump, args=(a, b), daemon=True).start()

    @staticmethod
    def pump(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()


class Client:
    """Asks the VIP every 10 ms from the client namespace; says when the answer changes."""

    def __init__(self, ns: str) -> None:
        box: list[socket.socket] = []

        def make() -> None:  # a socket made inside the namespace stays there
            enter_netns(ns)
            box.append(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))

        t = threading.Thread(target=make)
        t.start()
        t.join()
        self.sock = box[0]
        self.last: tuple[float, str] | None = None  # (time, who) of the last answer
        self.halt = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        while not self.halt.is_set():
            with contextlib.suppress(OSError):
                self.sock.sendto(b"who", (VIP, PORT))
            until = time.monotonic() + 0.01
            while (left := until - time.monotonic()) > 0:
                if select.select([self.sock], [], [], left)[0]:
                    with contextlib.suppress(OSError):
                        who = self.sock.recv(64).decode()
                        now = time.monotonic()
                        if self.last is None or self.last[1] != who:
                            gap = "" if self.last is None else (
                                f" after {(now - self.last[0]) * 1000:.0f} ms with no answer")
                            say(f"client: {VIP} answered by {who}{gap}")
                        self.last = (now, who)

    def wait_for(self, who: str, since: float, limit_s: float = 15) -> float:
        while True:
            if self.last is not None and self.last[1] == who and self.last[0] >= since:
                return self.last[0] - since
            if time.monotonic() - since > limit_s:
                raise SystemExit(f"demo: {who} did not answer within {limit_s} s")
            time.sleep(0.005)

    def close(self) -> None:
        self.halt.set()
        self.thread.join(2)
        self.sock.close()


class Demo:
    def __init__(self) -> None:
        self.work = Path(tempfile.mkdtemp(prefix="vigil-demo."))
        self.ns: dict[str, str] = {}
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.client: Client | None = None
        self.password = secrets.token_urlsafe(12)  # the demo user's, printed at start
        self.forwards: dict[str, Forward] = {}
        self.camera: Any = None

    def build(self) -> None:
        sw = self.add_ns("sw")
        ip("-n", sw, "link", "add", "br0", "type", "bridge")
        ip("-n", sw, "link", "set", "br0", "up")
        for role in (*NODES, "client"):
            ns = self.add_ns(role)
            ip("-n", sw, "link", "add", f"p{role}", "type", "veth", "peer", "name", "eth0",
               "netns", ns)
            ip("-n", sw, "link", "set", f"p{role}", "master", "br0", "up")
            ip("-n", ns, "link", "set", "eth0", "up")
            ip("-n", ns, "addr", "add", f"{ADDR[role]}/24", "dev", "eth0")
        (self.work / "server.py").write_text(SERVER)
        config = self.work / "cluster.toml"
        from vigil.config.native_web import format_password_hash
        from vigil.web.passwords import hash_password

        config.write_text(CONFIG.format(
            vip=VIP, web_port=WEB_PORT,
            password_hash=format_password_hash(hash_password(self.password)), **ADDR))
        config.chmod(0o600)
        for node in NODES:
            for d in ("init.d", "run", "state"):
                (self.work / node / d).mkdir(parents=True)
            init = self.work / node / "init.d" / "demo-echo"
            init.write_text(INIT.format(vip=VIP, port=PORT, node=node, py=sys.executable,
                                        run=self.work / node / "run",
                                        server=self.work / "server.py"))
            init.chmod(0o755)

    def add_ns(self, role: str) -> str:
        name = f"{TAG}-{role}"
        ip("netns", "add", name)
        self.ns[role] = name
        ip("-n", name, "link", "set", "lo", "up")
        return name

    def start(self, node: str) -> None:
        d = self.work / node
        with (d / "vigil.log").open("ab") as log:
            self.procs[node] = subprocess.Popen(
                ["ip", "netns", "exec", self.ns[node], "unshare", "--mount", "sh", "-c",
                 'mount --bind "$0" /etc/init.d && exec "$@"', str(d / "init.d"),
                 str(VIGIL), "daemon", "--config", str(self.work / "cluster.toml"),
                 "--node", node, "--state-dir", str(d / "state"),
                 "--socket", str(d / "vigil.sock")],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log)

    def vigil(self, node: str, *args: str) -> None:
        shown = " ".join(args)
        print(f"$ vigil {shown} --socket {node}/vigil.sock", flush=True)
        done = subprocess.run([str(VIGIL), *args, "--socket",
                               str(self.work / node / "vigil.sock")],
                              capture_output=True, text=True, timeout=30, check=False)
        print((done.stdout + done.stderr).rstrip(), flush=True)

    def status_holds(self, node: str, check: Callable[[dict[str, object]], bool],
                     what: str, limit_s: float = 15) -> None:
        from vigil.cli.control_client import request
        from vigil.exitcodes import VigilError

        deadline = time.monotonic() + limit_s
        while True:
            with contextlib.suppress(VigilError, KeyError, TypeError):
                if check(request(self.work / node / "vigil.sock", "status", 2.0)):
                    return
            if time.monotonic() > deadline:
                raise SystemExit(f"demo: gave up waiting for: {what}\n" + self.tails())
            time.sleep(0.1)

    def pids(self, node: str) -> list[int]:
        return [int(w) for w in ip("netns", "pids", self.ns[node], check=False).split()]

    def signal_all(self, node: str, sig: signal.Signals) -> None:
        for pid in self.pids(node):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)

    def tails(self) -> str:
        out = []
        for node in NODES:
            log = self.work / node / "vigil.log"
            if log.exists():
                out.append(f"--- {node}\n" + "\n".join(log.read_text().splitlines()[-15:]))
        return "\n".join(out)

    def open_dashboards(self) -> None:
        """Forward this machine's 127.0.0.1:9941/9942 to node1's and node2's dashboards."""
        for i, node in enumerate(NODES):
            self.forwards[node] = Forward(self.ns["client"], (ADDR[node], WEB_PORT),
                                          WEB_PORT + i)

    def dashboard(self, node: str) -> str:
        return f"http://127.0.0.1:{self.forwards[node].port}/"

    def destroy(self) -> None:
        if self.camera is not None:
            self.camera.close()
        for fwd in self.forwards.values():
            fwd.close()
        if self.client is not None:
            self.client.close()
        for node in NODES:
            if node in self.ns:
                for _ in range(50):
                    if not self.pids(node):
                        break
                    self.signal_all(node, signal.SIGKILL)
                    time.sleep(0.02)
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)
        for name in self.ns.values():
            ip("netns", "del", name, check=False)
        shutil.rmtree(self.work, ignore_errors=True)


def on(node: str) -> Callable[[dict[str, object]], bool]:
    def check(doc: dict[str, object]) -> bool:
        rows = doc["resources"]
        assert isinstance(rows, list)
        return all(r["node"] == node and r["state"] == "running" for r in rows)
    return check


def story(demo: Demo) -> None:
    step("1. Two nodes, a bridge and a client, each in a network namespace of its own")
    demo.build()
    say(f"node1 {ADDR['node1']}, node2 {ADDR['node2']}, client {ADDR['client']}; "
        f"VIP {VIP}; keepalive 100 ms, deadtime 500 ms")
    say("group 'service': vip (vigil:ipaddr, gratuitous ARP) then echo "
        "(lsb:demo-echo, an init script)")

    demo.open_dashboards()
    say(f"{BOLD}dashboard: {demo.dashboard('node2')} (node2, the one that survives), "
        f"{demo.dashboard('node1')} (node1){PLAIN}")
    say(f"{BOLD}log in as demo, password {demo.password}{PLAIN}")

    step("2. Start vigil daemon on both nodes")
    for node in NODES:
        demo.start(node)
    demo.client = Client(demo.ns["client"])
    demo.status_holds("node2", on("node1"), "the service running on node1")
    demo.client.wait_for("node1", 0)
    time.sleep(0.3)
    demo.vigil("node2", "status")
    from dashboard_shots import Camera

    demo.camera = Camera.open(demo.dashboard("node2"), "demo", demo.password)
    if demo.camera is not None:
        demo.camera.shoot("healthy", 'tr[data-resource="echo"][data-state="running"]')
    if sys.stdin.isatty():
        input(f"   Open {demo.dashboard('node2')} in a browser, then press Enter to crash "
              "node1 ")

    step("3. Crash node1: every process on it frozen, its cable pulled")
    crashed = time.monotonic()
    demo.signal_all("node1", signal.SIGSTOP)
    ip("-n", demo.ns["sw"], "link", "set", "pnode1", "down")
    took = demo.client.wait_for("node2", crashed)
    say(f"the client was answered by node2 {took * 1000:.0f} ms after the crash "
        "(deadtime 500 ms, counted from node1's last heartbeat)")
    if demo.camera is not None:
        demo.camera.shoot("node-down", 'tr[data-node="node1"][data-state="dead"]')
    demo.status_holds("node2", on("node2"), "the service running on node2")
    if demo.camera is not None:
        demo.camera.shoot("failover", 'tr[data-resource="echo"][data-node="node2"]'
                          '[data-state="running"]')
    demo.vigil("node2", "status")

    step("4. node1 comes back, as after a reboot (auto_failback on)")
    demo.signal_all("node1", signal.SIGKILL)
    time.sleep(0.2)
    ip("-n", demo.ns["node1"], "addr", "flush", "dev", "eth0")
    ip("-n", demo.ns["node1"], "addr", "add", f"{ADDR['node1']}/24", "dev", "eth0")
    (demo.work / "node1" / "run" / "demo-echo.pid").unlink(missing_ok=True)
    ip("-n", demo.ns["sw"], "link", "set", "pnode1", "up")
    back = time.monotonic()
    demo.start("node1")
    took = demo.client.wait_for("node1", back)
    say(f"node1 serves again {took * 1000:.0f} ms after its daemon was started "
        "(start-up, probes, then stop on node2 and start on node1)")
    demo.status_holds("node1", on("node1"), "the service back on node1")
    demo.vigil("node1", "status")
    step("5. What happened, in node1's words (vigil events)")
    demo.vigil("node1", "events")


def main() -> int:
    if os.geteuid() != 0:
        print("netns_demo: needs root (network namespaces)", file=sys.stderr)
        return 1
    demo = Demo()

    def interrupted(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)
    try:
        story(demo)
        step("6. Clean up: every process and namespace of the demo removed")
        return 0
    except KeyboardInterrupt:
        return 130
    finally:
        demo.destroy()


if __name__ == "__main__":
    sys.exit(main())
