"""Building codecs and traffic for the wire tests."""

from __future__ import annotations

from vigil.config import Auth, AuthKey, AuthMethod, Compression, NodeName
from vigil.wire import Codec, Sequencer

CLUSTER = "prod"
ALICE = NodeName("alice")
BOB = NodeName("bob")
CAROL = NodeName("carol")
NODES = (ALICE, BOB, CAROL)


def auth(method: AuthMethod = AuthMethod.HMAC_SHA256, secret: bytes = b"s3cret",
         index: int = 1, extra: tuple[AuthKey, ...] = ()) -> Auth:
    """authkeys with one active key (and EXTRA keys also accepted)."""
    keys = {index: AuthKey(index, method, secret)}
    keys.update({k.index: k for k in extra})
    return Auth(index, keys)


def codec(method: AuthMethod = AuthMethod.HMAC_SHA256, *, secret: bytes = b"s3cret",
          compression: str | None = None, threshold: int = 2048,
          cluster: str = CLUSTER, **kw: int) -> Codec:
    return Codec(auth(method, secret), Compression(compression, threshold), cluster, **kw)


def traffic(c: Codec, sender: NodeName = ALICE, incarnation: int = 1, count: int = 10,
            kind: str = "hb") -> list[bytes]:
    """COUNT consecutive datagrams from SENDER, as captured on the wire."""
    seq = Sequencer(c, sender, incarnation)
    return [seq.encode(kind, {"n": i, "view": list(NODES)}) for i in range(count)]
