"""Hypothesis against the decoder: never raises, never accepts an altered message."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wire_helpers import ALICE, BOB, CLUSTER, NODES, codec

from vigil.config import AuthMethod
from vigil.wire import HEADER_SIZE, Accepted, Dropped, Envelope, Receiver

HMACS = [AuthMethod.MD5, AuthMethod.SHA1, AuthMethod.HMAC_SHA256]
CODECS = {(m, z): codec(m, compression=z, threshold=64)
          for m in AuthMethod for z in (None, "zlib", "bz2")}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.text(max_size=20)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner,
                                                                   max_size=5),
    max_leaves=30,
)
envelopes = st.builds(
    Envelope,
    cluster=st.just(CLUSTER),
    sender=st.sampled_from(NODES),
    incarnation=st.integers(0, 2**64 - 1),
    seq=st.integers(0, 2**64 - 1),
    kind=st.text(min_size=1, max_size=12).filter(lambda k: len(k.encode()) <= 255),
    body=st.dictionaries(st.text(max_size=10), json_values, max_size=8),
)
codec_keys = st.sampled_from(sorted(CODECS, key=str))


@given(st.binary(max_size=600), codec_keys)
def test_arbitrary_bytes_never_raise(data: bytes, key: tuple[AuthMethod, str | None]) -> None:
    result = CODECS[key].decode(data)
    assert isinstance(result, Dropped | Envelope)


@given(st.binary(max_size=400), codec_keys)
def test_bytes_behind_a_valid_header_never_raise(
    tail: bytes, key: tuple[AuthMethod, str | None]
) -> None:
    c = CODECS[key]
    header = c.encode(Envelope(CLUSTER, ALICE, 1, 1, "hb", {}))[:HEADER_SIZE]
    result = c.decode(header + tail)
    assert isinstance(result, Dropped | Envelope)


@given(st.integers(0, 3), st.binary(max_size=300), st.binary(max_size=20),
       st.binary(max_size=20), codec_keys)
def test_authenticated_but_malformed_payloads_never_raise(
    flags: int, payload: bytes, sender: bytes, kind: bytes, key: tuple[AuthMethod, str | None]
) -> None:
    """What a buggy peer holding the key could send: past the signature check,
    into decompression and JSON parsing."""
    c = CODECS[key]
    data = c.seal(flags=flags, incarnation=1, seq=1, sender=sender, kind=kind, payload=payload)
    result = c.decode(data)
    assert isinstance(result, Dropped | Envelope)


@given(envelopes, codec_keys)
def test_any_envelope_round_trips(env: Envelope, key: tuple[AuthMethod, str | None]) -> None:
    c = CODECS[key]
    assert c.decode(c.encode(env)) == env


mutations = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10_000), st.integers(0, 7)),
    st.tuples(st.just("truncate"), st.integers(0, 10_000), st.just(0)),
    st.tuples(st.just("insert"), st.integers(0, 10_000), st.integers(0, 255)),
    st.tuples(st.just("delete"), st.integers(0, 10_000), st.just(0)),
    st.tuples(st.just("set"), st.integers(0, 10_000), st.integers(0, 255)),
)


def _mutate(data: bytes, ops: list[tuple[str, int, int]]) -> bytes:
    buf = bytearray(data)
    for op, pos, arg in ops:
        if not buf:
            break
        i = pos % len(buf)
        if op == "flip":
            buf[i] ^= 1 << arg
        elif op == "truncate":
            del buf[i:]
        elif op == "insert":
            buf.insert(i, arg)
        elif op == "delete":
            del buf[i]
        else:
            buf[i] = arg
    return bytes(buf)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(envelopes, st.sampled_from(HMACS), st.sampled_from([None, "zlib", "bz2"]),
       st.lists(mutations, min_size=1, max_size=4))
def test_a_mutated_datagram_is_never_accepted_as_a_different_message_under_hmac(
    env: Envelope, method: AuthMethod, compression: str | None, ops: list[tuple[str, int, int]]
) -> None:
    c = CODECS[(method, compression)]
    data = c.encode(env)
    mutated = _mutate(data, ops)
    result = c.decode(mutated)
    if mutated == data:
        assert result == env
    else:
        assert isinstance(result, Dropped), (ops, result)


@given(st.lists(st.one_of(st.binary(max_size=200),
                          envelopes.map(CODECS[(AuthMethod.CRC, None)].encode)), max_size=40))
def test_receiver_counts_every_datagram_once_and_never_raises(datagrams: list[bytes]) -> None:
    bob = Receiver(CODECS[(AuthMethod.CRC, None)], BOB, NODES)
    results = [bob.receive(d, "eth0") for d in datagrams]
    accepted = sum(isinstance(r, Accepted) for r in results)
    assert bob.accepted == accepted
    assert sum(bob.counters.values()) == len(datagrams) - accepted
