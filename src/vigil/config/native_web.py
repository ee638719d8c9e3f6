"""``[web]`` of a native ``vigil.toml``: where the dashboard listens, TLS, users, token.

Rules of this file:
- Off unless ``[web]`` is written; once written it must say where to listen and
  who may log in (users, or a token file): a dashboard nobody can open is a
  mistake, not a choice.
- Password hashes are read here, in their one documented spelling
  (``$scrypt$ln=14,r=8,p=5$SALT$HASH``, as ``vigil web passwd`` prints); the
  dashboard only checks passwords against them.
- Listening beyond loopback without TLS is allowed (a management network, a
  proxy in front) but warned about: passwords and cookies would cross the
  network in clear text.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from pathlib import Path

from vigil.config.model import (
    Endpoint,
    NodeName,
    PasswordHash,
    SourceRef,
    Web,
    WebRole,
    WebUser,
)
from vigil.config.native_cluster import read_node_endpoints
from vigil.config.native_fields import Table, Unique, read_listen_endpoint, read_name
from vigil.config.native_schema import WEB_KEYS, WEB_USER_KEYS

__all__ = ["format_password_hash", "parse_password_hash", "read_web"]

_HASH = re.compile(r"\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$"
                   r"([A-Za-z0-9+/]+)")
PASSWD_HINT = 'make one with: vigil web passwd NAME (and paste the lines it prints)'
LISTEN_HINT = 'write "IP:PORT" or "[IPV6]:PORT", e.g. "127.0.0.1:9941" or "[::]:9941"'
#: scrypt's cost bounds we accept: below 2^12 is too cheap to slow a guesser, above
#: 2^20 (1 GiB at r=8) would let one login take the daemon's memory.
MIN_LN, MAX_LN = 12, 20


def _b64decode(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def _b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def parse_password_hash(text: str) -> PasswordHash:
    """The hash written as TEXT; ValueError saying what is wrong."""
    m = _HASH.fullmatch(text.strip())
    if m is None:
        raise ValueError("not a password hash vigil knows (expected $scrypt$ln=...,r=...,"
                         "p=...$SALT$HASH)")
    ln, r, p = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if not MIN_LN <= ln <= MAX_LN:
        raise ValueError(f"scrypt cost ln={ln} is outside {MIN_LN}..{MAX_LN}")
    if not 1 <= r <= 32 or not 1 <= p <= 16:
        raise ValueError(f"scrypt parameters r={r}, p={p} are outside r 1..32, p 1..16")
    try:
        salt, digest = _b64decode(m.group(4)), _b64decode(m.group(5))
    except (binascii.Error, ValueError):
        raise ValueError("the salt or hash is not valid base64") from None
    if len(salt) < 16 or len(digest) < 32:
        raise ValueError("the salt or hash is too short (at least 16 and 32 bytes)")
    return PasswordHash(ln, r, p, salt, digest)


def format_password_hash(h: PasswordHash) -> str:
    """HASH in the spelling ``parse_password_hash`` reads."""
    return f"$scrypt$ln={h.ln},r={h.r},p={h.p}${_b64encode(h.salt)}${_b64encode(h.digest)}"


def read_web(top: Table, nodes: tuple[NodeName, ...]) -> Web:
    """[web] and its [[web.user]] entries; ``Web()`` (off) when absent."""
    t = top.table("web", "[web]", WEB_KEYS)
    if t is None:
        return Web()
    listen = _endpoint(t, "listen", None, t.data["listen"]) if t.has("listen") else None
    addresses = read_node_endpoints(t, nodes, _endpoint)
    certificate = _file(t, "certificate")
    key = _file(t, "key")
    token_file = _path(t, "token_file")
    role = t.string("token_role", WebRole.READ_ONLY.value, choices=[r.value for r in WebRole])
    timeout = t.duration("session_timeout", Web().session_timeout_ms, minimum=60_000)
    users = _users(t)
    t.done()
    if not t.has("listen") and not t.has("addresses"):
        t.error(None, "[web]: say where to serve the dashboard",
                'add listen = "127.0.0.1:9941" (every node), or addresses = { node1 = ... }')
    if t.has("certificate") != t.has("key"):
        missing = "certificate" if t.has("key") else "key"
        t.error(None, f"[web]: TLS needs both certificate and key; {missing} is missing",
                f'add {missing} = "/etc/vigil/web.{"key" if missing == "key" else "crt"}", '
                "or remove the other for plain HTTP")
    if not users and token_file is None and not t.has("user") and not t.has("token_file"):
        t.error(None, "[web]: nobody could log in: no [[web.user]] and no token_file",
                'add a user: vigil web passwd admin --role operator')
    if certificate is None and key is None:
        for ep in (listen, *addresses.values()):
            if ep is not None and not _loopback(ep.host):
                where = "listen" if ep is listen else "addresses"
                t.warning(where, f"[web]: the dashboard on {ep} is served without TLS: "
                          "passwords and session cookies cross the network in clear text",
                          'add certificate = "..." and key = "..." (PEM files), or listen '
                          "on 127.0.0.1 behind a TLS proxy")
                break
    return Web(listen, addresses, certificate, key, users, token_file,
               WebRole(role or WebRole.READ_ONLY.value), timeout)


def _users(t: Table) -> tuple[WebUser, ...]:
    out: list[WebUser] = []
    seen = Unique("user")
    for u in t.tables("user", "[[web.user]]", WEB_USER_KEYS):
        name = read_name(u, "name", "user name")
        role = u.string("role", required=True, choices=[r.value for r in WebRole],
                        hint='role = "operator" (may act) or role = "read-only"')
        text = u.string("password_hash", required=True, hint=PASSWD_HINT)
        u.done()
        password: PasswordHash | None = None
        if text:
            try:
                password = parse_password_hash(text)
            except ValueError as e:
                u.error("password_hash", f"[[web.user]]: password_hash: {e}", PASSWD_HINT)
        if name is None or not seen.add(u, "name", name):
            continue
        if role is None or password is None:
            continue
        out.append(WebUser(name, WebRole(role), password, SourceRef(u.reader.file, u.line())))
    return tuple(out)


def _endpoint(t: Table, key: str, sub: str | None, text: object) -> Endpoint | None:
    return read_listen_endpoint(t, "[web]", key, sub, text, hint=LISTEN_HINT)


def _path(t: Table, key: str) -> Path | None:
    value = t.string(key)
    if value is not None and not value.strip():
        t.error(key, f"[web]: {key} is empty", f"omit {key}, or give a file path")
        return None
    return Path(value) if value else None


def _file(t: Table, key: str) -> Path | None:
    """A PEM file the daemon reads at start: it must exist now, or the daemon would not start."""
    path = _path(t, key)
    if path is not None and not path.is_file():
        t.error(key, f"[web]: {key} {str(path)!r}: no such file",
                "give the path of a PEM file (openssl req -x509 -newkey ... makes one)")
        return None
    return path


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
