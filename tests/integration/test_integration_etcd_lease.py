"""The cluster lease on a real etcd (Debian's etcd-server, started by the test on loopback).

Two nodes race for the lease; exactly one wins. A holder that stops renewing
loses the lease once its TTL has passed, and the other node then takes it with
a larger fencing token (an etcd revision). A holder that releases it hands it
over at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from etcd_server import EtcdServer

from vigil.arbiter import EtcdBackend
from vigil.config import NodeName

pytestmark = pytest.mark.timeout(60)

N1, N2 = NodeName("node1"), NodeName("node2")
TTL_MS = 2_000  # etcd's smallest with its default election timeout


@pytest.fixture
def etcd(tmp_path: Path) -> Iterator[EtcdServer]:
    server = EtcdServer(tmp_path)
    try:
        server.start()
        yield server
    finally:
        server.stop()


def backend(etcd: EtcdServer, node: NodeName) -> EtcdBackend:
    return EtcdBackend([etcd.url], "itest", node, ttl_ms=TTL_MS, timeout_ms=1_000)


def test_two_nodes_racing_for_the_lease_have_exactly_one_winner(etcd: EtcdServer) -> None:
    async def race() -> None:
        a, b = backend(etcd, N1), backend(etcd, N2)
        answers = await asyncio.gather(a.acquire([N1]), b.acquire([N2]))
        winners = [x for x in answers if x.vote]
        assert len(winners) == 1
        [winner] = winners
        loser = next(x for x in answers if not x.vote)
        # Both name the same holder and token; the loser's own lease was given back.
        assert (loser.holder, loser.token) == (winner.holder, winner.token)
        assert 0 < winner.remaining_ms <= TTL_MS
        # Asking again changes nothing.
        other = b if winner.holder == N1 else a
        again = await other.acquire([other.node])
        assert (again.holder, again.token, again.vote) == (winner.holder, winner.token, False)
        await a.close()
        await b.close()

    asyncio.run(race())


def test_a_holder_that_stops_renewing_loses_the_lease_to_a_larger_token(
        etcd: EtcdServer) -> None:
    async def lapse() -> None:
        a, b = backend(etcd, N1), backend(etcd, N2)
        first = await a.acquire([N1])
        assert (first.holder, first.vote) == (N1, True)
        assert not (await b.acquire([N2])).vote
        await asyncio.sleep(1.0)  # half a TTL: node1 renews, still its lease
        renewed = await a.acquire([N1])
        assert (renewed.token, renewed.vote) == (first.token, True)
        # node1 falls silent: node2 keeps trying until etcd lets the lease lapse.
        loop = asyncio.get_running_loop()
        silent_at = loop.time()
        while not (taken := await b.acquire([N2])).vote:
            assert loop.time() - silent_at < 5, "the lease never lapsed"
            await asyncio.sleep(0.1)
        waited = loop.time() - silent_at
        assert waited >= 1.5, f"taken after {waited:.2f} s: before the renewal's TTL ran out"
        assert taken.holder == N2
        assert taken.token > first.token
        # node1 learns it lost the lease: renewing gives no vote any more.
        late = await a.acquire([N1])
        assert (late.holder, late.vote, late.token) == (N2, False, taken.token)
        await a.close()
        await b.close()

    asyncio.run(lapse())


def test_a_released_lease_goes_to_the_next_node_at_once(etcd: EtcdServer) -> None:
    async def hand_over() -> None:
        a, b = backend(etcd, N1), backend(etcd, N2)
        first = await a.acquire([N1])
        await a.release(first.token)
        taken = await b.acquire([N2])
        assert (taken.holder, taken.vote) == (N2, True)
        assert taken.token > first.token
        await a.close()
        await b.close()

    asyncio.run(hand_over())


def test_a_member_of_the_holders_partition_gets_the_vote_others_do_not(
        etcd: EtcdServer) -> None:
    async def members() -> None:
        a, b = backend(etcd, N1), backend(etcd, N2)
        await a.acquire([N1, N2])
        assert (await b.query([N1, N2])).vote
        assert not (await b.query([N2])).vote  # node2's view no longer holds node1
        await a.close()
        await b.close()

    asyncio.run(members())


def test_a_transfer_hands_the_etcd_lease_to_the_successor_who_keeps_it_alive(
        etcd: EtcdServer) -> None:
    async def transfer() -> None:
        a, b = backend(etcd, N1), backend(etcd, N2)
        first = await a.acquire([N1, N2])
        handed = await a.transfer(first.token, N2)
        assert (handed.holder, handed.vote) == (N2, False)
        assert handed.token > first.token
        learned = await b.query([N1, N2])  # node2's next request: it holds the lease now
        assert (learned.holder, learned.vote, learned.token) == (N2, True, handed.token)
        # node2 keeps the same etcd lease alive past the TTL node1 last gave it.
        for _ in range(6):
            await asyncio.sleep(0.5)
            kept = await b.acquire([N2])
            assert (kept.holder, kept.vote) == (N2, True)
        assert not (await a.acquire([N1])).vote
        await a.close()
        await b.close()

    asyncio.run(transfer())
