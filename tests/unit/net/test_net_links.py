"""Real UDP sockets on loopback: nodes exchange datagrams over ucast and mcast links,
and one broken link never silences the others."""

from __future__ import annotations

import asyncio
import logging
import random
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest

from prereqs import require
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
from vigil.net import LinkError, Links, LinkState, open_links

pytestmark = pytest.mark.timeout(20)

A, B = NodeName("alpha"), NodeName("beta")
WAIT = 5.0


def _subnet() -> str:
    """A loopback /24 of our own, so parallel runs do not meet."""
    return f"127.{random.randrange(16, 250)}.{random.randrange(1, 250)}"


def _free_port(host: str = "127.0.0.1", family: socket.AddressFamily = socket.AF_INET) -> int:
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _config(*links: Link) -> ClusterConfig:
    return ClusterConfig(
        nodes=(Node(A), Node(B)),
        links=links,
        timing=Timing(1000, 2000, 3000, 6000),
        auth=Auth(1, {1: AuthKey(1, AuthMethod.HMAC_SHA256, b"k")}),
    )


def _ucast(name: str, net: str, port: int) -> Link:
    return Link(name, LinkKind.UCAST, port,
                addresses={A: Endpoint(f"{net}.1"), B: Endpoint(f"{net}.2")})


@dataclass
class Inbox:
    """What one node's on_datagram saw; wait() returns when N have arrived."""

    got: list[tuple[bytes, str, tuple[str, int]]] = field(default_factory=list)
    event: asyncio.Event = field(default_factory=asyncio.Event)
    want: int = 1

    def __call__(self, data: bytes, link: str, source: tuple[str, int],
                 waited_s: float = 0.0) -> None:
        self.got.append((data, link, source))
        if len(self.got) >= self.want:
            self.event.set()

    async def wait(self, count: int) -> list[tuple[bytes, str, tuple[str, int]]]:
        self.want = count
        if len(self.got) < count:
            self.event.clear()
            await asyncio.wait_for(self.event.wait(), WAIT)
        return self.got

    async def settle(self) -> None:
        """Give stray datagrams a chance to arrive (for 'nothing else came' checks)."""
        for _ in range(20):
            await asyncio.sleep(0)
        await asyncio.sleep(0.05)


@asynccontextmanager
async def nodes(config: ClusterConfig, *names: NodeName,
                handler: Callable[[NodeName], Inbox] | None = None
                ) -> AsyncIterator[list[tuple[Links, Inbox]]]:
    opened: list[tuple[Links, Inbox]] = []
    try:
        for name in names:
            inbox = handler(name) if handler else Inbox()
            opened.append((await open_links(config, name, inbox), inbox))
        yield opened
    finally:
        for links, _ in opened:
            links.close()


async def test_two_nodes_on_loopback_exchange_datagrams_over_ucast() -> None:
    net, port = _subnet(), _free_port()
    async with nodes(_config(_ucast("hb", net, port)), A, B) as [(alpha, a_in), (beta, b_in)]:
        alpha.send(b"hello from alpha")
        beta.send(b"hello from beta")
        assert await b_in.wait(1) == [(b"hello from alpha", "hb", (f"{net}.1", port))]
        assert await a_in.wait(1) == [(b"hello from beta", "hb", (f"{net}.2", port))]
        stats = alpha.stats()["hb"]
        assert stats.state is LinkState.OPEN
        assert stats.local == f"{net}.1:{port}"
        assert stats.destinations == (f"{net}.2:{port}",)
        assert (stats.sent, stats.received, stats.send_errors) == (1, 1, 0)


def _has_ipv6_loopback() -> bool:
    try:
        _free_port("::1", socket.AF_INET6)
    except OSError:
        return False
    return True


