"""The dashboard over HTTP(S): aiohttp on the daemon's own event loop.

Rules of this file:
- Every piece of cluster data and every action goes through the control API's
  own handlers (``vigil.daemon.control.answer``): the page shows exactly what
  ``vigil status --json`` and ``vigil events`` show, and an action is exactly
  ``vigil standby`` & co. Nothing here builds status or decides anything.
- Authentication for everything but ``/healthz``, ``/login`` and the static
  files (which hold no data): a session cookie (HttpOnly, SameSite=Strict,
  Secure and ``__Host-`` prefixed under TLS) or ``Authorization: Bearer``.
  Pages without it are sent to ``/login``; the API answers 401.
- Every POST but the login itself needs the session's CSRF token (header
  ``X-CSRF-Token`` or form field ``csrf``), and a cross-site ``Origin`` is
  refused: 403 either way. A bearer token needs no CSRF token (a browser
  never sends it on its own).
- A read-only user (or token) gets 403 for every action.
- Live pages get server-sent events: one snapshot when they connect, then one
  each time the cluster changes (``ChangeFeed``), and a refresh every
  ``REFRESH_S`` for the ages. One snapshot is built per change, whatever the
  number of pages.
"""

from __future__ import annotations

import asyncio
import hmac
import html
import json
import logging
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from importlib import resources
from typing import Any

from aiohttp import web

from vigil.config import Endpoint, Web, WebRole, WebUser
from vigil.daemon.control import Handler, answer
from vigil.daemon.logsetup import LOGGER_NAME, kv
from vigil.exitcodes import VigilError
from vigil.web.changes import ChangeFeed
from vigil.web.passwords import check
from vigil.web.sessions import LoginThrottle, Session, Sessions

__all__ = ["ACTIONS", "DashboardServer"]

log = logging.getLogger(f"{LOGGER_NAME}.web")

#: The control commands the dashboard may send, and the arguments each takes.
ACTIONS: Mapping[str, tuple[str, ...]] = {
    "standby": ("node",), "online": ("node",), "move": ("target", "node"),
    "unmove": ("target",), "cleanup": ("target",),
}
STATIC = ("dashboard.js", "dashboard.css")
REFRESH_S = 15.0
EVENTS_WINDOW_S = 3600
#: How long a snapshot waits for the events log before it shows the last one it had.
EVENTS_WAIT_S = 1.0
ACTION_TIMEOUT_S = 30.0
_PUBLIC = ("/healthz", "/login", "/static/")
_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data:; connect-src 'self'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # "no-referrer" makes form posts send Origin: null
    "Cache-Control": "no-store",
}

Middleware = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: Who is asking, set by the guard: the session (None for a bearer token), the role.
SESSION: web.RequestKey[Session | None] = web.RequestKey("vigil_session")
ROLE = web.RequestKey("vigil_role", WebRole)


def _asset(name: str) -> str:
    return (resources.files("vigil.web") / "static" / name).read_text(encoding="utf-8")


