"""After a heal the daemon drops failed neighbour entries of the peer it hears again."""

from __future__ import annotations

import pytest

from vigil.config import Endpoint, Link, LinkKind, NodeName
from vigil.daemon import neighbours
from vigil.daemon.neighbours import forget_failed, unicast_destinations

N2 = NodeName("node2")


@pytest.mark.parametrize(("link", "expected"), [
    (Link("ring0", LinkKind.UCAST, 694, addresses={NodeName("node1"): Endpoint("10.0.0.1"),
                                                   N2: Endpoint("10.0.0.2", 7000)}),
     ("10.0.0.2",)),
    # ha.cf's ucast lines do not say whose address each is: every one of them.
    (Link("eth0", LinkKind.UCAST, 694, peers=(Endpoint("10.0.0.2"), Endpoint("10.0.0.3"),
                                              Endpoint("10.0.0.2"))),
     ("10.0.0.2", "10.0.0.3")),
    (Link("eth1", LinkKind.BCAST, 694, interface="eth1"), ()),
])
def test_only_the_unicast_addresses_a_peer_is_sent_to_are_flushed(
        link: Link, expected: tuple[str, ...]) -> None:
    assert unicast_destinations(link, N2) == expected


async def test_without_the_ip_command_nothing_is_flushed_and_nothing_raises(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(neighbours, "IP", "/nonexistent/ip")
    assert await forget_failed(["10.0.0.2"]) is False
