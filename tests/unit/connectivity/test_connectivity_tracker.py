"""Ping nodes up and dead at exact times, groups up while any member answers, pingd's score."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from vigil.config import Connectivity, PingNode
from vigil.connectivity import ConnectivityTracker, PingNodeState

ROUTER = PingNode("10.0.0.254", ("10.0.0.254",))
ROUTER6 = PingNode("2001:db8::fe", ("2001:db8::fe",))
GROUP = PingNode("routers", ("10.1.0.1", "10.1.0.2"), is_group=True)
UP, DEAD, INIT = PingNodeState.UP, PingNodeState.DEAD, PingNodeState.INIT


@dataclass(frozen=True)
class Case:
    name: str
    steps: list[tuple[int, str | None]]  # (now_ms, address that answered, or None: a tick)
    expected: dict[str, PingNodeState]  # states after the last step
    score: int
    deadping_ms: int | None = 3_000
    multiplier: int = 1


CASES = [
    Case("nothing_heard_before_deadping_is_init", [(2_999, None)],
         {"10.0.0.254": INIT, "2001:db8::fe": INIT, "routers": INIT}, 0),
    Case("never_answered_is_dead_exactly_deadping_after_start", [(3_000, None)],
         {"10.0.0.254": DEAD, "2001:db8::fe": DEAD, "routers": DEAD}, 0),
    Case("a_reply_makes_a_ping_node_up", [(100, "10.0.0.254"), (100, "2001:db8::fe")],
         {"10.0.0.254": UP, "2001:db8::fe": UP, "routers": INIT}, 2),
    Case("silent_one_ms_short_of_deadping_stays_up",
         [(1_000, "10.0.0.254"), (3_999, None)], {"10.0.0.254": UP}, 1),
    Case("silent_for_deadping_is_dead", [(1_000, "10.0.0.254"), (4_000, None)],
         {"10.0.0.254": DEAD}, 0),
    Case("a_dead_ping_node_answering_again_is_up",
         [(1_000, "10.0.0.254"), (4_000, None), (4_100, "10.0.0.254")], {"10.0.0.254": UP}, 1),
    Case("group_is_up_while_any_member_answers",
         [(1_000, "10.1.0.1"), (3_500, "10.1.0.2"), (6_000, None)], {"routers": UP}, 1),
    Case("group_is_dead_when_every_member_is_silent",
         [(1_000, "10.1.0.1"), (3_500, "10.1.0.2"), (6_500, None)], {"routers": DEAD}, 0),
    Case("score_is_multiplier_times_reachable_as_pingd",
         [(10, "10.0.0.254"), (10, "10.1.0.2"), (20, None)],
         {"10.0.0.254": UP, "routers": UP, "2001:db8::fe": INIT}, 200, multiplier=100),
    Case("deadping_unset_is_deadtime_as_heartbeat", [(5_000, "10.0.0.254"), (14_999, None)],
         {"10.0.0.254": UP}, 1, deadping_ms=None),
    Case("deadping_unset_dead_after_deadtime", [(5_000, "10.0.0.254"), (15_000, None)],
         {"10.0.0.254": DEAD}, 0, deadping_ms=None),
    Case("a_reply_from_an_address_no_ping_node_has_changes_nothing",
         [(100, "192.0.2.99")], {"10.0.0.254": INIT}, 0),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_ping_node_states_follow_heartbeats_deadping_rules(case: Case) -> None:
    config = Connectivity((ROUTER, ROUTER6, GROUP), case.deadping_ms, case.multiplier)
    tracker = ConnectivityTracker(config, deadtime_ms=10_000, started_ms=0)
    now = 0
    for now, address in case.steps:
        if address is None:
            tracker.tick(now)
        else:
            tracker.reply_received(address, now)
    status = tracker.status(now)
    states = {p.name: p.state for p in status.ping_nodes}
    assert {k: states[k] for k in case.expected} == case.expected
    assert status.score == case.score
    assert status.reachable == case.score // case.multiplier


def test_each_change_is_reported_once_with_its_reason() -> None:
    tracker = ConnectivityTracker(Connectivity((ROUTER, GROUP), 3_000), 10_000, started_ms=0)
    [up] = tracker.reply_received("10.0.0.254", 500)
    assert (up.name, up.old, up.new, up.at_ms, up.reason) == (
        "10.0.0.254", INIT, UP, 500, "answered")
    assert tracker.reply_received("10.0.0.254", 600) == ()  # already up: nothing to say
    [group] = tracker.reply_received("10.1.0.2", 700)
    assert group.reason == "answered (member 10.1.0.2 of the group)"
    assert tracker.next_deadline_ms() == 3_600
    [dead] = tracker.tick(3_600)
    assert (dead.name, dead.new, dead.reason) == (
        "10.0.0.254", DEAD, "no reply for 3000 ms (deadping 3000 ms)")
    assert tracker.tick(3_650) == ()  # dead once, not again at every tick
    [never] = ConnectivityTracker(Connectivity((ROUTER,), 3_000), 10_000, 0).tick(3_000)
    assert never.reason == "never answered since start-up (deadping 3000 ms)"
    last = tracker.status(4_000).ping_nodes[0]
    assert (last.last_reply_ago_ms, last.reason) == (3_400, dead.reason)


def test_addresses_are_each_pinged_once_in_configuration_order() -> None:
    twice = PingNode("again", ("10.0.0.254", "10.0.0.9"), is_group=True)
    tracker = ConnectivityTracker(Connectivity((ROUTER, GROUP, twice)), 10_000, 0)
    assert tracker.addresses == ("10.0.0.254", "10.1.0.1", "10.1.0.2", "10.0.0.9")
