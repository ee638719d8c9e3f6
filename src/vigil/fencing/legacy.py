"""ha.cf's ``stonith_host`` lines as vigil fence devices, where a fence agent does
the same job; the rest reported with the reason. Pure.

Heartbeat's ``stonith_host FROM TYPE PARAMS...`` gives the plugin's parameters
by position, in the order the plugin names them (``stonith -t TYPE -n``).
``stonith TYPE FILE`` points at a plugin configuration file, which vigil does
not read: it is always reported.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from vigil.config import FenceDevice, LegacyStonith, NodeName


@dataclass(frozen=True, slots=True)
class Mapped:
    """The line became DEVICE; NOTE says what differs from Heartbeat, if anything."""

    device: FenceDevice
    note: str = ""


@dataclass(frozen=True, slots=True)
class Manual:
    """``meatware``: a person confirms these nodes are off (``vigil fence --confirm``)."""

    nodes: tuple[NodeName, ...]


@dataclass(frozen=True, slots=True)
class Unmapped:
    """No fence agent does this; REASON says why and what to write instead."""

    reason: str


Mapping_ = Mapped | Manual | Unmapped
#: Every line of a legacy configuration, with what became of it.
LegacyReport = tuple[tuple[LegacyStonith, Mapping_], ...]

_TEST_PLUGINS = ("null", "ssh", "external/ssh")
_TEST_REASON = ("is a test plugin that fences nothing (Heartbeat said so too); configure a "
                "[[fence_device]] with a real power or fabric fence agent")


def _node(word: str, nodes: Sequence[NodeName]) -> NodeName | None:
    """WORD as a configured node (Heartbeat compared host names case-blind)."""
    for node in nodes:
        if node.lower() == word.lower():
            return node
    return None


def _ipmi(params: Sequence[str], nodes: Sequence[NodeName]) -> Mapping_:
    # external/ipmi: hostname ipaddr userid passwd [interface]
    if len(params) < 4:
        return Unmapped("external/ipmi needs hostname ipaddr userid passwd [interface]")
    node = _node(params[0], nodes)
    if node is None:
        return Unmapped(f"external/ipmi fences {params[0]}, which is not a node of this cluster")
    options = {"ip": params[1], "username": params[2], "password": params[3]}
    if len(params) > 4 and params[4] == "lanplus":
        options["lanplus"] = "1"
    return Mapped(FenceDevice(f"ipmi-{node}", "fence_ipmilan", options, (node,)))


def _switch(agent: str, names: tuple[str, ...], keys: tuple[str, ...]) -> Callable[
        [Sequence[str], Sequence[NodeName]], Mapping_]:
    """A power switch whose outlets are named after the nodes (the plug is the node name)."""

    def convert(params: Sequence[str], nodes: Sequence[NodeName]) -> Mapping_:
        if len(params) < len(names):
            return Unmapped(f"{agent} equivalent needs {' '.join(names)}")
        options = dict(zip(keys, params, strict=False))
        return Mapped(FenceDevice(f"{agent}-{params[0]}", agent, options),
                      "outlets are found with the agent's list action, named after the nodes")

    return convert


#: Heartbeat STONITH plugin -> how its stonith_host parameters become a device.
PLUGINS: dict[str, Callable[[Sequence[str], Sequence[NodeName]], Mapping_]] = {
    "external/ipmi": _ipmi,
    "apcmaster": _switch("fence_apc", ("ipaddr", "login", "password"),
                         ("ip", "username", "password")),
    "apcmastersnmp": _switch("fence_apc_snmp", ("ipaddr", "port", "community"),
                             ("ip", "ipport", "community")),
    "wti_nps": _switch("fence_wti", ("ipaddr", "password"), ("ip", "password")),
}


def map_stonith(line: LegacyStonith, nodes: Sequence[NodeName]) -> Mapping_:
    """What LINE (a ``stonith`` or ``stonith_host`` directive) is for vigil."""
    if line.directive == "stonith":
        kind = line.words[0] if line.words else "?"
        return Unmapped(f"`stonith {kind} FILE` reads a plugin configuration file vigil does "
                        "not read; write the device as a [[fence_device]]")
    if len(line.words) < 2:
        return Unmapped("stonith_host needs FROM TYPE PARAMS...")
    origin, kind, params = line.words[0], line.words[1], line.words[2:]
    if kind == "meatware":
        targets = [n for n in (_node(w, nodes) for w in params) if n is not None]
        return Manual(tuple(targets) if targets else tuple(nodes))
    if kind in _TEST_PLUGINS:
        return Unmapped(f"{kind} {_TEST_REASON}")
    convert = PLUGINS.get(kind)
    if convert is None:
        return Unmapped(f"no fence agent is known to do what the {kind} plugin did; "
                        "configure its fence_* equivalent as a [[fence_device]]")
    mapped = convert(params, nodes)
    if isinstance(mapped, Mapped) and origin != "*":
        note = (f"Heartbeat ran it only from {origin}; vigil runs it from any node but "
                "the one it fences")
        mapped = Mapped(mapped.device, f"{mapped.note}; {note}" if mapped.note else note)
    return mapped


def devices_from_legacy(lines: Sequence[LegacyStonith], nodes: Sequence[NodeName],
                        ) -> tuple[tuple[FenceDevice, ...], LegacyReport]:
    """The devices LINES map to (names made unique, in file order), and every line
    with what became of it, for ``config check`` to report."""
    devices: list[FenceDevice] = []
    report: list[tuple[LegacyStonith, Mapping_]] = []
    taken: set[str] = set()
    for line in lines:
        mapped = map_stonith(line, nodes)
        if isinstance(mapped, Mapped):
            name, n = mapped.device.name, 2
            while name in taken:
                name, n = f"{mapped.device.name}-{n}", n + 1
            taken.add(name)
            d = mapped.device
            device = FenceDevice(name, d.agent, d.params, d.nodes, d.host_map, d.timeout_ms,
                                 d.delay_ms, d.random_delay_ms, line.source)
            mapped = Mapped(device, mapped.note)
            devices.append(device)
        report.append((line, mapped))
    return tuple(devices), tuple(report)
