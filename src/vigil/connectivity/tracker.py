"""Up or dead per ping node, and the score: the rules of ``ping``, ``ping_group``, ``deadping``.

Rules of this file (as Heartbeat 3.0.6 and pingd):
- a ping node is ``init`` until it first answers; it is ``up`` from any reply
  and ``dead`` once it has been silent for ``deadping`` (a ping node that never
  answered is dead ``deadping`` after start-up). ``deadping`` defaults to
  ``deadtime``, as Heartbeat's.
- a ``ping_group`` is one ping node: a reply from any member counts, so it is
  up while any member answers (Heartbeat's ping_group media).
- the score is pingd's: ``multiplier`` × the number of ping nodes up.
- silent for ``deadping`` means ``now - last_reply >= deadping`` (the same
  boundary as the membership's deadtime).
Every change is returned as a ``PingNodeChanged`` with its reason.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from vigil.config import Connectivity


class PingNodeState(enum.Enum):
    INIT = "init"  # not answered yet, deadping not over
    UP = "up"
    DEAD = "dead"


@dataclass(frozen=True, slots=True)
class PingNodeChanged:
    """Ping node NAME went from OLD to NEW at AT_MS, because REASON."""

    name: str
    old: PingNodeState
    new: PingNodeState
    at_ms: int
    reason: str


@dataclass(frozen=True, slots=True)
class PingNodeStatus:
    name: str
    addresses: tuple[str, ...]
    is_group: bool
    state: PingNodeState
    last_reply_ago_ms: int | None  # None: never answered
    reason: str


@dataclass(frozen=True, slots=True)
class ConnectivityStatus:
    """This node's connectivity at one moment: what ``vigil status`` shows and the policy reads."""

    ping_nodes: tuple[PingNodeStatus, ...]
    reachable: int
    multiplier: int
    score: int  # multiplier × reachable: NodeAttributes.connectivity
    deadping_ms: int


@dataclass(slots=True)
class _Node:
    name: str
    addresses: tuple[str, ...]
    is_group: bool
    state: PingNodeState = PingNodeState.INIT
    last_reply_ms: int | None = None
    reason: str = "not answered yet"


class ConnectivityTracker:
    """The ping nodes of CONFIG, started at STARTED_MS; DEADTIME_MS when deadping is unset."""

    def __init__(self, config: Connectivity, deadtime_ms: int, started_ms: int) -> None:
        self.deadping_ms = config.deadping_ms if config.deadping_ms is not None else deadtime_ms
        if self.deadping_ms <= 0:
            raise ValueError(f"deadping must be positive, not {self.deadping_ms} ms")
        self.multiplier = config.multiplier
        self.started_ms = started_ms
        self._nodes = [_Node(p.name, p.addresses, p.is_group) for p in config.ping_nodes]
        self._by_address: dict[str, _Node] = {}
        for node in self._nodes:
            for address in node.addresses:
                self._by_address.setdefault(address, node)

    @property
    def addresses(self) -> tuple[str, ...]:
        """Every address to ping, each once, in configuration order."""
        return tuple(self._by_address)

    def reply_received(self, address: str, now_ms: int) -> tuple[PingNodeChanged, ...]:
        """ADDRESS answered at NOW_MS; an address no ping node has changes nothing."""
        node = self._by_address.get(address)
        if node is None:
            return ()
        node.last_reply_ms = now_ms
        if node.state is PingNodeState.UP:
            return ()
        member = f" (member {address} of the group)" if node.is_group else ""
        return (self._set(node, PingNodeState.UP, now_ms, f"answered{member}"),)

    def tick(self, now_ms: int) -> tuple[PingNodeChanged, ...]:
        """Mark dead every ping node silent for deadping at NOW_MS."""
        changes: list[PingNodeChanged] = []
        for node in self._nodes:
            if node.state is PingNodeState.DEAD:
                continue
            since = node.last_reply_ms if node.last_reply_ms is not None else self.started_ms
            silent = now_ms - since
            if silent < self.deadping_ms:
                continue
            what = ("never answered since start-up" if node.last_reply_ms is None
                    else f"no reply for {silent} ms")
            changes.append(self._set(node, PingNodeState.DEAD, now_ms,
                                     f"{what} (deadping {self.deadping_ms} ms)"))
        return tuple(changes)

    def next_deadline_ms(self) -> int | None:
        """When the next ping node goes dead unless it answers; None when all are dead."""
        due = [(n.last_reply_ms if n.last_reply_ms is not None else self.started_ms)
               + self.deadping_ms for n in self._nodes if n.state is not PingNodeState.DEAD]
        return min(due) if due else None

    def status(self, now_ms: int) -> ConnectivityStatus:
        nodes = tuple(
            PingNodeStatus(n.name, n.addresses, n.is_group, n.state,
                           None if n.last_reply_ms is None else now_ms - n.last_reply_ms,
                           n.reason)
            for n in self._nodes)
        reachable = sum(1 for n in nodes if n.state is PingNodeState.UP)
        return ConnectivityStatus(nodes, reachable, self.multiplier,
                                  self.multiplier * reachable, self.deadping_ms)

    def _set(self, node: _Node, new: PingNodeState, now_ms: int, reason: str) -> PingNodeChanged:
        old, node.state, node.reason = node.state, new, reason
        return PingNodeChanged(node.name, old, new, now_ms, reason)
