"""After a split brain the holder that stays announces again, and refreshes (issue 10).

Both nodes hold the VIP (a split brain), B announced last, so the client's
neighbour entry points at B. B, the loser, removes its copy. The client keeps
sending to B's MAC until A speaks: the coordinator asks A for ``reannounce``
when the partition heals, and A's periodic refresh (``arp_refresh_ms``)
corrects a client nobody told.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from agents_lan import Lan, build, teardown
from test_netns_vip import vip, wait_for_neighbour

from prereqs import require_root
from vigil.config import ResourceId
from vigil.executor import Executor

pytestmark = [pytest.mark.root, pytest.mark.timeout(60)]

VIP = "192.0.2.51"


@pytest.fixture
def lan(netns: Callable[[], str]) -> Iterator[Lan]:
    require_root()
    built = build(netns)
    try:
        yield built
    finally:
        teardown(built)


async def split_brain_then_loser_stops(lan: Lan, a: Executor, b: Executor,
                                       rid: ResourceId) -> None:
    """A and B both start RID; B last, so the client points at B; then B stops."""
    client = lan.client_socket()
    try:
        assert (await a.run(rid, "start")).ok
        assert lan.first_answer(client, VIP, 0.05, 2.0)[0] == "A"  # the client learns A
    finally:
        client.close()
    assert (await b.run(rid, "start")).ok
    await wait_for_neighbour(lan, VIP, lan.mac("B"), 1.0)
    assert lan.neighbour(VIP)[0] == lan.mac("B")
    assert (await b.run(rid, "stop")).ok


async def test_reannounce_of_the_winner_moves_a_client_pointed_at_the_loser(
        lan: Lan, tmp_path: Path) -> None:
    rid = ResourceId("vip")
    resources = (vip(rid, VIP, arp_count="1", arp_refresh_ms="0"),)
    a = Executor(resources, netns=lan.ns["A"], state_dir=tmp_path / "a")
    b = Executor(resources, netns=lan.ns["B"], state_dir=tmp_path / "b")
    client = lan.client_socket()
    try:
        await split_brain_then_loser_stops(lan, a, b, rid)
        assert lan.first_answer(client, VIP, 0.01, 0.3)[0] is None  # still sent to B
        began = time.monotonic()
        done = await a.run(rid, "reannounce")
        assert done.ok, done.reason
        assert "announced again" in done.reason
        updated_s = await wait_for_neighbour(lan, VIP, lan.mac("A"), 1.0)
        assert lan.neighbour(VIP)[0] == lan.mac("A")
        who, answer_s = lan.first_answer(client, VIP, 0.01, 1.0)
        assert who == "A"
        print(f"\nreannounce: client on A's MAC {updated_s * 1000:.1f} ms after it began, "
              f"answered by A {(time.monotonic() - began) * 1000:.1f} ms after it began "
              f"({answer_s * 1000:.1f} ms after asking)")
        stopped = await b.run(rid, "reannounce")  # the loser holds nothing: says so
        assert not stopped.ok
    finally:
        client.close()
        await a.close()
        await b.close()


async def test_periodic_refresh_corrects_a_client_nobody_told(
        lan: Lan, tmp_path: Path) -> None:
    rid = ResourceId("vip")
    a = Executor((vip(rid, VIP, arp_count="1", arp_refresh_ms="300"),), netns=lan.ns["A"],
                 state_dir=tmp_path / "a")
    b = Executor((vip(rid, VIP, arp_count="1", arp_refresh_ms="0"),), netns=lan.ns["B"],
                 state_dir=tmp_path / "b")
    try:
        began = time.monotonic()
        await split_brain_then_loser_stops(lan, a, b, rid)
        spent = await wait_for_neighbour(lan, VIP, lan.mac("A"), 1.5)
        assert lan.neighbour(VIP)[0] == lan.mac("A"), "A's refresh did not reach the client"
        print(f"\nrefresh every 300 ms: client back on A's MAC {spent * 1000:.0f} ms after "
              f"B stopped ({(time.monotonic() - began) * 1000:.0f} ms after the split began)")
    finally:
        await a.close()
        await b.close()
