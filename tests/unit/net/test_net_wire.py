"""Links and the wire together, as the daemon wires them: signed messages over two
real loopback links, each delivered once, a replayed capture and a forgery dropped."""

from __future__ import annotations

import asyncio
import random
import socket

import pytest

from vigil.config import (
    Auth,
    AuthKey,
    AuthMethod,
    ClusterConfig,
    Compression,
    Endpoint,
    Link,
    LinkKind,
    Node,
    NodeName,
    Timing,
)
from vigil.net import open_links
from vigil.wire import Accepted, Codec, Dropped, DropReason, Receiver, Sequencer

pytestmark = pytest.mark.timeout(20)

A, B = NodeName("alpha"), NodeName("beta")


def _port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_heartbeats_over_two_links_reach_the_peer_once_and_replays_are_dropped() -> None:
    nets = [f"127.{random.randrange(16, 250)}.{random.randrange(1, 250)}" for _ in range(2)]
    port = _port()
    links = tuple(
        Link(f"eth{i}", LinkKind.UCAST, port,
             addresses={A: Endpoint(f"{net}.1"), B: Endpoint(f"{net}.2")})
        for i, net in enumerate(nets)
    )
    auth = Auth(1, {1: AuthKey(1, AuthMethod.HMAC_SHA256, b"secret")})
    config = ClusterConfig(nodes=(Node(A), Node(B)), links=links,
                           timing=Timing(100, 200, 300, 600), auth=auth)
    codec = Codec(auth, Compression(), config.cluster_name)
    receiver = Receiver(codec, B, config.node_names)
    results: list[Accepted | Dropped] = []
    arrived = asyncio.Event()

    def on_datagram(data: bytes, link: str, source: tuple[str, int], waited_s: float) -> None:
        results.append(receiver.receive(data, link))
        arrived.set()

    async def until(count: int) -> None:
        async with asyncio.timeout(5):
            while len(results) < count:
                arrived.clear()
                await arrived.wait()

    alpha = await open_links(config, A, lambda *_: None)
    beta = await open_links(config, B, on_datagram)
    try:
        sequencer = Sequencer(codec, A, incarnation=1)
        captured = [sequencer.encode("hb", {"n": n}) for n in range(3)]
        for datagram in captured:
            alpha.send(datagram)
        await until(6)
        accepted = [r for r in results if isinstance(r, Accepted)]
        assert len(accepted) == 6
        assert sorted(r.envelope.seq for r in accepted if r.first_copy) == [1, 2, 3]
        assert {r.link for r in accepted} == {"eth0", "eth1"}

        # An attacker on the link replays the capture and forges a message.
        forger = Sequencer(Codec(Auth(1, {1: AuthKey(1, AuthMethod.HMAC_SHA256, b"guess")}),
                                 Compression(), config.cluster_name), A, incarnation=2)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as attacker:
            for datagram in [*captured, forger.encode("leave", {})]:
                attacker.sendto(datagram, (f"{nets[0]}.2", port))
        await until(10)
        assert receiver.counters[DropReason.REPLAYED] == 3
        assert receiver.counters[DropReason.BAD_SIGNATURE] == 1
        assert receiver.accepted == 6
    finally:
        alpha.close()
        beta.close()