async def test_ucast_over_ipv6_loopback() -> None:
    require(_has_ipv6_loopback(), "needs IPv6 on loopback (::1)")
    port_a, port_b = _free_port("::1", socket.AF_INET6), _free_port("::1", socket.AF_INET6)
    link = Link("v6", LinkKind.UCAST, 694,
                addresses={A: Endpoint("::1", port_a), B: Endpoint("::1", port_b)})
    async with nodes(_config(link), A, B) as [(alpha, _), (_, b_in)]:
        alpha.send(b"over v6")
        assert await b_in.wait(1) == [(b"over v6", "v6", ("::1", port_a))]
        assert alpha.stats()["v6"].destinations == (f"[::1]:{port_b}",)


async def test_a_link_whose_sends_are_refused_counts_errors_and_the_other_still_delivers() -> None:
    """EACCES (a broadcast address without SO_BROADCAST) stands in for a firewall's
    EPERM or a dead route: the error is counted on its link, never raised."""
    net, port_hb, port_bad = _subnet(), _free_port(), _free_port()
    refused = Link("svc", LinkKind.UCAST, port_bad, peers=(Endpoint("255.255.255.255"),),
                   addresses={A: Endpoint(f"{net}.1"), B: Endpoint(f"{net}.2")})
    config = _config(refused, _ucast("hb", net, port_hb))
    async with nodes(config, A, B) as [(alpha, _), (_, b_in)]:
        alpha.send(b"one")
        alpha.send(b"two")
        got = await b_in.wait(4)
        assert sorted((d, link) for d, link, _ in got) == [
            (b"one", "hb"), (b"one", "svc"), (b"two", "hb"), (b"two", "svc")]
        svc = alpha.stats()["svc"]
        assert svc.send_errors == 2  # to 255.255.255.255, twice
        assert svc.sent == 2  # to beta, twice
        assert svc.last_error is not None
        assert "255.255.255.255" in svc.last_error
        assert alpha.stats()["hb"].send_errors == 0


async def test_a_peer_losing_one_link_still_hears_us_on_the_other() -> None:
    net1, net2, port = _subnet(), _subnet(), _free_port()
    config = _config(_ucast("eth0", net1, port), _ucast("eth1", net2, port))
    async with nodes(config, A, B) as [(alpha, _), (beta, b_in)]:
        beta.close_link("eth0")
        alpha.send(b"still here")
        got = await b_in.wait(1)
        await b_in.settle()
        assert [(d, link) for d, link, _ in got] == [(b"still here", "eth1")]
        assert beta.stats()["eth0"].state is LinkState.CLOSED
        beta.send(b"answer")  # the closed link counts, the open one sends
        assert beta.stats()["eth0"].send_errors == 1
        assert beta.stats()["eth1"].sent == 1
        assert beta.reopen("eth0")
        alpha.send(b"both again")
        got = await b_in.wait(3)
        assert sorted(link for d, link, _ in got if d == b"both again") == ["eth0", "eth1"]


async def test_multicast_on_loopback_reaches_the_peer_and_loops_back() -> None:
    net, port = _subnet(), _free_port()
    group = f"239.255.{random.randrange(1, 250)}.{random.randrange(1, 250)}"
    link = Link("mc", LinkKind.MCAST, port, interface="lo", group=group, ttl=1, loop=True,
                addresses={A: Endpoint(f"{net}.1"), B: Endpoint(f"{net}.2")})
    async with nodes(_config(link), A, B) as [(alpha, a_in), (_, b_in)]:
        alpha.send(b"to the group")
        assert await b_in.wait(1) == [(b"to the group", "mc", (f"{net}.1", port))]
        # loop on: our own datagram comes back (the wire layer drops it as from_self)
        assert await a_in.wait(1) == [(b"to the group", "mc", (f"{net}.1", port))]
        assert alpha.stats()["mc"].destinations == (f"{group}:{port}",)


