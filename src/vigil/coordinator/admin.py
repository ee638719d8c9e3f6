"""The administrator's settings, replicated on every node: standby, moves, cleanups.

Rules of this file:
- Only the DC writes: it applies a command to its settings and gives them the
  next version, ``(counter + 1, DC name)``. Every node keeps the settings of
  the highest version it has seen (counter first, then the writer's name, so
  two partitions that both wrote the same counter still agree after a heal),
  and every report carries them. So a new DC starts from the newest settings
  any member holds: nothing depends on what only the old DC knew.
- A command is identified by its origin node and ``(incarnation, number)``;
  ``applied`` keeps the newest one applied per origin, which is how the origin
  knows its command was accepted (and a repeat is applied once).
- A cleanup is a fact with a version: ``cleanups[rid]`` is the version that
  asked for it. A node cleans a resource up when it sees a version newer than
  the one it last acted on. Only the newest ``MAX_CLEANUPS`` are kept;
  ``cleanup_floor`` says from which version on the list is complete, and a node
  that was away for longer cleans up everything it holds failures for.
- Pure values: ``apply`` returns new settings, or raises ``AdminError`` with
  words for the administrator and changes nothing.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TypeVar

from vigil.config import ClusterConfig, NodeName, ResourceId
from vigil.policy import AdminConstraint, ConstraintKind

#: Cleanups remembered (the newest); older ones are summed up by ``cleanup_floor``.
MAX_CLEANUPS = 64

_K = TypeVar("_K")
_V = TypeVar("_V")

RequestId = tuple[int, int]  # (origin incarnation, number within it)


class AdminError(ValueError):
    """A command that cannot be applied, with a hint; nothing was changed."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class CommandKind(enum.Enum):
    STANDBY = "standby"  # NODE takes no resources (hb_standby)
    ONLINE = "online"  # NODE takes resources again (hb_takeover)
    MOVE = "move"  # TARGET (resource or group) runs on NODE
    UNMOVE = "unmove"  # drop TARGET's move
    CLEANUP = "cleanup"  # forget TARGET's failures everywhere and probe it again


_NEEDS_NODE = frozenset({CommandKind.STANDBY, CommandKind.ONLINE, CommandKind.MOVE})
_NEEDS_TARGET = frozenset({CommandKind.MOVE, CommandKind.UNMOVE, CommandKind.CLEANUP})


@dataclass(frozen=True, slots=True)
class AdminCommand:
    """One administrator command, as ``vigil standby|online|move|unmove|cleanup`` sends it."""

    kind: CommandKind
    node: NodeName | None = None
    target: str | None = None

    def __post_init__(self) -> None:
        if (self.node is not None) != (self.kind in _NEEDS_NODE):
            raise AdminError(f"{self.kind.value} {'needs' if self.node is None else 'takes no'} "
                             "node")
        if (self.target is not None) != (self.kind in _NEEDS_TARGET):
            raise AdminError(f"{self.kind.value} {'needs' if self.target is None else 'takes no'} "
                             "resource or group")

    def __str__(self) -> str:
        return " ".join(w for w in (self.kind.value, self.target, self.node) if w)


def check_command(config: ClusterConfig, command: AdminCommand) -> None:
    """Refuse a command naming what the configuration lacks (``AdminError`` with a hint)."""
    if command.node is not None and command.node not in config.node_names:
        raise AdminError(f"no node {command.node!r} in the configuration",
                         f"configured nodes: {', '.join(config.node_names)}")
    if command.target is not None and not members_of(config, command.target):
        names = dict.fromkeys([str(g.id) for g in config.groups]
                              + [str(r.id) for r in config.resources])
        raise AdminError(f"no resource or group {command.target!r} in the configuration",
                         f"known: {', '.join(names) or '(none)'}")


def members_of(config: ClusterConfig, target: str) -> tuple[ResourceId, ...]:
    """The resources TARGET names: a group's members, or the resource itself."""
    for group in config.groups:
        if group.id == target:
            return group.resources
    for resource in config.resources:
        if resource.id == target:
            return (resource.id,)
    return ()


