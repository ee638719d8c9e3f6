"""The agents written in Python: ``vigil:ipaddr``, ``macaddr``, ``filesystem``, ``dummy``."""

from __future__ import annotations

from vigil.agents.builtin.declare import Builtin, Param, metadata_xml
from vigil.agents.builtin.dummy import Dummy
from vigil.agents.builtin.filesystem import Filesystem
from vigil.agents.builtin.ipaddr import IpAddr
from vigil.agents.builtin.legacy import LegacyBuiltin, legacy_builtins
from vigil.agents.builtin.macaddr import MacAddr

__all__ = [
    "Builtin",
    "Dummy",
    "Filesystem",
    "IpAddr",
    "LegacyBuiltin",
    "MacAddr",
    "Param",
    "builtins",
    "legacy_builtins",
    "metadata_xml",
]


def builtins() -> dict[str, Builtin]:
    """Every built-in by its type name (``vigil:TYPE``)."""
    return {b.NAME: b for b in (IpAddr(), MacAddr(), Filesystem(), Dummy())}
