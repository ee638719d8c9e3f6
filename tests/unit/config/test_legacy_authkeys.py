"""authkeys read as Heartbeat's parse_authfile() read it, and refused when others can read it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from vigil.config import AuthMethod, Severity, load

Writer = Callable[..., Path]
HACF = "logfacility daemon\nbcast eth1\nnode alpha\nnode beta\nauto_failback on\n"


def test_keys_methods_and_the_signing_key(legacy_dir: Writer) -> None:
    result = load(legacy_dir(HACF, "", "# keys\nauth 3\n1 md5 old-secret\n  3 sha1 n3w#secret\n"))
    assert result.config is not None
    auth = result.config.auth
    assert auth.active == 3
    assert auth.signing_key.method is AuthMethod.SHA1
    assert auth.signing_key.secret == b"n3w#secret"  # '#' inside a line is part of the key
    assert auth.keys[1].method is AuthMethod.MD5
    assert sorted(auth.keys) == [1, 3]


def test_key_bytes_are_kept_as_written(legacy_dir: Writer) -> None:
    root = legacy_dir(HACF, "")
    (root / "authkeys").write_bytes(b"auth 1\n1 sha1 caf\xe9\n")
    result = load(root)
    assert result.config is not None
    assert result.config.auth.signing_key.secret == b"caf\xe9"


def test_crc_warns_even_when_it_does_not_sign(legacy_dir: Writer) -> None:
    result = load(legacy_dir(HACF, "", "auth 1\n1 sha1 secret\n2 crc\n"))
    assert result.ok
    [warning] = [d for d in result.diagnostics if d.severity is Severity.WARNING
                 and "split brain" not in d.message]
    assert (warning.line, "crc authenticates nothing" in warning.message) == (3, True)


def test_a_key_given_twice_keeps_the_later_one(legacy_dir: Writer) -> None:
    result = load(legacy_dir(HACF, "", "auth 1\n1 sha1 first\n1 sha1 second\n"))
    assert result.config is not None
    assert result.config.auth.signing_key.secret == b"second"
    assert any("given again" in d.message for d in result.diagnostics)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o440])
def test_authkeys_readable_by_group_or_others_is_refused_with_chmod_hint(
        legacy_dir: Writer, mode: int) -> None:
    root = legacy_dir(HACF, "")
    (root / "authkeys").chmod(mode)
    result = load(root)
    assert not result.ok
    [error] = [d for d in result.diagnostics if d.is_error]
    assert error.file == root / "authkeys"
    assert error.hint == f"chmod 600 {root / 'authkeys'}"


@pytest.mark.parametrize("mode", [0o600, 0o400, 0o620])
def test_authkeys_only_its_owner_can_read_is_accepted(legacy_dir: Writer, mode: int) -> None:
    root = legacy_dir(HACF, "")
    (root / "authkeys").chmod(mode)
    assert load(root).ok
