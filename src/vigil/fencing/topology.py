"""Which devices can fence a node, in which levels, and what to tell each agent. Pure.

Rules of this file (Pacemaker's fencing topology, as its fenced does it):
- A node has levels, tried in order; the first level that succeeds fences it.
- A level of several devices succeeds only when every device in it does; the
  first device that fails ends that level and the next level is tried.
- Without an explicit topology every device that can fence the node is one
  level, in configuration order. An explicit one (``[[fencing.level]]``) keeps
  the configuration's index numbers, so "level 2" in a log is the level
  written with ``index = 2``.
- Whom a device can fence: its ``nodes`` and ``host_map`` when either is given
  (Pacemaker's ``static-list``); otherwise what its ``list`` action reports
  (``dynamic-list``); when that is unknown or the agent has no ``list``, every
  node but the one running it (the model's documented default).
- The agent gets its options as ``key=value`` lines on stdin, the device's
  parameters first and ``action``/``plug`` last, so a parameter can never
  override them (fence-agents take the last value of a repeated key).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from vigil.config import FenceDevice, Fencing, NodeName
from vigil.fencing.results import FenceAction


class TopologyError(ValueError):
    """An explicit topology names a device that does not exist."""


class ParameterError(ValueError):
    """A device parameter cannot be written as one ``key=value`` line."""


class DelayDraw(Protocol):
    """The part of ``random.Random`` the random delay needs (seed it in tests)."""

    def randint(self, a: int, b: int) -> int: ...


@dataclass(frozen=True, slots=True)
class Level:
    """One fencing level: its number (from 1) and its devices, all of which must succeed."""

    index: int
    devices: tuple[str, ...]


#: Explicit levels: per node, levels in order, each a ``Level`` (its index kept) or a
#: list of device names (numbered by position from 1).
Topology = Mapping[NodeName, Sequence[Level | Sequence[str]]]


def topology_of(fencing: Fencing) -> Topology | None:
    """The configuration's ``[[fencing.level]]`` entries as a topology (None: none)."""
    if not fencing.levels:
        return None
    nodes = dict.fromkeys(lv.node for lv in fencing.levels)
    return {node: tuple(Level(lv.index, lv.devices) for lv in fencing.levels_of(node))
            for node in nodes}


def plug_for(device: FenceDevice, node: NodeName) -> str:
    """The device's name for NODE: its ``host_map`` entry, else the node name."""
    return device.host_map.get(node, node)


def static_targets(device: FenceDevice) -> frozenset[NodeName] | None:
    """The nodes DEVICE is configured for, or None when it must be asked (``list``)."""
    if not device.nodes and not device.host_map:
        return None
    return frozenset(device.nodes) | frozenset(device.host_map)


def can_fence(device: FenceDevice, node: NodeName, me: NodeName,
              listed: frozenset[str] | None = None) -> bool:
    """True when DEVICE, run on ME, can fence NODE.

    LISTED is the plugs the device's ``list`` action reported (None: not known,
    or the agent has no ``list``); it only counts for devices without a static list.
    """
    static = static_targets(device)
    if static is not None:
        return node in static
    if node == me:
        return False
    return listed is None or plug_for(device, node) in listed


def levels_for(node: NodeName, devices: Sequence[FenceDevice], me: NodeName, *,
               topology: Topology | None = None,
               listed: Mapping[str, frozenset[str] | None] | None = None) -> tuple[Level, ...]:
    """NODE's fencing levels, in the order to try them.

    An explicit TOPOLOGY entry for NODE is used as written (Pacemaker does not
    second-guess it either); otherwise each device that can fence NODE is a level.
    """
    known = {d.name for d in devices}
    if topology is not None and node in topology:
        levels = []
        for i, entry in enumerate(topology[node], start=1):
            level = entry if isinstance(entry, Level) else Level(i, tuple(entry))
            missing = [n for n in level.devices if n not in known]
            if missing:
                raise TopologyError(f"level {level.index} for {node} names unknown fence "
                                    f"device(s) {', '.join(missing)}")
            if level.devices:
                levels.append(level)
        return tuple(levels)
    lists = listed or {}
    capable = [d.name for d in devices if can_fence(d, node, me, lists.get(d.name))]
    return tuple(Level(i, (name,)) for i, name in enumerate(capable, start=1))


def check_topology(topology: Topology, devices: Sequence[FenceDevice]) -> None:
    """Raise TopologyError when TOPOLOGY names a device that is not configured."""
    for node in topology:
        levels_for(node, devices, NodeName(""), topology=topology)


def agent_options(device: FenceDevice, action: FenceAction, plug: str | None) -> bytes:
    """What the agent reads on stdin: parameters, then ``action=`` and ``plug=``."""
    lines = []
    for key, value in device.params.items():
        if not key or any(c in key for c in "=\n\r\0") or any(c in value for c in "\n\r\0"):
            raise ParameterError(f"fence device {device.name}: parameter {key!r} cannot be "
                                 "passed as one key=value line")
        if key in ("action", "plug", "port", "nodename"):
            continue  # ours to set: a stray one in params must not redirect the action
        lines.append(f"{key}={value}")
    lines.append(f"action={action.value}")
    if plug is not None and action.targets_node:
        if any(c in plug for c in "\n\r\0"):
            raise ParameterError(f"fence device {device.name}: plug {plug!r} has a newline")
        lines.append(f"plug={plug}")
    return ("\n".join(lines) + "\n").encode()


def delay_for(device: FenceDevice, rng: DelayDraw, node: NodeName | None = None) -> int:
    """How long to wait before DEVICE fences NODE: its delay (for NODE, when given per
    target) plus a random part.

    As Pacemaker's ``pcmk_delay_base`` (which also takes ``node1:5s;node2:0s``)
    + ``pcmk_delay_max``: in a two-node split both sides fence at once, and the
    side whose device waits longer loses.
    """
    extra = rng.randint(0, device.random_delay_ms) if device.random_delay_ms > 0 else 0
    return device.delay_for_node(node) + extra


def parse_list_output(output: str) -> frozenset[str]:
    """The plugs a ``list`` action printed: one per line, ``plug[,alias]``."""
    plugs: set[str] = set()
    for raw in output.splitlines():
        line = raw.strip()
        if not line or " " in line.split(",", 1)[0]:
            continue  # log lines from the agent, not plugs
        plug, _, alias = line.partition(",")
        plugs.add(plug)
        if alias:
            plugs.add(alias)
    return frozenset(plugs)
