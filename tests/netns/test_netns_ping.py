"""Ping nodes across a veth pair between two namespaces: one address answers, one never does.

    ns A veth0 192.0.2.1/24 2001:db8::1/64 ---- ns B veth0 192.0.2.2/24 2001:db8::2/64
    (192.0.2.3 and 2001:db8::3 are on the link's subnet but nobody has them)
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
from collections.abc import Callable

import pytest
from agents_lan import in_ns, ip

from vigil.config import Connectivity, PingNode, Timing
from vigil.connectivity import PingNodeState
from vigil.daemon.clock import Clock
from vigil.daemon.connectivity import ConnectivityMonitor
from vigil.net import Pinger

ANSWERS = ["192.0.2.2", "2001:db8::2"]
SILENT = ["192.0.2.3", "2001:db8::3"]


@pytest.fixture
def pair(netns: Callable[[], str]) -> str:
    """Two namespaces joined by a veth pair; the name of A (where pings leave from)."""
    a, b = netns(), netns()
    ip("-n", a, "link", "add", "veth0", "type", "veth", "peer", "name", "veth0", "netns", b)
    for ns, host in ((a, "1"), (b, "2")):
        ip("-n", ns, "addr", "add", f"192.0.2.{host}/24", "dev", "veth0")
        ip("-n", ns, "addr", "add", f"2001:db8::{host}/64", "dev", "veth0", "nodad")
        ip("-n", ns, "link", "set", "veth0", "up")
    return a


@pytest.mark.parametrize("kind", [socket.SOCK_RAW, socket.SOCK_DGRAM], ids=["raw", "dgram"])
async def test_address_that_answers_gets_replies_and_one_that_does_not_gets_none(
    pair: str, kind: int
) -> None:
    if kind == socket.SOCK_DGRAM:  # let root's group use unprivileged ICMP in A only
        subprocess.run(["ip", "netns", "exec", pair, "sysctl", "-qw",
                        "net.ipv4.ping_group_range=0 0"], check=True, timeout=10)
    got: list[str] = []
    pinger = Pinger(ANSWERS + SILENT, got.append, kinds=(kind,))
    in_ns(pair, pinger.open)
    pinger.start()
    try:
        for _ in range(3):
            pinger.ping_round()
            await asyncio.sleep(0.1)  # one round per (fast) keepalive
        for _ in range(40):  # the last round's replies, bounded
            if len(got) >= 6:
                break
            await asyncio.sleep(0.05)
    finally:
        pinger.close()
    # the first IPv4 echo may wait for ARP, the first IPv6 one for neighbour discovery
    assert set(got) == set(ANSWERS)
    assert all(got.count(a) >= 2 for a in ANSWERS)
    assert all(pinger.stats[a].received == 0 for a in SILENT)
    assert all(pinger.stats[a].sent == 3 for a in ANSWERS + SILENT)


async def test_monitor_marks_the_silent_ping_node_dead_after_deadping_and_scores_the_rest(
    pair: str
) -> None:
    connectivity = Connectivity(
        (PingNode("192.0.2.2", ("192.0.2.2",)),
         PingNode("routers", ("2001:db8::3", "2001:db8::2"), is_group=True),
         PingNode("192.0.2.3", ("192.0.2.3",))),
        deadping_ms=300, multiplier=100)
    timing = Timing(keepalive_ms=100, warntime_ms=200, deadtime_ms=400, initdead_ms=800)
    monitor = ConnectivityMonitor(connectivity, timing, Clock(asyncio.get_running_loop()))
    seen: list[int] = []
    monitor.subscribe(lambda status: seen.append(status.score))
    in_ns(pair, monitor.open)
    monitor.run()
    try:
        for _ in range(60):
            snap = monitor.snapshot()
            if snap.ping_nodes[2].state is PingNodeState.DEAD and snap.reachable == 2:
                break
            await asyncio.sleep(0.05)
    finally:
        monitor.stop()
    states = {p.name: p.state for p in snap.ping_nodes}
    assert states == {"192.0.2.2": PingNodeState.UP, "routers": PingNodeState.UP,
                      "192.0.2.3": PingNodeState.DEAD}
    assert snap.score == 200
    assert seen[-1] == 200
    doc = monitor.status_doc()
    assert doc["score"] == 200
    assert doc["ping_nodes"][2]["reason"].startswith("never answered since start-up")
