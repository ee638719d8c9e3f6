"""The CLI's side of the control API: send one request, get one answer.

The protocol is documented at the top of ``vigil.daemon.control``: one JSON
object per line each way over the daemon's Unix socket. Kept free of the
daemon's own imports so that ``vigil status`` starts fast.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

from vigil.exitcodes import ExitCode, VigilError

DEFAULT_SOCKET_PATH = Path("/run/vigil/vigil.sock")  # as vigil.daemon.control
MAX_REPLY = 16 * 1024 * 1024


def not_running(path: Path, why: str) -> VigilError:
    return VigilError(
        f"no vigil daemon answers on {path} ({why})",
        code=ExitCode.NOT_RUNNING,
        hint="start it (systemctl start vigil, or vigil daemon --config PATH), "
        "or give its socket with --socket PATH",
    )


def request(path: Path, cmd: str, timeout_s: float = 5.0, **args: Any) -> Any:
    """Ask the daemon at PATH to run CMD; its ``result``, or a ``VigilError``."""
    line = json.dumps({"cmd": cmd, **args}).encode() + b"\n"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    sock.settimeout(timeout_s)
    try:
        try:
            sock.connect(os.fspath(path))
        except FileNotFoundError as e:
            raise not_running(path, "no such socket") from e
        except PermissionError as e:
            raise VigilError(
                f"permission denied on {path}",
                code=ExitCode.NOT_RUNNING,
                hint="the control socket is mode 0600: run as the daemon's user (root)",
            ) from e
        except OSError as e:
            raise not_running(path, e.strerror or str(e)) from e
        try:
            sock.sendall(line)
            reply = _read_line(sock)
        except TimeoutError as e:
            raise VigilError(f"the daemon on {path} did not answer within {timeout_s:g} s",
                             code=ExitCode.TIMEOUT,
                             hint="it may be overloaded or hung; see its log") from e
        except OSError as e:
            raise not_running(path, e.strerror or str(e)) from e
    finally:
        sock.close()
    if not reply:
        raise not_running(path, "it closed the connection")
    try:
        doc = json.loads(reply)
    except ValueError as e:
        raise VigilError(f"the daemon on {path} sent an answer that is not JSON") from e
    if not isinstance(doc, dict):
        raise VigilError(f"the daemon on {path} sent an answer that is not a JSON object")
    if not doc.get("ok"):
        hint = doc.get("hint")
        raise VigilError(str(doc.get("error", "request failed")),
                         hint=str(hint) if hint else None)
    return doc.get("result")


def _read_line(sock: socket.socket) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if b"\n" in chunk or size > MAX_REPLY:
            break
    return b"".join(chunks).split(b"\n", 1)[0]
