"""Links read on a grid (``Links.read_on_grid``): what arrives waits for the next
read instead of waking the daemon, and nothing is lost in between."""

from __future__ import annotations

import asyncio
import random
import socket
from dataclasses import dataclass, field

import pytest

import vigil.net.links
from vigil.config import (
    Auth,
    AuthKey,
    AuthMethod,
    ClusterConfig,
    Endpoint,
    Link,
    LinkKind,
    Node,
    NodeName,
    Timing,
)
from vigil.net import Links, open_links

pytestmark = pytest.mark.timeout(20)

A, B = NodeName("alpha"), NodeName("beta")
#: A grid whose next point never comes during a test: reads happen only on ``drain``.
FAR = 3600.0


@dataclass
class Inbox:
    got: list[bytes] = field(default_factory=list)
    waited: list[float] = field(default_factory=list)

    def __call__(self, data: bytes, link: str, source: tuple[str, int],
                 waited_s: float = 0.0) -> None:
        self.got.append(data)
        self.waited.append(waited_s)


def _config() -> ClusterConfig:
    net = f"127.{random.randrange(16, 250)}.{random.randrange(1, 250)}"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    link = Link("hb", LinkKind.UCAST, port,
                addresses={A: Endpoint(f"{net}.1"), B: Endpoint(f"{net}.2")})
    return ClusterConfig(nodes=(Node(A), Node(B)), links=(link,),
                         timing=Timing(1000, 2000, 3000, 6000),
                         auth=Auth(1, {1: AuthKey(1, AuthMethod.HMAC_SHA256, b"k")}))


async def _pair() -> tuple[Links, Links, Inbox]:
    config, inbox = _config(), Inbox()
    alpha = await open_links(config, A, Inbox())
    beta = await open_links(config, B, inbox)
    loop = asyncio.get_running_loop()
    beta.read_on_grid(loop.time() + FAR, FAR)
    return alpha, beta, inbox


async def _until(check: object, what: str) -> None:
    for _ in range(500):
        if callable(check) and check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"gave up waiting for {what}")


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)
    await asyncio.sleep(0.05)


async def test_on_a_grid_nothing_is_read_on_arrival_and_a_drain_reads_it_all_in_order() -> None:
    alpha, beta, inbox = await _pair()
    try:
        sent = [f"beat {i}".encode() for i in range(5)]
        for data in sent:
            alpha.send(data)
        await _settle()
        assert inbox.got == []
        beta.drain()
        await _until(lambda: len(inbox.got) >= 5, "the drain")
        assert inbox.got == sent
        assert beta.stats()["hb"].received == 5
    finally:
        alpha.close()
        beta.close()


async def test_a_datagram_read_late_says_how_long_it_waited_in_the_socket() -> None:
    # The kernel's arrival stamp: a heartbeat read on the grid still counts from
    # when it came, so reading less often costs the failure detector nothing.
    alpha, beta, inbox = await _pair()
    try:
        loop = asyncio.get_running_loop()
        sent_at = loop.time()
        alpha.send(b"beat")
        await asyncio.sleep(0.3)
        read_at = loop.time()
        beta.drain()
        await _until(lambda: len(inbox.got) >= 1, "the drain")
        # It sat there the whole 0.3 s: never less (that would be the read time),
        # never more than since it was sent (loopback delivers at once).
        assert 0.25 <= inbox.waited[0] <= read_at - sent_at + 0.05, inbox.waited
    finally:
        alpha.close()
        beta.close()


async def test_a_burst_larger_than_one_batch_is_read_to_the_end_by_one_drain() -> None:
    alpha, beta, inbox = await _pair()
    try:
        # Over two batches (64 each), and within the default socket buffer.
        sent = [f"burst {i}".encode() for i in range(150)]
        for data in sent:
            alpha.send(data)
        await _settle()
        beta.drain()
        await _until(lambda: len(inbox.got) >= 150, "all 150 datagrams")
        assert inbox.got == sent
    finally:
        alpha.close()
        beta.close()