async def test_ucast_skips_our_own_address_in_a_shared_peer_list() -> None:
    """As Heartbeat: every node's ha.cf lists every node's ucast address."""
    net, port = _subnet(), _free_port()
    link = Link("hb", LinkKind.UCAST, port,
                peers=(Endpoint(f"{net}.1"), Endpoint(f"{net}.2"), Endpoint(f"{net}.2")),
                addresses={A: Endpoint(f"{net}.1")})
    async with nodes(_config(link), A) as [(alpha, _)]:
        assert alpha.stats()["hb"].destinations == (f"{net}.2:{port}",)


async def test_a_handler_that_raises_is_counted_and_the_next_datagram_still_arrives(
    caplog: pytest.LogCaptureFixture,
) -> None:
    net, port = _subnet(), _free_port()
    seen: list[bytes] = []
    done = asyncio.Event()

    def fragile(data: bytes, link: str, source: tuple[str, int], waited_s: float) -> None:
        seen.append(data)
        if data == b"boom":
            raise ValueError("bug in the handler")
        done.set()

    async with nodes(_config(_ucast("hb", net, port)), A) as [(alpha, _)]:
        beta = await open_links(_config(_ucast("hb", net, port)), B, fragile)
        try:
            with caplog.at_level(logging.ERROR, "vigil.net"):
                for payload in (b"boom", b"", b"\xff" * 65_000, b"fine"):
                    alpha.send(payload)
                await asyncio.wait_for(done.wait(), WAIT)
                while len(seen) < 4:
                    await asyncio.sleep(0.01)
            assert seen == [b"boom", b"", b"\xff" * 65_000, b"fine"]
            assert beta.stats()["hb"].handler_errors == 1
            assert beta.stats()["hb"].received == 4
            assert "datagram handler failed link=hb" in caplog.text
        finally:
            beta.close()


async def test_a_link_that_cannot_open_is_reported_and_the_others_open() -> None:
    net, port = _subnet(), _free_port()
    missing = Link("ghost", LinkKind.UCAST, port, interface="vigil-nosuch0",
                   peers=(Endpoint(f"{net}.2"),))
    not_ours = Link("foreign", LinkKind.UCAST, port,
                    addresses={A: Endpoint("192.0.2.250"), B: Endpoint(f"{net}.2")})
    config = _config(missing, not_ours, _ucast("hb", net, port))
    async with nodes(config, A) as [(alpha, _)]:
        stats = alpha.stats()
        assert [s.state for s in stats.values()] == [
            LinkState.FAILED, LinkState.FAILED, LinkState.OPEN]
        assert "vigil-nosuch0" in (stats["ghost"].last_error or "")
        assert "192.0.2.250" in (stats["foreign"].last_error or "")
        alpha.send(b"x")  # never raises; the failed links count the attempt
        assert alpha.stats()["ghost"].send_errors == 1
        assert alpha.stats()["hb"].sent == 1


async def test_no_link_at_all_is_an_error_naming_each_failure() -> None:
    bad = Link("eth9", LinkKind.UCAST, 694, addresses={A: Endpoint("192.0.2.251")})
    with pytest.raises(LinkError, match=r"eth9: open: bind 192\.0\.2\.251:694"):
        await open_links(_config(bad), A, Inbox())


async def test_send_to_names_one_link_and_close_is_idempotent() -> None:
    net1, net2, port = _subnet(), _subnet(), _free_port()
    config = _config(_ucast("eth0", net1, port), _ucast("eth1", net2, port))
    async with nodes(config, A, B) as [(alpha, _), (_, b_in)]:
        alpha.send_to("eth1", b"only eth1")
        got = await b_in.wait(1)
        await b_in.settle()
        assert [(d, link) for d, link, _ in got] == [(b"only eth1", "eth1")]
        with pytest.raises(KeyError):
            alpha.send_to("eth7", b"x")
        alpha.close()
        alpha.close()
        alpha.send(b"after close")
        assert {s.state for s in alpha.stats().values()} == {LinkState.CLOSED}
