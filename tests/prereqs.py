"""Prerequisites of tests: skip where one is missing, but fail under CI=true.

Tests that need root (network namespaces, mounts) must run in CI. Import these
as ``from prereqs import require_root`` (tests/ is on sys.path through its
conftest.py); a plain ``from conftest import`` would pick whichever conftest
loaded first.
"""

from __future__ import annotations

import os
import shutil

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
