"""MAC address takeover: the interface takes the virtual MAC and gets its own back on
stop, even when the daemon restarted in between (what the Remac scripts got wrong)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from agents_lan import Lan, build, teardown

from prereqs import require_root
from vigil.config import AgentSpec, Resource, ResourceId
from vigil.executor import Executor, ResourceState, ResultKind

pytestmark = [pytest.mark.root, pytest.mark.timeout(60)]

VMAC = "02:00:5e:00:01:0a"


@pytest.fixture
def lan(netns: Callable[[], str]) -> Iterator[Lan]:
    require_root()
    built = build(netns)
    try:
        yield built
    finally:
        teardown(built)


def remac(**extra: str) -> Resource:
    return Resource(ResourceId("vmac"), AgentSpec("vigil", "macaddr"),
                    params={"nic": "eth0", "mac": VMAC, **extra})


async def test_macaddr_takes_over_and_restores_the_real_mac_after_daemon_restart(
        lan: Lan, tmp_path: Path) -> None:
    rid = ResourceId("vmac")
    real = lan.link_mac("A")
    client = lan.client_socket()
    first = Executor([remac()], netns=lan.ns["A"], state_dir=tmp_path)
    try:
        assert lan.first_answer(client, lan.ipv4("A"), 0.05, 2.0)[0] == "A"
        assert lan.neighbour(lan.ipv4("A"))[0] == real
        started = await first.run(rid, "start")
        assert started.ok, started.reason
        assert lan.link_mac("A") == VMAC
        # The gratuitous ARP for A's own address moved the client's entry to the new MAC.
        began = time.monotonic()
        while lan.neighbour(lan.ipv4("A"))[0] != VMAC and time.monotonic() - began < 1:
            await asyncio.sleep(0.005)
        assert lan.neighbour(lan.ipv4("A"))[0] == VMAC
        assert lan.first_answer(client, lan.ipv4("A"), 0.05, 2.0)[0] == "A"
        assert (await first.run(rid, "monitor", interval_ms=1000)).result is ResultKind.OK
        # A second start (a restarted daemon re-applying it) must not record VMAC as original.
        assert (await first.run(rid, "start")).ok
    finally:
        await first.close()

    restarted = Executor([remac()], netns=lan.ns["A"], state_dir=tmp_path)
    try:
        probe = await restarted.run(rid, "monitor")
        assert probe.result is ResultKind.OK
        assert restarted.state(rid) is ResourceState.RUNNING
        stopped = await restarted.run(rid, "stop")
        assert stopped.ok, stopped.reason
        assert lan.link_mac("A") == real
        assert (await restarted.run(rid, "monitor")).result is ResultKind.NOT_RUNNING
        assert not list(tmp_path.glob("macaddr-*"))
    finally:
        client.close()
        await restarted.close()


async def test_macaddr_changed_behind_our_back_fails_monitor(lan: Lan, tmp_path: Path) -> None:
    rid = ResourceId("vmac")
    node = Executor([remac(announce="false")], netns=lan.ns["A"], state_dir=tmp_path)
    try:
        assert (await node.run(rid, "start")).ok
        from agents_lan import ip

        ip("-n", lan.ns["A"], "link", "set", "eth0", "address", "02:00:00:00:00:99")
        checked = await node.run(rid, "monitor", interval_ms=1000)
        assert checked.result is ResultKind.ERROR
        assert "behind our back" in checked.reason
        assert (await node.run(rid, "stop")).ok
        assert lan.link_mac("A") == lan.mac("A")
    finally:
        await node.close()
