"""What the executor reports: one event per finished operation."""

from __future__ import annotations

from dataclasses import dataclass

from vigil.config import ResourceId
from vigil.executor.states import ExecStatus, ResourceState, ResultKind


@dataclass(frozen=True, slots=True)
class OperationCompleted:
    """An operation of one resource finished (or was given up).

    ``rc`` is the OCF code (every class is mapped onto OCF's); ``exit_code`` is
    what the program itself returned, None when it did not exit on its own.
    ``output`` holds the last lines the agent printed (stdout and stderr).
    ``finished_ms`` is the executor's monotonic clock in milliseconds.
    """

    resource: ResourceId
    agent: str
    action: str
    interval_ms: int
    status: ExecStatus
    rc: int
    exit_code: int | None
    result: ResultKind
    previous: ResourceState
    state: ResourceState
    duration_ms: int
    finished_ms: int
    output: tuple[str, ...]
    reason: str

    @property
    def ok(self) -> bool:
        return self.result is ResultKind.OK

    def summary(self) -> str:
        """One greppable line, as the daemon logs it."""
        reason = self.reason.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return (f"operation {self.result.value} resource={self.resource} action={self.action} "
                f"interval_ms={self.interval_ms} status={self.status.value} rc={self.rc} "
                f"state={self.state.value} duration_ms={self.duration_ms} "
                f'reason="{reason}"')
