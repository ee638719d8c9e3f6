"""Two real daemons, a real arbitrator (``vigil arbiter`` or etcd), and a heartbeat link cut.

The daemons never talk to each other directly: each one's configuration names
the other at an address of a UDP relay this test runs (links are per-node
settings, as Heartbeat's ``ucast`` lines, so the configuration digests agree).
Stopping the relay cuts the heartbeat link while both daemons stay alive and
reach the arbitrator. db (vigil:dummy, stop timeout 1 s) prefers node2; node1,
started first, holds the lease (TTL 2 s). After the cut exactly
one node runs db: the lease holder; the other stops it and does not start it
again. A sampler reads both nodes' dummy state files every 5 ms throughout:
db is never active on both.
"""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from etcd_server import EtcdServer
from loopback_cluster import VIGIL, Daemon, LoopbackCluster

pytestmark = pytest.mark.timeout(90)

KEY = "integration-arbiter-split-key"


class UdpRelay:
    """Forwards datagrams sent to FAKE (host, port) to REAL (host, port) while ``on``."""

    def __init__(self, routes: dict[tuple[str, int], tuple[str, int]]) -> None:
        self.on = True
        self.forwarded = 0
        self._sel = selectors.DefaultSelector()
        self._socks: list[socket.socket] = []
        for fake, real in routes.items():
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(fake)
            s.setblocking(False)
            self._socks.append(s)
            self._sel.register(s, selectors.EVENT_READ, real)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for key, _ in self._sel.select(0.05):
                sock: socket.socket = key.fileobj  # type: ignore[assignment]
                with contextlib.suppress(OSError):
                    data = sock.recv(65_535)
                    if self.on:
                        sock.sendto(data, key.data)
                        self.forwarded += 1

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for s in self._socks:
            s.close()


class Sampler:
    """Reads whether db runs on each node every 5 ms; counts the moments on both."""

    def __init__(self, files: dict[str, Path]) -> None:
        self.files = files
        self.both = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            active = [n for n, f in self.files.items() if f.exists()]
            self.samples += 1
            if len(active) > 1:
                self.both += 1

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


class RelayedDaemon(Daemon):
    """A daemon with a configuration file of its own (its link's addresses)."""

    def __init__(self, cluster: LoopbackCluster, name: str, config: Path) -> None:
        super().__init__(cluster, name)
        self.config = config

    def start(self, notify_socket: str = "") -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [str(VIGIL), "daemon", "--config", str(self.config), "--node", self.name,
                 "--state-dir", str(self.cluster.dir / "state"), "--socket", str(self.socket)],
                stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                env={**os.environ, "NOTIFY_SOCKET": notify_socket})
        self.cluster.started.append(self.proc)


def node_config(c: LoopbackCluster, addresses: dict[str, str], arbiter: str) -> str:
    addr = ", ".join(f'{n} = "{a}"' for n, a in addresses.items())
    return f"""\
[cluster]
name = "itest"
auto_failback = "on"

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
name = "lo"
kind = "ucast"
port = {c.port}
addresses = {{ {addr} }}

[auth]
[[auth.key]]
index = 1
method = "sha1"
secret = "{KEY}"

[[resource]]
id = "db"
agent = "vigil:dummy"
op = [{{ name = "stop", timeout = "1s" }}, {{ name = "monitor", interval = "1s", timeout = "1s" }}]

[[group]]
id = "db-group"
resources = ["db"]
preferred_node = "node2"

{arbiter}
"""


