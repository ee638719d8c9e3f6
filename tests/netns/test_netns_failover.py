"""Failover proven on real daemons in network namespaces, seen by a client.

Each test builds a bridge, one namespace per node and a client namespace that
asks every VIP every 10 ms without ever flushing its ARP cache
(cluster_lan.py). A group is a ``vigil:ipaddr`` VIP then an ``lsb:`` service
bound to it that answers with its node's name, so an answer names the node
serving. Timing: keepalive 100 ms, deadtime 500 ms. A crash is Heartbeat's
worst case: every process of the node frozen, then its cable pulled; the node
comes back as from a reboot. Outages are printed (run with ``-s``); the
assertions are generous bounds, since the machine is shared.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator

import pytest
from cluster_lan import ClusterLan, Service

from prereqs import require_command, require_root

pytestmark = [pytest.mark.root, pytest.mark.slow, pytest.mark.timeout(90)]

DEADTIME_S = 0.5
WEB = Service("web", "192.0.2.50", {"node0": 100})
# The N+1 layout of the 3-node field notes: node0 and node2 primaries, node1 the
# standby of both (scored above the other primary, so it is where each goes).
WEB3 = Service("web", "192.0.2.50", {"node0": 100, "node1": 50})
DB3 = Service("db", "192.0.2.51", {"node2": 100, "node1": 50})
Factory = Callable[..., ClusterLan]


@pytest.fixture
def cluster(netns: Callable[[], str]) -> Iterator[Factory]:
    """Builds a ClusterLan (keyword arguments as its fields) and starts its daemons;
    every one built is destroyed at teardown."""
    require_root()
    require_command("unshare")
    built: list[ClusterLan] = []

    def make(names: list[str], services: list[Service], **options: object) -> ClusterLan:
        lan = ClusterLan(names, services, netns, **options)  # type: ignore[arg-type]
        built.append(lan)
        lan.build()
        lan.start()
        lan.wait_until("every node in one stable view", lambda: lan.agreed(names))
        return lan

    try:
        yield make
    finally:
        for lan in built:
            lan.destroy()


def two_nodes(cluster: Factory, **options: object) -> ClusterLan:
    lan = cluster(["node0", "node1"], [WEB], quorum="two_node = true", **options)
    lan.wait_placed("node1", {"web": "node0"})
    lan.wait_steady(WEB, "node0")
    return lan


@pytest.mark.parametrize("auto_failback", ["on", "off"])
def test_crash_of_active_node_moves_group_within_deadtime_and_failback_follows_auto_failback(
        cluster: Factory, auto_failback: str) -> None:
    lan = two_nodes(cluster, auto_failback=auto_failback)

    fault = lan.crash("node0")
    seen = lan.wait_served(WEB, "node1", fault)
    lan.wait_placed("node1", {"web": "node1"})
    print(f"\ncrash of node0 (frozen, cable pulled): {seen}")
    assert seen.outage_s < DEADTIME_S + 1.0

    lan.reboot("node0")
    back = time.monotonic()
    lan.wait_until("node0 back in the view", lambda: lan.agreed(["node0", "node1"]))
    if auto_failback == "on":
        seen = lan.wait_served(WEB, "node0", back)
        lan.wait_placed("node1", {"web": "node0"})
        lan.wait_steady(WEB, "node0")
        print(f"node0 rebooted, auto_failback on: the group went back, {seen}")
    else:
        # node0 has probed and the DC has planned with it once: nothing moves.
        lan.wait_until("node0's probes done", lambda: lan.resource("node0", "vip-web")[
            "state"] == "running")
        time.sleep(1.0)
        assert lan.placement("node0") == {"web": "node1"}
        assert lan.prober is not None
        assert lan.prober.answered_by(WEB.vip, back) == {"node1"}
        print("node0 rebooted, auto_failback off: the group stays on node1")


def test_standby_switches_over_and_sigterm_hands_over_without_waiting_deadtime(
        cluster: Factory) -> None:
    lan = two_nodes(cluster, auto_failback="off")

    began = time.monotonic()
    done = lan.vigil("node0", "standby")
    assert done.returncode == 0, done.stderr
    seen = lan.wait_served(WEB, "node1", began)
    lan.wait_placed("node0", {"web": "node1"})
    print(f"\nvigil standby on node0 (command to first answer from node1): {seen}")
    assert lan.vigil("node0", "online").returncode == 0
    lan.wait_steady(WEB, "node1")

    node1 = lan.daemons["node1"]
    began = time.monotonic()
    node1.terminate()
    seen = lan.wait_served(WEB, "node0", began)
    print(f"SIGTERM to node1's daemon: {seen}")
    assert node1.wait(10) == 0
    lan.wait_placed("node0", {"web": "node0"})
    assert "peer left node=node1" in lan.log("node0").read_text()
    assert seen.outage_s < DEADTIME_S, "a clean stop must not wait for deadtime"


def test_n_plus_one_each_primary_crash_moves_only_its_group_to_the_standby(
        cluster: Factory) -> None:
    lan = cluster(["node0", "node1", "node2"], [WEB3, DB3],
                  quorum='no_quorum_policy = "ignore"')  # as Heartbeat R1: no quorum
    lan.wait_placed("node1", {"web": "node0", "db": "node2"})
    lan.wait_steady(WEB3, "node0")
    lan.wait_steady(DB3, "node2")

    fault = lan.crash("node0")
    print(f"\ncrash of node0: web {lan.wait_served(WEB3, 'node1', fault)}")
    lan.wait_placed("node1", {"web": "node1", "db": "node2"})
    assert lan.prober is not None
    assert lan.prober.answered_by(DB3.vip, fault) == {"node2"}, "db must not move"

    lan.reboot("node0")
    back = time.monotonic()
    print(f"node0 back: web {lan.wait_served(WEB3, 'node0', back, 15)}")
    lan.wait_placed("node1", {"web": "node0", "db": "node2"})

    fault = lan.crash("node2")
    print(f"crash of node2: db {lan.wait_served(DB3, 'node1', fault)}")
    lan.wait_placed("node1", {"web": "node0", "db": "node1"})
    assert lan.prober.answered_by(WEB3.vip, fault) == {"node0"}, "web must not move"

    fault = lan.crash("node0")
    print(f"crash of node0 too: web {lan.wait_served(WEB3, 'node1', fault)}")
    lan.wait_placed("node1", {"web": "node1", "db": "node1"})

    lan.reboot("node0")
    lan.reboot("node2")
    back = time.monotonic()
    lan.wait_served(WEB3, "node0", back, 15)
    lan.wait_served(DB3, "node2", back, 15)
    lan.wait_placed("node1", {"web": "node0", "db": "node2"})
    print("both back: each group on its primary again")


def test_killed_service_restarts_in_place_then_moves_at_threshold_and_cleanup_clears(
        cluster: Factory) -> None:
    lan = two_nodes(cluster, auto_failback="off", migration_threshold=2)
    _, echo = WEB.members

    os.kill(lan.service_pid("node0", WEB), signal.SIGKILL)  # behind the cluster's back
    killed = time.monotonic()
    lan.wait_until("failcount 1", lambda: lan.resource("node1", echo)["failcount"] == 1)
    seen = lan.wait_served(WEB, "node0", killed)
    lan.wait_placed("node1", {"web": "node0"})
    print(f"\nservice killed once: restarted in place on node0, {seen}")

    lan.wait_steady(WEB, "node0")
    os.kill(lan.service_pid("node0", WEB), signal.SIGKILL)
    killed = time.monotonic()
    seen = lan.wait_served(WEB, "node1", killed)
    lan.wait_placed("node1", {"web": "node1"})
    assert lan.resource("node1", echo)["failcount"] == 2
    print(f"killed again (migration-threshold 2): moved to node1, {seen}")

    done = lan.vigil("node1", "cleanup", echo)
    assert done.returncode == 0, done.stderr
    lan.wait_until("failcount cleared",
                   lambda: lan.resource("node1", echo)["failcount"] == 0)
    lan.wait_placed("node1", {"web": "node1"})  # auto_failback off: it stays
    print("vigil cleanup: failcount 0, the group stays on node1")
