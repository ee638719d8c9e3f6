"""The datagram format: an ``Envelope`` to signed bytes and back.

Rules of this file:
- ``decode`` never raises: every way a datagram can be wrong is a ``Dropped``
  with a ``DropReason``. ``encode`` raises ``EncodeError`` only for our own
  mistakes (a body that is not JSON, a message too large to send).
- Cheap checks first, and nothing is inflated or parsed before its signature
  verified: an unauthenticated sender costs us one HMAC at most.
- The signature covers every byte before it (header, names, payload) and the
  full cluster name, so no bit of a datagram can change without detection
  (except under ``crc``, which authenticates nothing).

Layout (network byte order), version 1::

    0   2s  magic b"VG"
    2   B   version (1)
    3   B   flags: 0x01 body zlib-compressed, 0x02 body bz2-compressed
    4   4s  cluster tag: first 4 bytes of SHA-256 of the cluster name
    8   H   authkeys index of the signing key
    10  Q   incarnation
    18  Q   sequence number
    26  B   length of the sender's name (UTF-8, 1..255)
    27  B   length of the kind (UTF-8, 1..255)
    28      sender, kind, payload (compact JSON object, maybe compressed),
            signature (its length set by the key's method)
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Mapping

from vigil.config import Auth, Compression, NodeName
from vigil.wire.compression import (
    CorruptError,
    Method,
    TooLargeError,
    compress,
    decompress,
    method_named,
)
from vigil.wire.envelope import (
    MAX_BODY,
    MAX_COUNTER,
    MAX_DATAGRAM,
    Body,
    Dropped,
    DropReason,
    EncodeError,
    Envelope,
)
from vigil.wire.signing import Signer

MAGIC = b"VG"
VERSION = 1
_HEADER = struct.Struct("!2sBB4sHQQBB")
HEADER_SIZE = _HEADER.size
_FLAGS_KNOWN = Method.ZLIB | Method.BZ2
#: (sender, kind) pairs whose last body ``decode`` remembers, and the largest
#: (uncompressed) payload it remembers: a 256-node view fits. Past that many
#: pairs the memory is cleared; only a key holder can make it grow, but it
#: stays bounded.
BODY_MEMORY = 256
BODY_MEMORY_BYTES = 8192


def cluster_tag(cluster: str) -> bytes:
    """The 4 bytes that tell clusters sharing a link apart before any HMAC."""
    return hashlib.sha256(b"vigil-cluster\0" + cluster.encode()).digest()[:4]


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


class Codec:
    """Encodes and decodes one cluster's datagrams with its ``authkeys``.

    Signs with ``auth.active``; accepts a datagram signed with any key in
    ``auth.keys`` (key rotation: add the new key everywhere, then switch
    ``auth``, then remove the old one). Bodies whose JSON is larger than
    ``compression.threshold_bytes`` are compressed when a method is set; both
    methods are always accepted, so a cluster can change its method node by node.
    """

    def __init__(
        self,
        auth: Auth,
        compression: Compression,
        cluster: str,
        *,
        max_datagram: int = MAX_DATAGRAM,
        max_body: int = MAX_BODY,
    ) -> None:
        if auth.active not in auth.keys:
            raise ValueError(f"auth names key {auth.active}, which authkeys does not define")
        for index in auth.keys:
            if not 0 <= index <= 0xFFFF:
                raise ValueError(f"authkeys index {index} does not fit the wire (0..65535)")
        self.cluster = cluster
        self.max_datagram = max_datagram
        self.max_body = max_body
        self._method = method_named(compression.method)
        self._threshold = compression.threshold_bytes
        self._tag = cluster_tag(cluster)
        prefix = b"vigil/1\0" + cluster.encode() + b"\0"
        self._signers = {index: Signer(key, prefix) for index, key in auth.keys.items()}
        self._active_index = auth.active
        self._active = self._signers[auth.active]
        # Per sender and kind: the last authenticated payload and the body it
        # parsed to. A node repeats the same body every keepalive until what it
        # reports changes, so most datagrams differ from the previous one of
        # their kind only in the header and signature; comparing bytes costs
        # far less than parsing JSON.
        self._last_body: dict[bytes, tuple[bytes, Body]] = {}

    # -- sending ---------------------------------------------------------

    def encode(self, env: Envelope) -> bytes:
        """The signed datagram for ENV; EncodeError when it cannot be sent."""
        if env.cluster != self.cluster:
            raise EncodeError(f"envelope for cluster {env.cluster!r}, codec is {self.cluster!r}")
        sender = env.sender.encode()
        kind = env.kind.encode()
        if not 1 <= len(sender) <= 255:
            raise EncodeError(f"sender name must be 1..255 bytes, got {len(sender)}")
        if not 1 <= len(kind) <= 255:
            raise EncodeError(f"kind must be 1..255 bytes, got {len(kind)}")
        for name, value in (("incarnation", env.incarnation), ("seq", env.seq)):
            if not 0 <= value <= MAX_COUNTER:
                raise EncodeError(f"{name} {value} out of range 0..2**64-1")
        if not isinstance(env.body, Mapping):
            raise EncodeError(f"body must be a mapping, got {type(env.body).__name__}")
        try:
            payload = json.dumps(
                env.body, separators=(",", ":"), ensure_ascii=False, allow_nan=False
            ).encode()
        except (TypeError, ValueError) as exc:
            raise EncodeError(f"body is not JSON: {exc}") from exc
        if len(payload) > self.max_body:
            raise EncodeError(f"body of {len(payload)} bytes exceeds {self.max_body}")
        flags = 0
        if self._method is not None and len(payload) > self._threshold:
            packed = compress(self._method, payload)
            if len(packed) < len(payload):
                payload, flags = packed, int(self._method)
        data = self.seal(
            flags=flags, incarnation=env.incarnation, seq=env.seq,
            sender=sender, kind=kind, payload=payload,
        )
        if len(data) > self.max_datagram:
            raise EncodeError(
                f"message {env.kind!r} is {len(data)} bytes, more than {self.max_datagram}"
            )
        return data

    def seal(
        self,
        *,
        flags: int,
        incarnation: int,
        seq: int,
        sender: bytes,
        kind: bytes,
        payload: bytes,
    ) -> bytes:
        """Header, names and payload as given, signed with the active key.

        ``encode`` checks its input and calls this; tests and tools call it to
        craft what a buggy peer holding the key could send. No checks here.
        """
        header = _HEADER.pack(
            MAGIC, VERSION, flags, self._tag, self._active_index,
            incarnation, seq, len(sender), len(kind),
        )
        unsigned = b"".join((header, sender, kind, payload))
        return unsigned + self._active.sign(unsigned)

    # -- receiving -------------------------------------------------------

    def decode(self, data: bytes) -> Envelope | Dropped:
        """The envelope DATA carries, or why it was dropped. Never raises."""
        try:
            return self._decode(data)
        except Exception as exc:  # pragma: no cover - a bug here must not kill the receive path
            return Dropped(DropReason.GARBAGE, f"decoder error: {type(exc).__name__}: {exc}")

    def _decode(self, data: bytes) -> Envelope | Dropped:
        size = len(data)
        if size > self.max_datagram:
            return Dropped(DropReason.OVERSIZED, f"{size} bytes")
        if size < 3 or data[:2] != MAGIC:
            return Dropped(DropReason.GARBAGE, "no vigil magic")
        if data[2] != VERSION:
            return Dropped(DropReason.BAD_VERSION, f"wire version {data[2]}")
        if size < HEADER_SIZE:
            return Dropped(DropReason.TRUNCATED, f"{size} bytes, header needs {HEADER_SIZE}")
        _, _, flags, tag, key_index, incarnation, seq, sender_len, kind_len = (
            _HEADER.unpack_from(data)
        )
        if flags & ~_FLAGS_KNOWN or flags == _FLAGS_KNOWN:
            return Dropped(DropReason.GARBAGE, f"unknown flags {flags:#x}")
        if tag != self._tag:
            return Dropped(DropReason.WRONG_CLUSTER, f"cluster tag {tag.hex()}")
        signer = self._signers.get(key_index)
        if signer is None:
            return Dropped(DropReason.UNKNOWN_KEY, f"key index {key_index}")
        names_end = HEADER_SIZE + sender_len + kind_len
        body_end = size - signer.size
        if sender_len == 0 or kind_len == 0:
            return Dropped(DropReason.GARBAGE, "empty sender or kind")
        if body_end < names_end:
            return Dropped(DropReason.TRUNCATED, f"{size} bytes, too short for its fields")
        view = memoryview(data)
        if not signer.verify(view[:body_end], view[body_end:]):
            return Dropped(DropReason.BAD_SIGNATURE, f"key index {key_index}")
        # Both lengths and both names: no two (sender, kind) pairs share a key.
        names = data[HEADER_SIZE - 2 : names_end]
        try:
            sender = data[HEADER_SIZE : HEADER_SIZE + sender_len].decode()
            kind = data[HEADER_SIZE + sender_len : names_end].decode()
        except UnicodeDecodeError:
            return Dropped(DropReason.GARBAGE, "sender or kind is not UTF-8")
        raw = data[names_end:body_end]
        last = self._last_body.get(names)
        if last is not None and last[0] == raw:
            # The same bytes parse to the same body: share it (bodies are not
            # mutated; see ``Envelope``).
            return Envelope(self.cluster, NodeName(sender), incarnation, seq, kind, last[1])
        payload: bytes | memoryview = raw
        if flags:
            try:
                payload = decompress(Method(flags), payload, self.max_body)
            except TooLargeError:
                return Dropped(
                    DropReason.DECOMPRESSED_TOO_LARGE,
                    f"inflates past {self.max_body} bytes",
                    NodeName(sender),
                )
            except CorruptError:
                return Dropped(DropReason.DECOMPRESS_FAILED, "damaged stream", NodeName(sender))
        body = _parse_body(bytes(payload))
        if isinstance(body, str):
            return Dropped(DropReason.BAD_BODY, body, NodeName(sender))
        if not flags and len(raw) <= BODY_MEMORY_BYTES:
            if len(self._last_body) >= BODY_MEMORY and names not in self._last_body:
                self._last_body.clear()
            self._last_body[names] = (raw, body)
        return Envelope(self.cluster, NodeName(sender), incarnation, seq, kind, body)


def _parse_body(payload: bytes) -> Body | str:
    """The body as a dict, or a few words saying why not."""
    try:
        body = json.loads(payload.decode(), parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        return f"not JSON: {type(exc).__name__}"
    if not isinstance(body, dict):
        return f"a JSON {type(body).__name__}, not an object"
    return body
