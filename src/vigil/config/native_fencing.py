"""Fencing tables of a native ``vigil.toml``: ``[[fence_device]]`` and ``[[fencing.level]]``.

Rules of this file:
- A device's ``delay`` is one duration, or a delay per target node: a table
  ``{ node1 = "5s", node2 = "0s" }`` or Pacemaker's ``pcmk_delay_base`` text
  ``"node1:5s;node2:0s"``. A node the map does not name waits nothing.
- Levels are Pacemaker's fencing-topology: per node, an ``index`` (1 to 9,
  tried in ascending order) and the ``devices`` that must all succeed. Checked
  here as ``pcs stonith level verify`` does: every device exists, every node is
  in the cluster, no node has the same index twice.
"""

from __future__ import annotations

from vigil.config.model import FenceDevice, FenceLevel, NodeName, SourceRef
from vigil.config.native_cluster import unknown_node
from vigil.config.native_fields import (
    DURATION_HINT,
    Table,
    Unique,
    did_you_mean,
    parse_duration,
    read_name,
)
from vigil.config.native_schema import FENCE_KEYS, FENCING_KEYS, LEVEL_KEYS, MAX_FENCE_LEVEL

__all__ = ["parse_delay_map", "read_fence_devices", "read_fence_levels"]

DELAY_MAP_HINT = ('one duration ("5s"), or per node: { node1 = "5s", node2 = "0s" } '
                  'or "node1:5s;node2:0s" (as pcmk_delay_base)')


def parse_delay_map(text: str) -> dict[str, int]:
    """``"node1:5s;node2:0s"`` as {node: ms}; ValueError with the reason."""
    out: dict[str, int] = {}
    for part in text.split(";"):
        if not part.strip():
            continue
        node, sep, value = part.partition(":")
        node, value = node.strip(), value.strip()
        if not sep or not node:
            raise ValueError(f"{part.strip()!r} is not NODE:DURATION")
        if node in out:
            raise ValueError(f"node {node!r} is given twice")
        out[node] = 0 if value == "0" else parse_duration(value)
    if not out:
        raise ValueError("no NODE:DURATION in it")
    return out


def _read_delay(t: Table, nodes: tuple[NodeName, ...]) -> tuple[int, dict[NodeName, int]]:
    """(delay for every node, delay per node) from T's ``delay``."""
    raw = t.data.get("delay")
    if raw is None:
        return 0, {}
    per: dict[str, object]
    if isinstance(raw, dict):
        per = dict(raw)
    elif isinstance(raw, str) and ":" in raw:
        try:
            per = dict(parse_delay_map(raw))
        except ValueError as e:
            t.error("delay", f"{t.name}: delay: {e}", DELAY_MAP_HINT)
            return 0, {}
    else:
        return t.duration("delay", 0), {}
    by_node: dict[NodeName, int] = {}
    for node, value in per.items():
        if node not in nodes:
            unknown_node(t, ("delay", node) if isinstance(raw, dict) else ("delay",), node,
                         nodes, "delay")
            continue
        try:
            by_node[NodeName(node)] = parse_duration(value)
        except ValueError as e:
            t.reader.error(t.at("delay", node) if isinstance(raw, dict) else t.at("delay"),
                           f"{t.name}: delay for {node}: {e}", DURATION_HINT)
    return 0, by_node


