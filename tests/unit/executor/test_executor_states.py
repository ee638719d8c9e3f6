"""The per-resource state machine, row by row."""

from __future__ import annotations

import pytest

from vigil.agents import OcfRc
from vigil.executor import (
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

S, K, R = ResourceState, ActionKind, ResultKind


@pytest.mark.parametrize(("before", "kind", "result", "after"), [
    (S.STOPPED, K.START, R.OK, S.RUNNING),
    (S.STOPPED, K.START, R.ERROR, S.FAILED),
    (S.STOPPED, K.START, R.TIMEOUT, S.FAILED),
    (S.STOPPED, K.START, R.NOT_RUNNING, S.FAILED),  # "started" but not running: failed
    (S.RUNNING, K.STOP, R.OK, S.STOPPED),
    (S.RUNNING, K.STOP, R.NOT_RUNNING, S.STOPPED),
    (S.RUNNING, K.STOP, R.TIMEOUT, S.FAILED),  # may still run: needs fencing
    (S.RUNNING, K.STOP, R.NOT_INSTALLED, S.FAILED),
    (S.UNKNOWN, K.PROBE, R.OK, S.RUNNING),
    (S.UNKNOWN, K.PROBE, R.NOT_RUNNING, S.STOPPED),
    (S.UNKNOWN, K.PROBE, R.NOT_INSTALLED, S.STOPPED),  # cannot run here, so is not
    (S.UNKNOWN, K.PROBE, R.ERROR, S.FAILED),
    (S.RUNNING, K.PROBE, R.CANCELLED, S.RUNNING),
    (S.RUNNING, K.MONITOR, R.OK, S.RUNNING),
    (S.RUNNING, K.MONITOR, R.NOT_RUNNING, S.FAILED),  # gone while it should run
    (S.STOPPED, K.MONITOR, R.NOT_RUNNING, S.STOPPED),
    (S.FAILED, K.MONITOR, R.NOT_RUNNING, S.FAILED),
    (S.STOPPED, K.MONITOR, R.OK, S.RUNNING),  # started behind our back: say so
    (S.RUNNING, K.MONITOR, R.TIMEOUT, S.FAILED),
    (S.RUNNING, K.MONITOR, R.CANCELLED, S.RUNNING),
    (S.RUNNING, K.OTHER, R.ERROR, S.RUNNING),  # validate-all, meta-data change nothing
])
def test_transitions(before: ResourceState, kind: ActionKind, result: ResultKind,
                     after: ResourceState) -> None:
    assert on_end(on_begin(before, kind), kind, result) is after


def test_start_and_stop_show_while_they_run() -> None:
    assert on_begin(S.STOPPED, K.START) is S.STARTING
    assert on_begin(S.RUNNING, K.STOP) is S.STOPPING
    assert on_begin(S.RUNNING, K.MONITOR) is S.RUNNING


def test_every_start_stop_probe_and_monitor_outcome_has_a_rule() -> None:
    for kind in (K.START, K.STOP, K.PROBE, K.MONITOR):
        for result in R:
            assert (kind, result) in ON_END
            for before in S:
                assert isinstance(on_end(before, kind, result), ResourceState)


@pytest.mark.parametrize(("action", "interval", "kind"), [
    ("start", 0, K.START), ("stop", 0, K.STOP), ("monitor", 0, K.PROBE),
    ("status", 0, K.PROBE), ("monitor", 10_000, K.MONITOR), ("validate-all", 0, K.OTHER),
])
def test_action_kinds(action: str, interval: int, kind: ActionKind) -> None:
    assert action_kind(action, interval) is kind


@pytest.mark.parametrize(("kind", "status", "rc", "result"), [
    (K.START, ExecStatus.DONE, OcfRc.OK, R.OK),
    (K.START, ExecStatus.DONE, OcfRc.ERR_CONFIGURED, R.ERROR),
    (K.STOP, ExecStatus.DONE, OcfRc.NOT_RUNNING, R.NOT_RUNNING),
    (K.MONITOR, ExecStatus.DONE, OcfRc.RUNNING_PROMOTED, R.OK),
    (K.MONITOR, ExecStatus.DONE, OcfRc.DEGRADED, R.OK),
    (K.MONITOR, ExecStatus.DONE, OcfRc.FAILED_PROMOTED, R.ERROR),
    (K.START, ExecStatus.DONE, OcfRc.RUNNING_PROMOTED, R.ERROR),
    (K.PROBE, ExecStatus.DONE, OcfRc.ERR_INSTALLED, R.NOT_INSTALLED),
    (K.PROBE, ExecStatus.TIMEOUT, OcfRc.ERR_GENERIC, R.TIMEOUT),
    (K.START, ExecStatus.INVALID, OcfRc.ERR_CONFIGURED, R.ERROR),
    (K.START, ExecStatus.NOT_INSTALLED, OcfRc.ERR_INSTALLED, R.NOT_INSTALLED),
    (K.MONITOR, ExecStatus.CANCELLED, OcfRc.ERR_GENERIC, R.CANCELLED),
])
def test_results_are_classified_once_for_every_class(kind: ActionKind, status: ExecStatus,
                                                    rc: int, result: ResultKind) -> None:
    assert classify(kind, status, rc) is result
