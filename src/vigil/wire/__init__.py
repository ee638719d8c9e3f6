"""The wire: signed, versioned datagrams, replay windows, compression. Pure.

Bytes in, objects out; no network I/O, no clock. The daemon builds one ``Codec``
from the configuration, a ``Sequencer`` to number what it sends and a
``Receiver`` for what arrives; message bodies are defined by their senders.
"""

from __future__ import annotations

from vigil.wire.codec import HEADER_SIZE, VERSION, Codec
from vigil.wire.envelope import (
    MAX_BODY,
    MAX_DATAGRAM,
    Body,
    Dropped,
    DropReason,
    EncodeError,
    Envelope,
)
from vigil.wire.receiver import Accepted, Receiver
from vigil.wire.replay import DEFAULT_WIDTH, ReplayWindow
from vigil.wire.sequencer import Sequencer
from vigil.wire.signing import SIGNATURE_SIZE

__all__ = [
    "DEFAULT_WIDTH",
    "HEADER_SIZE",
    "MAX_BODY",
    "MAX_DATAGRAM",
    "SIGNATURE_SIZE",
    "VERSION",
    "Accepted",
    "Body",
    "Codec",
    "DropReason",
    "Dropped",
    "EncodeError",
    "Envelope",
    "Receiver",
    "ReplayWindow",
    "Sequencer",
]
