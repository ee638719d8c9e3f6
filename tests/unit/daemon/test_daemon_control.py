"""The control socket answers every request, refuses bad ones politely, and is private."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from vigil.cli.control_client import request
from vigil.daemon.control import CommandError, ControlServer, answer
from vigil.exitcodes import ExitCode, VigilError


def _boom(_req: Mapping[str, Any]) -> Any:
    raise RuntimeError("bug")


def _refuse(_req: Mapping[str, Any]) -> Any:
    raise CommandError("not now", "later")


async def _later(_req: Mapping[str, Any]) -> Any:
    await asyncio.sleep(0)
    return "done"


HANDLERS = {
    "later": _later,
    "status": lambda req: {"node": "node1"},
    "echo": dict,
    "boom": _boom,
    "refuse": _refuse,
}


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b'{"cmd": "status"}', {"ok": True, "result": {"node": "node1"}}),
        (b'{"cmd": "status", "id": 7}', {"ok": True, "result": {"node": "node1"}, "id": 7}),
        (b'{"cmd": "later"}', {"ok": True, "result": "done"}),
        (b"not json", {"ok": False, "error": "request is not JSON"}),
        (b"\xff\xfe", {"ok": False, "error": "request is not JSON"}),
        (b"[1, 2]", {"ok": False, "error": "request is not a JSON object"}),
        (b'{"cmd": 3}', {"ok": False, "error": "unknown command 3"}),
        (b'{"cmd": "fly"}', {"ok": False, "error": "unknown command 'fly'"}),
        (b'{"cmd": "refuse"}', {"ok": False, "error": "not now", "hint": "later"}),
        (b'{"cmd": "boom"}', {"ok": False, "error": "internal error in boom: RuntimeError('bug')"}),
    ],
)
async def test_every_request_gets_one_answer_and_never_an_exception(
    line: bytes, expected: dict[str, Any]
) -> None:
    reply = await answer(line, HANDLERS)
    if "hint" not in expected:
        reply.pop("hint", None)  # the hints are for people; the table checks the rest
    assert reply == expected


async def test_socket_is_private_and_serves_the_cli_client(tmp_path: Path) -> None:
    path = tmp_path / "run" / "vigil.sock"
    server = ControlServer(path, HANDLERS)
    await server.start()
    try:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        result = await asyncio.to_thread(request, path, "echo", 2.0, extra=[1, 2])
        assert result == {"cmd": "echo", "extra": [1, 2]}
        with pytest.raises(VigilError, match="not now") as err:
            await asyncio.to_thread(request, path, "refuse", 2.0)
        assert err.value.hint == "later"
    finally:
        await server.close()
    assert not path.exists()


async def test_one_connection_carries_many_requests_even_after_garbage(tmp_path: Path) -> None:
    path = tmp_path / "c.sock"
    server = ControlServer(path, HANDLERS)
    await server.start()
    try:
        reader, writer = await asyncio.open_unix_connection(os.fspath(path))
        writer.write(b'garbage\n{"cmd":"status"}\n\n{"cmd":"nope"}\n')
        await writer.drain()
        replies = [json.loads(await reader.readline()) for _ in range(3)]
        assert [r["ok"] for r in replies] == [False, True, False]
        writer.close()
    finally:
        await server.close()


async def test_too_long_request_is_refused_and_the_daemon_keeps_serving(tmp_path: Path) -> None:
    path = tmp_path / "c.sock"
    server = ControlServer(path, HANDLERS)
    await server.start()
    try:
        reader, writer = await asyncio.open_unix_connection(os.fspath(path))
        writer.write(b"x" * (200 * 1024) + b"\n")
        await writer.drain()
        reply = json.loads(await reader.readline())
        assert reply["error"] == "request too long"
        writer.close()
        assert await asyncio.to_thread(request, path, "status", 2.0) == {"node": "node1"}
    finally:
        await server.close()


async def test_second_daemon_on_a_live_socket_is_refused_and_a_stale_one_replaced(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.sock"
    first = ControlServer(path, HANDLERS)
    await first.start()
    try:
        with pytest.raises(VigilError, match="already answers"):
            await ControlServer(path, HANDLERS).start()
    finally:
        await first.close()
    # A socket file left by a daemon that was killed: nobody answers, so it is replaced.
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(os.fspath(path))
    stale.close()
    second = ControlServer(path, HANDLERS)
    await second.start()
    await second.close()


def test_cli_says_no_daemon_runs_with_exit_code_6_and_a_hint(tmp_path: Path) -> None:
    with pytest.raises(VigilError) as err:
        request(tmp_path / "missing.sock", "status", 1.0)
    assert err.value.code is ExitCode.NOT_RUNNING
    assert err.value.hint
    assert "--socket" in err.value.hint
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(os.fspath(tmp_path / "stale.sock"))
    stale.close()
    with pytest.raises(VigilError) as err:
        request(tmp_path / "stale.sock", "status", 1.0)
    assert err.value.code is ExitCode.NOT_RUNNING
