"""The executor: runs this node's agent operations with timeouts, serialised per resource.

Other packages import from here only. The daemon builds one ``Executor`` with
the node's resources, subscribes to ``OperationCompleted`` events, calls
``probe_all()`` at start-up, ``run(rid, action)`` for what the coordinator
decides, and ``start_monitor(rid)`` / ``stop_monitor(rid)`` for recurring
monitors.
"""

from __future__ import annotations

from vigil.executor.events import OperationCompleted
from vigil.executor.executor import DEFAULT_STATE_DIR, Executor, Listener
from vigil.executor.process import run_program
from vigil.executor.states import (
    ON_BEGIN,
    ON_END,
    ActionKind,
    ExecStatus,
    ResourceState,
    ResultKind,
    action_kind,
    classify,
    on_begin,
    on_end,
)

__all__ = [
    "DEFAULT_STATE_DIR",
    "ON_BEGIN",
    "ON_END",
    "ActionKind",
    "ExecStatus",
    "Executor",
    "Listener",
    "OperationCompleted",
    "ResourceState",
    "ResultKind",
    "action_kind",
    "classify",
    "on_begin",
    "on_end",
    "run_program",
]
