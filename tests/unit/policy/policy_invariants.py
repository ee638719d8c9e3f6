"""What every transition must satisfy, whatever the input: checked on every golden
case and on every state Hypothesis makes up.

Each checker raises AssertionError saying what broke, for which resource.
"""

from __future__ import annotations

from vigil.config import INFINITY, NodeName, NoQuorumPolicy, ResourceId, TargetRole
from vigil.policy import (
    ActionKind,
    Change,
    ClusterState,
    ConstraintKind,
    ResourceState,
    Transition,
    apply_actions,
    schedule,
)


def check_transition(state: ClusterState, transition: Transition) -> None:
    check_graph_is_ordered(transition)
    check_starts_wait_for_stops_and_probes(transition)
    check_group_order(state, transition)
    check_never_placed_where_it_cannot_run(state, transition)
    check_after_matches_target(state, transition)
    check_converges(state, transition)


def check_graph_is_ordered(transition: Transition) -> None:
    for position, action in enumerate(transition.actions):
        assert action.id == position, f"{action} has id {action.id} at position {position}"
        assert all(a < action.id for a in action.after), f"{action} waits for a later action"


def _closure(transition: Transition, action_id: int) -> set[int]:
    seen: set[int] = set()
    todo = list(transition.actions[action_id].after)
    while todo:
        a = todo.pop()
        if a not in seen:
            seen.add(a)
            todo.extend(transition.actions[a].after)
    return seen


def check_starts_wait_for_stops_and_probes(transition: Transition) -> None:
    for start in transition.actions:
        if start.kind is not ActionKind.START:
            continue
        before = _closure(transition, start.id)
        for other in transition.actions:
            if other.resource != start.resource:
                continue
            if other.kind in (ActionKind.STOP, ActionKind.PROBE):
                assert other.id in before, f"{start} does not wait for {other}"


def check_group_order(state: ClusterState, transition: Transition) -> None:
    starts = {(a.resource, a.node): a.id for a in transition.actions if a.kind is ActionKind.START}
    stops = {(a.resource, a.node): a.id for a in transition.actions if a.kind is ActionKind.STOP}
    for group in state.config.groups:
        members = group.resources
        for earlier_i, earlier in enumerate(members):
            for later in members[earlier_i + 1:]:
                for node in state.config.node_names:
                    s_early, s_late = starts.get((earlier, node)), starts.get((later, node))
                    if s_early is not None and s_late is not None:
                        assert s_early in _closure(transition, s_late), (
                            f"start {later} on {node} does not wait for start {earlier}")
                    t_early, t_late = stops.get((earlier, node)), stops.get((later, node))
                    if t_early is not None and t_late is not None:
                        assert t_late in _closure(transition, t_early), (
                            f"stop {earlier} on {node} does not wait for stop {later}")


def _blocked_units(state: ClusterState) -> set[ResourceId]:
    """Resources whose group (or themselves) are blocked somewhere online: held, not placed."""
    blocked: set[ResourceId] = set()
    for node in state.online:
        for rid, rstate in state.reports.get(node, {}).items():
            if rstate is ResourceState.BLOCKED:
                group = state.config.group_of(rid)
                blocked.update(group.resources if group is not None else (rid,))
    return blocked


def _frozen(state: ClusterState) -> bool:
    return (not state.has_quorum
            and state.config.quorum.no_quorum_policy is NoQuorumPolicy.FREEZE)


def check_never_placed_where_it_cannot_run(state: ClusterState, transition: Transition) -> None:
    config = state.config
    blocked = _blocked_units(state)
    if not state.has_quorum and config.quorum.no_quorum_policy is NoQuorumPolicy.STOP:
        for p in transition.placements:
            assert p.node is None or p.resource in blocked, f"{p.resource} placed without quorum"
    if _frozen(state):
        return  # freeze keeps what runs where it runs, standby or not
    for p in transition.placements:
        if p.node is None or p.resource in blocked:
            continue
        node: NodeName = p.node
        assert node in state.online, f"{p.resource} placed on offline {node}"
        assert not state.attributes_of(node).standby, f"{p.resource} placed on standby {node}"
        group = config.group_of(p.resource)
        names = {p.resource, *(group.resources if group else ()), *((group.id,) if group else ())}
        for c in state.constraints:
            if c.kind is ConstraintKind.BAN and c.node == node:
                assert c.target not in names, f"{p.resource} placed on {node}, banned there"
        for member in _runnable(state, group.resources if group else (p.resource,)):
            resource = config.resource(member)
            fails = state.failures.get((member, node))
            threshold = resource.migration_threshold
            threshold = config.migration_threshold if threshold is None else threshold
            timeout = resource.failure_timeout_ms
            timeout = config.failure_timeout_ms if timeout is None else timeout
            expired = fails is not None and timeout > 0 and (
                state.now_ms >= fails.last_failure_ms + timeout)
            if fails is not None and not expired and 0 < threshold < INFINITY:
                assert fails.count < threshold, (
                    f"{p.resource} placed on {node} where {member} failed {fails.count} times")


def _runnable(state: ClusterState, members: tuple[ResourceId, ...]) -> list[ResourceId]:
    """Members before the first with target-role stopped: the ones that will run."""
    runnable: list[ResourceId] = []
    for member in members:
        if state.config.resource(member).target_role is TargetRole.STOPPED:
            break
        runnable.append(member)
    return runnable


def _active(state: ClusterState) -> dict[ResourceId, list[tuple[NodeName, ResourceState]]]:
    active: dict[ResourceId, list[tuple[NodeName, ResourceState]]] = {}
    for node in state.config.node_names:
        if node not in state.online:
            continue
        for rid, rstate in state.reports.get(node, {}).items():
            if rstate is not ResourceState.STOPPED and rstate is not ResourceState.UNKNOWN:
                active.setdefault(rid, []).append((node, rstate))
    return active


def check_after_matches_target(state: ClusterState, transition: Transition) -> None:
    after = apply_actions(state, transition)
    active = _active(after)
    configured = {r.id for r in state.config.resources}
    blocked = _blocked_units(state)
    for rid, where in active.items():
        if rid not in configured:
            assert all(s is ResourceState.BLOCKED for _, s in where), f"orphan {rid} still runs"
    for p in transition.placements:
        where = active.get(p.resource, [])
        if p.change is Change.BLOCKED:
            continue
        if p.node is None:
            assert not [n for n, s in where if s is not ResourceState.BLOCKED], (
                f"{p.resource} should be stopped but is active on {where}")
            continue
        assert [n for n, _ in where] == [p.node], (
            f"{p.resource} should run on {p.node} only, after the transition it is on {where}")
        if not _frozen(state) and p.resource not in blocked:
            # Frozen and blocked units leave a failed member failed: a restart could not be safe.
            assert where[0][1] is ResourceState.RUNNING, f"{p.resource} is not running after"


def check_converges(state: ClusterState, transition: Transition) -> None:
    after = apply_actions(state, transition)
    again = schedule(after)
    assert not again.actions, (
        "scheduling the state after the transition asks for more: "
        + "; ".join(a.reason for a in again.actions))
    assert again.target == transition.target, "the target moved on a second run"
