"""Slow and failing fence agents in the simulator: recovery waits for the confirmed fence.

node1 runs vip and crashes; node2 becomes DC and fences it through node1's
levels: level 1 is its IPMI board, level 2 its two power supplies (both must
switch off). The agents are the simulator's fakes (``FenceAgentBehaviour``);
the coordinator deciding when to fence and when to recover is real. Links
deliver in exactly LINK_MS, so every time below is exact.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from cluster_factory import with_groups

from vigil.config import ClusterConfig, FenceDevice, FenceLevel, Fencing, NodeName
from vigil.fencing import DeviceOutcome, FenceAction, retry_wait_ms
from vigil.sim import ClusterSimulation, Delay, FenceAgentBehaviour, LinkConditions

N1, N2, N3 = NodeName("node1"), NodeName("node2"), NodeName("node3")
LINK_MS = 2
OP_MS = 200  # a fence agent run unless a test says otherwise
CRASH_AT = 5_000
OUTLETS = {N1: "1", N2: "2", N3: "3"}
FAILS = FenceAgentBehaviour(always_fails=True)


def cluster(*, levels: bool = True) -> ClusterConfig:
    devices = (FenceDevice("ipmi1", "fence_ipmilan", nodes=(N1,), timeout_ms=5_000),
               FenceDevice("pdu-a", "fence_apc", host_map=OUTLETS),
               FenceDevice("pdu-b", "fence_apc", host_map=OUTLETS))
    topology = (FenceLevel(N1, 1, ("ipmi1",)), FenceLevel(N1, 2, ("pdu-a", "pdu-b")))
    return replace(with_groups(3, {"web": ("node1", ["vip"])}),
                   fencing=Fencing(devices, levels=topology if levels else ()))


def crashed_primary(config: ClusterConfig, **devices: FenceAgentBehaviour,
                    ) -> ClusterSimulation:
    sim = ClusterSimulation(config, seed=1, links=LinkConditions(delay=Delay(LINK_MS, LINK_MS)),
                            echo=None, checkers=[], fence_op_ms=OP_MS, boot_ms=120_000)
    for name, behaviour in devices.items():
        sim.fencing.set_device(name.replace("_", "-"), behaviour, 0)
    sim.run_until(4_000)
    assert sim.active("vip") == ("node1",)
    sim.crash("node1", CRASH_AT)
    return sim


def event_at(sim: ClusterSimulation, starts: str) -> int:
    return next(e.at_ms for e in sim.events("node2") if e.text.startswith(starts))


def decided(sim: ClusterSimulation) -> int:
    return event_at(sim, "fencing node1:")


def vip_starts(sim: ClusterSimulation) -> list[tuple[int, str]]:
    return [(at, n) for at, n in sim.history.of("vip", "up") if at > CRASH_AT]


def test_recovery_waits_for_a_slow_fence_and_follows_its_completion_at_once() -> None:
    sim = crashed_primary(cluster(), ipmi1=FenceAgentBehaviour(op_ms=4_000))
    sim.run_until(20_000)
    d = decided(sim)
    [record] = sim.fencing.records
    assert (record.device, record.asked_ms, record.done_ms) == ("ipmi1", d, d + 4_000)
    assert event_at(sim, "node1 fenced") == d + 4_000
    # Nothing started while the agent ran; then one barrier round trip and vip starts.
    assert vip_starts(sim) == [(d + 4_000 + 2 * LINK_MS, "node2")]


def test_a_failing_first_level_falls_back_to_both_power_supplies() -> None:
    sim = crashed_primary(cluster(), ipmi1=FAILS)
    sim.run_until(20_000)
    d = decided(sim)
    [record] = sim.fencing.records
    assert [(a.device, a.action, a.started_ms - d, a.outcome) for a in record.attempts] == [
        ("ipmi1", FenceAction.REBOOT, 0, DeviceOutcome.FAILED),
        ("pdu-a", FenceAction.OFF, 200, DeviceOutcome.SUCCEEDED),
        ("pdu-b", FenceAction.OFF, 400, DeviceOutcome.SUCCEEDED),
        ("pdu-a", FenceAction.ON, 600, DeviceOutcome.SUCCEEDED),
        ("pdu-b", FenceAction.ON, 800, DeviceOutcome.SUCCEEDED)]
    assert record.device == "pdu-a+pdu-b"
    assert record.done_ms == d + 600  # down once both supplies are off
    assert record.summary == ("node1 fenced (reboot) by level 2: pdu-a, pdu-b "
                              "(after: level 1 failed at ipmi1 (failed))")
    assert event_at(sim, "node1 fenced") == d + 1_000  # the run ends after both are on
    assert vip_starts(sim) == [(d + 1_000 + 2 * LINK_MS, "node2")]


def test_an_agent_slower_than_its_timeout_is_killed_and_the_next_level_is_tried() -> None:
    sim = crashed_primary(cluster(), ipmi1=FenceAgentBehaviour(op_ms=30_000))
    sim.run_until(20_000)
    d = decided(sim)
    [record] = sim.fencing.records
    first = record.attempts[0]
    assert (first.device, first.ended_ms - d, first.outcome) == (
        "ipmi1", 5_000, DeviceOutcome.TIMED_OUT)
    assert event_at(sim, "node1 fenced") == d + 5_000 + 4 * OP_MS


def test_when_every_level_fails_nothing_is_recovered_and_the_fence_is_retried_with_back_off(
        ) -> None:
    sim = crashed_primary(cluster(), ipmi1=FAILS, pdu_a=FAILS)
    sim.run_until(30_000)
    d = decided(sim)
    one_run = 2 * OP_MS  # ipmi1 fails, then pdu-a's off fails: level 2 ends there
    starts = [r.asked_ms - d for r in sim.fencing.records]
    assert starts == [0, one_run + 2_000, 2 * one_run + 6_000, 3 * one_run + 14_000]
    assert [retry_wait_ms(n) for n in (1, 2, 3, 4, 6, 9)] == [2_000, 4_000, 8_000, 16_000,
                                                             60_000, 60_000]
    assert not any(r.succeeded for r in sim.fencing.records)
    failed = [e for e in sim.events("node2") if e.text.startswith("fencing of node1 failed")]
    assert [e.at_ms - d for e in failed] == [s + one_run for s in starts]
    assert "retrying in 2 s" in failed[0].text
    assert "retrying in 16 s" in failed[3].text
    # Never recovered without a confirmed fence: vip stays stopped everywhere.
    assert vip_starts(sim) == []
    assert sim.active("vip") == ()
    # pdu-a is repaired: the next retry (16 s after the 4th failure) fences and recovers.
    sim.fencing.set_device("pdu-a", None, 30_000)
    sim.run_until(60_000)
    retry = d + 4 * one_run + 14_000 + 16_000
    last = sim.fencing.records[-1]
    assert (last.asked_ms, last.device) == (retry, "pdu-a+pdu-b")
    fenced = event_at(sim, "node1 fenced")
    assert fenced == retry + OP_MS + 4 * OP_MS  # ipmi1 fails, then two offs and two ons
    assert vip_starts(sim) == [(fenced + 2 * LINK_MS, "node2")]


def test_an_agent_failing_its_first_two_runs_fences_on_the_second_retry() -> None:
    sim = crashed_primary(cluster(levels=False), ipmi1=FenceAgentBehaviour(fail_first=2),
                          pdu_a=FAILS, pdu_b=FAILS)
    sim.run_until(30_000)
    d = decided(sim)
    # without levels: ipmi1, pdu-a and pdu-b, one level each, in configuration order
    run = 3 * OP_MS
    assert [(r.asked_ms - d, r.succeeded) for r in sim.fencing.records] == [
        (0, False), (run + 2_000, False), (2 * run + 6_000, True)]
    fenced = event_at(sim, "node1 fenced")
    assert fenced == d + 2 * run + 6_000 + OP_MS
    assert vip_starts(sim) == [(fenced + 2 * LINK_MS, "node2")]


@pytest.mark.parametrize("bad", [{"op_ms": -1}, {"fail_first": -2}], ids=["op", "fail"])
def test_a_negative_behaviour_is_refused(bad: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="cannot be negative"):
        FenceAgentBehaviour(**bad)  # type: ignore[arg-type]


def test_an_unknown_device_name_is_refused_when_applied() -> None:
    sim = ClusterSimulation(cluster(), seed=1, echo=None, checkers=[])
    sim.fencing.set_device("ipmi9", FAILS, 10)
    with pytest.raises(KeyError, match="no fence device 'ipmi9'"):
        sim.run_until(20)
