"""Repeated heartbeat bodies: the codec parses a sender's unchanged body once,
and that never lets a wrong, forged or changed datagram through."""

from __future__ import annotations

from wire_helpers import ALICE, BOB, CLUSTER, codec

from vigil.config import NodeName
from vigil.wire import Dropped, DropReason, Envelope
from vigil.wire.codec import BODY_MEMORY

VIEW = {"view": {"alice": 1, "bob": 1}, "dc": "alice", "quorate": True}


def test_a_repeated_body_decodes_with_each_datagrams_own_sequence_number() -> None:
    c = codec()
    sent = [Envelope(CLUSTER, ALICE, 1, seq, "heartbeat", VIEW) for seq in range(1, 6)]
    assert [c.decode(c.encode(e)) for e in sent] == sent


def test_a_changed_body_from_the_same_sender_is_read_afresh() -> None:
    c = codec()
    first = Envelope(CLUSTER, ALICE, 1, 1, "heartbeat", VIEW)
    changed = Envelope(CLUSTER, ALICE, 1, 2, "heartbeat", {**VIEW, "quorate": False})
    assert c.decode(c.encode(first)) == first
    assert c.decode(c.encode(changed)) == changed
    assert c.decode(c.encode(first)) == first


def test_two_senders_with_the_same_body_each_get_their_own_name() -> None:
    c = codec()
    from_alice = Envelope(CLUSTER, ALICE, 1, 1, "heartbeat", VIEW)
    from_bob = Envelope(CLUSTER, BOB, 4, 9, "heartbeat", VIEW)
    assert c.decode(c.encode(from_alice)) == from_alice
    assert c.decode(c.encode(from_bob)) == from_bob


def test_a_forged_copy_of_a_remembered_body_is_still_refused() -> None:
    c, intruder = codec(), codec(secret=b"not-the-key")
    c.decode(c.encode(Envelope(CLUSTER, ALICE, 1, 1, "heartbeat", VIEW)))
    forged = intruder.encode(Envelope(CLUSTER, ALICE, 1, 2, "heartbeat", VIEW))
    result = c.decode(forged)
    assert isinstance(result, Dropped)
    assert result.reason is DropReason.BAD_SIGNATURE


def test_remembered_bodies_stay_bounded_whatever_senders_a_key_holder_invents() -> None:
    c = codec()
    for i in range(3 * BODY_MEMORY):
        sent = Envelope(CLUSTER, NodeName(f"n{i}"), 1, 1, "heartbeat", VIEW)
        assert c.decode(c.encode(sent)) == sent
    assert len(c._last_body) <= BODY_MEMORY


def test_a_sender_alternating_two_kinds_gets_each_kinds_own_body() -> None:
    c = codec()
    other = {"group": "web", "state": "started"}
    sent = [Envelope(CLUSTER, ALICE, 1, seq, "heartbeat" if seq % 2 else "coordinator",
                     VIEW if seq % 2 else other) for seq in range(1, 9)]
    assert [c.decode(c.encode(e)) for e in sent] == sent
