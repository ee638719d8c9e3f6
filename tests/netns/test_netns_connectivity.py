"""ipfail proven in network namespaces: the VIP goes to the node that still reaches the network.

The failover tests' two-node LAN (cluster_lan.py: a bridge, a node namespace
each, a client asking the VIP every 10 ms) plus an uplink, as a Heartbeat pair
whose `ping` line names the router::

    ns node0 eth0 192.0.2.1    --+-- br0 --+-- ns client 192.0.2.100
    ns node1 eth0 192.0.2.2    --+
    ns node0 eth1 198.51.100.1 --+-- br1 --+-- ns router eth1 198.51.100.254 (the ping node)
    ns node1 eth1 198.51.100.2 --+

Cutting a node's uplink is its bridge port going down (its eth1 loses carrier;
heartbeats on eth0 carry on). Timing: keepalive 100 ms, deadtime 500 ms,
deadping 500 ms, one ping node at multiplier 100. Durations are printed (run
with ``-s``); the assertions are generous bounds, since the machine is shared.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator

import pytest
from agents_lan import ip
from cluster_lan import VIGIL, ClusterLan, Service

from prereqs import require_command, require_root

pytestmark = [pytest.mark.root, pytest.mark.slow, pytest.mark.timeout(120)]

NODES = ["node0", "node1"]
WEB = Service("web", "192.0.2.50", {"node0": 100})
ROUTER = "198.51.100.254"
DEADPING_S = 0.5
CONNECTIVITY = f"""
[connectivity]
deadping = "{int(DEADPING_S * 1000)}ms"
multiplier = 100
[[connectivity.ping]]
name = "router"
addresses = ["{ROUTER}"]
"""


def add_uplink(lan: ClusterLan) -> None:
    """A second bridge from every node's eth1 to a router namespace, and the ping line."""
    sw = lan.ns["sw"]
    ip("-n", sw, "link", "add", "br1", "type", "bridge")
    ip("-n", sw, "link", "set", "br1", "up")
    router = lan.ns["router"] = lan.make_ns()
    ends = {node: (f"u{node}", f"198.51.100.{i}") for i, node in enumerate(lan.names, 1)}
    ends["router"] = ("urouter", ROUTER)
    for role, (port, addr) in ends.items():
        ns = router if role == "router" else lan.ns[role]
        ip("-n", sw, "link", "add", port, "type", "veth", "peer", "name", "eth1", "netns", ns)
        ip("-n", sw, "link", "set", port, "master", "br1", "up")
        ip("-n", ns, "link", "set", "eth1", "up")
        ip("-n", ns, "addr", "add", f"{addr}/24", "dev", "eth1")
    with lan.config.open("a") as f:
        f.write(CONNECTIVITY)


def uplink(lan: ClusterLan, node: str, up: bool) -> float:
    """Plug NODE's uplink in or pull it; the monotonic time it happened."""
    ip("-n", lan.ns["sw"], "link", "set", f"u{node}", "up" if up else "down")
    return time.monotonic()


def scores(lan: ClusterLan, asked: str) -> dict[str, int | None]:
    """Every node's connectivity as ASKED's daemon reports it."""
    return {n["name"]: n.get("connectivity") for n in lan.status(asked)["nodes"]}


def seen_everywhere(lan: ClusterLan, expected: dict[str, int]) -> bool:
    return all(scores(lan, asked) == expected for asked in lan.names)


def holders(lan: ClusterLan) -> set[str]:
    """The nodes whose eth0 carries the VIP."""
    return {n for n in lan.names
            if f"{WEB.vip}/24" in ip("-n", lan.ns[n], "-br", "addr", "show", "dev", "eth0")}


@pytest.fixture
def uplinked(netns: Callable[[], str]) -> Iterator[Callable[[str], ClusterLan]]:
    """Builds the two-node cluster with its uplink (auto_failback as given), started and
    settled: both nodes reach the router, the VIP serves from its preferred node0."""
    require_root()
    require_command("unshare")
    built: list[ClusterLan] = []

    def make(auto_failback: str) -> ClusterLan:
        lan = ClusterLan(NODES, [WEB], netns, auto_failback=auto_failback,
                         quorum="two_node = true")
        built.append(lan)
        lan.build()
        add_uplink(lan)
        lan.start()
        lan.wait_until("both nodes in one stable view", lambda: lan.agreed(NODES))
        lan.wait_until("both nodes reach the router, as each daemon sees it",
                       lambda: seen_everywhere(lan, {"node0": 100, "node1": 100}))
        lan.wait_placed("node1", {"web": "node0"})
        lan.wait_steady(WEB, "node0")
        return lan

    try:
        yield make
    finally:
        for lan in built:
            lan.destroy()


@pytest.mark.parametrize("auto_failback", ["off", "on"])
def test_active_node_losing_its_uplink_hands_vip_to_standby_and_both_losing_it_moves_nothing(
        uplinked: Callable[[str], ClusterLan], auto_failback: str) -> None:
    lan = uplinked(auto_failback)
    plain = subprocess.run([str(VIGIL), "status", "--socket", str(lan.socket("node1"))],
                           capture_output=True, text=True, timeout=30, check=True).stdout
    for node in NODES:
        assert any(line.split()[:2] == [node, "up"] and "connectivity 100" in line
                   for line in plain.splitlines()), plain

    # 1. The active node's uplink goes: the VIP follows the network to the standby.
    cut = uplink(lan, "node0", up=False)
    seen = lan.wait_served(WEB, "node1", cut, timeout_s=DEADPING_S + 10)
    lan.wait_placed("node0", {"web": "node1"})
    print(f"\nnode0's uplink cut: {seen} (deadping {DEADPING_S * 1000:.0f} ms)")
    assert seen.outage_s < DEADPING_S + 3.0
    assert holders(lan) == {"node1"}
    assert seen_everywhere(lan, {"node0": 0, "node1": 100})
    reason = lan.resource("node0", "vip-web")["reason"]
    assert "connectivity" in reason, reason
    assert "ping node dead ping_node=router" in lan.log("node0").read_text()

    # 2. It comes back: equal connectivity, so stickiness decides (auto_failback).
    back = uplink(lan, "node0", up=True)
    lan.wait_until("node0 reaches the router again",
                   lambda: seen_everywhere(lan, {"node0": 100, "node1": 100}))
    if auto_failback == "on":
        lan.wait_served(WEB, "node0", back)
        lan.wait_placed("node1", {"web": "node0"})
        lan.wait_steady(WEB, "node0")
        holder = "node0"
    else:
        time.sleep(1.0)  # past the dampen and a plan: nothing may move meanwhile
        assert lan.placement("node1") == {"web": "node1"}
        assert lan.prober is not None
        assert lan.prober.answered_by(WEB.vip, back) == {"node1"}
        holder = "node1"
    print(f"node0's uplink back, auto_failback {auto_failback}: the VIP is on {holder}")

    # 3. Both lose the network (the router's side is fine): nothing moves, no flapping.
    both = time.monotonic()
    for node in NODES:
        uplink(lan, node, up=False)
    lan.wait_until("both nodes lost the router, as each daemon sees it",
                   lambda: seen_everywhere(lan, {"node0": 0, "node1": 0}),
                   timeout_s=DEADPING_S + 10)
    time.sleep(1.0)  # past the dampen and a plan: nothing may move meanwhile
    assert lan.placement("node0") == {"web": holder}
    assert holders(lan) == {holder}
    assert lan.prober is not None
    assert lan.prober.answered_by(WEB.vip, both) == {holder}
