"""The local control API: a Unix socket where ``vigil status`` and friends ask the daemon.

Protocol (stable; the CLI's ``vigil.cli.control_client`` speaks it):

- Transport: a stream Unix socket, by default ``/run/vigil/vigil.sock``, mode
  0600 (only the daemon's user, normally root, may connect); with ``apiauth``
  entries mode 0666, and each connection is checked against the peer's
  credentials (``vigil.daemon.apiauth``): a refused client gets one
  ``ok: false`` line and the connection is closed.
- Framing: one JSON object per line, UTF-8, ``\\n``-terminated, at most
  64 KiB. A connection may carry any number of requests; each gets exactly one
  response line, in order.
- Request: ``{"cmd": NAME, ...arguments}``. An optional ``"id"`` is echoed.
- Response: ``{"ok": true, "result": ...}`` or
  ``{"ok": false, "error": "what went wrong", "hint": "what to do"}``.
- Commands:

  ``ping``    ``{"node", "pid", "version"}``: is the daemon alive.
  ``status``  the status document described in ``docs/status.md``.
  ``reload``  read the configuration again, as SIGHUP:
              ``{"reloaded": bool, "errors": [ "FILE:LINE: error: ..." ]}``.
  ``standby`` ``{"node"}`` (default: this node), ``online`` ``{"node"}``,
  ``move`` ``{"target", "node"}``, ``unmove`` ``{"target"}``, ``cleanup``
              ``{"target"}`` (a resource or group): forwarded to the DC and
              answered once the DC accepted it, ``{"accepted": true, "message"}``;
              a refusal is ``ok: false`` with the DC's or this node's words.
  ``events``  ``{"source", "events": [{"seq", "at_ms", "time", "node", "kind",
              "resource", "text"}]}``: this node's events and the DC's, by time.

A request the daemon cannot parse or does not know gets an ``ok: false``
answer; the connection stays usable. Nothing a client sends can stop the daemon.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import os
import socket
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from vigil.daemon.apiauth import ApiAccess, peer_of
from vigil.daemon.logsetup import LOGGER_NAME, kv
from vigil.exitcodes import VigilError

DEFAULT_SOCKET_PATH = Path("/run/vigil/vigil.sock")
MAX_LINE = 64 * 1024
IDLE_TIMEOUT_S = 60.0

#: A command handler: the request in, the ``result`` (or an awaitable of it) out.
#: Raising ``CommandError`` gives the client an ``ok: false`` answer with the
#: message and hint.
Handler = Callable[[Mapping[str, Any]], Any]

log = logging.getLogger(f"{LOGGER_NAME}.control")


class CommandError(Exception):
    """A request the daemon refuses, with words for the person who sent it."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


async def answer(request: bytes, handlers: Mapping[str, Handler]) -> dict[str, Any]:
    """The response to one request line; never raises."""
    try:
        doc = json.loads(request)
    except (ValueError, UnicodeDecodeError):
        return _error("request is not JSON", "send one JSON object per line")
    if not isinstance(doc, dict):
        return _error("request is not a JSON object", 'send e.g. {"cmd": "status"}')
    cmd = doc.get("cmd")
    handler = handlers.get(cmd) if isinstance(cmd, str) else None
    if handler is None:
        reply = _error(f"unknown command {cmd!r}", "known commands: " + ", ".join(sorted(handlers)))
    else:
        try:
            result = handler(doc)
            if inspect.isawaitable(result):
                result = await result
            reply = {"ok": True, "result": result}
        except CommandError as e:
            reply = _error(e.message, e.hint)
        except Exception as e:  # a bug in a handler must not take the daemon down
            log.exception(kv("control command failed", cmd=cmd))
            reply = _error(f"internal error in {cmd}: {e!r}", "see the daemon's log")
    if "id" in doc:
        reply["id"] = doc["id"]
    return reply


def _error(message: str, hint: str | None) -> dict[str, Any]:
    reply: dict[str, Any] = {"ok": False, "error": message}
    if hint:
        reply["hint"] = hint
    return reply


class ControlServer:
    """Serves HANDLERS on a Unix socket at PATH (mode 0600) until ``close``."""

    def __init__(self, path: Path, handlers: Mapping[str, Handler],
                 access: ApiAccess | None = None) -> None:
        self.path = path
        self.handlers = handlers
        self.access = access or ApiAccess(frozenset(), frozenset())
        self._server: asyncio.AbstractServer | None = None
        self._inode: int | None = None
        self._clients: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        sock = bind_socket(self.path, self.access.socket_mode)
        self._inode = os.stat(self.path).st_ino
        self._server = await asyncio.start_unix_server(self._serve, sock=sock, limit=MAX_LINE)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._clients):
                task.cancel()
            await asyncio.gather(*self._clients, return_exceptions=True)
            await self._server.wait_closed()
            self._server = None
        with contextlib.suppress(OSError):
            # Remove the socket only if it is still ours, not a successor's.
            if self._inode is not None and os.stat(self.path).st_ino == self._inode:
                self.path.unlink()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._clients.add(task)
        try:
            raw = writer.get_extra_info("socket")
            peer = peer_of(raw) if raw is not None else None
            if peer is None or not self.access.allows(peer):
                log.warning(kv("control client refused", uid=peer.uid if peer else None,
                               pid=peer.pid if peer else None))
                # read its request first: closing with unread data would reset the
                # connection and lose the answer that says why
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(reader.readline(), 1.0)
                writer.write(_line(_error(
                    "permission denied: this user may not use the vigil control socket",
                    "run as root, or name the user or a group of it in an apiauth entry")))
                await writer.drain()
                return
            while True:
                try:
                    line = await asyncio.wait_for(reader.readline(), IDLE_TIMEOUT_S)
                except (ValueError, asyncio.LimitOverrunError):
                    writer.write(_line(_error("request too long", f"at most {MAX_LINE} bytes")))
                    break
                if not line:
                    break
                if not line.strip():
                    continue
                writer.write(_line(await answer(line, self.handlers)))
                await writer.drain()
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._clients.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


def _line(doc: Mapping[str, Any]) -> bytes:
    return json.dumps(doc, separators=(",", ":"), default=str).encode() + b"\n"


def bind_socket(path: Path, mode: int = 0o600) -> socket.socket:
    """A listening Unix socket at PATH with MODE; refuses when a daemon answers there."""
    if len(os.fsencode(path)) >= 108:
        raise VigilError(f"control socket path too long for Unix sockets: {path}",
                         hint="give a shorter --socket path (under 108 bytes)")
    try:
        path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    except OSError as e:
        raise VigilError(f"cannot create {path.parent}: {e.strerror}",
                         hint="give a writable place with --socket") from e
    _remove_stale(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    old_umask = os.umask(0o177)  # no window where the socket is open to others
    try:
        sock.bind(os.fspath(path))
    except OSError as e:
        sock.close()
        raise VigilError(f"cannot create control socket {path}: {e.strerror}",
                         hint="give a writable place with --socket") from e
    finally:
        os.umask(old_umask)
    os.chmod(path, mode)
    sock.listen(16)
    sock.setblocking(False)
    return sock


def _remove_stale(path: Path) -> None:
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise VigilError(f"{path} exists and is not a socket",
                         hint="remove it, or give another --socket path")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    probe.settimeout(0.5)
    try:
        probe.connect(os.fspath(path))
    except OSError:
        path.unlink(missing_ok=True)  # left behind by a daemon that died
        return
    finally:
        probe.close()
    raise VigilError(f"a vigil daemon already answers on {path}",
                     hint="stop it first, or give this one its own --socket")
