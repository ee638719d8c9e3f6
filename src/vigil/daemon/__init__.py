"""The daemon: asyncio wiring of the core, the local control API, logging, signals.

``run_daemon(DaemonOptions(...))`` is what ``vigil daemon`` runs. The control
protocol is documented in ``vigil.daemon.control``; the status document in
``docs/status.md`` (built by ``vigil.daemon.status_doc``).
"""

from __future__ import annotations

from vigil.daemon.control import DEFAULT_SOCKET_PATH, CommandError, ControlServer
from vigil.daemon.digest import config_digest
from vigil.daemon.logsetup import LogSetup, kv
from vigil.daemon.notify import sd_notify
from vigil.daemon.runtime import NodeRuntime
from vigil.daemon.service import DaemonOptions, run_daemon
from vigil.daemon.statedir import DEFAULT_STATE_DIR, StateDir
from vigil.daemon.status_doc import SCHEMA as STATUS_SCHEMA

__all__ = [
    "DEFAULT_SOCKET_PATH",
    "DEFAULT_STATE_DIR",
    "STATUS_SCHEMA",
    "CommandError",
    "ControlServer",
    "DaemonOptions",
    "LogSetup",
    "NodeRuntime",
    "StateDir",
    "config_digest",
    "kv",
    "run_daemon",
    "sd_notify",
]
