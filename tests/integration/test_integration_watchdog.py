"""A real daemon feeds a watchdog; a hung one is reset, and the others recover after the
self-fencing wait.

The watchdog is an emulator the test starts: a FIFO in place of /dev/watchdog,
read by a thread that plays the kernel's part (as softdog): any byte feeds it,
a 'V' before close disarms it, and when nothing comes for the timeout it
"resets" the node: SIGKILL of its daemon and removal of its dummy services'
state files (a reset machine runs nothing). Each node has its own
configuration file naming its own FIFO (the files differ only there); with no
fence device the cluster is in watchdog self-fencing mode.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from loopback_cluster import VIGIL, LoopbackCluster, config_text
from test_integration_resources import EXAMPLE, placement

TIMEOUT_S = 1.0  # watchdog_timeout_ms: 2 × deadtime (500 ms), in whole seconds


class WatchdogEmulator(threading.Thread):
    """Reads FIFO; resets (calls RESET) when not fed for TIMEOUT_S, unless disarmed."""

    def __init__(self, fifo: Path, reset: Callable[[], None]) -> None:
        super().__init__(daemon=True)
        os.mkfifo(fifo)
        self.fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        self.reset = reset
        self.feeds = 0
        self.disarmed = False
        self.reset_at: float | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        last = time.monotonic()
        armed = False
        while not self.stop.wait(0.02):
            try:
                data = os.read(self.fd, 4096)
            except BlockingIOError:
                data = None
            now = time.monotonic()
            if data:
                armed, last = True, now
                self.feeds += len(data)
                if data.endswith(b"V"):
                    self.disarmed, armed = True, False
            elif armed and now - last > TIMEOUT_S:
                self.reset_at = now
                self.reset()
                return

    def close(self) -> None:
        self.stop.set()
        self.join(timeout=2)
        os.close(self.fd)


def start_with_watchdog(c: LoopbackCluster, name: str, fifo: Path) -> subprocess.Popen[bytes]:
    text = c.config.read_text().replace('name = "itest"',
                                        f'name = "itest"\nwatchdog = "{fifo}"', 1)
    config = c.dir / f"{name}.toml"
    config.write_text(text)
    config.chmod(0o600)
    d = c[name]
    with open(d.log, "ab") as log:
        proc = subprocess.Popen(
            [str(VIGIL), "daemon", "--config", str(config), "--node", name,
             "--state-dir", str(c.dir / "state"), "--socket", str(d.socket)],
            stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    d.proc = proc
    c.started.append(proc)
    return proc


@pytest.fixture
def watched(make_cluster: Callable[..., LoopbackCluster],
            tmp_path: Path) -> Iterator[tuple[LoopbackCluster, WatchdogEmulator]]:
    c = make_cluster(3)
    example = EXAMPLE.read_text()
    extra = example[example.index("[[resource]]"):]
    c.write_config(text=config_text(c.names, c.hosts, c.port, keepalive_ms=c.keepalive_ms,
                                    deadtime_ms=c.deadtime_ms, extra=extra))
    procs: dict[str, subprocess.Popen[bytes]] = {}
    dogs: dict[str, WatchdogEmulator] = {}

    def resetter(name: str) -> Callable[[], None]:
        def reset() -> None:
            procs[name].kill()
            for state in (c.dir / "state" / f"{name}.agents").glob("dummy-*"):
                state.unlink()
        return reset

    for name in c.names:
        dogs[name] = WatchdogEmulator(tmp_path / f"watchdog-{name}", resetter(name))
        dogs[name].start()
        procs[name] = start_with_watchdog(c, name, tmp_path / f"watchdog-{name}")
    try:
        c.wait_until("3 nodes agree", lambda: c.agreed(c.names))
        c.wait_until("web on node1", lambda: placement(c, "node3").get("web") == ("node1",
                                                                                "running"))
        yield c, dogs["node1"]
        assert all(dogs[n].reset_at is None for n in ("node2", "node3"))
    finally:
        for dog in dogs.values():
            dog.close()


def test_clean_stop_disarms_the_watchdog_with_the_magic_v(
        watched: tuple[LoopbackCluster, WatchdogEmulator]) -> None:
    c, dog = watched
    status = c["node1"].status()
    assert status["watchdog"]["feeding"] is True, status["watchdog"]
    assert status["fencing"]["mode"] == "watchdog"
    c["node1"].signal(signal.SIGTERM)
    assert c["node1"].wait_exit(10) == 0
    time.sleep(TIMEOUT_S + 0.5)  # the emulator would reset within its timeout
    assert dog.disarmed
    assert dog.reset_at is None


def test_hung_daemon_is_reset_by_its_watchdog_and_its_services_recover_after_the_wait(
        watched: tuple[LoopbackCluster, WatchdogEmulator]) -> None:
    c, dog = watched
    c["node1"].signal(signal.SIGSTOP)  # hung: services keep running, nothing is fed
    c.wait_until("the watchdog resets node1", lambda: dog.reset_at is not None, 5)
    c.wait_until("web runs on another node",
                 lambda: placement(c, "node3").get("web", (None, ""))[0] in ("node2", "node3")
                 and placement(c, "node3")["web"][1] == "running", 15)
    events = c["node3"].log_text() + c["node2"].log_text()
    assert "fencing node1 by its watchdog" in events
    assert "self-fenced" in events
