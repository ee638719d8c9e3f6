"""Simulated fence devices and watchdogs: what powers a simulated node off, and when.

Rules of this file:
- Fakes, as the agents are (``vigil.sim.agents``). Fence devices run through
  the real levels with their real delays, slow or failing as a test says
  (``vigil.sim.fence_runs``); a fence that takes powers the target machine off
  (every service with it), and it boots again after ``boot_ms``; the fencing
  coordinator is told ``FenceConfirmed``, or ``FenceFailed`` and the run is
  tried again after the daemon's back-off. A fencer that was itself powered
  off, crashed or restarted meanwhile fences nobody: that is how the two-node
  fence race has one winner. A frozen fencer's run waits for its resume.
- A watchdog per node when the configuration has one: armed at boot, fed
  every keepalive from the node's "main loop" as ``WatchdogGuard`` decides
  (the same rule the daemon uses), disarmed by a clean stop. Its timer runs
  on while the daemon is frozen; when it expires the machine resets (down,
  then boots after ``boot_ms``), exactly ``watchdog_timeout_ms`` after the
  last feed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from vigil.config import NodeName
from vigil.coordinator import Fence, LocalState, WatchdogGuard, watchdog_timeout_ms
from vigil.sim.fence_runs import FenceAgentBehaviour, FenceRecord, FenceRuns

if TYPE_CHECKING:
    from vigil.sim.cluster import ClusterSimulation

#: How long a simulated fence agent takes once its delay has passed.
FENCE_OP_MS = 200
#: How long a simulated machine takes from reset (or power cycle) to a running daemon.
BOOT_MS = 3_000


@dataclass(slots=True)
class _Dog:
    guard: WatchdogGuard
    last_feed_ms: int
    due_ms: int
    life: int  # the node's boot count when armed
    armed: bool = True
    feeds: int = 0


@dataclass(slots=True)
class SimFencing:
    """Fence devices and watchdogs of one ``ClusterSimulation`` (see the module)."""

    sim: ClusterSimulation
    fence_op_ms: int = FENCE_OP_MS
    boot_ms: int = BOOT_MS
    #: (at, node, why) of every watchdog reset.
    resets: list[tuple[int, NodeName, str]] = field(default_factory=list)
    _dogs: dict[NodeName, _Dog] = field(default_factory=dict)
    _lives: dict[NodeName, int] = field(default_factory=dict)
    #: Nodes running since a power cycle booted them (a scheduled restart finds them up).
    rebooted: set[NodeName] = field(default_factory=set)
    runs: FenceRuns = field(init=False)

    def __post_init__(self) -> None:
        self.runs = FenceRuns(self.sim, self.fence_op_ms, self.power_cycle,
                              lambda node: self._lives.get(node, 0))

    @property
    def records(self) -> list[FenceRecord]:
        """Every fence run (one walk through the levels), in the order they ended."""
        return self.runs.records

    # -- fencing ------------------------------------------------------------------

    def fence(self, fencer: NodeName, effect: Fence) -> None:
        """FENCER's coordinator asked to fence ``effect.node``."""
        self.runs.fence(fencer, effect.node)

    def set_device(self, device: str, behaviour: FenceAgentBehaviour | None, at: int) -> None:
        """From AT, fence device DEVICE's agent behaves so (None: as default again)."""
        self.sim.call_at(at, lambda: self.runs.set_behaviour(device, behaviour))

    def power_cycle(self, node: NodeName, why: str) -> None:
        """NODE's machine goes down now and boots again after ``boot_ms``."""
        sim = self.sim
        if sim.is_running(node):
            sim.power_off(node, why)
        life = self._lives.get(node, 0)

        def boot() -> None:
            if not sim.is_running(node) and self._lives.get(node, 0) == life:
                self.rebooted.add(node)
                sim.restart(node, sim.now_ms)
        sim.call_at(sim.now_ms + self.boot_ms, boot)

    # -- node lives -----------------------------------------------------------------

    def booted(self, node: NodeName) -> None:
        """NODE's daemon started: a new life; its watchdog is armed (if configured)."""
        life = self._lives.get(node, 0) + 1
        self._lives[node] = life
        config = self.sim.config
        if config.watchdog is None:
            return
        now = self.sim.now_ms
        ka = config.timing.keepalive_ms
        dog = _Dog(WatchdogGuard.for_config(config), now, now + ka, life)
        self._dogs[node] = dog
        self.sim.call_at(now + ka, lambda: self._feed_tick(node, dog))
        self._arm_expiry(node, dog)

    def went_down(self, node: NodeName) -> None:
        """NODE's machine went down (crash, fence, reset): its pending fences die."""
        self._lives[node] = self._lives.get(node, 0) + 1
        self._dogs.pop(node, None)
        self.rebooted.discard(node)

    def stopped_cleanly(self, node: NodeName) -> None:
        """NODE's daemon left cleanly: the magic close disarms its watchdog."""
        dog = self._dogs.pop(node, None)
        if dog is not None:
            dog.armed = False
        self._lives[node] = self._lives.get(node, 0) + 1
        self.rebooted.discard(node)

    # -- watchdog ----------------------------------------------------------------------

    def _feed_tick(self, node: NodeName, dog: _Dog) -> None:
        sim = self.sim
        if self._dogs.get(node) is not dog or not dog.armed:
            return
        ka = sim.config.timing.keepalive_ms
        if sim.is_paused(node):
            sim.call_at(sim.now_ms + ka, lambda: self._feed_tick(node, dog))
            return  # the loop is frozen: this tick runs late, on resume
        now = sim.now_ms
        lag = now - dog.due_ms
        membership = sim.membership(node)
        core = sim.coordinator(node)
        if membership is None or core is None:
            return
        # Nothing to protect only once probed: a restarted daemon may find services running.
        stopped = core.local.probed and not any(s.is_active for s in core.local.states.values())
        blocked = any(s is LocalState.BLOCKED for s in core.local.states.values())
        feed, _why = dog.guard.decide(now, lag_ms=lag, quorate=membership.quorum.quorate,
                                      stable=membership.stable, resources_stopped=stopped,
                                      blocked=blocked)
        if feed:
            dog.last_feed_ms = now
            dog.feeds += 1
            self._arm_expiry(node, dog)
        dog.due_ms = now + ka
        sim.call_at(now + ka, lambda: self._feed_tick(node, dog))

    def _arm_expiry(self, node: NodeName, dog: _Dog) -> None:
        fed = dog.last_feed_ms
        at = fed + watchdog_timeout_ms(self.sim.config)

        def expire() -> None:
            if self._dogs.get(node) is dog and dog.armed and dog.last_feed_ms == fed:
                self.resets.append((self.sim.now_ms, node, "watchdog expired"))
                self.power_cycle(node, f"watchdog expired (last fed at {fed} ms)")
        self.sim.call_at(at, expire)


__all__ = ["BOOT_MS", "FENCE_OP_MS", "FenceAgentBehaviour", "FenceRecord", "SimFencing"]
