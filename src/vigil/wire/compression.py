"""Compression of large bodies: zlib and bz2, the methods ha.cf's ``compression`` named.

Inflating is capped: a small datagram that expands past the cap (a zip bomb)
is refused after inflating at most ``cap + 1`` bytes, never more.
"""

from __future__ import annotations

import bz2
import enum
import zlib


class Method(enum.IntEnum):
    """The wire flag bit of each method."""

    ZLIB = 0x01
    BZ2 = 0x02


_BY_NAME = {"zlib": Method.ZLIB, "bz2": Method.BZ2}


def method_named(name: str | None) -> Method | None:
    """The method ha.cf/TOML calls NAME (None: off); ValueError for names we lack."""
    if name is None:
        return None
    try:
        return _BY_NAME[name.lower()]
    except KeyError:
        raise ValueError(f"unknown compression method {name!r} (known: zlib, bz2)") from None


def compress(method: Method, data: bytes) -> bytes:
    if method is Method.ZLIB:
        return zlib.compress(data, 6)
    return bz2.compress(data, 9)


class TooLargeError(Exception):
    """The body inflates past the cap."""


class CorruptError(Exception):
    """The compressed stream is damaged or incomplete."""


def decompress(method: Method, data: bytes | memoryview, cap: int) -> bytes:
    """Inflate DATA to at most CAP bytes; raises TooLargeError or CorruptError, nothing else."""
    try:
        if method is Method.ZLIB:
            zd = zlib.decompressobj()
            out = zd.decompress(data, cap + 1)
            if len(out) > cap:
                raise TooLargeError
            if not zd.eof or zd.unused_data or zd.unconsumed_tail:
                raise CorruptError
            return out
        bd = bz2.BZ2Decompressor()
        out = bd.decompress(data, max_length=cap + 1)
        if len(out) > cap:
            raise TooLargeError
        if not bd.eof or bd.unused_data:
            raise CorruptError
        return out
    except (zlib.error, OSError, EOFError, ValueError, MemoryError) as exc:
        raise CorruptError from exc