def read_fence_devices(top: Table, nodes: tuple[NodeName, ...]) -> tuple[FenceDevice, ...]:
    devices: list[FenceDevice] = []
    names = Unique("fence device name")
    for t in top.tables("fence_device", "[[fence_device]]", FENCE_KEYS):
        name = read_name(t, "name", "fence device name")
        if name is not None:
            t.name = f"[[fence_device]] {name!r}"
        agent = t.string("agent", required=True,
                         hint='agent = "fence_ipmilan" (a fence-agents program) or a script path')
        if agent is not None and (any(c.isspace() for c in agent)
                                  or ("/" in agent and not agent.startswith("/"))):
            t.error("agent", f"{t.name}: agent {agent!r} is neither a fence agent name "
                    "nor an absolute path", 'e.g. agent = "fence_ipmilan"')
            agent = None
        params = t.str_map("params")
        targets: list[NodeName] = []
        for i, node in enumerate(t.str_list("nodes") or ()):
            if node not in nodes:
                unknown_node(t, ("nodes", i), node, nodes, "nodes")
            else:
                targets.append(NodeName(node))
        host_map: dict[NodeName, str] = {}
        for node, plug in t.str_map("host_map").items():
            if node not in nodes:
                unknown_node(t, ("host_map", node), node, nodes, "host_map")
            else:
                host_map[NodeName(node)] = plug
        timeout = t.duration("timeout", 60_000, minimum=1)
        delay, by_node = _read_delay(t, nodes)
        random_delay = t.duration("random_delay", 0)
        t.done()
        if name is None or agent is None or not names.add(t, "name", name):
            continue
        devices.append(FenceDevice(name, agent, params, tuple(targets), host_map, timeout,
                                   delay, random_delay, SourceRef(t.reader.file, t.line()),
                                   by_node))
    return tuple(devices)


def read_fence_levels(top: Table, nodes: tuple[NodeName, ...],
                      devices: tuple[FenceDevice, ...]) -> tuple[FenceLevel, ...]:
    """``[[fencing.level]]`` entries, checked against NODES and DEVICES."""
    fencing = top.table("fencing", "[fencing]", FENCING_KEYS)
    if fencing is None:
        return ()
    known = {d.name: d for d in devices}
    seen: dict[tuple[str, int], int | None] = {}  # (node, index) -> its line
    levels: list[FenceLevel] = []
    for t in fencing.tables("level", "[[fencing.level]]", LEVEL_KEYS):
        node = t.string("node", required=True, hint='node = "node1" (the node it fences)')
        index = t.integer("index", None, minimum=1, maximum=MAX_FENCE_LEVEL, required=True)
        names = t.str_list("devices")
        t.done()
        if node is not None and node not in nodes:
            unknown_node(t, ("node",), node, nodes, "node")
            node = None
        if node is not None and index is not None:
            t.name = f"[[fencing.level]] {index} of {node}"
        ok = node is not None and index is not None
        if not names:
            t.error("devices" if names is not None else None,
                    f"{t.name}: devices is missing or empty",
                    'devices = ["ipmi-node1"] (every one must succeed for the level to)')
            ok = False
        chosen: list[str] = []
        for i, dev in enumerate(names or ()):
            if dev not in known:
                guess = did_you_mean(dev, list(known))
                t.reader.error(t.at("devices", i), f"{t.name}: unknown fence device {dev!r}",
                               f"did you mean {guess!r}?" if guess else
                               (f"fence devices are: {', '.join(known)}" if known else
                                "declare it with [[fence_device]] name = ..."))
                ok = False
            elif dev in chosen:
                t.reader.error(t.at("devices", i), f"{t.name}: device {dev!r} is in this "
                               "level twice", "name each device once")
                ok = False
            else:
                chosen.append(dev)
                target = known[dev]
                static = set(target.nodes) | set(target.host_map)
                if static and node is not None and node not in static:
                    t.reader.warning(
                        t.at("devices", i), f"{t.name}: device {dev!r} is configured for "
                        f"{', '.join(sorted(static))}, not {node}; it will be asked to fence "
                        f"{node} anyway (a level is used as written)",
                        f"add {node} to its nodes (or host_map), or use another device")
        if node is None or index is None:
            continue
        if (node, index) in seen:
            t.error("index", f"{t.name}: {node} has a level {index} already (line "
                    f"{seen[(node, index)]})", f"give each of {node}'s levels its own index: "
                    "levels are tried from the lowest index up")
            continue
        seen[(node, index)] = t.line("index")
        if not ok:
            continue
        levels.append(FenceLevel(NodeName(node), index, tuple(chosen),
                                 SourceRef(t.reader.file, t.line())))
    fencing.done()
    if levels and not devices:
        fencing.error("level", "[fencing]: levels are given but no [[fence_device]]",
                      "declare the devices the levels name")
    return tuple(levels)