async def test_a_drain_right_after_another_is_skipped_and_what_came_between_waits(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The grid and the runtime's keepalive timer fire together: the second read of
    # the same moment is skipped. What arrived in between is not lost: the next
    # drain reads it, with its arrival stamp. (How fresh is fresh is widened here,
    # so a busy machine cannot make the test's two calls further apart than it.)
    monkeypatch.setattr(vigil.net.links, "_FRESH_S", 3600.0)
    alpha, beta, inbox = await _pair()
    try:
        alpha.send(b"first")
        await _settle()
        beta.drain()
        assert inbox.got == [b"first"]  # a drain reads synchronously
        alpha.send(b"second")
        await _settle()
        beta.drain_unless_fresh()
        assert inbox.got == [b"first"]
        monkeypatch.setattr(vigil.net.links, "_FRESH_S", 0.0)
        beta.drain_unless_fresh()
        assert inbox.got == [b"first", b"second"]
        assert inbox.waited[1] >= 0.04, inbox.waited  # it waited through the settle
    finally:
        alpha.close()
        beta.close()


async def test_the_grid_reads_by_itself_when_its_time_comes() -> None:
    config, inbox = _config(), Inbox()
    alpha = await open_links(config, A, Inbox())
    beta = await open_links(config, B, inbox)
    try:
        beta.read_on_grid(asyncio.get_running_loop().time(), 0.02)
        alpha.send(b"one")
        await _until(lambda: inbox.got == [b"one"], "the next grid point")
    finally:
        alpha.close()
        beta.close()


async def test_a_link_reopened_while_on_a_grid_stays_on_it() -> None:
    alpha, beta, inbox = await _pair()
    try:
        assert beta.reopen("hb")
        alpha.send(b"after reopen")
        await _settle()
        assert inbox.got == []
        beta.drain()
        await _until(lambda: inbox.got == [b"after reopen"], "the drain")
    finally:
        alpha.close()
        beta.close()


async def test_an_urgent_datagram_is_read_at_once_while_heartbeats_wait_for_the_grid() -> None:
    alpha, beta, inbox = await _pair()
    try:
        alpha.send(b"steady beat")
        await _settle()
        assert inbox.got == []  # a steady-state heartbeat waits for the grid
        alpha.send(b"leave", urgent=True)
        # Read on arrival, after the heartbeat that came before it on the link.
        await _until(lambda: inbox.got == [b"steady beat", b"leave"], "the urgent datagram")
        assert beta.stats()["hb"].control is not None
    finally:
        alpha.close()
        beta.close()


async def test_after_control_traffic_heartbeats_are_read_on_arrival_until_it_settles() -> None:
    config, inbox = _config(), Inbox()
    alpha = await open_links(config, A, Inbox())
    beta = await open_links(config, B, inbox)
    loop = asyncio.get_running_loop()
    try:
        beta.read_on_grid(loop.time() + FAR, FAR, settle=0.3)
        alpha.send(b"command", urgent=True)
        await _until(lambda: inbox.got == [b"command"], "the command")
        alpha.send(b"beat during the transition")
        await _until(lambda: len(inbox.got) == 2, "a heartbeat read at arrival")
        await asyncio.sleep(0.35)
        # Settled: the next grid point (here: the grid set again) stops reading at arrival.
        beta.read_on_grid(loop.time() + FAR, FAR, settle=0.3)
        alpha.send(b"beat in steady state")
        await _settle()
        assert inbox.got[2:] == []
    finally:
        alpha.close()
        beta.close()


async def test_hurry_reads_heartbeats_at_arrival_until_it_is_called_off() -> None:
    alpha, beta, inbox = await _pair()
    try:
        beta.hurry(True)
        alpha.send(b"late peer's beat")
        await _until(lambda: inbox.got == [b"late peer's beat"], "the hurried read")
        beta.hurry(False)
        alpha.send(b"steady again")
        await _settle()
        assert inbox.got == [b"late peer's beat"]
    finally:
        alpha.close()
        beta.close()


async def test_a_link_whose_control_port_is_taken_fails_as_a_whole() -> None:
    config = _config()
    link = config.links[0]
    taken = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        taken.bind((link.addresses[B].host, link.port + 1))
        alpha = await open_links(config, A, Inbox())
        try:
            beta = Links(asyncio.get_running_loop(), config.links, B, Inbox())
            assert not beta.reopen("hb")
            assert "control port" in (beta.stats()["hb"].last_error or "")
            beta.close()
        finally:
            alpha.close()
    finally:
        taken.close()
