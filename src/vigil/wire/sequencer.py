"""Numbering this node's outgoing messages: one sequence per incarnation."""

from __future__ import annotations

from vigil.config import NodeName
from vigil.wire.codec import Codec
from vigil.wire.envelope import Body, Envelope


class Sequencer:
    """Stamps each outgoing message with ME, INCARNATION and the next sequence
    number, and encodes it. The daemon persists the incarnation (it grows on
    every start); sequence numbers restart at ``first_seq`` with each one."""

    def __init__(self, codec: Codec, me: NodeName, incarnation: int, first_seq: int = 1) -> None:
        self.codec = codec
        self.me = me
        self.incarnation = incarnation
        self.next_seq = first_seq

    def envelope(self, kind: str, body: Body) -> Envelope:
        """The next envelope, without consuming its sequence number."""
        return Envelope(self.codec.cluster, self.me, self.incarnation, self.next_seq, kind, body)

    def encode(self, kind: str, body: Body) -> bytes:
        """The signed datagram for the next message; EncodeError leaves the number unused."""
        data = self.codec.encode(self.envelope(kind, body))
        self.next_seq += 1
        return data
