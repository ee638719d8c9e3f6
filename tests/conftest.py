"""Shared test helpers.

Tests that need root (network namespaces, mounts) must run in CI: under
CI=true a missing prerequisite is a failure, elsewhere it is a skip that says why.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Callable, Iterator

import pytest

IN_CI = os.environ.get("CI") == "true"


def require(condition: bool, reason: str) -> None:
    """Skip (or, in CI, fail) unless CONDITION holds."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true but a prerequisite is missing: {reason}")
    pytest.skip(reason)


def require_root() -> None:
    require(os.geteuid() == 0, "needs root (network namespaces, mounts)")


def require_command(name: str) -> str:
    path = shutil.which(name)
    require(path is not None, f"needs the {name} command")
    assert path is not None
    return path


@pytest.fixture
def netns() -> Iterator[Callable[[], str]]:
    """A factory of network namespaces: each call makes one with a unique name
    and lo up; all are deleted (with their interfaces) at teardown."""
    require_root()
    ip = require_command("ip")
    created: list[str] = []

    def make() -> str:
        name = f"vigil-t{os.getpid()}-{secrets.token_hex(3)}"
        subprocess.run([ip, "netns", "add", name], check=True, timeout=10)
        created.append(name)
        subprocess.run([ip, "-n", name, "link", "set", "lo", "up"], check=True, timeout=10)
        return name

    try:
        yield make
    finally:
        for name in created:
            subprocess.run([ip, "netns", "del", name], check=False, timeout=10)
