"""The daemon's safety parts in one place: fencing, the watchdog, and their control commands.

``Service`` builds one ``Safety`` after the resource runtime and calls
``start``, ``commands``, ``status_doc`` and ``close``; everything else is in
``fencing_runner`` and ``watchdog_feeder``.

Control commands (docs/status.md lists the protocol):
- ``{"cmd": "fence", "node": N}``: fence N now with the configured devices
  (``vigil fence N``); answers ``{"fenced": true, "message": …}`` or an error.
- ``{"cmd": "fence", "node": N, "confirm": true}``: the administrator swears N
  is off (``vigil fence --confirm N``); only on the DC, which is the node that
  waits for fences.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from vigil.config import ClusterConfig, NodeName
from vigil.coordinator import FencingMode, fencing_mode
from vigil.daemon.clock import Clock
from vigil.daemon.control import CommandError
from vigil.daemon.fencing_runner import FencingRunner
from vigil.daemon.watchdog_feeder import Health, WatchdogFeeder

if TYPE_CHECKING:
    from vigil.daemon.resources import ResourceRuntime
    from vigil.daemon.runtime import NodeRuntime

Handler = Callable[[Mapping[str, Any]], Awaitable[object]]


class Safety:
    """Fencing runner and watchdog feeder of node ME."""

    def __init__(self, config: ClusterConfig, me: str, clock: Clock,
                 runtime: NodeRuntime, resources: ResourceRuntime) -> None:
        self.config = config
        self.me = NodeName(me)
        self.runtime = runtime
        self.resources = resources
        self.mode = fencing_mode(config)
        self.fencing = FencingRunner(config, self.me, resources.feed)
        resources.on_fence = self.fencing.request
        self.watchdog = WatchdogFeeder(config, config.watchdog, clock, self._health) \
            if config.watchdog is not None else None

    def start(self) -> None:
        """Arm the watchdog (``VigilError`` when the device cannot be opened)."""
        if self.watchdog is not None:
            self.watchdog.start()

    async def close(self, *, clean: bool) -> None:
        await self.fencing.close()
        if self.watchdog is not None:
            self.watchdog.close(clean=clean)

    def _health(self) -> Health:
        m = self.runtime.membership
        local = self.resources.core.local
        stopped = local.probed and not any(s.is_active for s in local.states.values())
        return Health(m.quorum.quorate, m.stable, stopped, bool(local.blocked()))

    # -- control API --------------------------------------------------------------

    def commands(self) -> dict[str, Handler]:
        return {"fence": self._fence_command}

    async def _fence_command(self, req: Mapping[str, Any]) -> object:
        node = req.get("node")
        if not isinstance(node, str) or not node:
            raise CommandError('fence needs a node ("node")', '{"cmd": "fence", "node": "node2"}')
        if node not in self.config.node_names:
            raise CommandError(f"no node {node!r} in the configuration",
                               f"configured nodes: {', '.join(self.config.node_names)}")
        if node == self.me:
            raise CommandError(f"refusing to fence {node}: it is this node",
                               "run it on another node of the cluster")
        target = NodeName(node)
        reason = str(req.get("reason") or "asked for by an administrator")
        if req.get("confirm") is True:
            if not self.resources.core.is_dc:
                dc = self.runtime.membership.dc
                raise CommandError(f"this node is not the DC, which waits for fences "
                                   f"(DC: {dc or 'none'})",
                                   f"run `vigil fence --confirm {node}` on {dc}" if dc
                                   else "wait for a DC, then run it there")
            result = self.fencing.confirm(target, reason)
            return {"fenced": True, "manual": True, "message": result.summary}
        if self.mode is not FencingMode.DEVICES:
            raise CommandError("no fence device is configured",
                               "add a [[fence_device]], or use --confirm once the node is off")
        result = await self.fencing.fence_now(target, reason)
        if not result.succeeded:
            raise CommandError(f"fencing {node} failed: {result.summary}",
                               (result.output.strip().splitlines() or [""])[-1] or None)
        return {"fenced": True, "manual": False, "message": result.summary}

    # -- status ---------------------------------------------------------------------

    def status_doc(self) -> dict[str, Any]:
        """The ``fencing`` and ``watchdog`` sections of the status document."""
        fencing: dict[str, Any] = {"mode": self.mode.value, **self.fencing.status_doc()}
        return {"fencing": fencing,
                "watchdog": self.watchdog.status_doc() if self.watchdog is not None else None}
