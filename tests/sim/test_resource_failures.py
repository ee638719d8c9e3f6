"""Failed resources: restart in place, move after migration-threshold, expire, block.

Timing: keepalive 100 ms, warntime 500, deadtime 1000; monitors every 500 ms;
simulated starts and stops take 50 ms; links deliver in 1 ms.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from cluster_factory import with_groups

from vigil.config import FenceDevice, Fencing, NodeName
from vigil.coordinator import (
    AdminCommand,
    CommandKind,
    EventKind,
    Fence,
    OpKind,
    self_fence_wait_ms,
)
from vigil.sim import AgentBehaviour, ClusterSimulation, Delay, LinkConditions

ONE_MS = LinkConditions(delay=Delay(1, 1))
STEP = 50  # every simulated start and stop


def failure_seen(sim: ClusterSimulation, rid: str, after: int) -> tuple[int, str]:
    """When and where a monitor of RID first failed after AFTER."""
    for e in sim.events():
        if e.at_ms >= after and e.kind is EventKind.FAILURE and e.resource == rid \
                and e.text.startswith(f"monitor of {rid} failed"):
            return e.at_ms, e.node
    raise AssertionError(f"no monitor failure of {rid} after {after} ms")


def test_monitor_failure_restarts_the_group_in_place_and_counts_the_failure() -> None:
    config = with_groups(3, {"web": ("node1", ["vip", "app"])}, migration_threshold=2)
    sim = ClusterSimulation(config, seed=1, links=ONE_MS, echo=None)
    sim.kill_resource("node1", "vip", 5000)
    sim.run_until(6500)
    seen, where = failure_seen(sim, "vip", 5000)
    assert where == "node1"
    assert seen - 5000 <= 500 + 10  # within one monitor interval and a monitor's time
    # The DC (node1) recovers at once: app stops, vip stops, then both start again.
    assert sim.history.of("app", "stop ok")[-1] == (seen + STEP, "node1")
    assert sim.history.of("vip", "stop ok")[-1] == (seen + 2 * STEP, "node1")
    assert sim.history.of("vip", "start ok")[-1] == (seen + 3 * STEP, "node1")
    assert sim.history.of("app", "start ok")[-1] == (seen + 4 * STEP, "node1")
    status = {r.id: r for r in sim.coordinator("node3").status(6500).resources}  # type: ignore[union-attr]
    assert (status["vip"].node, status["vip"].state, status["vip"].failcount) == \
        ("node1", "running", 1)
    assert "restart in place after a failure (failcount 1, migration-threshold 2)" in \
        " ".join(e.text for e in sim.events("node1"))


def test_second_failure_at_migration_threshold_moves_the_group_to_another_node() -> None:
    config = with_groups(3, {"web": ("node1", ["vip", "app"])}, migration_threshold=2)
    sim = ClusterSimulation(config, seed=1, links=ONE_MS, echo=None)
    sim.kill_resource("node1", "vip", 5000)
    sim.kill_resource("node1", "vip", 7000)
    sim.run_until(9000)
    seen, _ = failure_seen(sim, "vip", 7000)
    assert sim.history.of("vip", "stop ok")[-1] == (seen + 2 * STEP, "node1")
    # Started on node2 one delay after the stop's result, app after vip's confirmation.
    assert sim.history.of("vip", "start ok")[-1] == (seen + 2 * STEP + 1 + STEP, "node2")
    assert sim.active("app") == ("node2",)
    vip = sim.coordinator("node2").status(9000).resources[0]  # type: ignore[union-attr]
    assert vip.failcount == 2
    assert "vip failed 2 times on node1 (migration-threshold 2)" in vip.reason


def test_failures_expire_after_failure_timeout_and_the_group_returns_to_its_node() -> None:
    config = with_groups(3, {"web": ("node1", ["vip", "app"])}, migration_threshold=1,
                         failure_timeout_ms=3000)
    sim = ClusterSimulation(config, seed=1, links=ONE_MS, echo=None)
    sim.kill_resource("node1", "vip", 5000)
    sim.run_until(7000)
    seen, _ = failure_seen(sim, "vip", 5000)
    assert sim.active("vip") == ("node2",)
    sim.run_until(10_000)
    expired = [e for e in sim.events("node1") if "expired" in e.text]
    assert [e.at_ms for e in expired] == [seen + 3000]
    # auto_failback on: back to the preferred node, planned the moment they expired.
    assert sim.history.of("app", "stop ok")[-1] == (seen + 3000 + 1 + STEP, "node2")
    assert sim.active("vip") == ("node1",)
    assert sim.active("app") == ("node1",)


def test_a_hung_start_times_out_counts_as_a_failure_and_the_group_moves() -> None:
    config = with_groups(3, {"web": ("node1", ["vip", "app"])}, migration_threshold=1)
    sim = ClusterSimulation(config, seed=1, links=ONE_MS, echo=None,
                            agent_overrides={("node1", "app"): AgentBehaviour(
                                hang=frozenset({OpKind.START}))})
    sim.run_until(3000)
    # app's start hangs until its 300 ms timeout; then it is stopped and moved.
    [(began, node)] = sim.history.of("app", "up")[:1]
    assert sim.history.of("app", "start timeout") == [(began + 300, "node1")]
    assert node == "node1"
    assert sim.active("vip") == ("node2",)
    assert sim.active("app") == ("node2",)


def test_failed_stop_blocks_the_resource_holds_its_group_and_status_says_why() -> None:
    config = with_groups(3, {"web": ("node1", ["vip", "app"])})
    sim = ClusterSimulation(config, seed=1, links=ONE_MS, echo=None,
                            agent_overrides={("node1", "app"): AgentBehaviour(fail_stop=True)})
    sim.admin("node2", AdminCommand(CommandKind.MOVE, NodeName("node2"), "web"), 5000)
    sim.run_until(7000)
    assert sim.history.of("app", "stop error") == [(5001 + STEP, "node1")]
    # Nothing starts anywhere while app may still run on node1; vip stays with it.
    assert sim.active("vip") == ("node1",)
    assert sim.active("app") == ("node1",)
    status = sim.coordinator("node3").status(7000)  # type: ignore[union-attr]
    app = {r.id: r for r in status.resources}["app"]
    assert (app.node, app.state) == ("node1", "blocked")
    assert app.reason == "Leave blocked on node1: stop failed on node1 and no fencing is configured"
    assert "app is blocked on node1: its stop failed" in status.warnings
    assert not [e for _, _, e in sim.log if isinstance(e, Fence)]  # never without fencing


def test_cleanup_of_a_blocked_resource_probes_it_again_and_the_move_completes() -> None:
    config = with_groups(3, {"web": ("node1", ["vip", "app"])})
    sim = ClusterSimulation(config, seed=1, links=ONE_MS, echo=None,
                            agent_overrides={("node1", "app"): AgentBehaviour(fail_stop=True)})
    sim.admin("node2", AdminCommand(CommandKind.MOVE, NodeName("node2"), "web"), 5000)
    sim.set_agent(("node1", "app"), None, 6000)  # the administrator fixed the agent
    sim.admin("node2", AdminCommand(CommandKind.CLEANUP, None, "app"), 7000)
    sim.run_until(9000)
    assert sim.active("vip") == ("node2",)
    assert sim.active("app") == ("node2",)
    app = {r.id: r for r in sim.coordinator("node3").status(9000).resources}["app"]  # type: ignore[union-attr]
    assert app.failcount == 0
    assert [e.text for e in sim.events("node1") if e.kind is EventKind.ADMIN
            and e.resource == "app"] == ["cleanup of app: probing it again, failure count 1 "
                                         "cleared"]


def test_with_fencing_configured_a_failed_stop_asks_to_fence_and_nothing_is_planned() -> None:
    config = with_groups(3, {"web": ("node2", ["vip", "app"])})
    config = replace(config, fencing=Fencing(devices=(FenceDevice("ipmi", "fence_ipmilan"),)))
    # The simulated fence takes 5 s, so what the DC does meanwhile shows.
    sim = ClusterSimulation(config, seed=1, links=ONE_MS, echo=None, fence_op_ms=5_000,
                            agent_overrides={("node2", "app"): AgentBehaviour(fail_stop=True)})
    sim.admin("node1", AdminCommand(CommandKind.MOVE, NodeName("node3"), "web"), 5000)
    sim.run_until(7000)
    fences = [(at, n, e) for at, n, e in sim.log if isinstance(e, Fence)]
    asked = 5001 + STEP + 1
    assert [(at, n, e.node) for at, n, e in fences] == [(asked, "node1", "node2")]
    assert fences[0][2].reason == "stop of app failed on node2"
    dc = sim.coordinator("node1")
    assert dc is not None
    assert dc.status(7000).dc_waiting_for == "waiting for the fencing of node2"
    assert sim.active("vip") == ("node2",)
    sim.run_until(12_000)  # fenced (powered off) at asked + 5 s: then web moves
    assert not sim.is_running("node2")
    [(up_at, where)] = [(at, n) for at, n in sim.history.of("vip", "up") if at > 5_000]
    assert where == "node3"
    assert up_at >= asked + 5_000


def test_with_a_watchdog_alone_a_failed_stop_resets_the_node_and_the_group_moves() -> None:
    # Nothing can fence node1 from outside; it stops feeding its watchdog at once
    # (the stop failed), the watchdog resets it, and once the others may count it
    # as reset (self_fence_wait_ms after they lost it) the group starts elsewhere.
    config = replace(with_groups(3, {"web": ("node1", ["vip", "app"])}),
                     watchdog=Path("/dev/watchdog"))
    sim = ClusterSimulation(config, seed=1, links=ONE_MS, echo=None,
                            agent_overrides={("node1", "app"): AgentBehaviour(fail_stop=True)})
    sim.admin("node2", AdminCommand(CommandKind.MOVE, NodeName("node2"), "web"), 5000)
    sim.run_until(5000 + 2 * self_fence_wait_ms(config) + 5000)
    assert sim.history.of("app", "stop error") == [(5001 + STEP, "node1")]
    assert sim.active("vip") == ("node2",)
    assert sim.active("app") == ("node2",)
    [(app_up, _)] = sim.history.of("app", "up")[-1:]
    [(reset, _)] = [(at, n) for at, n, r, what in sim.history.entries
                    if n == "node1" and what.startswith("down") and r == "app"][-1:]
    assert app_up > reset  # never two copies: the start comes after node1's reset
