"""What fencing says happened: one agent run (``DeviceResult``) and one fence of a
node (``FenceResult``, which is also the fence history's record).

Exit codes as the fence-agents protocol defines them: 0 is success; for
``status`` 0 means the target is on, 2 that it is off, anything else an error.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from vigil.config import NodeName

#: How much of an agent's output a result keeps: enough for the error line.
OUTPUT_TAIL_CHARS = 512


class FenceAction(enum.Enum):
    """The fence-agents actions vigil sends (``action=`` on the agent's stdin)."""

    OFF = "off"
    REBOOT = "reboot"
    ON = "on"
    STATUS = "status"
    MONITOR = "monitor"
    LIST = "list"

    @property
    def targets_node(self) -> bool:
        """True when the action names a node (``plug=``); monitor and list do not."""
        return self not in (FenceAction.MONITOR, FenceAction.LIST)


class DeviceOutcome(enum.Enum):
    SUCCEEDED = "succeeded"  # exit 0 (status: 0 or 2, the power state is known)
    FAILED = "failed"  # any other exit code
    TIMED_OUT = "timed_out"  # ran past the device's timeout; its process group was killed
    ERROR = "error"  # could not be run (no such program, bad parameters)


class PowerState(enum.Enum):
    ON = "on"
    OFF = "off"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class DeviceResult:
    """One run of one fence agent: which device, what for, how it ended."""

    device: str
    action: FenceAction
    plug: str | None
    outcome: DeviceOutcome
    exit_code: int | None
    output: str  # the tail of stdout and stderr together
    duration_ms: int
    delay_ms: int = 0  # waited before running (delay + random delay)

    @property
    def succeeded(self) -> bool:
        return self.outcome is DeviceOutcome.SUCCEEDED

    @property
    def power(self) -> PowerState:
        """For ``status``: what the agent said about the target's power."""
        if self.action is not FenceAction.STATUS or self.exit_code not in (0, 2):
            return PowerState.UNKNOWN
        return PowerState.ON if self.exit_code == 0 else PowerState.OFF

    def describe(self) -> str:
        """One line for logs and ``vigil events``."""
        target = f" plug={self.plug}" if self.plug is not None else ""
        code = f" rc={self.exit_code}" if self.exit_code is not None else ""
        last = self.output.strip().splitlines()[-1:] if self.output.strip() else []
        said = f" said={last[0]!r}" if last else ""
        return (f"device={self.device} action={self.action.value}{target} "
                f"outcome={self.outcome.value}{code} duration_ms={self.duration_ms}{said}")


def tail(text: str, limit: int = OUTPUT_TAIL_CHARS) -> str:
    """The last LIMIT characters of TEXT: errors come last."""
    return text if len(text) <= limit else text[-limit:]


@dataclass(frozen=True, slots=True)
class FenceResult:
    """One fence of NODE, finished: the history record and the answer to ``fence()``.

    ``devices`` are the devices of the level that fenced the node (empty when it
    failed, or for a manual confirmation); ``attempts`` every agent run, in order.
    ``origin`` is the node that fenced (or confirmed); times are wall-clock
    milliseconds since the epoch, for people reading the history.
    """

    node: NodeName
    action: FenceAction
    succeeded: bool
    reason: str  # why it was asked for
    summary: str  # what happened, in a sentence
    origin: NodeName
    started_ms: int
    duration_ms: int
    devices: tuple[str, ...] = ()
    attempts: tuple[DeviceResult, ...] = ()
    manual: bool = False

    @property
    def output(self) -> str:
        """The last agent's output tail: what an administrator reads first on failure."""
        return self.attempts[-1].output if self.attempts else ""

    def as_dict(self) -> dict[str, object]:
        """For ``vigil status --json`` and the event log: stable keys, plain values."""
        return {
            "node": self.node, "action": self.action.value, "succeeded": self.succeeded,
            "reason": self.reason, "summary": self.summary, "origin": self.origin,
            "started_ms": self.started_ms, "duration_ms": self.duration_ms,
            "devices": list(self.devices), "manual": self.manual,
            "attempts": [{"device": a.device, "action": a.action.value, "plug": a.plug,
                          "outcome": a.outcome.value, "exit_code": a.exit_code,
                          "duration_ms": a.duration_ms, "delay_ms": a.delay_ms,
                          "output": a.output} for a in self.attempts],
        }
