"""The fencer: fences a node through its levels, keeps the history, records manual fences.

The daemon builds one ``Fencer`` from the configuration and, for each ``Fence``
effect the coordinator returns, runs ``await fencer.fence(node, reason)`` and
feeds the ``FenceResult`` back (as the coordinator's ``FenceConfirmed`` when it
succeeded). ``confirm(node)`` is ``vigil fence --confirm``: an administrator
says the node is off ("meatware"). Decisions are in ``topology`` and ``run``;
this class runs agents, waits the delays and reads the clock.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence

from vigil.config import ClusterConfig, FenceDevice, NodeName
from vigil.executor import run_program
from vigil.fencing.agent import StdinRunner, run_agent
from vigil.fencing.history import DEFAULT_LIMIT, FenceHistory
from vigil.fencing.results import DeviceOutcome, DeviceResult, FenceAction, FenceResult
from vigil.fencing.run import FenceRun
from vigil.fencing.topology import (
    DelayDraw,
    Level,
    Topology,
    check_topology,
    delay_for,
    levels_for,
    parse_list_output,
    plug_for,
    static_targets,
    topology_of,
)

log = logging.getLogger("vigil.fencing")

Sleep = Callable[[float], Awaitable[None]]


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class Fencer:
    """Fences nodes for node ME with DEVICES (in configuration order).

    TOPOLOGY gives explicit levels per node; nodes it does not name get one
    level per capable device. RNG draws random delays, SLEEP waits them and
    CLOCK_MS stamps the history: inject them to test without waiting.
    """

    def __init__(self, devices: Sequence[FenceDevice], me: NodeName, *,
                 topology: Topology | None = None,
                 runner: StdinRunner = run_program,
                 rng: DelayDraw | None = None,
                 sleep: Sleep = asyncio.sleep,
                 clock_ms: Callable[[], int] = wall_clock_ms,
                 history_limit: int = DEFAULT_LIMIT) -> None:
        self.devices = tuple(devices)
        self.me = me
        self.topology = topology
        if topology is not None:
            check_topology(topology, self.devices)
        self.history = FenceHistory(history_limit)
        self._by_name = {d.name: d for d in self.devices}
        self._runner = runner
        self._rng: DelayDraw = rng if rng is not None else random.SystemRandom()
        self._sleep = sleep
        self._clock_ms = clock_ms
        self._running: dict[tuple[NodeName, FenceAction], asyncio.Task[FenceResult]] = {}

    @classmethod
    def from_config(cls, config: ClusterConfig, me: NodeName, *,
                    runner: StdinRunner = run_program, rng: DelayDraw | None = None) -> Fencer:
        """The fencer for node ME of CONFIG: its ``[[fence_device]]`` entries and its
        ``[[fencing.level]]`` topology (nodes without levels: one level per device)."""
        return cls(config.fencing.devices, me, topology=topology_of(config.fencing),
                   runner=runner, rng=rng)

    @property
    def configured(self) -> bool:
        """True when some device is configured (else fence() always fails)."""
        return bool(self.devices)

    # -- fencing -----------------------------------------------------------

    async def fence(self, node: NodeName, reason: str,
                    action: FenceAction = FenceAction.REBOOT) -> FenceResult:
        """Fence NODE (``reboot`` unless ACTION says ``off``/``on``); never raises for
        a device's failure. Concurrent calls for the same node and action share one
        run, as Pacemaker merges duplicate fencing requests."""
        if action not in (FenceAction.OFF, FenceAction.REBOOT, FenceAction.ON):
            raise ValueError(f"fence action must be off, reboot or on, not {action.value}")
        key = (node, action)
        task = self._running.get(key)
        if task is None:
            task = asyncio.create_task(self._fence(node, reason, action))
            self._running[key] = task
            task.add_done_callback(lambda _t: self._running.pop(key, None))
        return await asyncio.shield(task)

    async def _fence(self, node: NodeName, reason: str, action: FenceAction) -> FenceResult:
        started = self._clock_ms()
        begun = time.monotonic()
        if node == self.me:
            return self._finish(FenceResult(
                node, action, False, reason, f"refusing to fence {node}: it is this node",
                self.me, started, 0))
        levels = await self.levels(node)
        log.info("fencing node=%s action=%s levels=%d reason=%s", node, action.value,
                 len(levels), reason)
        run = FenceRun(node, action, levels)
        delayed: set[str] = set()
        while (step := run.next_step()) is not None:
            device = self._by_name[step.device]
            delay = 0
            if step.device not in delayed:
                delayed.add(step.device)
                delay = delay_for(device, self._rng, node)
                if delay:
                    log.info("fence delay node=%s device=%s delay_ms=%d", node, device.name,
                             delay)
                    await self._sleep(delay / 1000)
            result = await run_agent(device, step.action, plug_for(device, node),
                                     runner=self._runner, delay_ms=delay)
            log.log(logging.INFO if result.succeeded else logging.WARNING,
                    "fence agent finished node=%s %s", node, result.describe())
            run.record(result)
        duration = round((time.monotonic() - begun) * 1000)
        return self._finish(FenceResult(
            node, action, run.succeeded, reason, run.summary, self.me, started, duration,
            run.devices, tuple(run.attempts)))

    def _finish(self, result: FenceResult) -> FenceResult:
        self.history.add(result)
        log.log(logging.INFO if result.succeeded else logging.ERROR,
                "fence %s node=%s action=%s duration_ms=%d: %s",
                "succeeded" if result.succeeded else "failed", result.node,
                result.action.value, result.duration_ms, result.summary)
        return result

    def confirm(self, node: NodeName, reason: str = "confirmed by an administrator",
                action: FenceAction = FenceAction.OFF) -> FenceResult:
        """Record that a person made sure NODE is off ("meatware", ``vigil fence
        --confirm``): the same as a successful fence for everything that waits on one."""
        return self._finish(FenceResult(
            node, action, True, reason, f"{node} confirmed fenced by hand on {self.me}",
            self.me, self._clock_ms(), 0, manual=True))

    # -- devices -----------------------------------------------------------

    async def levels(self, node: NodeName) -> tuple[Level, ...]:
        """NODE's levels now: asks ``list`` of devices without a static node list."""
        listed: dict[str, frozenset[str] | None] = {}
        if self.topology is None or node not in self.topology:
            for device in self.devices:
                if static_targets(device) is None and node != self.me:
                    listed[device.name] = await self.list_plugs(device.name)
        return levels_for(node, self.devices, self.me, topology=self.topology, listed=listed)

    async def list_plugs(self, device_name: str) -> frozenset[str] | None:
        """The plugs DEVICE's ``list`` action reports; None when it cannot say."""
        result = await self.device_action(device_name, FenceAction.LIST)
        if not result.succeeded:
            return None
        plugs = parse_list_output(result.output)
        return plugs or None

    async def device_action(self, device_name: str, action: FenceAction,
                            node: NodeName | None = None) -> DeviceResult:
        """Run one ACTION (status, monitor, list, or a single off/on/reboot) of one device."""
        device = self._by_name.get(device_name)
        if device is None:
            return DeviceResult(device_name, action, None, DeviceOutcome.ERROR, None,
                                f"no fence device named {device_name}", 0)
        plug = plug_for(device, node) if node is not None else None
        return await run_agent(device, action, plug, runner=self._runner)
