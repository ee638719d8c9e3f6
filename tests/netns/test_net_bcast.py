"""bcast and ucast links between two network namespaces joined by veth pairs, as
two Heartbeat nodes with a dedicated heartbeat cable and a service network.

Layout (both links on udpport 694, as one ha.cf's ``bcast hb0`` + ``ucast svc0``)::

    ns alpha  hb0 10.77.1.1/24  <-veth->  hb0 10.77.1.2/24  ns beta
              svc0 10.77.2.1/24 <-veth->  svc0 10.77.2.2/24
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from pyroute2 import netns as pyroute2_netns

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
from vigil.net import Links, LinkState, open_links

pytestmark = [pytest.mark.root, pytest.mark.timeout(30)]

A, B = NodeName("alpha"), NodeName("beta")
PORT = 694
HAVE_IPV6 = os.path.exists("/proc/sys/net/ipv6")

CONFIG = ClusterConfig(
    nodes=(Node(A), Node(B)),
    links=(
        Link("hb", LinkKind.BCAST, PORT, interface="hb0"),
        # Legacy style: one peer list naming both nodes; each skips its own.
        Link("svc", LinkKind.UCAST, PORT, interface="svc0",
             peers=(Endpoint("10.77.2.1"), Endpoint("10.77.2.2"))),
    ),
    timing=Timing(1000, 2000, 3000, 6000),
    auth=Auth(1, {1: AuthKey(1, AuthMethod.SHA1, b"k")}),
)


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, timeout=10)


@contextmanager
def inside(ns: str) -> Iterator[None]:
    """Run this thread in NS; sockets made here stay there."""
    pyroute2_netns.pushns(ns)
    try:
        yield
    finally:
        pyroute2_netns.popns()


class Inbox:
    def __init__(self) -> None:
        self.got: list[tuple[bytes, str, tuple[str, int]]] = []
        self.changed = asyncio.Event()

    def __call__(self, data: bytes, link: str, source: tuple[str, int],
                 waited_s: float = 0.0) -> None:
        self.got.append((data, link, source))
        self.changed.set()

    async def wait_for(self, count: int, data: bytes | None = None
                       ) -> list[tuple[bytes, str, tuple[str, int]]]:
        """Wait until COUNT datagrams (holding DATA, when given) have arrived."""
        async with asyncio.timeout(5):
            while sum(data in (None, d) for d, _, _ in self.got) < count:
                self.changed.clear()
                await self.changed.wait()
        await asyncio.sleep(0.05)  # a stray extra copy would show up by now
        return self.got


@pytest.fixture
def pair(netns: Callable[[], str]) -> tuple[str, str]:
    alpha, beta = netns(), netns()
    if HAVE_IPV6:
        for ns in (alpha, beta):  # IPv6 link-local addresses usable at once, without DAD
            _ip("netns", "exec", ns, "sh", "-c",
                "echo 0 > /proc/sys/net/ipv6/conf/all/accept_dad;"
                " echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad")
    for dev, net in (("hb0", "10.77.1"), ("svc0", "10.77.2")):
        _ip("-n", alpha, "link", "add", dev, "type", "veth", "peer", "name", dev, "netns", beta)
        for ns, host in ((alpha, 1), (beta, 2)):
            _ip("-n", ns, "addr", "add", f"{net}.{host}/24", "brd", "+", "dev", dev)
            _ip("-n", ns, "link", "set", dev, "up")
    for ns in (alpha, beta):
        for dev in ("hb0", "svc0"):
            _wait_operstate_up(ns, dev)
    return alpha, beta


def _wait_operstate_up(ns: str, dev: str) -> None:
    """Until the kernel's link watcher has run, a new veth drops what it is given."""
    deadline = time.monotonic() + 5
    while True:
        out = subprocess.run(["ip", "-n", ns, "-o", "link", "show", "dev", dev],
                             check=True, capture_output=True, text=True, timeout=10).stdout
        if " state UP " in out:
            return
        assert time.monotonic() < deadline, f"{dev} in {ns} never came up: {out}"
        time.sleep(0.02)


async def _open(ns: str, me: NodeName, inbox: Inbox) -> Links:
    with inside(ns):
        return await open_links(CONFIG, me, inbox)


async def test_bcast_reaches_the_peer_and_losing_the_heartbeat_cable_leaves_the_service_link(
    pair: tuple[str, str],
) -> None:
    ns_alpha, ns_beta = pair
    a_in, b_in = Inbox(), Inbox()
    alpha = await _open(ns_alpha, A, a_in)
    beta = await _open(ns_beta, B, b_in)
    try:
        hb = alpha.stats()["hb"]
        assert hb.destinations == (f"10.77.1.255:{PORT}",)
        assert alpha.stats()["svc"].destinations == (f"10.77.2.2:{PORT}",)

        alpha.send(b"both links")
        got = await b_in.wait_for(2)
        assert sorted(got) == [
            (b"both links", "hb", ("10.77.1.1", PORT)),
            (b"both links", "svc", ("10.77.2.1", PORT)),
        ]
        # A broadcast also reaches its sender (the wire layer drops it as from_self).
        assert a_in.got == [(b"both links", "hb", ("10.77.1.1", PORT))]
        a_in.got.clear()

        _ip("-n", ns_beta, "link", "set", "hb0", "down")  # the heartbeat cable is pulled
        b_in.got.clear()
        alpha.send(b"cable out")
        beta.send(b"reply")
        got = await b_in.wait_for(1, b"cable out")
        assert [(d, link) for d, link, _ in got] == [(b"cable out", "svc")]
        got = await a_in.wait_for(1, b"reply")
        from_beta = [(d, link) for d, link, _ in got if d != b"cable out"]
        assert from_beta == [(b"reply", "svc")]
        # beta's heartbeat link is down: its send failed, was counted, and raised nothing.
        beta_hb = beta.stats()["hb"]
        assert beta_hb.state is LinkState.OPEN
        assert beta_hb.sent + beta_hb.send_errors == 1
        assert beta.stats()["svc"].sent == 1
    finally:
        alpha.close()
        beta.close()


async def test_ipv6_multicast_with_loop_off_reaches_the_peer_but_not_the_sender(
    pair: tuple[str, str],
) -> None:
    """ha.cf ``mcast hb0 ff15::7:1 694 1 0``: ttl 1, loop 0."""
    require(HAVE_IPV6, "needs IPv6 in the kernel")
    ns_alpha, ns_beta = pair
    mcast = ClusterConfig(
        nodes=CONFIG.nodes,
        links=(Link("mc6", LinkKind.MCAST, PORT, interface="hb0", group="ff15::7:1",
                    ttl=1, loop=False),),
        timing=CONFIG.timing,
        auth=CONFIG.auth,
    )
    a_in, b_in = Inbox(), Inbox()
    with inside(ns_alpha):
        alpha = await open_links(mcast, A, a_in)
    with inside(ns_beta):
        beta = await open_links(mcast, B, b_in)
    try:
        alpha.send(b"v6 group")
        got = await b_in.wait_for(1)
        assert [(d, link) for d, link, _ in got] == [(b"v6 group", "mc6")]
        assert got[0][2][0].startswith("fe80::")  # from alpha's link-local address
        assert a_in.got == []  # loop 0: no copy back to the sending host
        assert alpha.stats()["mc6"].sent == 1
    finally:
        alpha.close()
        beta.close()
