"""What the scheduler is told: one frozen snapshot of the cluster.

Rules of this file:
- A ``ClusterState`` holds everything a placement depends on, including the
  time (``now_ms``, for failure-timeout). The scheduler reads nothing else, so a
  saved ``ClusterState`` replays any decision (as Pacemaker's ``pe-input-N``).
- It validates on construction: a name that is not in the configuration is an
  error that says which and how to fix it, never a silent skip. The one
  exception is a resource reported by a node but absent from the configuration:
  that is an orphan, and the scheduler stops it.
- Reports are per node. A node missing from ``reports`` has not told us
  anything yet (every resource is unknown there and gets probed); a node present
  runs exactly what it lists, and everything it does not list is stopped.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from vigil.config import ClusterConfig, NodeName, ResourceId


class PolicyInputError(ValueError):
    """The state handed to the scheduler names something the configuration lacks."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(f"error: {message}\n  hint: {hint}")
        self.message = message
        self.hint = hint


class ResourceState(enum.Enum):
    """A resource's state on one node, as that node's executor reported it."""

    STOPPED = "stopped"
    RUNNING = "running"
    FAILED = "failed"  # a monitor or start failed: it may be half up, it needs a stop
    BLOCKED = "blocked"  # a stop failed: nothing may be assumed, nothing is touched
    UNKNOWN = "unknown"  # not probed yet

    @property
    def is_active(self) -> bool:
        """Counts as "running here" for stickiness and for stops."""
        return self is ResourceState.RUNNING or self is ResourceState.FAILED


@dataclass(frozen=True, slots=True)
class FailCount:
    """Failures of one resource on one node, and when the last one happened."""

    count: int
    last_failure_ms: int


@dataclass(frozen=True, slots=True)
class NodeAttributes:
    """Per-node facts the administrator or a connectivity check set.

    ``connectivity`` is pingd's attribute: multiplier × ping nodes reachable.
    """

    standby: bool = False
    connectivity: int = 0


class ConstraintKind(enum.Enum):
    MOVE = "move"  # vigil move: +INFINITY for the node
    BAN = "ban"  # -INFINITY for the node


@dataclass(frozen=True, slots=True)
class AdminConstraint:
    """An administrator's ``vigil move``/ban of a resource or group (``unmove`` drops it).

    A constraint naming a grouped resource applies to its whole group, since a
    group only ever runs on one node.
    """

    kind: ConstraintKind
    target: str  # a resource id or a group id
    node: NodeName


@dataclass(frozen=True, slots=True)
class CopyOrigin:
    """How a node came to run its copy of a resource: what a heal weighs (issue 10).

    ``quorate``: the node had quorum when the copy started and at every moment
    since. ``fenced``: it was started after its side fenced a node. When a
    partition heals and a resource is active on both sides, the copy that
    kept quorum wins, then the one whose side fenced (see placement.py).
    A copy nobody said anything about is quorate and did not fence.
    """

    quorate: bool = True
    fenced: bool = False

    @property
    def plain(self) -> bool:
        """The default: nothing worth reporting."""
        return self.quorate and not self.fenced


NO_ATTRIBUTES = NodeAttributes()
PLAIN_COPY = CopyOrigin()


@dataclass(frozen=True, slots=True)
class ClusterState:
    """The scheduler's whole input.

    ``online`` is the stable membership view (our partition). ``reports`` holds
    each node's resource states (see the file's rules); reports of offline nodes
    are used only to explain ("node0, where it ran, is offline"), never to act.
    ``failures`` maps (resource, node) to its failure count. ``origins`` maps
    (resource, node) to how that node's active copy came about; only copies
    that lost quorum or followed a fence need an entry.
    """

    config: ClusterConfig
    online: frozenset[NodeName]
    has_quorum: bool = True
    reports: Mapping[NodeName, Mapping[ResourceId, ResourceState]] = field(default_factory=dict)
    failures: Mapping[tuple[ResourceId, NodeName], FailCount] = field(default_factory=dict)
    attributes: Mapping[NodeName, NodeAttributes] = field(default_factory=dict)
    constraints: tuple[AdminConstraint, ...] = ()
    now_ms: int = 0
    origins: Mapping[tuple[ResourceId, NodeName], CopyOrigin] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _validate(self)

    def attributes_of(self, node: NodeName) -> NodeAttributes:
        return self.attributes.get(node, NO_ATTRIBUTES)

    def origin_of(self, rid: ResourceId, node: NodeName) -> CopyOrigin:
        return self.origins.get((rid, node), PLAIN_COPY)


def _validate(state: ClusterState) -> None:
    config = state.config
    nodes = set(config.node_names)
    names = ", ".join(config.node_names) or "(none)"

    def check_node(node: str, where: str) -> None:
        if node not in nodes:
            raise PolicyInputError(
                f"{where} names node {node!r}, which is not in the configuration",
                f"configured nodes: {names}",
            )

    for node in sorted(state.online):
        check_node(node, "the membership view")
    for node in sorted(state.reports):
        check_node(node, "a resource report")
    for node in sorted(state.attributes):
        check_node(node, "the node attributes")
    for (rid, node), fails in sorted(state.failures.items()):
        check_node(node, f"the failure count of {rid}")
        if fails.count < 0:
            raise PolicyInputError(
                f"failure count of {rid} on {node} is {fails.count}",
                "failure counts are 0 or more; `vigil cleanup` resets them to 0",
            )
    for rid, node in sorted(state.origins):
        check_node(node, f"the origin of the copy of {rid}")
    if state.now_ms < 0:
        raise PolicyInputError(f"now_ms is {state.now_ms}",
                               "time is milliseconds since an epoch, >= 0")

    targets = {str(r.id) for r in config.resources} | {str(g.id) for g in config.groups}
    moves: dict[str, NodeName] = {}
    for constraint in state.constraints:
        where = f"the {constraint.kind.value} constraint on {constraint.target}"
        check_node(constraint.node, where)
        if constraint.target not in targets:
            raise PolicyInputError(
                f"{constraint.kind.value} constraint names {constraint.target!r}, "
                "which is neither a resource nor a group",
                "drop the constraint (vigil unmove) or fix the name",
            )
        if constraint.kind is ConstraintKind.MOVE:
            key = _unit_key(config, constraint.target)
            previous = moves.get(key)
            if previous is not None and previous != constraint.node:
                raise PolicyInputError(
                    f"{key} is moved to both {previous} and {constraint.node}",
                    "a new move replaces the previous one: keep only the latest",
                )
            moves[key] = constraint.node


def _unit_key(config: ClusterConfig, target: str) -> str:
    group = config.group_of(target)
    return str(group.id) if group is not None else target
