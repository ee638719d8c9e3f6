"""``/metrics`` over HTTP, on the daemon's own event loop: a tiny asyncio server.

Rules of this file:
- The daemon is single-threaded; prometheus-client's own server would
  collect from a thread while the loop changes the state it reads. Here a
  scrape is served on the loop, between two steps of the core: every scrape
  sees one consistent moment. The rendering is prometheus-client's.
- HTTP/1.1 subset, one request per connection (Prometheus scrapes so):
  ``GET``/``HEAD`` of ``/metrics`` and ``/healthz``; anything else gets a
  plain status code. A request head over 8 KiB, or slower than 5 s, is
  dropped: a stray client cannot hold the daemon's memory or sockets.
- With a token file, ``/metrics`` needs ``Authorization: Bearer TOKEN``
  (compared in constant time); ``/healthz`` never does and says nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import stat
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from vigil.config import ClusterConfig, Endpoint
from vigil.daemon.logsetup import LOGGER_NAME, kv
from vigil.exitcodes import VigilError
from vigil.web.collector import MetricsCollector

__all__ = ["MetricsServer", "read_token", "serve_metrics"]

log = logging.getLogger(f"{LOGGER_NAME}.metrics")

MAX_HEAD_BYTES = 8 * 1024
HEAD_TIMEOUT_S = 5.0
_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
            405: "Method Not Allowed", 500: "Internal Server Error"}


def read_token(path: Path) -> str:
    """The bearer token in PATH (its first line); ``VigilError`` when unusable."""
    try:
        text = path.read_text(encoding="utf-8")
        mode = path.stat().st_mode
    except (OSError, UnicodeDecodeError) as e:
        raise VigilError(f"[metrics] token_file {path}: cannot read: {e}",
                         hint="create it with: openssl rand -hex 32 > FILE; chmod 600 FILE") from e
    token = text.splitlines()[0].strip() if text.strip() else ""
    if not token:
        raise VigilError(f"[metrics] token_file {path} is empty",
                         hint="put the token on its first line: openssl rand -hex 32 > FILE")
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning(kv("metrics token file is readable by others", file=path,
                       mode=oct(stat.S_IMODE(mode)), hint="chmod 600"))
    return token


class MetricsServer:
    """Serves REGISTRY on ENDPOINT; ``start``, then ``close``."""

    def __init__(self, endpoint: Endpoint, registry: CollectorRegistry,
                 token: str | None = None) -> None:
        self.endpoint = endpoint
        self.registry = registry
        self._token = token.encode() if token is not None else None
        self._server: asyncio.Server | None = None
        self.scrapes = 0

    @property
    def address(self) -> tuple[str, int]:
        """The address and port it listens on."""
        assert self._server is not None
        assert self._server.sockets
        host, port = self._server.sockets[0].getsockname()[:2]
        return str(host), int(port)

    async def start(self) -> None:
        try:
            self._server = await asyncio.start_server(
                self._serve, self.endpoint.host, self.endpoint.port, reuse_address=True,
                limit=MAX_HEAD_BYTES)
        except OSError as e:
            raise VigilError(f"cannot serve metrics on {self.endpoint}: {e.strerror or e}",
                             hint="check [metrics] listen / addresses: is the address this "
                             "machine's, and the port free?") from e
        host, port = self.address
        log.info(kv("metrics served", address=f"{host}:{port}", path="/metrics",
                    auth="bearer token" if self._token is not None else "none"))

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT_S)
            status, headers, body = self._answer(head)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError,
                ConnectionError):
            writer.close()
            return
        except Exception:  # a bug must cost one scrape, not the daemon
            log.exception(kv("metrics request failed"))
            status, headers, body = 500, {}, b"internal error\n"
        method = head.split(b" ", 1)[0]
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, '')}",
                 f"Content-Length: {len(body)}", "Connection: close"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        if method != b"HEAD":
            writer.write(body)
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()

    def _answer(self, head: bytes) -> tuple[int, dict[str, str], bytes]:
        text = head.decode("latin-1")
        request, *header_lines = text.split("\r\n")
        parts = request.split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            return 400, {}, b"bad request\n"
        method, target, _ = parts
        path = target.split("?", 1)[0]
        if path not in ("/metrics", "/healthz"):
            return 404, {}, b"not found: try /metrics\n"
        if method not in ("GET", "HEAD"):
            return 405, {"Allow": "GET, HEAD"}, b"method not allowed\n"
        if path == "/healthz":
            return 200, {"Content-Type": "text/plain; charset=utf-8"}, b"ok\n"
        if self._token is not None and not self._authorized(header_lines):
            return 401, {"WWW-Authenticate": 'Bearer realm="vigil metrics"'}, \
                b"unauthorized: send Authorization: Bearer TOKEN\n"
        self.scrapes += 1
        return 200, {"Content-Type": CONTENT_TYPE_LATEST}, generate_latest(self.registry)

    def _authorized(self, header_lines: list[str]) -> bool:
        assert self._token is not None
        for line in header_lines:
            name, _, value = line.partition(":")
            if name.strip().lower() == "authorization":
                scheme, _, credentials = value.strip().partition(" ")
                if scheme.lower() == "bearer":
                    return hmac.compare_digest(credentials.strip().encode(), self._token)
        return False


async def serve_metrics(config: ClusterConfig, node: str,
                        collector: MetricsCollector) -> MetricsServer | None:
    """Start NODE's metrics server as ``[metrics]`` says; None when off for NODE."""
    endpoint = config.metrics.address_for(node)
    if endpoint is None:
        return None
    token = read_token(config.metrics.token_file) if config.metrics.token_file else None
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    server = MetricsServer(endpoint, registry, token)
    await server.start()
    return server
