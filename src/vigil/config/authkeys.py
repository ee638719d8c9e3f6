"""Reading ``authkeys`` as Heartbeat 3.0.6's ``parse_authfile()`` (heartbeat/auth.c) did.

Rules of this file:

- A file group or others may read is refused before it is read ("Bad
  permissions on keyfile [...], 600 recommended"): see ``files.check_private``.
- Only a line whose first non-blank character is ``#`` is a comment; ``#``
  later on a line is part of it (``1 sha1 abc#def`` has the key ``abc#def``).
- ``auth N`` names the key that signs outgoing messages. A line starting with
  ``a`` that is not ``auth NUMBER`` is an error. The last ``auth`` line counts.
- ``N METHOD [KEY]`` (sscanf ``"%d%s%s"``): N from 0 to 15 (MAXAUTH), METHOD
  crc, md5 or sha1; md5 and sha1 need a KEY, crc takes none. Words after the
  key were ignored; we warn. A later line for the same N replaces it.
- The key named by ``auth`` must exist ("Auth Key [N] not found").
- Every key listed is accepted on incoming messages, so a crc line anywhere
  means anyone on the network can forge heartbeats: a warning.
"""

from __future__ import annotations

import re
from pathlib import Path

from vigil.config.diagnostics import Diagnostics
from vigil.config.files import check_private
from vigil.config.legacy_text import clean_lines, read_text
from vigil.config.legacy_values import suggest
from vigil.config.model import Auth, AuthKey, AuthMethod, SourceRef

__all__ = ["MAX_AUTH", "read_authkeys"]

MAX_AUTH = 16  # heartbeat.h: keys 0 to 15
_METHODS = {"crc": AuthMethod.CRC, "md5": AuthMethod.MD5, "sha1": AuthMethod.SHA1}
_AUTH = re.compile(r"auth\s*([+-]?[0-9]+)(.*)")
_KEY = re.compile(r"([+-]?[0-9]+)\s*([^\s0-9]\S*)\s*(\S*)(.*)")
_STRONG_HINT = "use sha1 with a long random key: `2 sha1 <output of: openssl rand -hex 32>`"


def _strip_comment_line(text: str) -> str:
    return "" if text.lstrip().startswith("#") else text.strip()


def read_authkeys(path: Path, diags: Diagnostics) -> Auth | None:
    """The keys in PATH, or None (with errors in DIAGS)."""
    if not path.exists():
        diags.error(path, None, "no authkeys file: every message must be signed",
                    f"create it with `auth 1` and `1 sha1 SECRET`, then `chmod 600 {path}`")
        return None
    if not check_private(path, diags):
        return None
    lines = read_text(path, diags, "authkeys", "create it with `auth 1` and `1 sha1 SECRET`")
    if lines is None:
        return None
    active: tuple[int, int] | None = None  # (index, line)
    keys: dict[int, AuthKey] = {}
    for number, content in clean_lines(path, lines, diags, _strip_comment_line, raw_bytes=True):
        if not content:
            continue
        if content.startswith("a"):
            active = _auth_line(path, number, content, diags, active)
            continue
        key = _key_line(path, number, content, diags)
        if key is None:
            continue
        if key.index in keys:
            first = keys[key.index].source
            diags.warning(path, number, f"key {key.index} is given again (first at line "
                          f"{first.line if first else '?'}); this later one counts, as in "
                          "Heartbeat", "remove the line that should not count")
        keys[key.index] = key
    if active is None:
        diags.error(path, None, "no `auth N` line: no key is named for signing "
                    "(Heartbeat: Missing auth directive)",
                    "add `auth N` naming one of the keys, e.g. `auth 1`")
        return None
    if active[0] not in keys:
        listed = ", ".join(str(i) for i in sorted(keys)) or "none"
        diags.error(path, active[1], f"auth {active[0]} names a key that is not in the file "
                    f"(keys listed: {listed}; Heartbeat: Auth Key [{active[0]}] not found)",
                    f"add a line `{active[0]} sha1 SECRET`, or name a listed key")
        return None
    return Auth(active=active[0], keys=keys)


def _auth_line(path: Path, number: int, content: str, diags: Diagnostics,
               active: tuple[int, int] | None) -> tuple[int, int] | None:
    m = _AUTH.fullmatch(content)
    if m is None:
        diags.error(path, number, f"invalid auth line {content!r} (Heartbeat: Invalid auth "
                    "line)", "write `auth N`, N the number of the key that signs")
        return active
    index = int(m.group(1))
    if not 0 <= index < MAX_AUTH:
        diags.error(path, number, f"auth {index}: keys are numbered 0 to {MAX_AUTH - 1}",
                    "e.g. `auth 1`")
        return active
    if m.group(2).strip():
        diags.warning(path, number, f"words after `auth {index}` are ignored, as Heartbeat did: "
                      f"{m.group(2).strip()}", f"write just `auth {index}`")
    if active is not None:
        diags.warning(path, number, f"auth is given again (first at line {active[1]}); this "
                      "later one counts, as in Heartbeat", "keep one auth line")
    return index, number


def _key_line(path: Path, number: int, content: str, diags: Diagnostics) -> AuthKey | None:
    m = _KEY.fullmatch(content)
    if m is None:
        diags.error(path, number, f"line {content!r} is neither `auth N` nor `N METHOD KEY` "
                    "(Heartbeat: Auth line is invalid)", "e.g. `auth 1` then `1 sha1 SECRET`")
        return None
    index, name, secret, extra = int(m.group(1)), m.group(2), m.group(3), m.group(4).strip()
    if not 0 <= index < MAX_AUTH:
        diags.error(path, number, f"key number {index} is not 0 to {MAX_AUTH - 1} "
                    "(Heartbeat: Invalid authnum)", "number the keys from 1, e.g. `1 sha1 SECRET`")
        return None
    method = _METHODS.get(name)
    if method is None:
        near = suggest(name, _METHODS)
        diags.error(path, number, f"unknown method {name!r} (Heartbeat: Invalid authtype); "
                    "authkeys knows crc, md5 and sha1",
                    f"did you mean {near}?" if near else
                    "use sha1 (HMAC-SHA256 is available in vigil.toml)")
        return None
    if method is AuthMethod.CRC and secret:
        diags.error(path, number, "crc takes no key (Heartbeat: Auth method [crc] doesn't use "
                    "a key)", f"write `{index} crc`, or better `{index} sha1 {secret}`")
        return None
    if method is not AuthMethod.CRC and not secret:
        diags.error(path, number, f"{name} needs a key after it (Heartbeat: Auth method "
                    f"[{name}] requires a key)", f"write `{index} {name} SECRET`")
        return None
    if extra and not extra.startswith("#"):
        diags.warning(path, number, f"words after the key are ignored, as Heartbeat did: "
                      f"{extra}", "a key is one word without blanks")
    if method is AuthMethod.CRC:
        diags.warning(path, number, "crc authenticates nothing: anyone who can send to the "
                      "cluster's links can forge its messages", _STRONG_HINT)
    return AuthKey(index, method, secret.encode("utf-8", "surrogateescape"),
                   source=SourceRef(path, number))
