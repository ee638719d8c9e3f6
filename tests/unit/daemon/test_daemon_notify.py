"""systemd hears READY=1 and STOPPING=1; outside systemd nothing happens."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from vigil.daemon.notify import sd_notify


def test_ready_reaches_the_notify_socket(tmp_path: Path) -> None:
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(os.fspath(path))
        assert sd_notify("READY=1", "STATUS=up", env={"NOTIFY_SOCKET": os.fspath(path)})
        assert listener.recv(4096) == b"READY=1\nSTATUS=up"


def test_abstract_notify_socket_is_supported() -> None:
    name = f"vigil-test-notify-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind("\0" + name)
        assert sd_notify("STOPPING=1", env={"NOTIFY_SOCKET": "@" + name})
        assert listener.recv(4096) == b"STOPPING=1"


def test_without_systemd_or_with_a_dead_socket_notify_is_a_quiet_no_op(tmp_path: Path) -> None:
    assert not sd_notify("READY=1", env={})
    assert not sd_notify("READY=1", env={"NOTIFY_SOCKET": os.fspath(tmp_path / "gone")})
