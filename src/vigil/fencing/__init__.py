"""Fencing: fence devices (fence-agents protocol), topology levels, fence history.

Other packages import from here only. The daemon builds a ``Fencer`` with
``Fencer.from_config(config, me)`` and answers each ``Fence(node, reason)``
effect with ``await fencer.fence(node, reason) -> FenceResult``; ``confirm``
records a manual fence; ``history`` feeds ``vigil status``. ``FenceRun``,
``levels_for`` and ``map_stonith`` are the pure parts.
"""

from __future__ import annotations

from vigil.fencing.fencer import Fencer
from vigil.fencing.history import FenceHistory
from vigil.fencing.legacy import Manual, Mapped, Unmapped, devices_from_legacy, map_stonith
from vigil.fencing.results import (
    DeviceOutcome,
    DeviceResult,
    FenceAction,
    FenceResult,
    PowerState,
)
from vigil.fencing.run import RETRY_FIRST_MS, RETRY_MAX_MS, FenceRun, Step, retry_wait_ms
from vigil.fencing.topology import (
    Level,
    Topology,
    TopologyError,
    agent_options,
    can_fence,
    delay_for,
    levels_for,
    plug_for,
    topology_of,
)

__all__ = [
    "RETRY_FIRST_MS",
    "RETRY_MAX_MS",
    "DeviceOutcome",
    "DeviceResult",
    "FenceAction",
    "FenceHistory",
    "FenceResult",
    "FenceRun",
    "Fencer",
    "Level",
    "Manual",
    "Mapped",
    "PowerState",
    "Step",
    "Topology",
    "TopologyError",
    "Unmapped",
    "agent_options",
    "can_fence",
    "delay_for",
    "devices_from_legacy",
    "levels_for",
    "map_stonith",
    "plug_for",
    "retry_wait_ms",
    "topology_of",
]
