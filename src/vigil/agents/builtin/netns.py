"""Doing network work inside a named network namespace, from a worker thread.

``setns(CLONE_NEWNET)`` moves only the calling thread, so a built-in's
blocking network calls run in a thread that enters the namespace, opens its
netlink and packet sockets there (a socket stays in the namespace it was
created in) and steps back out before the thread is reused.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
CLONE_NEWNET = 0x40000000
NETNS_DIR = Path("/run/netns")  # where `ip netns add` puts them
_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


def netns_path(name: str) -> Path:
    if not _NAME_RE.match(name) or name in (".", ".."):
        raise ValueError(f"{name!r} is not a network namespace name")
    return NETNS_DIR / name


def call_in_netns(netns: str | None, fn: Callable[[], T]) -> T:
    """FN() run in this thread inside NETNS (None: where we are)."""
    if netns is None:
        return fn()
    with open(netns_path(netns), "rb") as target, \
            open(f"/proc/self/task/{threading.get_native_id()}/ns/net", "rb") as home:
        _setns(target.fileno())
        try:
            return fn()
        finally:
            _setns(home.fileno())


async def in_netns(netns: str | None, fn: Callable[[], T]) -> T:
    """FN() in a worker thread inside NETNS: the event loop never blocks on it."""
    return await asyncio.to_thread(call_in_netns, netns, fn)
