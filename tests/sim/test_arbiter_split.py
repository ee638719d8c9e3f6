"""A two-node split with an arbitrator: exactly the side holding the lease runs the service.

Exact virtual timings. The cluster: keepalive 100 ms, warntime 500, deadtime
1 s (cluster_factory.FAST), links delivering in exactly 1 ms, agents that
start and stop in 50 ms with stop timeouts of 300 ms, no fencing, no
two_node; an arbitrator 2 ms away with a 1,500 ms lease. So a vote counts
until its request's send + 1,500 - 300 - 500 = send + 700 ms, and each node
asks every 700 / 3 = 233 ms from its start (0, 233, ..., 4893, 5126, ...).
node1, first in the configuration, takes the lease at 2 ms with token 1.
"""

from __future__ import annotations

from dataclasses import replace

from cluster_factory import with_groups

from vigil.config import Arbiter, ArbiterBackend, ClusterConfig, Endpoint, NodeName
from vigil.sim import ClusterSimulation, Delay, LinkConditions
from vigil.sim.arbiter import Grant

TTL_MS = 1_500


def two_nodes(preferred: str) -> ClusterConfig:
    return replace(with_groups(2, {"db": (preferred, ["db"])}),
                   arbiter=Arbiter(ArbiterBackend.VIGIL, TTL_MS, Endpoint("192.0.2.9", 6950)))


def simulate(preferred: str) -> ClusterSimulation:
    return ClusterSimulation(two_nodes(preferred), seed=1, echo=None, checkers=[],
                             links=LinkConditions(delay=Delay(1, 1)))


def changes(sim: ClusterSimulation, after_ms: int) -> list[tuple[int, str, str]]:
    """(time, node, up/down) of db's service after AFTER_MS."""
    return [(at, n, what.split(":")[0]) for at, n, r, what in sim.history.entries
            if r == "db" and at > after_ms and (what == "up" or what.startswith("down"))]


def quorate(sim: ClusterSimulation, node: str) -> bool:
    m = sim.membership(node)
    return m is not None and m.quorum.quorate


def test_split_with_both_sides_reaching_the_arbiter_leaves_the_service_on_the_holder() -> None:
    sim = simulate(preferred="node2")  # db runs on node2; node1 holds the lease
    sim.partition([["node1"], ["node2"]], 5_000, 9_000)
    sim.run_until(5_400)
    assert sim.active("db") == ("node2",)
    # node2 last heard node1 at 4901: late at 5401, and without the lease its side is
    # one vote of three: it stops db (50 ms). node1 declares node2 dead at 5901 and,
    # holding the lease (two votes of three), starts db at once.
    sim.run_until(8_999)
    assert changes(sim, 5_000) == [(5_451, "node2", "down"), (5_901, "node1", "up")]
    assert (quorate(sim, "node1"), quorate(sim, "node2")) == (True, False)
    assert sim.arbiter is not None
    assert sim.arbiter.grants == [Grant(2, NodeName("node1"), 1)]


def test_holder_cut_off_from_peer_and_arbiter_stops_before_the_lease_can_move() -> None:
    sim = simulate(preferred="node1")
    assert sim.arbiter is not None
    sim.partition([["node1"], ["node2"]], 5_000, 9_000)
    sim.arbiter.isolate("node1", 5_000, 9_000)
    sim.run_until(8_999)
    # node1's last renewal left at 4893 and reached the arbiter at 4895: the lease
    # ends at 6395. node1's vote ends at 4893 + 700 = 5593; node2 is late, so node1
    # is one vote of three and stops db: down at 5643, 752 ms before the lease ends.
    # node2 asks at 6524, gets the lease at 6526 with token 2, and starts db at 6528.
    assert changes(sim, 5_000) == [(5_643, "node1", "down"), (6_528, "node2", "up")]
    assert sim.arbiter.grants == [Grant(2, NodeName("node1"), 1),
                                  Grant(6_526, NodeName("node2"), 2)]
    assert (quorate(sim, "node1"), quorate(sim, "node2")) == (False, True)


def test_holder_crash_moves_the_service_once_the_lease_lapses() -> None:
    sim = simulate(preferred="node1")
    assert sim.arbiter is not None
    sim.crash("node1", 5_000)
    sim.run_until(8_000)
    # Failover waits for the lease: it ends at 6395 (renewed at 4895), node2's next
    # ask at 6524 takes it, db starts at 6528: 1,528 ms after the crash.
    assert changes(sim, 4_999) == [(5_000, "node1", "down"), (6_528, "node2", "up")]
    assert sim.arbiter.grants[-1] == Grant(6_526, NodeName("node2"), 2)


def test_a_node_alone_without_the_arbiter_never_starts_the_service() -> None:
    sim = simulate(preferred="node2")
    assert sim.arbiter is not None
    sim.partition([["node1"], ["node2"]], 5_000, 9_000)
    sim.arbiter.isolate("node1", 5_000, 9_000)
    sim.arbiter.isolate("node2", 5_000, 9_000)
    sim.run_until(8_999)
    # Nobody can renew: node2 stops at warntime (5401 + 50), node1's vote ends at
    # 5593 and it never starts db: a split with no arbitrator is no quorum anywhere.
    assert changes(sim, 5_000) == [(5_451, "node2", "down")]
    assert sim.active("db") == ()
    assert (quorate(sim, "node1"), quorate(sim, "node2")) == (False, False)


def test_a_clean_stop_of_the_holder_hands_the_lease_over_and_the_service_runs_on() -> None:
    sim = simulate(preferred="node1")
    assert sim.arbiter is not None
    sim.stop("node1", 5_000)
    sim.run_until(5_339)
    # node1 hands db over (its stop ends at 5050, node2 starts db at 5051), then,
    # its own vote given up, hands the lease to node2 with token 2 (5102) and waits
    # one renew period and a round trip (233 + 4 + 1 ms) before it leaves, so
    # node2's ask at 5126 tells it that it holds the lease.
    assert sim.arbiter.grants[-1] == Grant(5_102, NodeName("node2"), 2)
    vote = sim.arbiter.votes[NodeName("node2")]
    assert vote is not None
    assert vote.holder
    assert sim.is_running("node1")
    sim.run_until(7_000)
    assert not sim.is_running("node1")
    # The leave shrinks node2's view; its vote as the holder carries on: no restart.
    assert changes(sim, 4_999) == [(5_050, "node1", "down"), (5_051, "node2", "up")]
    assert quorate(sim, "node2")
