"""The datagram format: round trips, signatures as Heartbeat made them, and every drop."""

from __future__ import annotations

import bz2
import json
import zlib

import pytest
from wire_helpers import ALICE, BOB, CLUSTER, NODES, auth, codec, traffic

from vigil.config import AuthKey, AuthMethod, Compression
from vigil.wire import (
    HEADER_SIZE,
    MAX_DATAGRAM,
    SIGNATURE_SIZE,
    Codec,
    Dropped,
    DropReason,
    EncodeError,
    Envelope,
    Receiver,
)
from vigil.wire.signing import Signer

BODIES = [
    {},
    {"view": ["alice", "bob"], "dc": "alice", "quorate": True, "votes": 2, "load": 0.25},
    {"resources": [{"id": f"r{i}", "state": "started", "node": "alice"} for i in range(400)]},
    {"name": "nœud-ß", "nested": {"a": [None, False, -1, 1.5e300, "x" * 300]}},
]


def env(body: dict[str, object], seq: int = 7, kind: str = "hb") -> Envelope:
    return Envelope(CLUSTER, ALICE, 3, seq, kind, body)


@pytest.mark.parametrize("method", list(AuthMethod))
@pytest.mark.parametrize("compression", [None, "zlib", "bz2"])
@pytest.mark.parametrize("body", BODIES, ids=["empty", "heartbeat", "large", "unicode"])
def test_every_auth_method_and_compression_round_trips(
    method: AuthMethod, compression: str | None, body: dict[str, object]
) -> None:
    c = codec(method, compression=compression, threshold=256)
    sent = env(body)
    data = c.encode(sent)
    assert c.decode(data) == sent
    json_size = len(json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode())
    assert (data[3] != 0) == (compression is not None and json_size > 256)
    assert len(data) <= MAX_DATAGRAM


def test_large_body_is_compressed_only_above_the_threshold() -> None:
    body = {"pad": "a" * 1000}
    below = codec(compression="zlib", threshold=5000).encode(env(body))
    above = codec(compression="zlib", threshold=500).encode(env(body))
    assert below[3] == 0
    assert above[3] != 0
    assert len(above) < len(below) / 4


def test_a_node_without_compression_reads_a_peer_that_compresses() -> None:
    sent = env({"pad": "b" * 5000})
    for method in ("zlib", "bz2"):
        data = codec(compression=method, threshold=10).encode(sent)
        assert codec(compression=None).decode(data) == sent