@contextlib.contextmanager
def vigil_arbiter(root: Path, host: str) -> Iterator[str]:
    keys = root / "authkeys"
    keys.write_text(f"auth 1\n1 sha1 {KEY}\n")
    keys.chmod(0o600)
    proc = subprocess.Popen(
        [sys.executable, "-m", "vigil.cli.main", "arbiter", "--listen", f"{host}:0",
         "--key-file", str(keys), "--cluster", "itest", "--state-file",
         str(root / "arbiter.state"), "--ttl-ms", "2000"],
        stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    try:
        assert proc.stderr is not None
        port = None
        deadline = time.monotonic() + 15
        while port is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            assert line, "the arbiter exited before listening"
            found = re.search(rf"arbiter listening on {re.escape(host)}:(\d+)", line)
            port = int(found.group(1)) if found else None
        assert port is not None
        threading.Thread(target=proc.stderr.read, daemon=True).start()  # keep the pipe empty
        yield f'[arbiter]\nbackend = "vigil"\naddress = "{host}:{port}"\nlease_ttl = "2s"\n'
    finally:
        proc.kill()
        proc.wait(timeout=10)


@contextlib.contextmanager
def etcd_arbiter(root: Path, host: str) -> Iterator[str]:
    server = EtcdServer(root)
    try:
        server.start()
        yield f'[arbiter]\nbackend = "etcd"\nendpoints = ["{server.url}"]\nlease_ttl = "3s"\n'
    finally:
        server.stop()


ARBITERS: dict[str, Callable[[Path, str], contextlib.AbstractContextManager[str]]] = {
    "vigil": vigil_arbiter, "etcd": etcd_arbiter}


def where_db(c: LoopbackCluster, node: str) -> tuple[Any, Any]:
    r = next(r for r in c[node].status()["resources"] if r["id"] == "db")
    return r["node"], r["state"]


@contextlib.contextmanager
def relayed_pair(make_cluster: Callable[..., LoopbackCluster],
                 backend: str) -> Iterator[tuple[LoopbackCluster, UdpRelay]]:
    """Two daemons through a relay, an arbitrator; node1 holds the lease, db runs on node2."""
    c = make_cluster(2)
    h1, h2 = c.hosts["node1"], c.hosts["node2"]
    prefix = h1.rsplit(".", 1)[0]
    fake1, fake2 = f"{prefix}.101", f"{prefix}.102"  # node1 as node2 sees it, and back
    routes = {}
    for port in (c.port, c.port + 1):  # the heartbeat port and the control port
        routes[(fake2, port)] = (h2, port)
        routes[(fake1, port)] = (h1, port)
    relay = UdpRelay(routes)
    try:
        with ARBITERS[backend](c.dir, f"{prefix}.150") as arbiter:
            for name, addresses in (("node1", {"node1": h1, "node2": fake2}),
                                    ("node2", {"node1": fake1, "node2": h2})):
                path = c.dir / f"{name}.toml"
                path.write_text(node_config(c, addresses, arbiter))
                path.chmod(0o600)
                c.daemons[name] = RelayedDaemon(c, name, path)
            # node1 first: the lease goes to whoever asks first and stays with its holder.
            c["node1"].start()
            c.wait_until("node1 holds the lease", lambda: (
                c["node1"].status()["arbiter"]["held_here"]), timeout_s=20)
            c["node2"].start()
            c.wait_until("both agree", lambda: c.agreed(c.names), timeout_s=20)
            c.wait_until("db on node2, both know node1 holds the lease", lambda: (
                where_db(c, "node1") == ("node2", "running")
                and c["node1"].status()["arbiter"]["held_here"]
                and c["node2"].status()["arbiter"]["holder"] == "node1"
                # node1 registered the partition of both: node2 counts its vote too
                and c["node2"].status()["arbiter"]["vote"]), timeout_s=20)
            yield c, relay
    finally:
        relay.close()
        c.reap()


def state_files(c: LoopbackCluster) -> dict[str, Path]:
    return {n: c.dir / "state" / f"{n}.agents" / "dummy-db.state" for n in c.names}


@pytest.mark.parametrize("backend", ["vigil", "etcd"])
def test_cut_heartbeat_link_leaves_db_only_on_the_lease_holder(
        make_cluster: Callable[..., LoopbackCluster], backend: str) -> None:
    with relayed_pair(make_cluster, backend) as (c, relay):
        doc = c["node2"].status()["arbiter"]
        assert (doc["backend"], doc["holder"], doc["held_here"]) == (backend, "node1", False)
        files = state_files(c)
        sampler = Sampler(files)
        try:
            relay.on = False  # the heartbeat link is cut; both daemons and the arbiter live
            cut = time.monotonic()
            c.wait_until("db moved to the lease holder, node1", lambda: (
                files["node1"].exists() and not files["node2"].exists()
                and where_db(c, "node1") == ("node1", "running")), timeout_s=20)
            took = time.monotonic() - cut
            time.sleep(1.5)  # several renewals later: still only on node1
            assert (files["node1"].exists(), files["node2"].exists()) == (True, False)
            n1, n2 = c["node1"].status(), c["node2"].status()
            assert (n1["quorate"], n2["quorate"]) == (True, False)
            assert (n1["arbiter"]["held_here"], n1["arbiter"]["vote"]) == (True, True)
            assert n2["arbiter"]["vote"] is False
            assert any("the arbitrator decides a split" in w for w in n2["warnings"])
            assert all(d.proc is not None and d.proc.poll() is None
                       for d in c.daemons.values())
        finally:
            sampler.close()
        assert sampler.both == 0, f"db active on both nodes in {sampler.both} samples"
        assert sampler.samples > 100
        print(f"{backend}: db on the holder {took:.2f} s after the cut; "
              f"{sampler.samples} samples, none with db on both")


@pytest.mark.parametrize("backend", ["vigil", "etcd"])
def test_clean_stop_of_the_lease_holder_leaves_db_running_on_its_peer(
        make_cluster: Callable[..., LoopbackCluster], backend: str) -> None:
    with relayed_pair(make_cluster, backend) as (c, _):
        files = state_files(c)
        missing = 0
        c["node1"].signal(signal.SIGTERM)  # it hands the lease to node2, then leaves
        assert c["node1"].wait_exit(15) == 0
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:  # well past node2's next renewals
            missing += not files["node2"].exists()
            time.sleep(0.005)
        n2 = c["node2"].status()
        assert (n2["quorate"], n2["arbiter"]["held_here"], n2["arbiter"]["vote"]) == (
            True, True, True)
        assert missing == 0, f"db stopped on node2 for {missing} samples after node1 left"
        assert where_db(c, "node2") == ("node2", "running")
        assert "lease handed over to=node2" in c["node1"].log_text()
