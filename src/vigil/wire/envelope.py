"""What travels between nodes, and what the receive path says when it refuses a datagram.

An ``Envelope`` is the authenticated outside of every message: who sent it,
in which incarnation, its sequence number, its kind and its body. What the body
of each kind holds is defined by the packages that send it (membership, the
control layer); here it is only a JSON object.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from vigil.config import NodeName

#: A message body: a JSON object. Values are what ``json`` produces (None, bool,
#: int, float, str, list, dict); tuples are sent as lists, so a decoded body
#: compares equal to what was sent only when it was built from lists and dicts.
Body = Mapping[str, object]

#: The largest UDP payload IPv4 can carry; nothing bigger is sent or accepted.
MAX_DATAGRAM = 65_507
#: The largest body accepted after decompression: a zip bomb stops here.
MAX_BODY = 1 << 20
#: Sequence numbers and incarnations are unsigned 64-bit on the wire.
MAX_COUNTER = (1 << 64) - 1


@dataclass(frozen=True, slots=True)
class Envelope:
    """One message: its sender's name, incarnation and sequence number, kind and body.

    ``incarnation`` grows on every restart of the sender; ``seq`` grows by one
    per message within an incarnation. The body is not part of the hash (it is
    a mapping), so envelopes can be set members; do not mutate a decoded body.
    """

    cluster: str
    sender: NodeName
    incarnation: int
    seq: int
    kind: str
    body: Body = field(hash=False)


class DropReason(enum.Enum):
    """Why a datagram was refused; each is counted and shown by ``vigil status``."""

    GARBAGE = "garbage"  # not a vigil datagram, or malformed header
    TRUNCATED = "truncated"  # a vigil header, but cut short
    OVERSIZED = "oversized"  # larger than any datagram we send
    BAD_VERSION = "bad_version"  # a vigil datagram of a wire version we do not speak
    WRONG_CLUSTER = "wrong_cluster"  # another cluster on the same link
    UNKNOWN_KEY = "unknown_key"  # signed with a key index not in authkeys
    BAD_SIGNATURE = "bad_signature"  # forged, altered, or signed with another secret
    DECOMPRESS_FAILED = "decompress_failed"  # compressed body that does not inflate
    DECOMPRESSED_TOO_LARGE = "decompressed_too_large"  # a zip bomb
    BAD_BODY = "bad_body"  # authenticated, but the body is not a JSON object
    UNKNOWN_NODE = "unknown_node"  # authenticated sender that is not a configured node
    FROM_SELF = "from_self"  # our own message looped back (bcast, mcast loop)
    REPLAYED = "replayed"  # this sequence number was already received on this link
    TOO_OLD = "too_old"  # older than the replay window: cannot tell, so refused
    STALE_INCARNATION = "stale_incarnation"  # from before the sender's latest restart


@dataclass(frozen=True, slots=True)
class Dropped:
    """A refused datagram: the reason, a few words for the debug log, and the
    sender when it was authenticated (never trust ``sender`` for anything else)."""

    reason: DropReason
    detail: str = ""
    sender: NodeName | None = None


class EncodeError(ValueError):
    """Our own message cannot be sent: not a JSON object, too large, bad field."""
