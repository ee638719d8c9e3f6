"""Administrator commands from any node: standby, online, move, unmove, cleanup.

A command is answered only once the DC accepted it: the settings in the DC's
report show it applied. Links deliver in 1 ms; starts and stops take 50 ms.
"""

from __future__ import annotations

import pytest
from cluster_factory import with_groups

from vigil.config import NodeName
from vigil.coordinator import AdminCommand, CommandKind
from vigil.sim import ClusterSimulation, Delay, LinkConditions

ONE_MS = LinkConditions(delay=Delay(1, 1))


def web_cluster() -> ClusterSimulation:
    config = with_groups(3, {"web": ("node1", ["vip", "app"])})
    return ClusterSimulation(config, seed=1, links=ONE_MS, echo=None)


def answer(sim: ClusterSimulation, request: int) -> tuple[int, str, bool, str]:
    [(at, node, a)] = [x for x in sim.answers() if x[2].request == request]
    return at, node, a.accepted, a.reason


def test_standby_from_another_node_moves_the_group_and_online_lets_it_back() -> None:
    sim = web_cluster()
    standby = sim.admin("node3", AdminCommand(CommandKind.STANDBY, NodeName("node1")), 5000)
    sim.run_until(6000)
    # node3 asks the DC (node1) at 5000; its report with the new settings is back at 5002.
    assert answer(sim, standby) == (5002, "node3", True, "standby node1: accepted by the DC "
                                                         "(settings version 1 by node1)")
    assert sim.active("vip") == ("node2",)
    assert sim.active("app") == ("node2",)
    status = sim.coordinator("node2").status(6000)  # type: ignore[union-attr]
    assert status.standby == ("node1",)
    online = sim.admin("node3", AdminCommand(CommandKind.ONLINE, NodeName("node1")), 6000)
    sim.run_until(7000)
    assert answer(sim, online)[2] is True
    # auto_failback on: the group goes back to its preferred node.
    assert sim.active("vip") == ("node1",)
    assert sim.active("app") == ("node1",)


def test_move_of_a_group_member_moves_the_whole_group_and_unmove_lets_it_back() -> None:
    sim = web_cluster()
    sim.admin("node2", AdminCommand(CommandKind.MOVE, NodeName("node3"), "app"), 5000)
    sim.run_until(6000)
    assert (sim.active("vip"), sim.active("app")) == (("node3",), ("node3",))
    app = {r.id: r for r in sim.coordinator("node1").status(6000).resources}["app"]  # type: ignore[union-attr]
    assert app.reason == "Stay on node3: moved to node3 by the administrator"
    sim.admin("node2", AdminCommand(CommandKind.UNMOVE, None, "web"), 6000)
    sim.run_until(7000)
    assert (sim.active("vip"), sim.active("app")) == (("node1",), ("node1",))
    assert dict(sim.coordinator("node2").settings.moves) == {}  # type: ignore[union-attr]


def test_the_dc_applies_its_own_commands_at_once() -> None:
    sim = web_cluster()
    request = sim.admin("node1", AdminCommand(CommandKind.STANDBY, NodeName("node1")), 5000)
    sim.run_until(5500)
    assert answer(sim, request)[:3] == (5000, "node1", True)


@pytest.mark.parametrize(("command", "reason", "hint"), [
    (AdminCommand(CommandKind.STANDBY, NodeName("node9")),
     "no node 'node9' in the configuration", "configured nodes: node1, node2, node3"),
    (AdminCommand(CommandKind.MOVE, NodeName("node2"), "mail"),
     "no resource or group 'mail' in the configuration", "known: web, vip, app"),
    (AdminCommand(CommandKind.CLEANUP, None, "nope"),
     "no resource or group 'nope' in the configuration", "known: web, vip, app"),
])
def test_a_command_naming_what_is_not_configured_is_refused_at_once_with_a_hint(
        command: AdminCommand, reason: str, hint: str) -> None:
    sim = web_cluster()
    request = sim.admin("node2", command, 5000)
    sim.run_until(5100)
    [(at, _, a)] = [x for x in sim.answers() if x[2].request == request]
    assert (at, a.accepted, a.reason, a.hint) == (5000, False, reason, hint)
    assert sim.coordinator("node1").settings.version.counter == 0  # type: ignore[union-attr]


def test_a_command_on_a_node_without_quorum_is_refused_and_changes_nothing() -> None:
    sim = web_cluster()
    sim.partition([["node3"], ["node1", "node2"]], at=5000)
    request = sim.admin("node3", AdminCommand(CommandKind.STANDBY, NodeName("node1")), 7000)
    sim.run_until(7100)
    assert answer(sim, request)[1:] == ("node3", False, "this partition has no quorum")
    assert sim.active("vip") == ("node1",)


def test_settings_survive_the_dc_that_wrote_them() -> None:
    sim = web_cluster()
    sim.admin("node2", AdminCommand(CommandKind.STANDBY, NodeName("node3")), 5000)
    sim.admin("node2", AdminCommand(CommandKind.MOVE, NodeName("node2"), "web"), 5100)
    sim.crash("node1", 5500)
    sim.restart("node1", 7000)
    sim.run_until(10_000)
    # The new DC (node2) and the restarted node1 hold what node1 wrote as DC.
    for node in ("node1", "node2", "node3"):
        settings = sim.coordinator(node).settings  # type: ignore[union-attr]
        assert (settings.standby, dict(settings.moves)) == ({"node3"}, {"web": "node2"})
    assert sim.active("vip") == ("node2",)


def test_vigil_events_on_any_node_shows_the_dcs_decisions_with_its_own() -> None:
    from vigil.coordinator import EventsAnswered

    sim = web_cluster()
    sim.admin("node3", AdminCommand(CommandKind.STANDBY, NodeName("node1")), 5000)
    request = sim.ask_events("node3", 6000)
    sim.run_until(6100)
    [(at, node, answered)] = [(at, n, e) for at, n, e in sim.log
                              if isinstance(e, EventsAnswered) and e.request == request]
    # Asked at 6000, the DC's answer is back one round trip later.
    assert (at, node) == (6002, "node3")
    assert answered.reason == "events of this node and of the DC node1"
    texts = [(e.node, e.text) for e in answered.events]
    assert ("node1", "standby node1 (from node3) applied: settings version 1 by node1; "
                     "standby node1") in texts
    assert ("node1", "Stop app on node1: preferred node node1 is in standby, so it moves to "
                     "node2") in texts
    assert [e.at_ms for e in answered.events] == sorted(e.at_ms for e in answered.events)


def test_vigil_events_without_an_answer_from_the_dc_shows_this_nodes_own() -> None:
    from vigil.coordinator import EventsAnswered

    sim = web_cluster()
    sim.run_until(5000)
    sim.partition([["node1"], ["node2", "node3"]], at=5000, until=5600)
    request = sim.ask_events("node3", 5100)  # node1 is still DC in node3's view
    sim.run_until(5700)
    [(at, answered)] = [(at, e) for at, _, e in sim.log
                        if isinstance(e, EventsAnswered) and e.request == request]
    assert at == 5100 + 500  # five keepalives
    assert answered.reason == "events of this node only: the DC did not answer within 500 ms"
