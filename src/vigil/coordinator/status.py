"""What ``vigil status`` shows about resources, on any node, and the warnings.

Every node holds every member's report, so the node, state and failure count
of each resource come from those. The placement reason is the policy's own:
this node runs ``policy.schedule`` on the same reports and settings the DC
uses (the scheduler is deterministic), so any node can explain the placement
without asking the DC.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from vigil.config import GroupId, NodeName, NoQuorumPolicy, ResourceId
from vigil.coordinator.clusterstate import cluster_state
from vigil.coordinator.fencing_rules import FencingMode, fencing_mode
from vigil.coordinator.splitbrain import suspected
from vigil.coordinator.states import LocalState, OpKind
from vigil.policy import PolicyInputError, schedule

if TYPE_CHECKING:
    from vigil.coordinator.machine import Coordinator

SPLIT_BRAIN_WARNING = "split brain possible: no fencing configured"

_BUSY_WORD = {OpKind.START: "starting", OpKind.STOP: "stopping", OpKind.PROBE: "probing"}


@dataclass(frozen=True, slots=True)
class ResourceStatus:
    """One configured resource: where it is, in what state, its failures, and why there."""

    id: ResourceId
    group: GroupId | None
    node: NodeName | None  # where it is active (the first, if several); None: nowhere
    nodes: tuple[NodeName, ...]  # every node where it is active or busy
    state: str  # running, stopped, failed, blocked, starting, stopping, probing, unknown
    failcount: int  # the highest failure count on any node of the view
    reason: str

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "group": self.group, "node": self.node, "nodes": list(self.nodes),
                "state": self.state, "failcount": self.failcount, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class CoordinatorStatus:
    node: NodeName
    is_dc: bool
    dc_phase: str
    dc_waiting_for: str
    transition: int | None
    outstanding_actions: int
    resources: tuple[ResourceStatus, ...]
    warnings: tuple[str, ...]
    standby: tuple[NodeName, ...]
    moves: tuple[tuple[str, NodeName], ...]
    settings_version: str
    leaving: bool


def build_status(coordinator: Coordinator, now_ms: int) -> CoordinatorStatus:
    config = coordinator.config
    m = coordinator.membership
    reports = coordinator.reports
    view_nodes = [n for n in config.node_names if m is not None and n in m.view]
    reasons: dict[ResourceId, str] = {}
    if m is not None:
        unavailable = [n for n in view_nodes if (k := reports.current(n, m.view)) is not None
                       and (k.body.leaving or k.body.at_risk)]
        try:
            transition = schedule(cluster_state(
                config, reports, m.view, quorate=m.quorum.quorate,
                settings=coordinator.settings, now_ms=now_ms, unavailable=unavailable))
            reasons = {p.resource: p.reason for p in transition.placements}
        except PolicyInputError as e:
            reasons = dict.fromkeys((r.id for r in config.resources), f"cannot plan: {e.message}")

    resources: list[ResourceStatus] = []
    warnings: list[str] = []
    if fencing_mode(config) is FencingMode.NONE:
        warnings.append(SPLIT_BRAIN_WARNING if config.arbiter is None else
                        f"{SPLIT_BRAIN_WARNING}: the arbitrator decides a split, but a frozen "
                        "daemon's resources run on past its lease (docs/arbiter.md)")
        if config.quorum.no_quorum_policy is not NoQuorumPolicy.STOP:
            warnings.append(f"no_quorum_policy={config.quorum.no_quorum_policy.value} without "
                            "fencing: a node cut off keeps its resources while the others "
                            "start them")
    if m is not None and not m.quorum.quorate:
        warnings.append(m.quorum.reason)
    for lost in sorted(coordinator.dc.pending_fences):
        warnings.append(f"fencing of {lost} pending: its resources are not recovered "
                        "until it is confirmed")
    if m is not None:
        warnings.extend(suspected(config, reports, m.view, coordinator.dc.pending_fences))
    for r in config.resources:
        group = config.group_of(r.id)
        active: list[tuple[NodeName, str]] = []
        fails = 0
        probed = False
        for where in view_nodes:
            known = reports.current(where, m.view) if m is not None else None
            if known is None:
                continue
            probed = probed or known.body.probed
            state = known.body.state_of(r.id)
            busy = known.body.busy.get(r.id)
            count = known.body.failures.get(r.id, (0, 0))[0]
            fails = max(fails, count)
            if state.is_active or busy in (OpKind.START, OpKind.STOP):
                word = _BUSY_WORD[busy] if busy is not None else state.value
                active.append((where, word))
            if state is LocalState.BLOCKED:
                warnings.append(f"{r.id} is blocked on {where}: its stop failed")
        node: NodeName | None = active[0][0] if active else None
        state_word = active[0][1] if active else ("stopped" if probed else "unknown")
        if len(active) > 1:
            warnings.append(f"split brain: {r.id} is active on {len(active)} nodes: "
                            f"{', '.join(n for n, _ in active)}")
        resources.append(ResourceStatus(r.id, group.id if group is not None else None, node,
                                        tuple(n for n, _ in active), state_word, fails,
                                        reasons.get(r.id, "")))
    dc = coordinator.dc
    settings = coordinator.settings
    return CoordinatorStatus(
        node=coordinator.me,
        is_dc=dc.active,
        dc_phase=dc.phase.value,
        dc_waiting_for=dc.wait_reason,
        transition=dc.plan.tid if dc.plan is not None else None,
        outstanding_actions=dc.outstanding(),
        resources=tuple(resources),
        warnings=tuple(warnings),
        standby=tuple(n for n in config.node_names if n in settings.standby),
        moves=tuple(sorted(settings.moves.items())),
        settings_version=str(settings.version),
        leaving=coordinator.local.leaving,
    )
