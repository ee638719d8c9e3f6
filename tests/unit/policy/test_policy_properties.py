"""Properties over made-up clusters: whatever the nodes, states, failures and
constraints, the scheduler never places a resource where it cannot run, never
leaves one on two nodes, orders every start after its stops and probes,
reaches its own target in one transition, and answers the same input the same
way byte for byte.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from policy_factory import config_from_dict, state_from_dict
from policy_invariants import check_transition

from vigil.config import INFINITY
from vigil.policy import ClusterState, render, schedule

SCORES = st.sampled_from([-INFINITY, -50, 0, 0, 50, 100, INFINITY])
STATES = st.sampled_from(
    ["stopped"] * 6 + ["running"] * 4 + ["failed", "blocked", "unknown"]
)


@st.composite
def clusters(draw: st.DrawFn) -> dict[str, Any]:
    nodes = [f"node{i}" for i in range(draw(st.integers(1, 5)))]
    groups: list[dict[str, Any]] = []
    lone: list[str] = []
    serial = 0
    for u in range(draw(st.integers(1, 5))):
        size = draw(st.integers(1, 3))
        members = [f"r{serial + i}" for i in range(size)]
        serial += size
        if size > 1 or draw(st.booleans()):
            group: dict[str, Any] = {"id": f"g{u}", "resources": members}
            if draw(st.booleans()):
                group["preferred_node"] = draw(st.sampled_from(nodes))
            group["locations"] = draw(st.dictionaries(st.sampled_from(nodes), SCORES, max_size=2))
            groups.append(group)
        else:
            lone.extend(members)
    resources = [r for g in groups for r in g["resources"]] + lone
    overrides: dict[str, dict[str, Any]] = {}
    for rid in resources:
        o: dict[str, Any] = {}
        if draw(st.integers(0, 9)) == 0:
            o["target_role"] = "stopped"
        if draw(st.integers(0, 5)) == 0:
            o["stickiness"] = draw(st.sampled_from([0, 60, 200, INFINITY]))
        if draw(st.integers(0, 5)) == 0:
            o["migration_threshold"] = draw(st.sampled_from([0, 1, 3]))
        if o:
            overrides[rid] = o
    config: dict[str, Any] = {
        "nodes": nodes,
        "groups": groups,
        "resources": lone,
        "resource": overrides,
        "auto_failback": draw(st.sampled_from(["on", "off", "legacy"])),
        "migration_threshold": draw(st.sampled_from([INFINITY, 1, 2, 3])),
        "failure_timeout_ms": draw(st.sampled_from([0, 0, 1000])),
        "no_quorum_policy": draw(st.sampled_from(["stop", "freeze", "ignore"])),
        "fencing": draw(st.booleans()),
    }
    if draw(st.booleans()):
        config["default_stickiness"] = draw(st.sampled_from([0, 60, INFINITY]))

    online = [n for n in nodes if draw(st.integers(0, 4)) > 0]
    reports: dict[str, dict[str, str]] = {}
    for node in nodes:
        if draw(st.integers(0, 9)) == 0:
            continue  # has not reported: everything unknown there
        report = {rid: draw(STATES) for rid in resources}
        if draw(st.integers(0, 9)) == 0:
            report["orphan"] = draw(st.sampled_from(["running", "failed", "blocked"]))
        reports[node] = {r: s for r, s in report.items() if s != "stopped"}
    failures = [
        {"resource": rid, "node": node, "count": draw(st.integers(1, 4)),
         "last_failure_ms": draw(st.sampled_from([0, 500, 1500]))}
        for rid in resources for node in nodes if draw(st.integers(0, 7)) == 0
    ]
    attributes = {
        node: {
            "standby": draw(st.integers(0, 4)) == 0,
            "connectivity": draw(st.sampled_from([0, 0, 1, 2])),
        }
        for node in nodes
    }
    constraints: list[dict[str, str]] = []
    targets = [g["id"] for g in groups] + lone
    for target in targets:
        for kind in ("move", "ban"):
            if draw(st.integers(0, 5)) == 0:
                node = draw(st.sampled_from(nodes))
                constraints.append({"kind": kind, "target": target, "node": node})
    return {
        "config": config,
        "online": online,
        "quorum": draw(st.integers(0, 3)) > 0,
        "reports": reports,
        "failures": failures,
        "attributes": attributes,
        "constraints": constraints,
        "now_ms": draw(st.sampled_from([0, 1000, 2000])),
    }


def build(spec: dict[str, Any]) -> ClusterState:
    return state_from_dict(config_from_dict(spec["config"]), spec)


def _reversed(spec: dict[str, Any]) -> dict[str, Any]:
    """The same cluster with every mapping and list of facts in the opposite order."""
    return {
        **spec,
        "online": list(reversed(spec["online"])),
        "reports": {n: dict(reversed(r.items())) for n, r in reversed(spec["reports"].items())},
        "failures": list(reversed(spec["failures"])),
        "attributes": dict(reversed(spec["attributes"].items())),
    }


PROPERTY = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(clusters())
def test_any_cluster_gets_a_safe_ordered_transition_that_reaches_its_target(
    spec: dict[str, Any],
) -> None:
    state = build(spec)
    check_transition(state, schedule(state))


@PROPERTY
@given(clusters())
def test_same_cluster_in_any_input_order_gets_byte_identical_output(spec: dict[str, Any]) -> None:
    state, shuffled = build(spec), build(_reversed(spec))
    first, second = schedule(state), schedule(shuffled)
    assert first == second
    assert render(state, first) == render(shuffled, second)
    assert schedule(state) == first
