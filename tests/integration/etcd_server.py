"""A real etcd (Debian's etcd-server) for one test: loopback, its own ports and data dir.

``EtcdServer.start`` waits until etcd answers on its client URL; ``stop``
kills the one process it started (SIGKILL: nothing of it needs to survive).
"""

from __future__ import annotations

import contextlib
import json
import random
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from loopback_cluster import free_tcp_port

from prereqs import require

ETCD = Path("/usr/bin/etcd")


class EtcdServer:
    """One single-member etcd on a loopback address of its own."""

    def __init__(self, root: Path) -> None:
        require(ETCD.exists(), "needs etcd (apt-get install etcd-server)")
        self.host = f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.9"
        self.client_port = free_tcp_port([self.host])
        self.peer_port = free_tcp_port([self.host])
        self.data = root / "etcd-data"
        self.log = root / "etcd.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.client_port}"

    def start(self, timeout_s: float = 20.0) -> None:
        peer = f"http://{self.host}:{self.peer_port}"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [str(ETCD), "--name", "itest", "--data-dir", str(self.data),
                 "--listen-client-urls", self.url, "--advertise-client-urls", self.url,
                 "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                 "--initial-cluster", f"itest={peer}", "--initial-cluster-state", "new",
                 "--logger", "zap", "--log-outputs", "stderr"],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"etcd exited {self.proc.returncode}:\n"
                                     + self.log.read_text()[-2000:])
            with contextlib.suppress(OSError, urllib.error.URLError, ValueError), \
                    urllib.request.urlopen(f"{self.url}/health", timeout=1) as answer:
                if json.loads(answer.read()).get("health") == "true":
                    return
            time.sleep(0.1)
        raise AssertionError(f"etcd not healthy within {timeout_s} s:\n"
                             + self.log.read_text()[-2000:])

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        if self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=10)
