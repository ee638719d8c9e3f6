"""What happened in a simulation, in order: every effect of every node, and every fault."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from vigil.config import NodeName
from vigil.membership import (
    CoordinatorChanged,
    Effect,
    LinkStateChanged,
    PeerStateChanged,
    QuorumChanged,
    Send,
    SetTimer,
    ViewChanged,
)


@dataclass(frozen=True, slots=True)
class Fault:
    """Something the simulation did to the cluster (crash, partition, loss …)."""

    description: str


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at_ms: int
    node: NodeName | None  # None: the whole network
    item: Effect | Fault


def describe(item: Effect | Fault) -> str:
    """One line for a person."""
    if isinstance(item, Fault):
        return f"FAULT {item.description}"
    if isinstance(item, PeerStateChanged):
        return (f"peer {item.node} {item.old.value} -> {item.new.value} "
                f"(incarnation {item.incarnation}): {item.reason}")
    if isinstance(item, LinkStateChanged):
        return (f"link {item.link} of {item.node} {item.old.value} -> {item.new.value}: "
                f"{item.reason}")
    if isinstance(item, ViewChanged):
        return f"view {item.view}: {item.reason}"
    if isinstance(item, CoordinatorChanged):
        return f"DC {item.old} -> {item.new}: {item.reason}"
    if isinstance(item, QuorumChanged):
        return f"quorum: {item.reason}"
    if isinstance(item, Send):
        return f"send {item.kind.value}: {item.reason}"
    if isinstance(item, SetTimer):
        return f"timer at {item.at_ms} ms: {item.reason}"
    return f"{type(item).__name__}: {item.reason}"


def render(entries: Iterable[TimelineEntry]) -> str:
    """The timeline as text, one entry a line: time, node, what."""
    return "\n".join(
        f"{e.at_ms:>10} ms  {e.node or '-':<10} {describe(e.item)}" for e in entries
    )
