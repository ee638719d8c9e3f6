"""The [web] section: `vigil config check` names the line and the fix of each mistake,
warns about a dashboard served in clear text beyond loopback, and a good section
reads into the model (and back through `vigil config convert`)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from vigil.cli.main import main
from vigil.config import Endpoint, WebRole, load
from vigil.config.convert import to_toml
from vigil.config.native_web import format_password_hash, parse_password_hash
from vigil.web.passwords import hash_password

BASE = """\
[timing]
keepalive = "200ms"

[[node]]
name = "node1"

[[node]]
name = "node2"

[[link]]
name = "ring0"
kind = "ucast"
addresses = { node1 = "127.0.0.1", node2 = "127.0.0.2" }

[auth]
[[auth.key]]
secret = "0123456789abcdef0123456789abcdef"
"""
HASH = format_password_hash(hash_password("a-good-password", ln=12))
THIS = Path(__file__).resolve()  # a file that exists, standing in for a PEM file
USER = f'[[web.user]]\nname = "alice"\nrole = "operator"\npassword_hash = "{HASH}"\n'


@dataclass(frozen=True)
class Case:
    name: str
    web: str  # the [web] section appended to BASE
    at: str | None  # the error's line is the first line holding this text (None: no line)
    says: str
    hint: str


CASES = [
    Case("no_listen_address", "[web]\n" + USER, "[web]", "say where to serve the dashboard",
         'listen = "127.0.0.1:9941"'),
    Case("listen_without_port", '[web]\nlisten = "127.0.0.1"\n' + USER, "listen =",
         "has no port", "IP:PORT"),
    Case("listen_bad_address", '[web]\nlisten = "127.0.0.300:80"\n' + USER, "listen =",
         "bad IP address", "IP:PORT"),
    Case("address_of_unknown_node", '[web]\naddresses = { node9 = "127.0.0.1:9941" }\n' + USER,
         "node9", "unknown node 'node9'", "did you mean"),
    Case("nobody_could_log_in", '[web]\nlisten = "127.0.0.1:9941"\n', "[web]",
         "nobody could log in", "vigil web passwd"),
    Case("bad_role", '[web]\nlisten = "127.0.0.1:9941"\n' + USER.replace("operator", "admin"),
         'role = "admin"', "role = 'admin' is not one of", "read-only"),
    Case("garbled_hash", '[web]\nlisten = "127.0.0.1:9941"\n' + USER.replace(HASH, "hunter2"),
         "password_hash", "not a password hash vigil knows", "vigil web passwd"),
    Case("too_cheap_hash", '[web]\nlisten = "127.0.0.1:9941"\n' +
         USER.replace("ln=12,", "ln=4,"), "password_hash", "ln=4 is outside", "vigil web passwd"),
    Case("duplicate_user", '[web]\nlisten = "127.0.0.1:9941"\n' + USER + USER,
         None, "duplicate user 'alice'", "first given at line"),
    Case("certificate_without_key", '[web]\nlisten = "127.0.0.1:9941"\n'
         f'certificate = "{THIS}"\n' + USER, "[web]", "key is missing", "key ="),
    Case("certificate_file_missing", '[web]\nlisten = "127.0.0.1:9941"\n'
         f'certificate = "/nonexistent/web.crt"\nkey = "{THIS}"\n' + USER,
         "certificate =", "no such file", "PEM"),
    Case("session_timeout_too_short", '[web]\nlisten = "127.0.0.1:9941"\n'
         'session_timeout = "5s"\n' + USER, "session_timeout", "at least 60s", "duration"),
    Case("unknown_key", '[web]\nlisten = "127.0.0.1:9941"\nlisen = 1\n' + USER, "lisen",
         "unknown key 'lisen'", "did you mean listen?"),
]


def _check(tmp_path: Path, capsys: pytest.CaptureFixture[str], web: str) -> tuple[int, str, Path]:
    path = tmp_path / "vigil.toml"
    path.write_text(BASE + "\n" + web)
    os.chmod(path, 0o600)
    code = main(["config", "check", str(path)])
    return code, capsys.readouterr().err, path


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_web_section_fails_check_at_its_line_with_the_fix(
        case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err, path = _check(tmp_path, capsys, case.web)
    assert code == 1, err
    text = path.read_text().splitlines()
    if case.at is not None:
        line = next(i for i, t in enumerate(text, 1) if case.at in t)
        where = f"{path}:{line}: error: "
    else:
        where = f"{path}:"
    assert any(r.startswith(where) and case.says in r for r in err.splitlines()), \
        f"expected {where}...{case.says}...\n{err}"
    assert case.hint in err, err


def test_dashboard_beyond_loopback_without_tls_is_a_warning_not_an_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err, path = _check(tmp_path, capsys, '[web]\nlisten = "0.0.0.0:9941"\n' + USER)
    assert code == 0, err
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if "listen" in t)
    assert f"{path}:{line}: warning: [web]: the dashboard on 0.0.0.0:9941 is served " \
           "without TLS" in err
    assert "certificate" in err


def test_dashboard_on_loopback_without_tls_is_not_warned_about(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err, _ = _check(tmp_path, capsys, '[web]\nlisten = "127.0.0.1:9941"\n' + USER)
    assert code == 0, err
    assert "TLS" not in err


def test_web_section_reads_into_the_model_and_converts_back_equal(tmp_path: Path) -> None:
    path = tmp_path / "vigil.toml"
    token = tmp_path / "token"
    path.write_text(BASE + '\n[web]\naddresses = { node1 = "127.0.0.1:9941", '
                    f'node2 = "[::1]:9942" }}\ntoken_file = "{token}"\ntoken_role = "operator"\n'
                    'session_timeout = "1h"\n' + USER +
                    USER.replace("alice", "bob").replace("operator", "read-only"))
    path.chmod(0o600)
    result = load(path)
    assert result.ok, [d.format() for d in result.diagnostics]
    assert result.config is not None
    web = result.config.web
    assert web.enabled
    assert not web.tls
    assert web.address_for("node2") == Endpoint("::1", 9942)
    assert [(u.name, u.role) for u in web.users] == [("alice", WebRole.OPERATOR),
                                                    ("bob", WebRole.READ_ONLY)]
    assert web.token_role is WebRole.OPERATOR
    assert web.session_timeout_ms == 3_600_000
    again = tmp_path / "again.toml"
    again.write_text(to_toml(result.config))
    again.chmod(0o600)
    reread = load(again)
    assert reread.config is not None, [d.format() for d in reread.diagnostics]
    assert reread.config.web == web


def test_without_web_section_the_dashboard_is_off(tmp_path: Path) -> None:
    path = tmp_path / "vigil.toml"
    path.write_text(BASE)
    path.chmod(0o600)
    config = load(path).config
    assert config is not None
    assert not config.web.enabled
    assert config.web.address_for("node1") is None


def test_password_hash_spelling_round_trips() -> None:
    h = hash_password("x" * 12, ln=12)
    assert parse_password_hash(format_password_hash(h)) == h
