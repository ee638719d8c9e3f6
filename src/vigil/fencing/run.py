"""One fence of one node, step by step: which agent to run next, and what it all
amounted to. Pure: the shell (``Fencer``) runs each step and records its result.

Rules of this file:
- Levels are tried in order; within a level devices run one after another.
  The first failure ends the level (Pacemaker: "no further devices in that
  level are exercised") and the next level starts.
- ``reboot`` through a level of several devices becomes ``off`` on every device,
  then ``on`` on every device, as Pacemaker does: power-cycling two supplies one
  after the other would never take the node down. Once every ``off`` succeeded
  the node is fenced; a failing ``on`` is reported but does not undo that.
- A finished run never starts another step.
"""

from __future__ import annotations

from dataclasses import dataclass

from vigil.config import NodeName
from vigil.fencing.results import DeviceResult, FenceAction
from vigil.fencing.topology import Level

#: After a failed fence the shell tries again, waiting this long first, then twice as
#: long each time up to RETRY_MAX_MS (Pacemaker keeps retrying and recovers nothing
#: meanwhile). The daemon (``FencingRunner``) and the simulator share these.
RETRY_FIRST_MS = 2_000
RETRY_MAX_MS = 60_000


def retry_wait_ms(failures: int) -> int:
    """How long to wait before the next try after FAILURES failed fences in a row (>= 1)."""
    return min(RETRY_FIRST_MS << min(max(failures - 1, 0), 16), RETRY_MAX_MS)


@dataclass(frozen=True, slots=True)
class Step:
    """Run DEVICE with ACTION, for the level numbered LEVEL; ``required``: the
    level fails when this step does."""

    level: int
    device: str
    action: FenceAction
    required: bool = True


def level_steps(level: Level, action: FenceAction) -> tuple[Step, ...]:
    """The agent runs that make up ACTION through LEVEL, in order."""
    if action is FenceAction.REBOOT and len(level.devices) > 1:
        offs = tuple(Step(level.index, d, FenceAction.OFF) for d in level.devices)
        ons = tuple(Step(level.index, d, FenceAction.ON, required=False) for d in level.devices)
        return offs + ons
    return tuple(Step(level.index, d, action) for d in level.devices)


class FenceRun:
    """Walks NODE's levels for ACTION; ``next_step`` / ``record`` until ``done``."""

    def __init__(self, node: NodeName, action: FenceAction, levels: tuple[Level, ...]) -> None:
        self.node = node
        self.action = action
        self.levels = levels
        self.attempts: list[DeviceResult] = []
        self._level = 0  # index into levels
        self._steps = level_steps(levels[0], action) if levels else ()
        self._pos = 0
        self._notes: list[str] = []
        self.succeeded = False
        self.done = not levels
        self.devices: tuple[str, ...] = ()  # the level that fenced the node

    def next_step(self) -> Step | None:
        """The next agent run, or None when the run is over."""
        if self.done:
            return None
        return self._steps[self._pos]

    def record(self, result: DeviceResult) -> None:
        """Fold in the result of the step ``next_step`` returned."""
        step = self.next_step()
        if step is None:
            raise RuntimeError("record() after the fence run finished")
        if result.device != step.device or result.action is not step.action:
            raise ValueError(f"result for {result.device}/{result.action.value} does not "
                             f"answer step {step.device}/{step.action.value}")
        self.attempts.append(result)
        if not result.succeeded and step.required:
            self._notes.append(f"level {step.level} failed at {step.device} "
                               f"({result.outcome.value})")
            self._next_level()
            return
        if not result.succeeded:
            self._notes.append(f"{step.device} did not power {self.node} back on "
                               f"({result.outcome.value})")
        self._pos += 1
        if self._pos == len(self._steps):
            self.succeeded = True
            self.done = True
            self.devices = self.levels[self._level].devices

    def _next_level(self) -> None:
        self._level += 1
        self._pos = 0
        if self._level == len(self.levels):
            self.done = True
            self._steps = ()
        else:
            self._steps = level_steps(self.levels[self._level], self.action)

    @property
    def summary(self) -> str:
        """What happened, in a sentence for the history and the log."""
        if not self.levels:
            return f"no fence device can fence {self.node}"
        notes = "; ".join(self._notes)
        if self.succeeded:
            level = self.levels[self._level].index
            said = (f"{self.node} fenced ({self.action.value}) by level {level}: "
                    f"{', '.join(self.devices)}")
            return f"{said} (after: {notes})" if notes else said
        if not self.done:
            return f"fencing {self.node} in progress"
        return f"every fencing level failed for {self.node}: {notes}"
