"""The coordinator's states and the tables that move them.

Rules of this file:
- Everything that decides how a resource's local state or the DC's phase
  changes is a table here; the roles (``local.py``, ``dc.py``) look them up and
  never decide a transition in code of their own.
- Local states are what this node knows about its own copy of a resource; the
  operation in flight (``OpKind``) is kept beside the state, not folded into it,
  so a report can say both "stopped" and "starting now".
- ``DC_PHASES`` is the DC's state × input table (Pacemaker's controld keeps the
  same in ``controld_matrix.c``); a pair that is not listed leaves the phase as
  it is.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from vigil.policy import ResourceState


class LocalState(enum.Enum):
    """A resource's state on this node, as the node reports it."""

    UNKNOWN = "unknown"  # not probed yet (start-up, or after a cleanup)
    STOPPED = "stopped"
    RUNNING = "running"
    FAILED = "failed"  # a start, probe or monitor failed: needs a stop (recovery)
    BLOCKED = "blocked"  # a stop failed: nothing may be assumed until fenced or cleaned up

    @property
    def is_active(self) -> bool:
        """May be running here: counts for stickiness, for stops and for safety."""
        return self in (LocalState.RUNNING, LocalState.FAILED, LocalState.BLOCKED)

    @property
    def policy_state(self) -> ResourceState:
        return _TO_POLICY[self]


_TO_POLICY: Mapping[LocalState, ResourceState] = {
    LocalState.UNKNOWN: ResourceState.UNKNOWN,
    LocalState.STOPPED: ResourceState.STOPPED,
    LocalState.RUNNING: ResourceState.RUNNING,
    LocalState.FAILED: ResourceState.FAILED,
    LocalState.BLOCKED: ResourceState.BLOCKED,
}


class OpKind(enum.Enum):
    """An operation the coordinator asks the executor for."""

    START = "start"
    STOP = "stop"
    PROBE = "probe"  # a one-shot monitor: is it running here?
    MONITOR = "monitor"  # a result of the recurring monitor (never asked for one by one)


class OpOutcome(enum.Enum):
    """How an operation ended (the executor's ``ResultKind``, one for one)."""

    OK = "ok"
    NOT_RUNNING = "not-running"
    ERROR = "error"
    TIMEOUT = "timeout"
    NOT_INSTALLED = "not-installed"
    CANCELLED = "cancelled"


_S = LocalState
_FAILURES = (OpOutcome.ERROR, OpOutcome.TIMEOUT, OpOutcome.NOT_INSTALLED)
#: A monitor that finds a running resource broken or gone; any other state ignores it
#: (a late answer of a monitor that was being stopped).
_MONITOR_FAILED: Mapping[LocalState, LocalState] = {_S.RUNNING: _S.FAILED, _S.FAILED: _S.FAILED}

#: State after an operation ends: a state, a table keyed by the state before it,
#: or None for "unchanged". Every (kind, outcome) pair is listed.
ON_END: Mapping[tuple[OpKind, OpOutcome],
                LocalState | Mapping[LocalState, LocalState] | None] = {
    (OpKind.START, OpOutcome.OK): _S.RUNNING,
    (OpKind.START, OpOutcome.NOT_RUNNING): _S.FAILED,
    **{(OpKind.START, o): _S.FAILED for o in _FAILURES},
    (OpKind.START, OpOutcome.CANCELLED): _S.UNKNOWN,
    (OpKind.STOP, OpOutcome.OK): _S.STOPPED,
    (OpKind.STOP, OpOutcome.NOT_RUNNING): _S.STOPPED,
    # As Pacemaker without fencing: a failed stop blocks the resource on this node.
    **{(OpKind.STOP, o): _S.BLOCKED for o in _FAILURES},
    (OpKind.STOP, OpOutcome.CANCELLED): _S.UNKNOWN,
    (OpKind.PROBE, OpOutcome.OK): _S.RUNNING,
    (OpKind.PROBE, OpOutcome.NOT_RUNNING): _S.STOPPED,
    # As Pacemaker: an agent missing here means the resource cannot be active here.
    (OpKind.PROBE, OpOutcome.NOT_INSTALLED): _S.STOPPED,
    (OpKind.PROBE, OpOutcome.ERROR): _S.FAILED,
    (OpKind.PROBE, OpOutcome.TIMEOUT): _S.FAILED,
    (OpKind.PROBE, OpOutcome.CANCELLED): None,
    (OpKind.MONITOR, OpOutcome.OK): None,
    **{(OpKind.MONITOR, o): _MONITOR_FAILED
       for o in (OpOutcome.NOT_RUNNING, *_FAILURES)},
    (OpKind.MONITOR, OpOutcome.CANCELLED): None,
}