# RFC 2202 (HMAC-MD5, HMAC-SHA1) and RFC 4231 (HMAC-SHA256) test case 2, and
# the CRC-32 check value: Heartbeat's md5/sha1 auth computed standard HMAC.
@pytest.mark.parametrize(
    ("method", "key", "text", "expected"),
    [
        (AuthMethod.MD5, b"Jefe", b"what do ya want for nothing?",
         "750c783e6ab0b503eaa86e310a5db738"),
        (AuthMethod.SHA1, b"Jefe", b"what do ya want for nothing?",
         "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"),
        (AuthMethod.HMAC_SHA256, b"Jefe", b"what do ya want for nothing?",
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        (AuthMethod.CRC, b"ignored", b"123456789", "cbf43926"),
    ],
)
def test_signatures_match_the_published_test_vectors(
    method: AuthMethod, key: bytes, text: bytes, expected: str
) -> None:
    signer = Signer(AuthKey(1, method, key), prefix=b"")
    assert signer.sign(text).hex() == expected
    assert signer.size == SIGNATURE_SIZE[method]
    assert signer.verify(text, bytes.fromhex(expected))
    assert not signer.verify(text + b"!", bytes.fromhex(expected))


def test_key_rotation_accepts_every_authkeys_key_and_signs_with_the_active_one() -> None:
    old = AuthKey(1, AuthMethod.SHA1, b"old secret")
    new = AuthKey(2, AuthMethod.HMAC_SHA256, b"new secret")
    off = Compression()
    not_yet_switched = Codec(auth(AuthMethod.SHA1, b"old secret", 1, (new,)), off, CLUSTER)
    switched = Codec(auth(AuthMethod.HMAC_SHA256, b"new secret", 2, (old,)), off, CLUSTER)
    new_only = Codec(auth(AuthMethod.HMAC_SHA256, b"new secret", 2), off, CLUSTER)
    from_old = not_yet_switched.encode(env({"k": 1}))
    from_new = switched.encode(env({"k": 2}))
    assert int.from_bytes(from_old[8:10], "big") == 1
    assert int.from_bytes(from_new[8:10], "big") == 2
    assert switched.decode(from_old) == env({"k": 1})
    assert not_yet_switched.decode(from_new) == env({"k": 2})
    refused = new_only.decode(from_old)
    assert isinstance(refused, Dropped)
    assert refused.reason is DropReason.UNKNOWN_KEY


def test_codec_refuses_an_auth_line_naming_a_missing_key() -> None:
    from vigil.config import Auth

    with pytest.raises(ValueError, match="does not define"):
        Codec(Auth(3, {1: AuthKey(1, AuthMethod.MD5, b"x")}), Compression(), CLUSTER)


@pytest.mark.parametrize(
    ("envelope", "message"),
    [
        (Envelope(CLUSTER, ALICE, 1, 1, "hb", {"s": {1, 2}}), "not JSON"),
        (Envelope(CLUSTER, ALICE, 1, 1, "hb", {"x": float("nan")}), "not JSON"),
        (Envelope(CLUSTER, ALICE, 1, 1, "hb", {"x": "y" * 70_000}), "more than"),
        (Envelope(CLUSTER, ALICE, 1, 1, "", {}), "kind"),
        (Envelope(CLUSTER, ALICE, 1, 2**64, "hb", {}), "seq"),
        (Envelope("other", ALICE, 1, 1, "hb", {}), "cluster"),
        (Envelope(CLUSTER, ALICE, 1, 1, "hb", ["list"]), "mapping"),  # type: ignore[arg-type]
    ],
)
def test_encoding_our_own_bad_message_raises_encode_error(envelope: Envelope, message: str) -> None:
    with pytest.raises(EncodeError, match=message):
        codec().encode(envelope)


# -- every drop reason, produced and counted ----------------------------------

C = codec()


def _seal(payload: bytes, flags: int = 0) -> bytes:
    """What a buggy peer holding the key could send."""
    return C.seal(flags=flags, incarnation=1, seq=1, sender=b"alice", kind=b"hb", payload=payload)


VALID = C.encode(env({"view": ["alice"]}))


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


DECODE_DROPS: list[tuple[str, bytes, DropReason]] = [
    ("empty datagram", b"", DropReason.GARBAGE),
    ("random bytes", bytes(range(200)), DropReason.GARBAGE),
    ("heartbeat v1 text packet", b">>>\nt=status\nst=active\n<<<\n", DropReason.GARBAGE),
    ("unknown flag bits", VALID[:3] + b"\x80" + VALID[4:], DropReason.GARBAGE),
    ("empty sender", C.seal(flags=0, incarnation=1, seq=1, sender=b"", kind=b"hb",
                            payload=b"{}"), DropReason.GARBAGE),
    ("sender not UTF-8", C.seal(flags=0, incarnation=1, seq=1, sender=b"\xff\xfe", kind=b"hb",
                                payload=b"{}"), DropReason.GARBAGE),
    ("header cut short", VALID[: HEADER_SIZE - 1], DropReason.TRUNCATED),
    ("signature cut off", VALID[: HEADER_SIZE + 5], DropReason.TRUNCATED),
    ("jumbo datagram", VALID + bytes(MAX_DATAGRAM), DropReason.OVERSIZED),
    ("wire version 2", VALID[:2] + b"\x02" + VALID[3:], DropReason.BAD_VERSION),
    ("another cluster", codec(cluster="staging").encode(
        Envelope("staging", ALICE, 1, 1, "hb", {})), DropReason.WRONG_CLUSTER),
    ("key index 9", VALID[:8] + b"\x00\x09" + VALID[10:],
     DropReason.UNKNOWN_KEY),
    ("other secret", codec(secret=b"guess").encode(env({})), DropReason.BAD_SIGNATURE),
    ("a flipped bit in the body", _flip(VALID, len(VALID) - 40), DropReason.BAD_SIGNATURE),
    ("a flipped bit in the seq", _flip(VALID, 25), DropReason.BAD_SIGNATURE),
    ("one byte cut from the end", VALID[:-1], DropReason.BAD_SIGNATURE),
    ("damaged zlib stream", _seal(zlib.compress(b'{"a":1}')[:-3], 0x01),
     DropReason.DECOMPRESS_FAILED),
    ("bz2 flag on zlib data", _seal(zlib.compress(b'{"a":1}'), 0x02),
     DropReason.DECOMPRESS_FAILED),
    ("zlib bomb", _seal(zlib.compress(b'{"a":"' + b"0" * (4 << 20) + b'"}', 9), 0x01),
     DropReason.DECOMPRESSED_TOO_LARGE),
    ("bz2 bomb", _seal(bz2.compress(b'{"a":"' + b"0" * (4 << 20) + b'"}'), 0x02),
     DropReason.DECOMPRESSED_TOO_LARGE),
    ("body not JSON", _seal(b"hello"), DropReason.BAD_BODY),
    ("body a JSON list", _seal(b"[1,2]"), DropReason.BAD_BODY),
    ("body with NaN", _seal(b'{"x":NaN}'), DropReason.BAD_BODY),
    ("body nested 30000 deep", _seal(b"[" * 30_000 + b"]" * 30_000), DropReason.BAD_BODY),
    ("body not UTF-8", _seal(b'{"x":"\xff"}'), DropReason.BAD_BODY),
]


@pytest.mark.parametrize(("data", "reason"), [(d, r) for _, d, r in DECODE_DROPS],
                         ids=[name for name, _, _ in DECODE_DROPS])
def test_bad_datagram_is_dropped_with_its_reason_and_counted(
    data: bytes, reason: DropReason
) -> None:
    result = C.decode(data)
    assert isinstance(result, Dropped), result
    assert result.reason is reason, result.detail
    receiver = Receiver(C, BOB, NODES)
    assert receiver.receive(data, "eth0") == result
    assert receiver.counters[reason] == 1
    assert sum(receiver.counters.values()) == 1
    assert receiver.accepted == 0


def test_every_drop_reason_has_a_case() -> None:
    receiver_reasons = {DropReason.UNKNOWN_NODE, DropReason.FROM_SELF, DropReason.REPLAYED,
                        DropReason.TOO_OLD, DropReason.STALE_INCARNATION}
    covered = {r for _, _, r in DECODE_DROPS} | receiver_reasons
    assert covered == set(DropReason)


def test_receiver_drops_unknown_senders_our_own_loopback_replays_and_restarts() -> None:
    receiver = Receiver(C, BOB, NODES, window=8)
    mallory = traffic(C, sender=ALICE.__class__("mallory"), count=1)[0]
    own = traffic(C, sender=BOB, count=1)[0]
    first_life = traffic(C, incarnation=5, count=20)
    second_life = traffic(C, incarnation=6, count=1)
    outcomes = [receiver.receive(d, "eth0") for d in
                [mallory, own, first_life[10], first_life[10], first_life[19], first_life[2],
                 second_life[0], first_life[11]]]
    reasons = [o.reason if isinstance(o, Dropped) else "accepted" for o in outcomes]
    assert reasons == [
        DropReason.UNKNOWN_NODE, DropReason.FROM_SELF, "accepted", DropReason.REPLAYED,
        "accepted", DropReason.TOO_OLD, "accepted", DropReason.STALE_INCARNATION,
    ]
    assert receiver.incarnation_of(ALICE) == 6
    assert receiver.accepted == 3
    assert sum(receiver.counters.values()) == 5
