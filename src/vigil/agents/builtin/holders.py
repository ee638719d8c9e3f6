"""Finding and stopping the processes that keep a file system busy.

A process holds a mount when its working directory, root, executable, an open
file or a mapped file lives on it (what ``fuser -m`` looks at). Matching is by
device number, so deleted-but-open files count too. Blocking: run in a thread.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

PROC = Path("/proc")


def _on_device(path: str, dev: int) -> bool:
    try:
        return os.stat(path).st_dev == dev
    except OSError:
        return False


def _maps_device(pid: str, major: int, minor: int) -> bool:
    want = f"{major:02x}:{minor:02x}"
    try:
        with open(f"/proc/{pid}/maps") as f:
            for line in f:
                fields = line.split(maxsplit=5)
                if len(fields) >= 6 and fields[3] == want and fields[4] != "0":
                    return True
    except OSError:
        pass
    return False


def holders(dev: int, proc: Path = PROC) -> set[int]:
    """PIDs using device DEV (not ours, never PID 1)."""
    me = os.getpid()
    major, minor = os.major(dev), os.minor(dev)
    found = set()
    for entry in os.scandir(proc):
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        if pid in (1, me):
            continue
        base = f"{proc}/{entry.name}"
        if any(_on_device(f"{base}/{link}", dev) for link in ("cwd", "root", "exe")):
            found.add(pid)
            continue
        try:
            fds = os.listdir(f"{base}/fd")
        except OSError:
            fds = []
        if any(_on_device(f"{base}/fd/{fd}", dev) for fd in fds) \
                or _maps_device(entry.name, major, minor):
            found.add(pid)
    return found


def stop_holders(dev: int, grace_s: float) -> tuple[set[int], set[int]]:
    """TERM the holders of DEV, KILL those left after GRACE_S. (termed, killed)"""
    termed = holders(dev)
    for pid in termed:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    left = termed
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = holders(dev)
    killed = set(left)
    for pid in killed:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 2.0
    while killed and holders(dev) and time.monotonic() < deadline:
        time.sleep(0.02)
    return termed, killed