class DashboardServer:
    """Node NODE's dashboard on ENDPOINT; ``start``, then ``close``."""

    def __init__(self, config: Web, endpoint: Endpoint, node: str,
                 handlers: Mapping[str, Handler], *, token: str | None = None,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.endpoint = endpoint
        self.node = node
        self.handlers = handlers
        self._token = token.encode() if token is not None else None
        self.users: dict[str, WebUser] = {u.name: u for u in config.users}
        self.sessions = Sessions(config.session_timeout_ms / 1000, now)
        self.throttle = LoginThrottle(now)
        self.feed = ChangeFeed(logging.getLogger(LOGGER_NAME))
        self.cookie = "__Host-vigil_session" if config.tls else "vigil_session"
        self._snapshot: tuple[int, bytes] | None = None
        self._last_events: Mapping[str, Any] | None = None
        self._building: asyncio.Lock | None = None
        self._hashing: asyncio.Semaphore | None = None
        self._streams: set[asyncio.Task[Any]] = set()
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self.app = self._make_app()

    # -- life -------------------------------------------------------------------

    def _make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._guard], client_max_size=64 * 1024)
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/login", self._login_page)
        app.router.add_post("/login", self._login)
        app.router.add_post("/logout", self._logout)
        app.router.add_get("/", self._index)
        app.router.add_get("/static/{name}", self._static)
        app.router.add_get("/api/session", self._session_info)
        app.router.add_get("/api/status", self._status)
        app.router.add_get("/api/events", self._events)
        app.router.add_post("/api/action", self._action)
        app.router.add_get("/events", self._stream)
        app.on_response_prepare.append(self._headers)
        app.on_shutdown.append(self._end_streams)
        return app

    def _ssl(self) -> ssl.SSLContext | None:
        if not self.config.tls:
            return None
        assert self.config.certificate is not None
        assert self.config.key is not None
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            ctx.load_cert_chain(self.config.certificate, self.config.key)
        except (OSError, ssl.SSLError) as e:
            raise VigilError(f"[web] cannot load certificate {self.config.certificate} and key "
                             f"{self.config.key}: {e}",
                             hint="both must be PEM files, the key matching the certificate") \
                from e
        return ctx

    async def start(self) -> None:
        ctx = self._ssl()
        self._building = asyncio.Lock()
        self._hashing = asyncio.Semaphore(1)  # one scrypt (16 MiB) at a time
        # shutdown_timeout: live pages are cut at stop, not waited for
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False,
                                     shutdown_timeout=1.0)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, self.endpoint.host, self.endpoint.port,
                                 ssl_context=ctx, reuse_address=True)
        try:
            await self._site.start()
        except OSError as e:
            await self._runner.cleanup()
            raise VigilError(f"cannot serve the dashboard on {self.endpoint}: "
                             f"{e.strerror or e}",
                             hint="check [web] listen / addresses: is the address this "
                             "machine's, and the port free?") from e
        host, port = self.address
        log.info(kv("dashboard served", url=f"{'https' if ctx else 'http'}://"
                    f"{'[' + host + ']' if ':' in host else host}:{port}/",
                    users=len(self.users), token=self._token is not None))

    @property
    def address(self) -> tuple[str, int]:
        assert self._runner is not None
        assert self._runner.addresses
        host, port = self._runner.addresses[0][:2]
        return str(host), int(port)

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _end_streams(self, _app: web.Application) -> None:
        for task in list(self._streams):
            task.cancel()

    # -- who is asking ------------------------------------------------------------

    def _principal(self, request: web.Request) -> tuple[Session | None, WebRole | None]:
        """The session, or the bearer token's role; (None, None) when neither."""
        session = self.sessions.get(request.cookies.get(self.cookie))
        if session is not None:
            return session, session.role
        auth = request.headers.get("Authorization", "")
        scheme, _, credentials = auth.partition(" ")
        if self._token is not None and scheme.lower() == "bearer" and \
                hmac.compare_digest(credentials.strip().encode(), self._token):
            return None, self.config.token_role
        return None, None

    @web.middleware
    async def _guard(self, request: web.Request, handler: Middleware) -> web.StreamResponse:
        path = request.path
        if request.method == "POST":
            origin = request.headers.get("Origin")
            if origin is not None and origin.split("://", 1)[-1] != request.host:
                return _json({"error": "cross-site request refused"}, 403)
        if path == "/" or path.startswith("/api/") or path in {"/events", "/logout"}:
            session, role = self._principal(request)
            if role is None:
                if path == "/":
                    raise web.HTTPSeeOther("/login")
                return _json({"error": "not logged in",
                              "hint": "log in at /login, or send Authorization: Bearer TOKEN"},
                             401, {"WWW-Authenticate": 'Bearer realm="vigil"'})
            if request.method == "POST" and session is not None and not _csrf_ok(
                    request, session, await _form_csrf(request)):
                return _json({"error": "missing or wrong CSRF token",
                              "hint": "reload the page and try again"}, 403)
            request[SESSION] = session
            request[ROLE] = role
        elif not path.startswith(_PUBLIC):
            raise web.HTTPNotFound()
        return await handler(request)

    async def _headers(self, request: web.Request, response: web.StreamResponse) -> None:
        for name, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if self.config.tls:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")

    # -- public -----------------------------------------------------------------------

    async def _healthz(self, _request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def _static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in STATIC:
            raise web.HTTPNotFound()
        kind = "text/javascript" if name.endswith(".js") else "text/css"
        return web.Response(text=_asset(name), content_type=kind,
                            headers={"Cache-Control": "no-cache"})

    def _login_form(self, message: str = "", status: int = 200) -> web.Response:
        text = _asset("login.html").replace("{{node}}", html.escape(self.node)).replace(
            "{{message}}", html.escape(message))
        return web.Response(text=text, content_type="text/html", status=status)

    async def _login_page(self, request: web.Request) -> web.StreamResponse:
        if self.sessions.get(request.cookies.get(self.cookie)) is not None:
            raise web.HTTPSeeOther("/")
        return self._login_form()

    async def _login(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        user, password = str(form.get("user", "")), str(form.get("password", ""))
        address = request.remote or "?"
        wait = self.throttle.retry_after(address, user)
        if wait > 0:
            log.warning(kv("dashboard login throttled", user=user, address=address))
            response = self._login_form(f"Too many failed logins: try again in "
                                        f"{int(wait) + 1} s.", 429)
            response.headers["Retry-After"] = str(int(wait) + 1)
            return response
        known = self.users.get(user)
        assert self._hashing is not None
        async with self._hashing:  # scrypt off the loop: heartbeats do not wait for it
            ok = await asyncio.to_thread(check, password, known.password if known else None)
        if not ok or known is None:
            self.throttle.failed(address, user)
            log.warning(kv("dashboard login failed", user=user, address=address))
            return self._login_form("Wrong user name or password.", 401)
        self.throttle.succeeded(address, user)
        session = self.sessions.open(known.name, known.role)
        log.info(kv("dashboard login", user=known.name, role=known.role.value,
                    address=address))
        response = web.HTTPSeeOther("/")
        response.set_cookie(self.cookie, session.id, httponly=True, samesite="Strict",
                            secure=self.config.tls, path="/")
        raise response

    async def _logout(self, request: web.Request) -> web.StreamResponse:
        session: Session | None = request[SESSION]
        if session is not None:
            self.sessions.close(session.id)
            log.info(kv("dashboard logout", user=session.user))
        response = web.HTTPSeeOther("/login")
        response.del_cookie(self.cookie, path="/", secure=self.config.tls, samesite="Strict")
        raise response

    # -- the page and its data ------------------------------------------------------------

    async def _index(self, _request: web.Request) -> web.Response:
        return web.Response(text=_asset("index.html"), content_type="text/html")

    async def _session_info(self, request: web.Request) -> web.Response:
        session: Session | None = request[SESSION]
        role: WebRole = request[ROLE]
        return _json({"user": session.user if session else "(token)", "role": role.value,
                      "may_act": role is WebRole.OPERATOR, "node": self.node,
                      "csrf": session.csrf if session else None})

    async def _status(self, _request: web.Request) -> web.Response:
        reply = await answer(b'{"cmd": "status"}', self.handlers)
        return _json(reply, 200 if reply.get("ok") else 503)

    async def _events(self, _request: web.Request) -> web.Response:
        reply = await answer(b'{"cmd": "events"}', self.handlers)
        return _json(reply, 200 if reply.get("ok") else 503)

    async def _action(self, request: web.Request) -> web.Response:
        role: WebRole = request[ROLE]
        if role is not WebRole.OPERATOR:
            return _json({"ok": False, "error": "this user may only look (role read-only)",
                          "hint": "log in as an operator to act"}, 403)
        try:
            body = await request.json()
        except ValueError:
            return _json({"ok": False, "error": "the request is not JSON"}, 400)
        cmd = body.get("cmd") if isinstance(body, dict) else None
        if not isinstance(cmd, str) or cmd not in ACTIONS:
            return _json({"ok": False, "error": f"unknown action {cmd!r}",
                          "hint": "one of " + ", ".join(ACTIONS)}, 400)
        args = {k: body[k] for k in ACTIONS[cmd] if isinstance(body.get(k), str) and body[k]}
        session: Session | None = request[SESSION]
        who = session.user if session is not None else "(token)"
        log.info(kv("dashboard action", user=who, cmd=cmd, **args))
        request_line = json.dumps({"cmd": cmd, **args, "timeout": ACTION_TIMEOUT_S}).encode()
        reply = await answer(request_line, self.handlers)
        self.feed.bump()
        return _json(reply, 200 if reply.get("ok") else 409)

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events: a ``snapshot`` now and at every change of the cluster."""
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                               "X-Accel-Buffering": "no"})
        await response.prepare(request)
        task = asyncio.current_task()
        assert task is not None
        self._streams.add(task)
        session: Session | None = request[SESSION]
        seen = -1
        try:
            with self.feed.watch():
                while True:
                    if session is not None and self.sessions.get(session.id) is None:
                        await response.write(b"event: logout\ndata: {}\n\n")
                        break
                    version = self.feed.version
                    if version != seen:
                        await response.write(b"event: snapshot\ndata: " +
                                             await self._snapshot_for(version) + b"\n\n")
                        seen = version
                    else:
                        await response.write(b": still here\n\n")
                    changed = await self.feed.wait(seen, REFRESH_S)
                    if changed == seen:  # the refresh: new ages, uptime
                        self.feed.bump()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._streams.discard(task)
        return response

    async def _snapshot_for(self, version: int) -> bytes:
        """The snapshot of VERSION, built once for every page that asks."""
        assert self._building is not None
        async with self._building:
            if self._snapshot is not None and self._snapshot[0] >= version:
                return self._snapshot[1]
            version = self.feed.version
            status, events = await asyncio.gather(
                answer(b'{"cmd": "status"}', self.handlers), self._events_now())
            now = time.time()
            doc: dict[str, Any] = {"time": round(now, 3), "node": self.node,
                                   "status": status.get("result"),
                                   "error": status.get("error")}
            if events is not None:
                doc["events_source"] = events.get("source")
                doc["events"] = [e for e in events.get("events", [])
                                 if not isinstance(e.get("time"), int | float)
                                 or e["time"] >= now - EVENTS_WINDOW_S]
            data = json.dumps(doc, separators=(",", ":"), default=str).encode()
            self._snapshot = (version, data)
            return data


    async def _events_now(self) -> Mapping[str, Any] | None:
        """The events log (``vigil events``), or the last one when it takes too long.

        A node that is not the DC asks the DC, which may be the node that just
        died: the page must not wait for that to show the death."""
        try:
            reply = await asyncio.wait_for(answer(b'{"cmd": "events"}', self.handlers),
                                           EVENTS_WAIT_S)
        except TimeoutError:
            return self._last_events
        result = reply.get("result")
        if isinstance(result, dict):
            self._last_events = result
        return self._last_events


def _json(doc: Mapping[str, Any], status: int = 200,
          headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(text=json.dumps(doc, default=str), status=status,
                        content_type="application/json", headers=headers)


async def _form_csrf(request: web.Request) -> str | None:
    if request.content_type == "application/x-www-form-urlencoded":
        value = (await request.post()).get("csrf")
        return str(value) if value is not None else None
    return None


def _csrf_ok(request: web.Request, session: Session, form_value: str | None) -> bool:
    sent = request.headers.get("X-CSRF-Token") or form_value or ""
    return bool(sent) and hmac.compare_digest(sent.encode(), session.csrf.encode())

