"""A loopback cluster with the dashboard on, and the ways a test talks to it.

``web_cluster`` writes examples/native/loopback-3node.toml's resources and a
``[web]`` section (each node on its own loopback address, one TCP port) with
two users: ``admin`` (operator) and ``viewer`` (read-only). ``Browser`` is
headless Chromium from Debian driven by selenium through the system
chromedriver; selenium-manager is told to stay offline (no driver downloads).
``HttpClient`` is a plain cookie-keeping HTTP client for the refusals.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

from loopback_cluster import LoopbackCluster, config_text, free_tcp_port

from prereqs import require
from vigil.config.native_web import format_password_hash
from vigil.web.passwords import hash_password

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "native" / "loopback-3node.toml"
PASSWORDS = {"admin": "operator-password-1", "viewer": "viewer-password-1"}
ROLES = {"admin": "operator", "viewer": "read-only"}
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def web_section(c: LoopbackCluster, port: int, extra: str = "") -> str:
    addresses = ", ".join(f'{n} = "{c.hosts[n]}:{port}"' for n in c.names)
    lines = ["[web]", f"addresses = {{ {addresses} }}", extra]
    for user, password in PASSWORDS.items():
        # ln=12, the cheapest cost the configuration accepts: the tests log in often
        h = format_password_hash(hash_password(password, ln=12))
        lines += ["[[web.user]]", f'name = "{user}"', f'role = "{ROLES[user]}"',
                  f'password_hash = "{h}"', ""]
    return "\n".join(lines)


def start_web_cluster(c: LoopbackCluster, web_extra: str = "") -> LoopbackCluster:
    """Write C's configuration with resources and [web], start it, wait for agreement."""
    port = free_tcp_port([c.hosts[n] for n in c.names])
    c.web_port = port  # type: ignore[attr-defined]
    example = EXAMPLE.read_text()
    extra = web_section(c, port, web_extra) + "\n" + example[example.index("[[resource]]"):]
    c.write_config(text=config_text(c.names, c.hosts, c.port, keepalive_ms=c.keepalive_ms,
                                    deadtime_ms=c.deadtime_ms, extra=extra))
    c.start()
    c.wait_until(f"{len(c.names)} nodes agree", lambda: c.agreed(c.names))
    return c


def url(c: LoopbackCluster, node: str, path: str = "/") -> str:
    return f"http://{c.hosts[node]}:{c.web_port}{path}"  # type: ignore[attr-defined]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class HttpClient:
    """Requests to one dashboard, keeping its cookies; never follows redirects."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar),
                                                  _NoRedirect())

    def request(self, path: str, *, data: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
        req = urllib.request.Request(self.base + path, data=data, headers=headers or {})
        try:
            with self.opener.open(req, timeout=10) as resp:
                return resp.status, dict(resp.headers), resp.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read().decode()

    def login(self, user: str, password: str | None = None) -> int:
        form = urllib.parse.urlencode({"user": user,
                                       "password": password or PASSWORDS[user]}).encode()
        status, _, _ = self.request("/login", data=form)
        return status

    def session(self) -> dict[str, Any]:
        status, _, body = self.request("/api/session")
        assert status == 200, body
        doc = json.loads(body)
        assert isinstance(doc, dict)
        return doc

    def action(self, body: dict[str, str], csrf: str | None) -> tuple[int, dict[str, Any]]:
        headers = {"Content-Type": "application/json"}
        if csrf is not None:
            headers["X-CSRF-Token"] = csrf
        status, _, text = self.request("/api/action", data=json.dumps(body).encode(),
                                       headers=headers)
        return status, json.loads(text)


def require_browser() -> None:
    require(os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER),
            "needs Debian's chromium and chromium-driver (scripts/system-deps.sh)")


def make_browser(width: int = 1280, height: int = 1000) -> Any:
    """Headless Chromium through the system chromedriver (selenium-manager kept offline)."""
    require_browser()
    os.environ["SE_OFFLINE"] = "true"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={width},{height}", "--no-first-run", "--disable-extensions"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def login(driver: Any, base: str, user: str) -> None:
    """Log in through the form, as a person would; returns once the page shows nodes."""
    from selenium.webdriver.common.by import By

    driver.get(base + "/")
    assert driver.current_url.endswith("/login"), driver.current_url
    driver.find_element(By.ID, "user").send_keys(user)
    driver.find_element(By.ID, "password").send_keys(PASSWORDS[user])
    driver.find_element(By.ID, "login").click()
    wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "tr[data-node]"), 15,
             "the dashboard shows the nodes after logging in")


def wait_for(driver: Any, check: Callable[[Any], Any], timeout_s: float, what: str) -> Any:
    from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        # The page redraws its tables on every change: an element read between a
        # find and its text is gone, and the check is simply asked again.
        return WebDriverWait(driver, timeout_s, poll_frequency=0.05,
                             ignored_exceptions=(StaleElementReferenceException,)).until(check)
    except TimeoutException:
        raise AssertionError(f"not within {timeout_s} s: {what}\npage:\n"
                             f"{driver.find_element('tag name', 'body').text[:3000]}") from None

