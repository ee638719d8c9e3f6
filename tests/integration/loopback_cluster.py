"""Real ``vigil daemon`` processes on loopback: a cluster of them, and ways to ask them.

Each cluster gets its own loopback addresses (127.X.Y.1, .2, ...) and port, so
tests running at the same time on one machine never hear each other.
``reap`` SIGKILLs every PID the cluster started that is still alive, and
nothing else; the fixtures in conftest.py call it in teardown.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from vigil.cli.control_client import request
from vigil.exitcodes import VigilError

VIGIL = Path(sys.executable).with_name("vigil")
SECRET = "integration-test-secret-0123456789abcdef"
POLL_S = 0.05


def config_text(nodes: list[str], hosts: dict[str, str], port: int, *, keepalive_ms: int,
                deadtime_ms: int, warntime_ms: int | None = None,
                spy: str | None = None, extra: str = "") -> str:
    """A native TOML configuration: one ucast link over the given loopback addresses."""
    warntime = warntime_ms if warntime_ms is not None else deadtime_ms // 2
    lines = [
        "[cluster]", 'name = "itest"', "",
        "[timing]",
        f'keepalive = "{keepalive_ms}ms"', f'warntime = "{warntime}ms"',
        f'deadtime = "{deadtime_ms}ms"', f'initdead = "{2 * deadtime_ms}ms"', "",
    ]
    for n in nodes:
        lines += ["[[node]]", f'name = "{n}"', ""]
    addresses = ", ".join(f'{n} = "{hosts[n]}"' for n in nodes)
    lines += ["[[link]]", 'name = "lo"', 'kind = "ucast"', f"port = {port}",
              f"addresses = {{ {addresses} }}"]
    if spy is not None:
        # Every node also sends each heartbeat here: the test listens and captures them.
        lines.append(f'peers = ["{spy}:{port}"]')
    lines += ["", "[auth]", "active = 1", "[[auth.key]]", "index = 1",
              'method = "hmac-sha256"', f'secret = "{SECRET}"', "", extra]
    return "\n".join(lines)


class Daemon:
    """One ``vigil daemon`` subprocess for one node."""

    def __init__(self, cluster: LoopbackCluster, name: str) -> None:
        self.cluster = cluster
        self.name = name
        self.socket = cluster.dir / f"{name}.sock"
        self.log = cluster.dir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, notify_socket: str = "") -> None:
        assert self.proc is None or self.proc.poll() is not None, f"{self.name} already runs"
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [str(VIGIL), "daemon", "--config", str(self.cluster.config),
                 "--node", self.name, "--state-dir", str(self.cluster.dir / "state"),
                 "--socket", str(self.socket)],
                stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                env={**os.environ, "NOTIFY_SOCKET": notify_socket},
            )
        self.cluster.started.append(self.proc)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def signal(self, sig: signal.Signals) -> float:
        """Send SIG; the monotonic time it was sent."""
        assert self.proc is not None
        self.proc.send_signal(sig)
        return time.monotonic()

    def wait_exit(self, timeout_s: float = 5.0) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout=timeout_s)

    def status(self) -> dict[str, Any]:
        doc = request(self.socket, "status", 2.0)
        assert isinstance(doc, dict)
        return doc

    def try_status(self) -> dict[str, Any] | None:
        try:
            return self.status()
        except VigilError:
            return None

    def node(self, name: str) -> dict[str, Any]:
        """NAME's entry in this daemon's status."""
        for entry in self.status()["nodes"]:
            if entry["name"] == name:
                return dict(entry)
        raise KeyError(name)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


class LoopbackCluster:
    """N daemons sharing one configuration file, each on its own loopback address."""

    def __init__(self, root: Path, size: int, *, keepalive_ms: int = 100,
                 deadtime_ms: int = 500, spy: bool = False) -> None:
        self.dir = root
        self.names = [f"node{i}" for i in range(1, size + 1)]
        a, b = random.randint(1, 254), random.randint(1, 254)
        self.hosts = {n: f"127.{a}.{b}.{i}" for i, n in enumerate(self.names, start=1)}
        self.spy_host = f"127.{a}.{b}.200" if spy else None
        self.port = _free_port(self.hosts.values())
        self.keepalive_ms = keepalive_ms
        self.deadtime_ms = deadtime_ms
        self.config = root / "cluster.toml"
        self.write_config()
        self.daemons = {n: Daemon(self, n) for n in self.names}
        self.started: list[subprocess.Popen[bytes]] = []

    def write_config(self, text: str | None = None, extra: str = "", **timing: int) -> None:
        """Write the configuration (TEXT as given, or built; EXTRA appended TOML)."""
        if text is None:
            text = config_text(self.names, self.hosts, self.port,
                               keepalive_ms=timing.get("keepalive_ms", self.keepalive_ms),
                               deadtime_ms=timing.get("deadtime_ms", self.deadtime_ms),
                               warntime_ms=timing.get("warntime_ms"), spy=self.spy_host,
                               extra=extra)
        self.config.write_text(text)
        self.config.chmod(0o600)  # inline secrets: refused when others can read them

    def __getitem__(self, name: str) -> Daemon:
        return self.daemons[name]

    def start(self) -> None:
        for d in self.daemons.values():
            d.start()

    def wait_until(self, what: str, check: Callable[[], bool], timeout_s: float = 10.0) -> float:
        """Poll CHECK until it holds; the seconds it took. Fails with WHAT and the logs."""
        start = time.monotonic()
        deadline = start + timeout_s
        while True:
            try:
                if check():
                    return time.monotonic() - start
            except (VigilError, KeyError):
                pass  # not up yet, or just restarted
            if time.monotonic() > deadline:
                pytest.fail(f"not within {timeout_s} s: {what}\n{self.diagnosis()}")
            time.sleep(POLL_S)

    def agreed(self, names: list[str]) -> bool:
        """Every daemon in NAMES sees exactly NAMES, stable, one DC, quorate."""
        docs = [self[n].status() for n in names]
        return all(
            sorted(d["view"]["members"]) == sorted(names) and d["view"]["stable"]
            and d["quorate"] and d["dc"] == docs[0]["dc"] and d["dc"] is not None
            for d in docs
        )

    def diagnosis(self) -> str:
        parts = []
        for d in self.daemons.values():
            state = "not started" if d.proc is None else (
                f"exit {d.proc.returncode}" if d.proc.poll() is not None else "running")
            tail = d.log_text().splitlines()[-15:] if d.log.exists() else []
            parts.append(f"--- {d.name} ({state})\n" + "\n".join(tail))
        return "\n".join(parts)

    def reap(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):  # a kernel problem
                proc.wait(timeout=5)


def _free_port(hosts: Any) -> int:
    """A UDP port free on every one of HOSTS right now."""
    for _ in range(50):
        port = random.randint(20_000, 32_000)
        socks = []
        try:
            for host in hosts:
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind((host, port))
            return port
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free UDP port found")


def free_tcp_port(hosts: list[str]) -> int:
    """A TCP port free on every one of HOSTS right now."""
    for _ in range(50):
        socks: list[socket.socket] = []
        try:
            first = socket.socket()
            socks.append(first)
            first.bind((hosts[0], 0))
            port = int(first.getsockname()[1])
            for host in hosts[1:]:
                s = socket.socket()
                socks.append(s)
                s.bind((host, port))
            return port
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free TCP port")
