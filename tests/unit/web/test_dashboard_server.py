"""The dashboard's HTTP rules, against stand-in control handlers (no daemon).

The handlers here stand for the daemon's control API (``vigil.daemon.control``):
what they return is what the page must show, and what they were asked is what
the operator did.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from vigil.config import Endpoint, Web, WebRole, WebUser
from vigil.daemon.control import CommandError
from vigil.web.passwords import hash_password
from vigil.web.server import DashboardServer

USERS = (WebUser("alice", WebRole.OPERATOR, hash_password("alice-password", ln=12)),
         WebUser("bob", WebRole.READ_ONLY, hash_password("bob-password", ln=12)))
TOKEN = "script-token-0123456789"


class Cluster:
    """Stand-in control handlers: a status document and a log of commands."""

    def __init__(self) -> None:
        self.state = "up"
        self.asked: list[dict[str, Any]] = []

    def handlers(self) -> dict[str, Any]:
        def admin(req: Mapping[str, Any]) -> object:
            self.asked.append(dict(req))
            if req.get("target") == "nosuch":
                raise CommandError("no resource or group 'nosuch'", "see vigil status")
            return {"accepted": True, "message": f"{req['cmd']} accepted by the DC"}

        return {
            "status": lambda _r: {"node": "node1", "nodes": [{"name": "node2",
                                                              "state": self.state}]},
            "events": lambda _r: {"source": "events of this node", "events": []},
            **dict.fromkeys(("standby", "online", "move", "unmove", "cleanup"), admin),
        }


@pytest.fixture
async def dash() -> AsyncIterator[tuple[TestClient[Any, Any], Cluster, DashboardServer]]:
    cluster = Cluster()
    server = DashboardServer(Web(listen=Endpoint("127.0.0.1", 0), users=USERS,
                                 token_role=WebRole.READ_ONLY),
                             Endpoint("127.0.0.1", 0), "node1", cluster.handlers(), token=TOKEN)
    server._building = asyncio.Lock()
    server._hashing = asyncio.Semaphore(1)
    client = TestClient(TestServer(server.app))
    await client.start_server()
    try:
        yield client, cluster, server
    finally:
        await client.close()


async def _login(client: TestClient[Any, Any], user: str, password: str) -> str:
    r = await client.post("/login", data={"user": user, "password": password},
                          allow_redirects=False)
    assert r.status == 303
    return str((await (await client.get("/api/session")).json())["csrf"])


async def test_operator_action_reaches_the_control_api_once_with_its_words(dash: Any) -> None:
    client, cluster, _ = dash
    csrf = await _login(client, "alice", "alice-password")
    r = await client.post("/api/action", json={"cmd": "move", "target": "g", "node": "node2",
                                               "evil": "x"}, headers={"X-CSRF-Token": csrf})
    assert r.status == 200
    assert (await r.json())["result"]["message"] == "move accepted by the DC"
    assert [{k: v for k, v in a.items() if k != "timeout"} for a in cluster.asked] == \
        [{"cmd": "move", "target": "g", "node": "node2"}]


async def test_cluster_refusal_is_shown_with_its_hint(dash: Any) -> None:
    client, _, _ = dash
    csrf = await _login(client, "alice", "alice-password")
    r = await client.post("/api/action", json={"cmd": "cleanup", "target": "nosuch"},
                          headers={"X-CSRF-Token": csrf})
    assert r.status == 409
    reply = await r.json()
    assert (reply["error"], reply["hint"]) == ("no resource or group 'nosuch'",
                                               "see vigil status")


@pytest.mark.parametrize("cmd", ["fence", "reload", "status", "shutdown"])
async def test_commands_beyond_the_dashboards_actions_are_refused(dash: Any, cmd: str) -> None:
    client, cluster, _ = dash
    csrf = await _login(client, "alice", "alice-password")
    r = await client.post("/api/action", json={"cmd": cmd, "node": "node2"},
                          headers={"X-CSRF-Token": csrf})
    assert r.status == 400
    assert not cluster.asked


async def test_read_only_bearer_token_reads_but_cannot_act(dash: Any) -> None:
    client, cluster, _ = dash
    auth = {"Authorization": f"Bearer {TOKEN}"}
    r = await client.get("/api/status", headers=auth)
    assert r.status == 200
    assert (await r.json())["result"]["node"] == "node1"
    r = await client.post("/api/action", json={"cmd": "standby", "node": "node1"},
                          headers=auth)
    assert r.status == 403
    r = await client.get("/api/status", headers={"Authorization": "Bearer wrong"})
    assert r.status == 401
    assert not cluster.asked


async def test_every_response_carries_the_security_headers(dash: Any) -> None:
    client, _, _ = dash
    for path in ("/login", "/healthz", "/api/status", "/static/dashboard.js"):
        r = await client.get(path, allow_redirects=False)
        assert "script-src 'self'" in r.headers["Content-Security-Policy"], path
        assert r.headers["X-Frame-Options"] == "DENY"
        assert r.headers["X-Content-Type-Options"] == "nosniff"


async def test_unknown_paths_and_static_files_are_404(dash: Any) -> None:
    client, _, _ = dash
    for path in ("/static/../server.py", "/static/login.html", "/admin", "/metrics"):
        assert (await client.get(path)).status == 404, path


async def test_login_page_escapes_what_it_shows(dash: Any) -> None:
    client, _, server = dash
    server.node = "<script>alert(1)</script>"
    text = await (await client.get("/login")).text()
    assert "<script>alert" not in text
    assert "&lt;script&gt;" in text


async def test_open_page_gets_a_new_snapshot_when_the_daemon_logs_a_change(dash: Any) -> None:
    client, cluster, server = dash
    await _login(client, "bob", "bob-password")
    r = await client.get("/events")
    assert r.headers["Content-Type"] == "text/event-stream"

    async def snapshot() -> dict[str, Any]:
        while True:
            line = await asyncio.wait_for(r.content.readline(), 5)
            if line.startswith(b"data: "):
                return dict(json.loads(line[6:]))

    first = await snapshot()
    assert first["status"]["nodes"][0]["state"] == "up"
    assert server.feed.watchers == 1
    cluster.state = "dead"
    logging.getLogger("vigil.node").warning("peer dead node=node2")
    second = await snapshot()
    assert second["status"]["nodes"][0]["state"] == "dead"
    r.close()
    for _ in range(100):
        if server.feed.watchers == 0:
            break
        await asyncio.sleep(0.01)
    assert server.feed.watchers == 0  # nobody watching: the feed is off the log again


async def test_dashboards_own_log_lines_do_not_wake_the_pages(dash: Any) -> None:
    _, _, server = dash
    with server.feed.watch():
        before = server.feed.version
        logging.getLogger("vigil.web").warning("dashboard login failed user=x")
        await asyncio.sleep(0.25)
        assert server.feed.version == before


async def test_page_opened_after_a_quiet_spell_gets_the_present_not_an_old_picture(
        dash: Any) -> None:
    client, cluster, _ = dash
    await _login(client, "bob", "bob-password")

    async def first_snapshot() -> dict[str, Any]:
        r = await client.get("/events")
        try:
            while True:
                line = await asyncio.wait_for(r.content.readline(), 5)
                if line.startswith(b"data: "):
                    return dict(json.loads(line[6:]))
        finally:
            r.close()

    assert (await first_snapshot())["status"]["nodes"][0]["state"] == "up"
    await asyncio.sleep(0.05)
    cluster.state = "dead"  # changed while no page was open: nothing was logged to a watcher
    assert (await first_snapshot())["status"]["nodes"][0]["state"] == "dead"
