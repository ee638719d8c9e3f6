"""`vigil web passwd`: a [[web.user]] entry to paste, whose hash the configuration accepts."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from vigil.config.native_web import parse_password_hash
from vigil.web.passwords import check

VIGIL = Path(sys.executable).with_name("vigil")


def _passwd(*args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(VIGIL), "web", "passwd", *args], input=stdin, text=True,
                          capture_output=True, timeout=30, check=False)


def test_passwd_from_stdin_prints_an_entry_that_checks_the_password() -> None:
    done = _passwd("alice", "--role", "read-only", "--stdin", stdin="a long passphrase\n")
    assert done.returncode == 0, done.stderr
    entry = tomllib.loads(done.stdout)["web"]["user"][0]
    assert (entry["name"], entry["role"]) == ("alice", "read-only")
    stored = parse_password_hash(entry["password_hash"])
    assert check("a long passphrase", stored)
    assert not check("a long passphrase\n", stored)
    assert "a long passphrase" not in done.stdout


def test_short_password_is_refused_with_usage_exit_code() -> None:
    done = _passwd("alice", "--stdin", stdin="short\n")
    assert done.returncode == 2
    assert "shorter than 8" in done.stderr
    assert not done.stdout


def test_user_name_with_a_space_is_refused() -> None:
    done = _passwd("al ice", "--stdin", stdin="a long passphrase\n")
    assert done.returncode == 2
    assert "white space" in done.stderr
