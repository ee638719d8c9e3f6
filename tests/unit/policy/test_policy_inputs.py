"""The scheduler's contract with its caller: bad input is refused with a hint,
scores add as Pacemaker's do, and the output answers what the coordinator asks.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from policy_factory import config_from_dict, state_from_dict

from vigil.config import INFINITY
from vigil.policy import (
    ActionKind,
    Change,
    PolicyInputError,
    add_scores,
    format_score,
    schedule,
)

TWO_NODES: dict[str, Any] = {
    "nodes": ["node0", "node1"],
    "groups": [{"id": "grp_web", "resources": ["vip_web", "httpd"], "preferred_node": "node0"}],
    "resources": ["db"],
}


@pytest.mark.parametrize(
    ("state", "message", "hint"),
    [
        ({"online": ["node0", "node9"]}, "membership view names node 'node9'", "configured nodes"),
        ({"reports": {"nodeX": {}}}, "resource report names node 'nodeX'", "configured nodes"),
        ({"attributes": {"nodeX": {"standby": True}}}, "node attributes names node", "configured"),
        ({"constraints": [{"kind": "move", "target": "nope", "node": "node1"}]},
         "neither a resource nor a group", "vigil unmove"),
        ({"constraints": [{"kind": "ban", "target": "db", "node": "node7"}]},
         "names node 'node7'", "configured nodes"),
        ({"constraints": [{"kind": "move", "target": "grp_web", "node": "node0"},
                          {"kind": "move", "target": "httpd", "node": "node1"}]},
         "grp_web is moved to both node0 and node1", "a new move replaces"),
        ({"failures": [{"resource": "db", "node": "node0", "count": -1}]},
         "failure count of db on node0 is -1", "vigil cleanup"),
        ({"now_ms": -5}, "now_ms is -5", "milliseconds"),
    ],
)
def test_state_naming_what_the_configuration_lacks_is_refused_with_a_hint(
    state: dict[str, Any], message: str, hint: str
) -> None:
    config = config_from_dict(TWO_NODES)
    with pytest.raises(PolicyInputError) as caught:
        state_from_dict(config, state)
    assert message in caught.value.message
    assert hint in caught.value.hint
    assert str(caught.value).startswith("error: ")


def test_group_listing_an_unconfigured_resource_is_refused_when_scheduling() -> None:
    group = {"id": "g", "resources": ["vip_web"], "locations": {"node5": 10}}
    spec = {**TWO_NODES, "groups": [group]}
    state = state_from_dict(config_from_dict(spec), {})
    with pytest.raises(PolicyInputError, match="location score for node node5"):
        schedule(state)


@pytest.mark.parametrize(
    ("a", "b", "total"),
    [
        (100, 50, 150),
        (INFINITY, 100, INFINITY),
        (INFINITY, -100, INFINITY),
        (-INFINITY, 100, -INFINITY),
        (INFINITY, -INFINITY, -INFINITY),  # "never" beats "always", as Pacemaker
        (-INFINITY, INFINITY, -INFINITY),
        (INFINITY - 1, 5, INFINITY),  # clamped, never past INFINITY
        (-INFINITY + 1, -5, -INFINITY),
    ],
)
def test_scores_add_as_pacemaker_adds_them(a: int, b: int, total: int) -> None:
    assert add_scores(a, b) == total
    assert add_scores(b, a) == total


def test_scores_print_infinity_by_name() -> None:
    assert [format_score(s) for s in (INFINITY, -INFINITY, 42)] == ["INFINITY", "-INFINITY", "42"]


def test_recheck_time_is_the_earliest_expiry_of_a_failure_still_in_force() -> None:
    config = config_from_dict({**TWO_NODES, "failure_timeout_ms": 10_000, "migration_threshold": 2})
    state = state_from_dict(config, {
        "now_ms": 15_000,
        "reports": {"node0": {"vip_web": "running", "httpd": "running"}, "node1": {}},
        "failures": [
            {"resource": "db", "node": "node0", "count": 1, "last_failure_ms": 4_000},  # expired
            {"resource": "httpd", "node": "node1", "count": 2, "last_failure_ms": 9_000},
            {"resource": "db", "node": "node1", "count": 1, "last_failure_ms": 7_000},
        ],
    })
    transition = schedule(state)
    assert transition.recheck_at_ms == 17_000
    assert any("Failures of db on node0 expired" in note for note in transition.notes)


def test_no_failure_timeout_means_no_recheck() -> None:
    config = config_from_dict(TWO_NODES)
    state = state_from_dict(config, {
        "reports": {"node0": {}, "node1": {}},
        "failures": [{"resource": "db", "node": "node0", "count": 1, "last_failure_ms": 0}],
    })
    assert schedule(state).recheck_at_ms is None


def test_coordinator_reads_target_placement_and_reason_per_resource() -> None:
    config = config_from_dict(TWO_NODES)
    state = state_from_dict(config, {"online": ["node1"], "reports": {"node1": {}}})
    transition = schedule(state)
    assert transition.target == {"vip_web": "node1", "httpd": "node1", "db": "node1"}
    web = transition.placement("vip_web")
    assert web.group == "grp_web"
    assert web.change is Change.START
    assert web.reason == "Start on node1: preferred node node0 is offline"
    assert [str(a) for a in transition.actions] == [
        "start vip_web on node1", "start httpd on node1", "start db on node1"]
    assert transition.actions[1].after == (0,)
    with pytest.raises(KeyError):
        transition.placement("nope")


def test_every_action_reason_names_its_verb_resource_and_node() -> None:
    config = config_from_dict(TWO_NODES)
    state = state_from_dict(config, {
        "reports": {"node0": {"db": "failed"}},  # node1 has not reported: probes
        "failures": [{"resource": "db", "node": "node0", "count": 1}],
    })
    transition = schedule(state)
    kinds = {a.kind for a in transition.actions}
    assert kinds == {ActionKind.PROBE, ActionKind.STOP, ActionKind.START}
    for action in transition.actions:
        verb = action.kind.value.capitalize()
        assert action.reason.startswith(f"{verb} {action.resource} on {action.node}: ")


POLICY_SOURCES = Path(__file__).parents[3] / "src" / "vigil" / "policy"
FORBIDDEN = re.compile(
    r"import (asyncio|socket|subprocess|threading)|time\.time\(|time\.monotonic\(|datetime\.now\("
)


def test_policy_package_reads_no_clock_and_does_no_io() -> None:
    offenders = [
        f"{path.name}:{n}: {line.strip()}"
        for path in sorted(POLICY_SOURCES.glob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), start=1)
        if FORBIDDEN.search(line)
    ]
    assert not offenders, offenders
