"""A virtual IP moving between two nodes, seen from a client that keeps its ARP cache.

The client first talks to the VIP on node A, so its neighbour entry points at
A's MAC. Then the VIP moves to B. With gratuitous ARP the client's entry shows
B's MAC right away and B answers; without announcements the entry still
shows A's MAC and the client's packets go to A, which no longer answers.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from agents_lan import Lan, build, teardown

from prereqs import require_root
from vigil.config import AgentSpec, Resource, ResourceId
from vigil.executor import Executor, ResourceState, ResultKind

pytestmark = [pytest.mark.root, pytest.mark.timeout(60)]

VIP, VIP6 = "192.0.2.50", "2001:db8::50"


@pytest.fixture
def lan(netns: Callable[[], str]) -> Iterator[Lan]:
    require_root()
    built = build(netns)
    try:
        yield built
    finally:
        teardown(built)


def vip(rid: str, address: str, **params: str) -> Resource:
    return Resource(ResourceId(rid), AgentSpec("vigil", "ipaddr"),
                    params={"ip": address, "cidr_netmask": "24" if "." in address else "64",
                            "nic": "eth0", **params})


def executors(lan: Lan, tmp_path: Path, *resources: Resource) -> tuple[Executor, Executor]:
    return (Executor(resources, netns=lan.ns["A"], state_dir=tmp_path / "a"),
            Executor(resources, netns=lan.ns["B"], state_dir=tmp_path / "b"))


async def wait_for_neighbour(lan: Lan, addr: str, mac: str, limit_s: float) -> float:
    began = time.monotonic()
    while time.monotonic() - began < limit_s:
        if lan.neighbour(addr)[0] == mac:
            break
        await asyncio.sleep(0.002)
    return time.monotonic() - began


async def test_vip_move_with_gratuitous_arp_reaches_new_holder_without_cache_flush(
        lan: Lan, tmp_path: Path) -> None:
    rid = ResourceId("vip")
    node_a, node_b = executors(lan, tmp_path, vip(rid, VIP), vip(ResourceId("quiet"), VIP,
                                                                 arp_count="0"))
    client = lan.client_socket()
    try:
        assert (await node_a.run(rid, "start")).ok
        assert lan.first_answer(client, VIP, 0.05, 2.0)[0] == "A"
        mac, state = lan.neighbour(VIP)
        assert mac == lan.mac("A")
        assert state in ("REACHABLE", "STALE", "DELAY")

        # Move to B, announced.
        assert (await node_a.run(rid, "stop")).ok
        began = time.monotonic()
        started = await node_b.run(rid, "start")
        assert started.ok, started.reason
        assert "gratuitous ARP" in started.reason
        updated_s = await wait_for_neighbour(lan, VIP, lan.mac("B"), 1.0)
        who, answer_s = lan.first_answer(client, VIP, 0.01, 2.0)
        moved_s = time.monotonic() - began
        assert lan.neighbour(VIP)[0] == lan.mac("B")
        assert who == "B"
        print(f"\nwith gratuitous ARP: client cache on B's MAC after {updated_s * 1000:.1f} ms, "
              f"first answer from B {answer_s * 1000:.1f} ms after asking, "
              f"{moved_s * 1000:.1f} ms after the move began")

        # Move back to A without announcements: the client still sends to B.
        quiet = ResourceId("quiet")
        assert (await node_b.run(rid, "stop")).ok
        assert (await node_a.run(quiet, "start")).ok
        await asyncio.sleep(0.2)
        mac, state = lan.neighbour(VIP)
        assert mac == lan.mac("B"), f"without announcements the client still has {mac} ({state})"
        who, spent = lan.first_answer(client, VIP, 0.01, 0.5)
        assert who is None
        print(f"without announcements: client cache still on B's MAC ({state}), "
              f"no answer in {spent * 1000:.0f} ms")
    finally:
        client.close()
        await node_a.close()
        await node_b.close()


async def test_ipv6_vip_move_updates_client_neighbour_by_unsolicited_advertisement(
        lan: Lan, tmp_path: Path) -> None:
    rid = ResourceId("vip6")
    node_a, node_b = executors(lan, tmp_path, vip(rid, VIP6))
    client = lan.client_socket(socket.AF_INET6)
    try:
        assert (await node_a.run(rid, "start")).ok
        assert lan.first_answer(client, VIP6, 0.05, 3.0)[0] == "A"
        assert lan.neighbour(VIP6)[0] == lan.mac("A")
        assert (await node_a.run(rid, "stop")).ok
        started = await node_b.run(rid, "start")
        assert started.ok
        assert "neighbour advertisement" in started.reason
        spent = await wait_for_neighbour(lan, VIP6, lan.mac("B"), 1.0)
        assert lan.neighbour(VIP6)[0] == lan.mac("B")
        assert lan.first_answer(client, VIP6, 0.01, 2.0)[0] == "B"
        print(f"\nIPv6: client cache on B's MAC {spent * 1000:.1f} ms after the start")
    finally:
        client.close()
        await node_a.close()
        await node_b.close()


async def test_vip_held_by_another_host_fails_monitor_by_arp_probe(
        lan: Lan, tmp_path: Path) -> None:
    rid = ResourceId("vip")
    node_a, node_b = executors(lan, tmp_path, vip(rid, VIP, arp_count="0"))
    try:
        assert (await node_a.run(rid, "start")).ok
        alone = await node_a.run(rid, "monitor", interval_ms=1000)
        assert alone.result is ResultKind.OK, alone.reason
        assert (await node_b.run(rid, "start")).ok  # a split brain: both hold it
        both = await node_b.run(rid, "monitor", interval_ms=1000)
        assert both.result is ResultKind.ERROR
        assert lan.mac("A") in both.reason
        assert node_b.state(rid) is ResourceState.FAILED
    finally:
        await node_a.close()
        await node_b.close()


async def test_vip_stop_removes_address_and_probe_reports_stopped(
        lan: Lan, tmp_path: Path) -> None:
    rid = ResourceId("vip")
    node_a, _ = executors(lan, tmp_path, vip(rid, VIP))
    try:
        assert (await node_a.run(rid, "start")).ok
        assert (await node_a.run(rid, "stop")).ok
        probe = await node_a.run(rid, "monitor")
        assert probe.result is ResultKind.NOT_RUNNING
        assert node_a.state(rid) is ResourceState.STOPPED
        assert (await node_a.run(rid, "stop")).ok  # stopping twice is fine, as OCF wants
    finally:
        await node_a.close()
