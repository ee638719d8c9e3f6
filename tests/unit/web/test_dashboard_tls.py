"""The dashboard over HTTPS: the session cookie is Secure and __Host- prefixed, HSTS is sent.

A throw-away self-signed certificate made with openssl; the server runs on
127.0.0.1 on a port the kernel picks, on the test's own event loop.
"""

from __future__ import annotations

import asyncio
import ssl
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from prereqs import require_command
from vigil.config import Endpoint, Web, WebRole, WebUser
from vigil.web.passwords import hash_password
from vigil.web.server import DashboardServer


def _certificate(tmp_path: Path) -> tuple[Path, Path]:
    openssl = require_command("openssl")
    cert, key = tmp_path / "web.crt", tmp_path / "web.key"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, key


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _login(url: str) -> tuple[int, dict[str, str]]:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=ctx), _NoRedirect())
    data = urllib.parse.urlencode({"user": "alice", "password": "alice-password"}).encode()
    try:
        with opener.open(url + "/login", data=data, timeout=10) as r:
            return r.status, dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers)


async def test_session_cookie_over_tls_is_secure_host_only_and_hsts_is_sent(
        tmp_path: Path) -> None:
    cert, key = _certificate(tmp_path)
    user = WebUser("alice", WebRole.OPERATOR, hash_password("alice-password", ln=12))
    endpoint = Endpoint("127.0.0.1", 0)
    server = DashboardServer(Web(listen=endpoint, certificate=cert, key=key, users=(user,)),
                             endpoint, "node1", {})
    await server.start()
    try:
        host, port = server.address
        status, headers = await asyncio.to_thread(_login, f"https://{host}:{port}")
    finally:
        await server.close()
    assert status == 303
    cookie = headers["Set-Cookie"]
    assert cookie.startswith("__Host-vigil_session=")
    for attribute in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/"):
        assert attribute in cookie
    assert "Strict-Transport-Security" in headers


async def test_certificate_that_does_not_load_stops_the_start_with_a_hint(
        tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate\n")
    endpoint = Endpoint("127.0.0.1", 0)
    server = DashboardServer(Web(listen=endpoint, certificate=bad, key=bad), endpoint,
                             "node1", {})
    from vigil.exitcodes import VigilError

    with pytest.raises(VigilError, match="cannot load certificate") as e:
        await server.start()
    assert e.value.hint is not None
    assert "PEM" in e.value.hint
