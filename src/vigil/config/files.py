"""Checks on configuration files themselves (not their contents): who may read them."""

from __future__ import annotations

import stat
from pathlib import Path

from vigil.config.diagnostics import Diagnostics

__all__ = ["check_private"]


def check_private(path: Path, diags: Diagnostics, line: int | None = None) -> bool:
    """Refuse a file holding secrets that group or others can read; True when private.

    As Heartbeat's auth.c: a key file with S_IRGRP or S_IROTH set is refused
    ("Bad permissions on keyfile [...], 600 recommended"), because anyone who
    can read the key can forge heartbeats and take the cluster's resources.
    """
    try:
        mode = path.stat().st_mode
    except OSError as e:
        diags.error(path, line, f"cannot read: {e.strerror or e}",
                    "check that the file exists and vigil may read it")
        return False
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        diags.error(
            path, line,
            f"bad permissions {stat.S_IMODE(mode):04o}: the file holds secrets and is "
            "readable by group or others (Heartbeat refuses it too: 600 recommended)",
            f"chmod 600 {path}",
        )
        return False
    return True
