"""Message signatures, one per ``authkeys`` method.

As Heartbeat's HBauth plugins: ``md5`` and ``sha1`` are HMAC (RFC 2104) keyed
with the authkeys secret (Heartbeat's ``md5.c``/``sha1.c`` build the HMAC pads
by hand; the result is the standard HMAC). ``crc`` is a keyless CRC-32: it
catches corruption and authenticates nothing, as in Heartbeat (which used the
non-reflected CRC-32 table; our wire format is not Heartbeat's, so we use
zlib's CRC-32). ``hmac-sha256`` is the native default.

The signed bytes start with a prefix naming the wire version and the full
cluster name, so a signature from one cluster never verifies in another that
shares its keys, even when the 4-byte cluster tags collide.
"""

from __future__ import annotations

import hashlib
import hmac
import zlib
from dataclasses import dataclass, field

from vigil.config import AuthKey, AuthMethod

#: Signature length in bytes per method (the raw digest, not Heartbeat's hex).
SIGNATURE_SIZE: dict[AuthMethod, int] = {
    AuthMethod.CRC: 4,
    AuthMethod.MD5: 16,
    AuthMethod.SHA1: 20,
    AuthMethod.HMAC_SHA256: 32,
}

_DIGEST = {
    AuthMethod.MD5: "md5",
    AuthMethod.SHA1: "sha1",
    AuthMethod.HMAC_SHA256: "sha256",
}


@dataclass(slots=True)
class Signer:
    """Signs and verifies with one key; the key's HMAC state over the prefix is
    computed once, so each message costs one copy and one update."""

    key: AuthKey
    prefix: bytes
    size: int = field(init=False)
    _mac: hmac.HMAC | None = field(init=False, repr=False)
    _crc_prefix: int = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.size = SIGNATURE_SIZE[self.key.method]
        digest = _DIGEST.get(self.key.method)
        if digest is None:
            self._mac = None
            self._crc_prefix = zlib.crc32(self.prefix)
        else:
            self._mac = hmac.new(self.key.secret, self.prefix, getattr(hashlib, digest))
            self._crc_prefix = 0

    def sign(self, data: bytes | memoryview) -> bytes:
        if self._mac is None:
            return zlib.crc32(data, self._crc_prefix).to_bytes(4, "big")
        mac = self._mac.copy()
        mac.update(data)
        return mac.digest()

    def verify(self, data: bytes | memoryview, signature: bytes | memoryview) -> bool:
        """Constant-time comparison: timing does not tell how much of a forgery matched."""
        return hmac.compare_digest(self.sign(data), bytes(signature))
