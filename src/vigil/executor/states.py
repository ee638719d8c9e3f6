"""What one resource is doing on this node, as its operations begin and end.

Rules of this file:
- Everything that decides a resource's local state lives here, as tables; no
  I/O, no clock. The executor feeds it the action and the classified result.
- States say what this node knows, not what the cluster wants: ``unknown``
  until a probe answered; ``failed`` whenever an operation left the resource
  in a state that needs recovery (a failed or timed-out start or stop, a
  monitor that found it broken or gone while it should run).
- A result is classified once (``classify``) from the execution status and
  the OCF code, so every agent class means the same thing by it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from vigil.agents import RUNNING_CODES, OcfRc


class ResourceState(enum.Enum):
    UNKNOWN = "unknown"
    STOPPED = "stopped"
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    FAILED = "failed"


class ExecStatus(enum.Enum):
    """Whether the agent ran and answered (Pacemaker's PCMK_EXEC_*)."""

    DONE = "done"  # the agent ran and answered with rc
    TIMEOUT = "timeout"  # killed at its timeout
    NOT_INSTALLED = "not-installed"  # no such agent (or its service manager) here
    INVALID = "invalid"  # refused before running: bad parameters
    ERROR = "error"  # could not be run, or died of a signal or an exception
    CANCELLED = "cancelled"  # the executor gave up on it (monitor stopped, closing)


class ActionKind(enum.Enum):
    START = "start"
    STOP = "stop"
    PROBE = "probe"  # a one-shot monitor/status: "is it running here?"
    MONITOR = "monitor"  # a recurring monitor, expecting it to run
    OTHER = "other"  # validate-all, meta-data, reload, ...


class ResultKind(enum.Enum):
    OK = "ok"  # start/stop done; monitor: running
    NOT_RUNNING = "not-running"
    ERROR = "error"
    TIMEOUT = "timeout"
    NOT_INSTALLED = "not-installed"
    CANCELLED = "cancelled"


def action_kind(action: str, interval_ms: int) -> ActionKind:
    if action == "start":
        return ActionKind.START
    if action == "stop":
        return ActionKind.STOP
    if action in ("monitor", "status"):
        return ActionKind.MONITOR if interval_ms > 0 else ActionKind.PROBE
    return ActionKind.OTHER


def classify(kind: ActionKind, status: ExecStatus, rc: int) -> ResultKind:
    """One word for how an operation ended."""
    if status is ExecStatus.TIMEOUT:
        return ResultKind.TIMEOUT
    if status is ExecStatus.CANCELLED:
        return ResultKind.CANCELLED
    if status is ExecStatus.NOT_INSTALLED or rc == OcfRc.ERR_INSTALLED:
        return ResultKind.NOT_INSTALLED
    if status is not ExecStatus.DONE:
        return ResultKind.ERROR
    if rc == OcfRc.NOT_RUNNING:
        return ResultKind.NOT_RUNNING
    if kind in (ActionKind.PROBE, ActionKind.MONITOR):
        return ResultKind.OK if rc in RUNNING_CODES else ResultKind.ERROR
    return ResultKind.OK if rc == OcfRc.OK else ResultKind.ERROR


#: State while an action runs; kinds not listed leave the state alone.
ON_BEGIN: Mapping[ActionKind, ResourceState] = {
    ActionKind.START: ResourceState.STARTING,
    ActionKind.STOP: ResourceState.STOPPING,
}

_S = ResourceState
#: A recurring monitor finding the resource stopped: a failure if it should run.
_MONITOR_NOT_RUNNING: Mapping[ResourceState, ResourceState] = {
    _S.RUNNING: _S.FAILED, _S.FAILED: _S.FAILED, _S.STARTING: _S.FAILED,
    _S.STOPPING: _S.STOPPED, _S.STOPPED: _S.STOPPED, _S.UNKNOWN: _S.STOPPED,
}

#: State after an action ends: a state, a table keyed by the state before, or
#: None for "unchanged". Pairs not listed (OTHER actions) leave it unchanged.
ON_END: Mapping[tuple[ActionKind, ResultKind],
                ResourceState | Mapping[ResourceState, ResourceState] | None] = {
    (ActionKind.START, ResultKind.OK): _S.RUNNING,
    (ActionKind.START, ResultKind.NOT_RUNNING): _S.FAILED,
    (ActionKind.START, ResultKind.ERROR): _S.FAILED,
    (ActionKind.START, ResultKind.TIMEOUT): _S.FAILED,
    (ActionKind.START, ResultKind.NOT_INSTALLED): _S.FAILED,
    (ActionKind.START, ResultKind.CANCELLED): _S.UNKNOWN,
    (ActionKind.STOP, ResultKind.OK): _S.STOPPED,
    (ActionKind.STOP, ResultKind.NOT_RUNNING): _S.STOPPED,
    # A stop that failed leaves the resource possibly active: recovery (fencing) needed.
    (ActionKind.STOP, ResultKind.ERROR): _S.FAILED,
    (ActionKind.STOP, ResultKind.TIMEOUT): _S.FAILED,
    (ActionKind.STOP, ResultKind.NOT_INSTALLED): _S.FAILED,
    (ActionKind.STOP, ResultKind.CANCELLED): _S.UNKNOWN,
    (ActionKind.PROBE, ResultKind.OK): _S.RUNNING,
    (ActionKind.PROBE, ResultKind.NOT_RUNNING): _S.STOPPED,
    (ActionKind.PROBE, ResultKind.ERROR): _S.FAILED,
    (ActionKind.PROBE, ResultKind.TIMEOUT): _S.FAILED,
    # As Pacemaker: an agent missing here means the resource cannot be active here.
    (ActionKind.PROBE, ResultKind.NOT_INSTALLED): _S.STOPPED,
    (ActionKind.PROBE, ResultKind.CANCELLED): None,
    (ActionKind.MONITOR, ResultKind.OK): _S.RUNNING,
    (ActionKind.MONITOR, ResultKind.NOT_RUNNING): _MONITOR_NOT_RUNNING,
    (ActionKind.MONITOR, ResultKind.ERROR): _S.FAILED,
    (ActionKind.MONITOR, ResultKind.TIMEOUT): _S.FAILED,
    (ActionKind.MONITOR, ResultKind.NOT_INSTALLED): _S.FAILED,
    (ActionKind.MONITOR, ResultKind.CANCELLED): None,
}


def on_begin(state: ResourceState, kind: ActionKind) -> ResourceState:
    return ON_BEGIN.get(kind, state)


def on_end(state: ResourceState, kind: ActionKind, result: ResultKind) -> ResourceState:
    """The state after an action of KIND ended with RESULT, from STATE (as it ran)."""
    rule = ON_END.get((kind, result))
    if rule is None:
        return state
    if isinstance(rule, ResourceState):
        return rule
    return rule[state]
