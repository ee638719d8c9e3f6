"""The daemon's shell around membership: whatever arrives is accepted or counted, never fatal,
and the status document tells the truth about peers, incarnations and clean leaves.

The runtime runs here on a virtual loop (time moved by the test) with no sockets:
datagrams are handed to it as the links would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from virtual_loop import VirtualLoop

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
from vigil.daemon.clock import Clock
from vigil.daemon.runtime import NodeRuntime
from vigil.exitcodes import VigilError
from vigil.membership import HeartbeatBody, LeaveBody, Started, View, ViewMember
from vigil.wire import Codec, Sequencer

SECRET = b"unit-test-secret"
TIMING = Timing(keepalive_ms=100, warntime_ms=300, deadtime_ms=500, initdead_ms=1000)


def config(names: tuple[str, ...] = ("node1", "node2"), timing: Timing = TIMING,
           secret: bytes = SECRET) -> ClusterConfig:
    link = Link("lo", LinkKind.UCAST, 16940, addresses={
        NodeName(n): Endpoint(f"127.0.0.{i}") for i, n in enumerate(names, start=1)})
    return ClusterConfig(
        nodes=tuple(Node(NodeName(n)) for n in names), links=(link,), timing=timing,
        auth=Auth(1, {1: AuthKey(1, AuthMethod.HMAC_SHA256, secret)}), cluster_name="unit")


class Peer:
    """What another node puts on the wire."""

    def __init__(self, name: str, incarnation: int = 1, secret: bytes = SECRET) -> None:
        cfg = config(secret=secret)
        self.name = NodeName(name)
        self.seq = Sequencer(Codec(cfg.auth, cfg.compression, "unit"), self.name, incarnation)
        self.incarnation = incarnation

    def heartbeat(self, *members: tuple[str, int]) -> bytes:
        view = View.of(ViewMember(NodeName(n), i) for n, i in members)
        body = HeartbeatBody(view, None, True, "digest-of-peer").to_body()
        return self.seq.encode("heartbeat", body)

    def leave(self) -> bytes:
        return self.seq.encode("leave", LeaveBody("stopped by SIGTERM").to_body())


def runtime(cfg: ClusterConfig | None = None) -> tuple[NodeRuntime, VirtualLoop]:
    loop = VirtualLoop(500.0)
    rt = NodeRuntime(cfg or config(), "node1", 7, Clock(cast(asyncio.AbstractEventLoop, loop)),
                     Path("unit.toml"))
    rt._step(Started())  # what start() does once the links are open
    return rt, loop


def node(rt: NodeRuntime, name: str) -> dict[str, Any]:
    return next(n for n in rt.status()["nodes"] if n["name"] == name)


SOURCE = ("127.0.0.2", 16940)


def _flip(data: bytes, at: int) -> bytes:
    """DATA with one bit changed at byte AT: an altered message."""
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]


def test_peer_heard_is_up_with_its_incarnation_and_silence_makes_it_dead_after_deadtime() -> None:
    rt, loop = runtime()
    peer = Peer("node2", incarnation=3)
    rt._on_datagram(peer.heartbeat(("node1", 7), ("node2", 3)), "lo", SOURCE)
    doc = rt.status()
    assert node(rt, "node2")["state"] == "up"
    assert node(rt, "node2")["incarnation"] == 3
    assert doc["view"]["members"] == ["node1", "node2"]
    loop.advance(499)
    assert node(rt, "node2")["state"] == "late"
    loop.advance(1)
    n2 = node(rt, "node2")
    assert n2["state"] == "dead"
    assert n2["last_heard_ms"] - n2["state_since_ms"] == 500
    assert not n2["left"]


def test_leave_message_marks_the_peer_left_at_once() -> None:
    rt, loop = runtime()
    peer = Peer("node2")
    rt._on_datagram(peer.heartbeat(("node1", 7), ("node2", 1)), "lo", SOURCE)
    loop.advance(50)
    rt._on_datagram(peer.leave(), "lo", SOURCE)
    rt._on_datagram(peer.leave(), "lo", SOURCE)  # the second copy changes nothing
    n2 = node(rt, "node2")
    assert (n2["state"], n2["left"], n2["last_heard_ms"]) == ("dead", True, 50)
    assert rt.status()["drops"]["total"] == 0


def test_changed_view_in_a_peers_heartbeat_is_seen_though_bodies_are_remembered() -> None:
    rt, loop = runtime()
    peer = Peer("node2")
    agreeing = (("node1", 7), ("node2", 1))
    for _ in range(3):
        rt._on_datagram(peer.heartbeat(*agreeing), "lo", SOURCE)
        loop.advance(10)
    assert rt.status()["view"]["stable"]
    rt._on_datagram(peer.heartbeat(("node2", 1)), "lo", SOURCE)  # node2 no longer sees us
    assert not rt.status()["view"]["stable"]
    rt._on_datagram(peer.heartbeat(*agreeing), "lo", SOURCE)
    assert rt.status()["view"]["stable"]


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: b"\x00garbage", "garbage"),
        (lambda p: p.heartbeat(("node2", 1))[:30], "truncated"),
        (lambda p: _flip(p.heartbeat(("node2", 1)), 40), "bad_signature"),
        (lambda p: Peer("node2", secret=b"wrong").heartbeat(("node2", 1)), "bad_signature"),
        (lambda p: p.seq.encode("gossip", {"x": 1}), "unknown_kind"),
        (lambda p: p.seq.encode("heartbeat", {"view": "everyone"}), "bad_body"),
        (lambda p: p.seq.encode("leave", {}), "bad_body"),
        (lambda p: Peer("node9").heartbeat(("node9", 1)), "unknown_node"),
        (lambda p: Peer("node1", incarnation=7).heartbeat(("node1", 7)), "from_self"),
    ],
)
def test_every_kind_of_bad_datagram_is_counted_by_reason_and_changes_nothing(
    make: Callable[[Peer], bytes], reason: str
) -> None:
    rt, _ = runtime()
    before = node(rt, "node2")
    rt._on_datagram(make(Peer("node2")), "lo", SOURCE)
    doc = rt.status()
    assert {k: v for k, v in doc["drops"]["by_reason"].items() if v} == {reason: 1}
    assert doc["drops"]["total"] == 1
    assert node(rt, "node2")["state"] == before["state"] == "unknown"


def test_replayed_heartbeat_is_counted_and_older_incarnation_after_a_restart_too() -> None:
    rt, _ = runtime()
    old = Peer("node2", incarnation=1)
    first = old.heartbeat(("node2", 1))
    rt._on_datagram(first, "lo", SOURCE)
    rt._on_datagram(first, "lo", SOURCE)
    rt._on_datagram(Peer("node2", incarnation=2).heartbeat(("node2", 2)), "lo", SOURCE)
    rt._on_datagram(old.heartbeat(("node2", 1)), "lo", SOURCE)
    by_reason = rt.status()["drops"]["by_reason"]
    assert by_reason["replayed"] == 1
    assert by_reason["stale_incarnation"] == 1
    assert node(rt, "node2")["incarnation"] == 2


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=200), max_size=20))
def test_no_datagram_raises_out_of_the_receive_path(datagrams: list[bytes]) -> None:
    rt, _ = runtime()
    for data in datagrams:
        rt._on_datagram(data, "lo", SOURCE)
    assert rt.status()["drops"]["total"] + rt.receiver.accepted >= len(datagrams)
    assert rt.step_errors == 0


async def test_reload_applies_new_timing_and_refuses_a_config_without_this_node() -> None:
    rt, _ = runtime()
    slower = config(timing=Timing(200, 600, 2000, 4000))
    assert await rt.apply_config(slower) == []
    assert rt.status()["timing_ms"]["deadtime"] == 2000
    without_me = config(names=("node2", "node3"))
    problems = await rt.apply_config(without_me)
    assert problems
    assert "node1" in problems[0]
    assert rt.status()["timing_ms"]["deadtime"] == 2000
    assert [n["name"] for n in rt.status()["nodes"]] == ["node1", "node2"]


def test_configuration_the_core_refuses_stops_start_up_with_a_clear_error() -> None:
    bad = config(timing=Timing(0, 300, 500, 1000))
    with pytest.raises(VigilError, match="keepalive must be positive"):
        runtime(bad)


async def test_drop_counters_never_go_backwards_when_a_reload_changes_the_nodes() -> None:
    rt, _ = runtime()
    rt._on_datagram(b"\x00garbage", "lo", SOURCE)
    assert await rt.apply_config(config(names=("node1", "node2", "node3"))) == []
    rt._on_datagram(b"\x00more garbage", "lo", SOURCE)
    assert rt.status()["drops"]["by_reason"]["garbage"] == 2
    assert [n["name"] for n in rt.status()["nodes"]] == ["node1", "node2", "node3"]
