"""config check: a minority must be able to stop its groups before the majority starts them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from cluster_configs import cluster, timing
from vigil.config import (
    AgentSpec,
    Group,
    GroupId,
    NoQuorumPolicy,
    Operation,
    Quorum,
    Resource,
    ResourceId,
)
from vigil.config.diagnostics import Diagnostics
from vigil.config.partition_checks import check_minority_stop_timing

FAST = timing(100, 1000, warntime=500, initdead=3000)


def warnings_for(nodes: int, stop_ms: int, *, two_node: bool = False,
                 no_quorum_policy: NoQuorumPolicy = NoQuorumPolicy.STOP) -> list[str]:
    base = cluster(nodes, timing=FAST,
                   quorum=Quorum(two_node=two_node, no_quorum_policy=no_quorum_policy))
    ops = (Operation("monitor", 500, 300), Operation("stop", 0, stop_ms))
    resources = tuple(Resource(ResourceId(r), AgentSpec("vigil", "dummy"), operations=ops)
                      for r in ("vip", "app"))
    group = Group(GroupId("web"), (ResourceId("vip"), ResourceId("app")))
    config = replace(base, resources=resources, groups=(group,))
    diags = Diagnostics()
    check_minority_stop_timing(config, diags)
    return [d.format() for d in diags.items]


def test_group_whose_stops_outlast_deadtime_minus_warntime_is_reported_with_figures() -> None:
    # FAST: keepalive 100, warntime 500, deadtime 1000 -> 400 ms for two stops of 300.
    [text] = warnings_for(3, 300)
    assert "group web may take 600 ms to stop (300 + 300 ms of stop timeouts)" in text
    assert "deadtime - warntime - keepalive = 1000 - 500 - 100 = 400 ms" in text
    assert "hint: give its stops timeouts that add up to 400 ms or less" in text


@pytest.mark.parametrize(("nodes", "stop_ms", "kw"), [
    (3, 200, {}),  # 2 x 200 = 400: just fits
    (2, 5000, {"two_node": True}),  # two_node: quorum does not make it safe anyway
    (3, 5000, {"no_quorum_policy": NoQuorumPolicy.FREEZE}),  # freeze keeps, its own warning
])
def test_nothing_is_reported_when_the_rule_fits_or_does_not_apply(
        nodes: int, stop_ms: int, kw: dict[str, object]) -> None:
    assert FAST.deadtime_ms == 1000
    assert warnings_for(nodes, stop_ms, **kw) == []  # type: ignore[arg-type]
