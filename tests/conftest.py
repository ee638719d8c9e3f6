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
from pathlib import Path

import pytest

from prereqs import require_command, require_root


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


EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture
def example_config(tmp_path: Path) -> Callable[[str], Path]:
    """A copy of ``examples/NAME`` with its authkeys at mode 0600.

    git keeps no permission bits but the executable one, so a fresh clone has
    authkeys at 0644, which the loader refuses as Heartbeat did. Tests check a
    copy with the mode put right (examples/README.md tells users to do the same).
    """

    def copy(name: str) -> Path:
        target = tmp_path / name.replace("/", "-")
        shutil.copytree(EXAMPLES / name, target)
        (target / "authkeys").chmod(0o600)
        return target

    return copy


@pytest.fixture
def legacy_dir(tmp_path: Path) -> Callable[..., Path]:
    """Writes a Heartbeat directory: ha.cf as given, the others valid unless given.

    ``haresources=None`` leaves that file out; authkeys gets mode 0600.
    """

    def write(ha_cf: str, haresources: str | None = "",
              authkeys: str = "auth 1\n1 sha1 test-key\n") -> Path:
        root = tmp_path / "ha.d"
        root.mkdir(exist_ok=True)
        (root / "ha.cf").write_text(ha_cf)
        if haresources is not None:
            (root / "haresources").write_text(haresources)
        (root / "authkeys").write_text(authkeys)
        (root / "authkeys").chmod(0o600)
        return root

    return write
