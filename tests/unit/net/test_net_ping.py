"""ICMP echo from the daemon itself: 127.0.0.1 and ::1 answer, every reply is ours."""

from __future__ import annotations

import asyncio
import socket

import pytest

from prereqs import require_root
from vigil.net import Pinger, PingError


async def replies_from(pinger: Pinger, rounds: int, timeout_s: float = 3.0) -> list[str]:
    got: list[str] = []
    done = asyncio.Event()
    wanted = rounds * len(pinger.addresses)

    def on_reply(address: str) -> None:
        got.append(address)
        if len(got) >= wanted:
            done.set()

    pinger.on_reply = on_reply
    pinger.start()
    for _ in range(rounds):
        pinger.ping_round()
    try:
        await asyncio.wait_for(done.wait(), timeout_s)
    finally:
        pinger.close()
    return got


async def test_loopback_v4_and_v6_answer_each_echo_once() -> None:
    require_root()  # raw sockets; the datagram kind is tested in a namespace
    pinger = Pinger(["127.0.0.1", "::1"], lambda _a: None)
    assert set(pinger.open()) == {socket.AF_INET, socket.AF_INET6}
    got = await replies_from(pinger, rounds=3)
    assert sorted(got) == ["127.0.0.1"] * 3 + ["::1"] * 3
    assert (pinger.stats["::1"].sent, pinger.stats["::1"].received) == (3, 3)


async def test_two_pingers_in_one_process_never_take_each_others_replies() -> None:
    require_root()
    a = Pinger(["127.0.0.1"], lambda _a: None)
    b = Pinger(["127.0.0.1"], lambda _a: None)
    a.open()
    b.open()
    got_b: list[str] = []
    b.on_reply = got_b.append
    b.start()
    try:
        got_a = await replies_from(a, rounds=2)
        await asyncio.sleep(0.05)  # give stray replies time to arrive (there must be none)
    finally:
        b.close()
    assert got_a == ["127.0.0.1"] * 2
    assert got_b == []  # b sent nothing: a's replies carry a's token


def test_no_socket_kind_allowed_is_a_clear_error() -> None:
    pinger = Pinger(["127.0.0.1"], lambda _a: None, kinds=())
    with pytest.raises(PingError, match="cannot open an ICMP socket for IPv4 ping nodes"):
        pinger.open()


@pytest.mark.parametrize(("data", "why"), [
    (bytes(28), "an echo request, not a reply"),
    (b"\x00\x00\x00\x00\x00\x01\x00\x01" + b"not-ours", "another pinger's token"),
    (b"\x00", "too short"),
])
def test_foreign_or_broken_icmp_is_ignored(data: bytes, why: str) -> None:
    got: list[str] = []
    pinger = Pinger(["127.0.0.1"], got.append, kinds=())
    pinger._match(socket.AF_INET, socket.SOCK_DGRAM, data, "127.0.0.1")
    assert got == [], why
