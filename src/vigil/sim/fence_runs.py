"""Simulated fence agents, slow or failing per device, walked through the real fencing levels.

Rules of this file:
- A fence of TARGET by FENCER walks the real ``FenceRun`` over the real levels
  (``levels_for`` with the configuration's ``[[fencing.level]]`` topology; ha.cf
  ``stonith`` lines mapped as the daemon maps them): level after level, device
  after device, each device waiting its delay (``delay_for`` for the target,
  drawn from the seed) before its first run, as ``Fencer`` does.
- One agent run takes the device's ``FenceAgentBehaviour.op_ms`` (default: the
  simulation's ``fence_op_ms``) and fails when the behaviour says (every run,
  or its first N runs since the behaviour was set); a run longer than the
  device's ``timeout`` is killed at the timeout and fails (``timed_out``), as
  ``run_agent`` does.
- The target goes down (a power cycle) the moment the last required step of a
  level succeeds; the fencer's coordinator hears ``FenceConfirmed`` when the run
  ends. A failed run tells it ``FenceFailed`` and is tried again after the
  daemon's back-off (``retry_wait_ms``: 2 s, 4 s, 8 s ... 60 s) until one
  succeeds or the fencer goes down: ``FencingRunner``'s loop. One loop per
  (fencer, target): a repeated ``Fence`` joins it.
- A fencer that goes down (crash, fence, reset, restart) ends its runs and its
  target stays up: that is how the two-node fence race has one winner. A
  frozen fencer's run waits for its resume at its next step (its delay and its
  back-off are ``asyncio.sleep`` in the daemon; an agent's answer is read by
  its loop).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from vigil.config import FenceDevice, NodeName
from vigil.coordinator import FenceConfirmed, FenceFailed
from vigil.fencing import (
    DeviceOutcome,
    DeviceResult,
    FenceAction,
    FenceRun,
    Step,
    Topology,
    delay_for,
    devices_from_legacy,
    levels_for,
    plug_for,
    retry_wait_ms,
    topology_of,
)

if TYPE_CHECKING:
    from vigil.sim.cluster import ClusterSimulation

#: How often a frozen fencer's run looks again whether the daemon was resumed.
FROZEN_POLL_MS = 10


@dataclass(frozen=True, slots=True)
class FenceAgentBehaviour:
    """How one simulated fence device's agent behaves, for every run (reboot, off, on).

    ``op_ms`` is how long a run takes (None: the simulation's ``fence_op_ms``);
    beyond the device's ``timeout`` it is killed and fails. ``fail_first``: the
    first N runs fail (exit 1); ``always_fails``: every run does.
    """

    op_ms: int | None = None
    fail_first: int = 0
    always_fails: bool = False

    def __post_init__(self) -> None:
        if (self.op_ms is not None and self.op_ms < 0) or self.fail_first < 0:
            raise ValueError("op_ms and fail_first cannot be negative")

    def describe(self) -> str:
        words = [f"takes {self.op_ms} ms"] if self.op_ms is not None else []
        if self.always_fails:
            words.append("always fails")
        elif self.fail_first:
            words.append(f"fails its first {self.fail_first} run(s)")
        return ", ".join(words) or "as default"


@dataclass(frozen=True, slots=True)
class AgentRun:
    """One simulated run of one fence agent."""

    device: str
    action: FenceAction
    started_ms: int
    ended_ms: int
    outcome: DeviceOutcome


@dataclass(frozen=True, slots=True)
class FenceRecord:
    """One simulated fence (one walk through the levels): who, whom, how it ended.

    ``device`` is the level that fenced (``"pdu-a+pdu-b"``), else the last
    device tried; ``delay_ms`` every delay waited; ``done_ms`` when the target
    went down, None when every level failed or the fencer went down first.
    """

    asked_ms: int
    fencer: NodeName
    target: NodeName
    device: str
    delay_ms: int
    done_ms: int | None
    summary: str = ""
    attempts: tuple[AgentRun, ...] = ()

    @property
    def succeeded(self) -> bool:
        return self.done_ms is not None


@dataclass(slots=True)
class _Run:
    fence: FenceRun
    fencer: NodeName
    life: int
    target: NodeName
    asked_ms: int
    failures: int  # failed runs before this one, in a row
    delayed: set[str] = field(default_factory=set)
    delay_ms: int = 0
    down_ms: int | None = None
    attempts: list[AgentRun] = field(default_factory=list)


class FenceRuns:
    """The fence devices of one simulation and the runs through them (see the module)."""

    def __init__(self, sim: ClusterSimulation, fence_op_ms: int,
                 power_cycle: Callable[[NodeName, str], None],
                 life_of: Callable[[NodeName], int]) -> None:
        self.sim = sim
        self.fence_op_ms = fence_op_ms
        self._power_cycle = power_cycle
        self._life_of = life_of
        self.behaviours: dict[str, FenceAgentBehaviour] = {}
        self._runs_since: dict[str, int] = {}  # device -> agent runs since its behaviour
        #: Every fence run, in the order they ended.
        self.records: list[FenceRecord] = []
        self._loops: dict[tuple[NodeName, NodeName], int] = {}  # -> the fencer's life
        #: The latest moment an agent run ends or a retry is due, of those scheduled so far.
        self.busy_until_ms = 0

    @cached_property
    def devices(self) -> tuple[FenceDevice, ...]:
        """Every device: ``[[fence_device]]`` entries, then ha.cf's mapped stonith lines."""
        config = self.sim.config  # read once the simulation holds it
        legacy, _report = devices_from_legacy(config.fencing.legacy, config.node_names)
        return (*config.fencing.devices, *legacy)

    @cached_property
    def _by_name(self) -> dict[str, FenceDevice]:
        return {d.name: d for d in self.devices}

    @cached_property
    def topology(self) -> Topology | None:
        return topology_of(self.sim.config.fencing)

    def set_behaviour(self, device: str, behaviour: FenceAgentBehaviour | None) -> None:
        """From now DEVICE behaves so (None: as default); ``fail_first`` counts from now."""
        if device not in self._by_name:
            raise KeyError(f"no fence device {device!r} in the configuration")
        if behaviour is None:
            self.behaviours.pop(device, None)
        else:
            self.behaviours[device] = behaviour
        self._runs_since[device] = 0

    def fence(self, fencer: NodeName, target: NodeName) -> None:
        """FENCER's coordinator asked to fence TARGET: start, or join the loop under way."""
        life = self._life_of(fencer)
        if self._loops.get((fencer, target)) == life:
            return  # one loop per node, as FencingRunner (and Pacemaker merges requests)
        self._loops[(fencer, target)] = life
        self._start(fencer, life, target, 0)

    # -- inside -------------------------------------------------------------------------

    def _alive(self, fencer: NodeName, life: int) -> bool:
        return self._life_of(fencer) == life and self.sim.is_running(fencer)

    def _later(self, at: int, action: Callable[[], None]) -> None:
        self.sim.call_at(at, action)

    def _start(self, fencer: NodeName, life: int, target: NodeName, failures: int) -> None:
        sim = self.sim
        if not self._alive(fencer, life):
            if self._loops.get((fencer, target)) == life:
                del self._loops[(fencer, target)]
            return
        if sim.is_paused(fencer):
            self._later(sim.now_ms + FROZEN_POLL_MS,
                        lambda: self._start(fencer, life, target, failures))
            return
        levels = levels_for(target, self.devices, fencer, topology=self.topology)
        run = _Run(FenceRun(target, FenceAction.REBOOT, levels), fencer, life, target,
                   sim.now_ms, failures)
        self._next(run)

    def _next(self, r: _Run) -> None:
        step = r.fence.next_step()
        if step is None:
            self._finish(r)
            return
        device = self._by_name[step.device]
        delay = 0
        if step.device not in r.delayed:
            r.delayed.add(step.device)
            delay = delay_for(device, self.sim.rng, r.target)
            r.delay_ms += delay
        self._later(self.sim.now_ms + delay, lambda: self._run_agent(r, step, device))

    def _run_agent(self, r: _Run, step: Step, device: FenceDevice) -> None:
        sim = self.sim
        if not self._alive(r.fencer, r.life):
            self._gone(r)
            return
        if sim.is_paused(r.fencer):
            self._later(sim.now_ms + FROZEN_POLL_MS, lambda: self._run_agent(r, step, device))
            return
        behaviour = self.behaviours.get(device.name, FenceAgentBehaviour())
        runs = self._runs_since.get(device.name, 0)
        self._runs_since[device.name] = runs + 1
        took = behaviour.op_ms if behaviour.op_ms is not None else self.fence_op_ms
        if took > device.timeout_ms:
            outcome, took = DeviceOutcome.TIMED_OUT, device.timeout_ms
        elif behaviour.always_fails or runs < behaviour.fail_first:
            outcome = DeviceOutcome.FAILED
        else:
            outcome = DeviceOutcome.SUCCEEDED
        started = sim.now_ms
        self.busy_until_ms = max(self.busy_until_ms, started + took)
        self._later(started + took, lambda: self._agent_done(r, step, device, started, outcome))

    def _agent_done(self, r: _Run, step: Step, device: FenceDevice, started: int,
                    outcome: DeviceOutcome) -> None:
        sim = self.sim
        if not self._alive(r.fencer, r.life):
            self._gone(r)
            return
        if sim.is_paused(r.fencer):
            self._later(sim.now_ms + FROZEN_POLL_MS,
                        lambda: self._agent_done(r, step, device, started, outcome))
            return
        code = {DeviceOutcome.SUCCEEDED: 0, DeviceOutcome.FAILED: 1}.get(outcome)
        r.fence.record(DeviceResult(device.name, step.action, plug_for(device, r.target),
                                    outcome, code, "(simulated agent)", sim.now_ms - started))
        r.attempts.append(AgentRun(device.name, step.action, started, sim.now_ms, outcome))
        following = r.fence.next_step()
        level_done = r.fence.succeeded or (following is not None and not following.required
                                           and outcome is DeviceOutcome.SUCCEEDED
                                           and step.required)
        if level_done and r.down_ms is None:
            r.down_ms = sim.now_ms
            level = next(lv for lv in r.fence.levels if lv.index == step.level)
            self._power_cycle(r.target, f"fenced by {r.fencer} with "
                              f"{'+'.join(level.devices)} (level {level.index})")
        self._next(r)

    def _finish(self, r: _Run) -> None:
        key = (r.fencer, r.target)
        tried = r.attempts[-1].device if r.attempts else ""
        fenced = "+".join(r.fence.devices) if r.fence.succeeded else tried
        summary = r.fence.summary
        self.records.append(FenceRecord(r.asked_ms, r.fencer, r.target, fenced, r.delay_ms,
                                        r.down_ms if r.fence.succeeded else None, summary,
                                        tuple(r.attempts)))
        if r.fence.succeeded:
            self._loops.pop(key, None)
            self.sim.coordinator_event(r.fencer, FenceConfirmed(
                r.target, f"{summary} (simulated, delay {r.delay_ms} ms)"))
            return
        wait = retry_wait_ms(r.failures + 1)
        self.busy_until_ms = max(self.busy_until_ms, self.sim.now_ms + wait)
        self.sim.coordinator_event(r.fencer, FenceFailed(
            r.target, f"{summary}; retrying in {wait / 1000:g} s"))
        self._later(self.sim.now_ms + wait,
                    lambda: self._start(r.fencer, r.life, r.target, r.failures + 1))

    def _gone(self, r: _Run) -> None:
        """The fencer went down mid-run: nobody is fenced by it."""
        tried = r.attempts[-1].device if r.attempts else ""
        self.records.append(FenceRecord(r.asked_ms, r.fencer, r.target, tried, r.delay_ms,
                                        None, f"{r.fencer} went down while fencing "
                                        f"{r.target}", tuple(r.attempts)))
        if self._loops.get((r.fencer, r.target)) == r.life:
            del self._loops[(r.fencer, r.target)]


__all__ = ["AgentRun", "FenceAgentBehaviour", "FenceRecord", "FenceRuns"]
