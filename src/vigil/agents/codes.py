"""The result codes every agent class is translated into: OCF's, as Pacemaker uses them.

LSB init scripts, Heartbeat ``resource.d`` scripts, systemd units and the built-ins
each speak their own dialect; every reply is mapped onto these codes so the rest
of vigil reads one language (``include/crm/common/results.h`` in Pacemaker).
"""

from __future__ import annotations

import enum


class OcfRc(enum.IntEnum):
    OK = 0  # start/stop succeeded; monitor: running
    ERR_GENERIC = 1
    ERR_ARGS = 2  # invoked with wrong arguments
    ERR_UNIMPLEMENTED = 3  # action not implemented by this agent
    ERR_PERM = 4  # insufficient privileges
    ERR_INSTALLED = 5  # agent or a program it needs is not installed
    ERR_CONFIGURED = 6  # the resource's parameters are wrong
    NOT_RUNNING = 7  # monitor: cleanly stopped
    RUNNING_PROMOTED = 8  # monitor: running as master
    FAILED_PROMOTED = 9  # monitor: failed as master
    DEGRADED = 190  # monitor: running, degraded
    DEGRADED_PROMOTED = 191


_MEANING = {
    OcfRc.OK: "ok",
    OcfRc.ERR_GENERIC: "generic error",
    OcfRc.ERR_ARGS: "invalid arguments",
    OcfRc.ERR_UNIMPLEMENTED: "action not implemented",
    OcfRc.ERR_PERM: "insufficient privileges",
    OcfRc.ERR_INSTALLED: "not installed",
    OcfRc.ERR_CONFIGURED: "not configured correctly",
    OcfRc.NOT_RUNNING: "not running",
    OcfRc.RUNNING_PROMOTED: "running (promoted)",
    OcfRc.FAILED_PROMOTED: "failed (promoted)",
    OcfRc.DEGRADED: "running (degraded)",
    OcfRc.DEGRADED_PROMOTED: "running (promoted, degraded)",
}

#: Monitor codes that mean "the resource is active here".
RUNNING_CODES = frozenset({OcfRc.OK, OcfRc.RUNNING_PROMOTED, OcfRc.DEGRADED,
                           OcfRc.DEGRADED_PROMOTED})


def describe_rc(rc: int) -> str:
    """OCF's name for RC, in words: ``7`` -> ``not running``."""
    try:
        return _MEANING[OcfRc(rc)]
    except ValueError:
        return f"unknown code {rc}"