#: Outcomes that add one to the resource's failure count on this node.
COUNTS_AS_FAILURE: frozenset[tuple[OpKind, OpOutcome]] = frozenset({
    *((OpKind.START, o) for o in (OpOutcome.NOT_RUNNING, *_FAILURES)),
    *((OpKind.STOP, o) for o in _FAILURES),
    *((OpKind.PROBE, o) for o in (OpOutcome.ERROR, OpOutcome.TIMEOUT)),
    *((OpKind.MONITOR, o) for o in (OpOutcome.NOT_RUNNING, *_FAILURES)),
})


def state_after(state: LocalState, kind: OpKind, outcome: OpOutcome) -> LocalState:
    """The state after an operation of KIND ended with OUTCOME, from STATE."""
    rule = ON_END[(kind, outcome)]
    if rule is None:
        return state
    if isinstance(rule, LocalState):
        return rule
    return rule.get(state, state)


class ActionResult(enum.Enum):
    """What a node answers for one DC action (in its report)."""

    OK = "ok"
    FAILED = "failed"


def action_result(kind: OpKind, outcome: OpOutcome) -> ActionResult:
    """A probe succeeds whenever it answered (its answer is the state it reports)."""
    if outcome is OpOutcome.CANCELLED:
        return ActionResult.FAILED
    if kind is OpKind.PROBE:
        return ActionResult.OK
    if kind is OpKind.STOP and outcome is OpOutcome.NOT_RUNNING:
        return ActionResult.OK
    return ActionResult.OK if outcome is OpOutcome.OK else ActionResult.FAILED


#: The state a DC action leaves its resource in when it went as planned: a
#: report showing it is the action's own doing, not news that needs a new plan.
EXPECTED_AFTER: Mapping[OpKind, LocalState] = {
    OpKind.START: LocalState.RUNNING,
    OpKind.STOP: LocalState.STOPPED,
    OpKind.PROBE: LocalState.STOPPED,
}


class DcPhase(enum.Enum):
    """Where the DC role of this node is (Pacemaker's S_NOT_DC … S_IDLE)."""

    NOT_DC = "not DC"
    WAITING = "waiting"  # a new plan is due: waiting for every report and for in-flight work
    TRANSITION = "transition"  # dispatching a plan's actions and tracking their results
    IDLE = "idle"  # the last plan is done; nothing to do until something changes


class DcInput(enum.Enum):
    ELECTED = "elected"  # membership names this node DC of a stable view
    DEPOSED = "deposed"  # it no longer does
    CHANGED = "changed"  # something the plan depends on changed: plan again
    PLANNED = "planned"  # inputs settled; the new plan has actions
    NOTHING_TO_DO = "nothing to do"  # inputs settled; the new plan has none
    ACTION_FAILED = "action failed"  # a node answered an action with a failure
    COMPLETED = "completed"  # every action of the plan is confirmed


_P, _I = DcPhase, DcInput
#: The DC's phase × input table. A new plan is made only from WAITING, and only
#: once nothing is in flight: a transition interrupted by news is abandoned and
#: planned again from the latest reports, never continued blindly.
DC_PHASES: Mapping[tuple[DcPhase, DcInput], DcPhase] = {
    (_P.NOT_DC, _I.ELECTED): _P.WAITING,
    (_P.WAITING, _I.DEPOSED): _P.NOT_DC,
    (_P.TRANSITION, _I.DEPOSED): _P.NOT_DC,
    (_P.IDLE, _I.DEPOSED): _P.NOT_DC,
    (_P.WAITING, _I.PLANNED): _P.TRANSITION,
    (_P.WAITING, _I.NOTHING_TO_DO): _P.IDLE,
    (_P.TRANSITION, _I.CHANGED): _P.WAITING,
    (_P.TRANSITION, _I.ACTION_FAILED): _P.WAITING,
    (_P.TRANSITION, _I.COMPLETED): _P.IDLE,
    (_P.IDLE, _I.CHANGED): _P.WAITING,
}


def next_phase(phase: DcPhase, what: DcInput) -> DcPhase:
    return DC_PHASES.get((phase, what), phase)
