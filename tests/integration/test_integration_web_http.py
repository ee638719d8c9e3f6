"""The dashboard's refusals over plain HTTP, against real daemons on loopback.

No session: pages send to /login, the API answers 401. A session without the
CSRF token: 403. A read-only user: 403 for every action. Wrong passwords:
refused, then throttled. /healthz answers anyone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from loopback_cluster import LoopbackCluster
from web_cluster import HttpClient, start_web_cluster, url

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackCluster]:
    root: Path = tmp_path_factory.mktemp("web")
    c = LoopbackCluster(root, 3)
    try:
        yield start_web_cluster(c)
    finally:
        c.reap()


def client(c: LoopbackCluster) -> HttpClient:
    return HttpClient(url(c, "node1", ""))


def test_health_endpoint_answers_without_login(web: LoopbackCluster) -> None:
    status, _, body = client(web).request("/healthz")
    assert (status, body) == (200, "ok\n")


@pytest.mark.parametrize(("path", "expected"), [
    ("/", 303), ("/api/status", 401), ("/api/events", 401), ("/events", 401),
    ("/api/session", 401),
])
def test_without_session_page_redirects_to_login_and_api_is_401(
        web: LoopbackCluster, path: str, expected: int) -> None:
    status, headers, _ = client(web).request(path)
    assert status == expected
    if expected == 303:
        assert headers["Location"] == "/login"


def test_action_without_session_is_401_and_nothing_changes(web: LoopbackCluster) -> None:
    status, _, _ = client(web).request("/api/action", data=b'{"cmd": "standby"}',
                                       headers={"Content-Type": "application/json"})
    assert status == 401
    assert not web["node1"].status()["coordinator"]["standby"]


def test_session_cookie_is_httponly_and_samesite_strict(web: LoopbackCluster) -> None:
    c = client(web)
    status, headers, _ = c.request("/login", data=b"user=admin&password=operator-password-1")
    assert status == 303
    cookie = headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie


def test_action_with_session_but_without_csrf_token_is_403(web: LoopbackCluster) -> None:
    c = client(web)
    assert c.login("admin") == 303
    status, reply = c.action({"cmd": "standby", "node": "node1"}, csrf=None)
    assert status == 403
    assert "CSRF" in reply["error"]
    status, _ = c.action({"cmd": "standby", "node": "node1"}, csrf="forged")
    assert status == 403
    assert not web["node1"].status()["coordinator"]["standby"]


def test_cross_site_post_is_refused_even_with_the_token(web: LoopbackCluster) -> None:
    c = client(web)
    c.login("admin")
    csrf = c.session()["csrf"]
    status, _, _ = c.request("/api/action", data=b'{"cmd": "cleanup", "target": "db"}',
                             headers={"Content-Type": "application/json", "X-CSRF-Token": csrf,
                                      "Origin": "http://evil.example"})
    assert status == 403


def test_read_only_user_is_refused_every_action_with_403(web: LoopbackCluster) -> None:
    c = client(web)
    assert c.login("viewer") == 303
    session = c.session()
    assert session["role"] == "read-only"
    assert not session["may_act"]
    for body in ({"cmd": "standby", "node": "node1"}, {"cmd": "cleanup", "target": "db"},
                 {"cmd": "move", "target": "web-group", "node": "node1"}):
        status, reply = c.action(body, csrf=session["csrf"])
        assert status == 403, body
        assert "read-only" in reply["error"]
    status, _, body_text = c.request("/api/status")
    assert status == 200
    assert json.loads(body_text)["result"]["node"] == "node1"


def test_operator_action_gets_the_clusters_answer(web: LoopbackCluster) -> None:
    c = client(web)
    c.login("admin")
    status, reply = c.action({"cmd": "cleanup", "target": "db"}, csrf=c.session()["csrf"])
    assert status == 200
    assert reply["ok"]
    assert "cleanup db" in reply["result"]["message"]
    status, reply = c.action({"cmd": "move", "target": "nosuch", "node": "node1"},
                             csrf=c.session()["csrf"])
    assert status == 409
    assert "nosuch" in reply["error"]


def test_logout_ends_the_session(web: LoopbackCluster) -> None:
    c = client(web)
    c.login("admin")
    csrf = c.session()["csrf"]
    status, headers, _ = c.request("/logout", data=f"csrf={csrf}".encode())
    assert (status, headers["Location"]) == (303, "/login")
    assert c.request("/api/session")[0] == 401


def test_wrong_passwords_are_refused_then_throttled(web: LoopbackCluster) -> None:
    c = client(web)
    codes = [c.login("nobody", "wrong-password") for _ in range(6)]
    assert codes[:5] == [401] * 5
    assert codes[5] == 429
    # the right password of another user from the same address waits too
    assert c.login("admin") == 429