def unit_of(config: ClusterConfig, target: str) -> str:
    """The unit TARGET is placed with: its group's id, or itself."""
    group = config.group_of(target)
    return str(group.id) if group is not None else target


@dataclass(frozen=True, slots=True, order=True)
class Version:
    """Settings versions compare by counter, then by the DC that wrote them."""

    counter: int = 0
    writer: str = ""

    def __str__(self) -> str:
        return f"{self.counter}" + (f" by {self.writer}" if self.writer else "")


def _frozen(mapping: Mapping[_K, _V]) -> Mapping[_K, _V]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True, slots=True)
class AdminSettings:
    """The cluster's administrator settings at one version. See the file's rules."""

    version: Version = Version()
    standby: frozenset[NodeName] = frozenset()
    moves: Mapping[str, NodeName] = field(default_factory=dict)  # target -> node
    cleanups: Mapping[ResourceId, int] = field(default_factory=dict)  # rid -> version counter
    cleanup_floor: int = 0
    applied: Mapping[NodeName, RequestId] = field(default_factory=dict)  # origin -> newest

    def constraints(self, config: ClusterConfig) -> tuple[AdminConstraint, ...]:
        """The moves as policy constraints (those naming what is no longer configured dropped)."""
        return tuple(
            AdminConstraint(ConstraintKind.MOVE, target, node)
            for target, node in sorted(self.moves.items())
            if members_of(config, target) and node in config.node_names
        )

    def accepted(self, origin: NodeName, request: RequestId) -> bool:
        """Whether ORIGIN's REQUEST is applied in these settings."""
        done = self.applied.get(origin)
        return done is not None and done >= request

    def cleanup_since(self, seen: int) -> tuple[frozenset[ResourceId], bool]:
        """Resources cleaned up after version SEEN, and whether the list may be incomplete."""
        rids = frozenset(rid for rid, v in self.cleanups.items() if v > seen)
        return rids, seen < self.cleanup_floor

    def apply(self, config: ClusterConfig, command: AdminCommand, writer: NodeName,
              origin: NodeName, request: RequestId) -> AdminSettings:
        """These settings with COMMAND applied by DC WRITER, at the next version."""
        check_command(config, command)
        version = Version(self.version.counter + 1, writer)
        applied = dict(self.applied)
        applied[origin] = max(request, applied.get(origin, request))
        new = replace(self, version=version, applied=_frozen(applied))
        kind = command.kind
        if kind is CommandKind.STANDBY:
            assert command.node is not None
            return replace(new, standby=self.standby | {command.node})
        if kind is CommandKind.ONLINE:
            assert command.node is not None
            return replace(new, standby=self.standby - {command.node})
        assert command.target is not None
        if kind in (CommandKind.MOVE, CommandKind.UNMOVE):
            unit = unit_of(config, command.target)
            moves = {t: n for t, n in self.moves.items() if unit_of(config, t) != unit}
            if kind is CommandKind.MOVE:
                assert command.node is not None
                moves[command.target] = command.node
            return replace(new, moves=_frozen(moves))
        cleanups = dict(self.cleanups)
        for rid in members_of(config, command.target):
            cleanups[rid] = version.counter
        floor = self.cleanup_floor
        if len(cleanups) > MAX_CLEANUPS:
            keep = sorted(cleanups.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_CLEANUPS]
            floor = max(floor, min(v for _, v in keep) - 1)
            cleanups = dict(keep)
        return replace(new, cleanups=_frozen(cleanups),
                       cleanup_floor=floor)

    def describe(self) -> str:
        parts = [f"version {self.version}"]
        if self.standby:
            parts.append("standby " + ",".join(sorted(self.standby)))
        if self.moves:
            parts.append("moves " + ",".join(f"{t}->{n}" for t, n in sorted(self.moves.items())))
        return "; ".join(parts)


def newest(a: AdminSettings, b: AdminSettings) -> AdminSettings:
    """The settings that win: the higher version (A on a tie, which is the same settings)."""
    return b if b.version > a.version else a
