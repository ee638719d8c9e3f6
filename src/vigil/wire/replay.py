"""Replay protection: a sliding window of sequence numbers per sender incarnation.

As IPsec's anti-replay window (RFC 4303 §3.4.3): the highest sequence number
seen and a bitmap of the ``width`` numbers below it. A number above the highest
moves the window; one inside it is accepted once; one below it is refused
because we can no longer tell whether it was seen. Out-of-order delivery within
the window (two links of different latency) is accepted.

Incarnations order restarts: a higher one means the sender restarted (its
numbering starts over, the window resets — what that means for membership is
decided there); a lower one is a message from before the restart, refused.
"""

from __future__ import annotations

from vigil.wire.envelope import DropReason

DEFAULT_WIDTH = 64


class ReplayWindow:
    """The window for one sender (and, in ``Receiver``, one link)."""

    __slots__ = ("_bitmap", "_highest", "_mask", "incarnation", "width")

    def __init__(self, width: int = DEFAULT_WIDTH) -> None:
        if width < 1:
            raise ValueError("replay window width must be at least 1")
        self.width = width
        self._mask = (1 << width) - 1
        self.incarnation: int | None = None  # None: nothing accepted yet
        self._highest = 0
        self._bitmap = 0  # bit i set: (highest - i) was seen

    @property
    def highest(self) -> int | None:
        """The highest sequence number accepted in the current incarnation."""
        return None if self.incarnation is None else self._highest

    def check(self, incarnation: int, seq: int) -> DropReason | None:
        """Why (incarnation, seq) would be refused, or None; changes nothing."""
        if self.incarnation is None or incarnation > self.incarnation:
            return None
        if incarnation < self.incarnation:
            return DropReason.STALE_INCARNATION
        if seq > self._highest:
            return None
        offset = self._highest - seq
        if offset >= self.width:
            return DropReason.TOO_OLD
        if self._bitmap >> offset & 1:
            return DropReason.REPLAYED
        return None

    def accept(self, incarnation: int, seq: int) -> DropReason | None:
        """Record (incarnation, seq) and return None, or return why it is refused."""
        refused = self.check(incarnation, seq)
        if refused is not None:
            return refused
        if self.incarnation is None or incarnation > self.incarnation:
            self.incarnation = incarnation
            self._highest = seq
            self._bitmap = 1
        elif seq > self._highest:
            shift = seq - self._highest
            # A shift past the width clears the bitmap; Python shifts big ints
            # fine, but the mask keeps the bitmap at `width` bits.
            self._bitmap = (self._bitmap << shift | 1) & self._mask if shift < self.width else 1
            self._highest = seq
        else:
            self._bitmap |= 1 << (self._highest - seq)
        return None
