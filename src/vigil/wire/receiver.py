"""The receive path for one node: decode, check the sender, refuse replays, count drops.

The daemon calls ``Receiver.receive`` once per datagram with the link it came
in on. The same message arrives once per link (every message is sent on every
link), so replays are refused per (sender, link), and ``Accepted.first_copy``
says whether this is the first copy on any link: membership notes that the
link is alive either way, but acts on a body only once.

Memory stays bounded whatever arrives: windows exist only for configured nodes
(times the links the daemon names), and forged or unknown senders get none.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from vigil.config import NodeName
from vigil.wire.codec import Codec
from vigil.wire.envelope import Dropped, DropReason, Envelope
from vigil.wire.replay import DEFAULT_WIDTH, ReplayWindow


@dataclass(frozen=True, slots=True)
class Accepted:
    """A message to act on: the envelope, the link it came in on, and whether
    it is the first copy received on any link (False: a copy already came on
    another link, or it is too old to tell)."""

    envelope: Envelope
    link: str
    first_copy: bool


class Receiver:
    """Decode + sender check + replay windows + drop counters for node ME."""

    def __init__(
        self,
        codec: Codec,
        me: NodeName,
        nodes: Iterable[NodeName],
        *,
        window: int = DEFAULT_WIDTH,
    ) -> None:
        self.codec = codec
        self.me = me
        self._nodes = frozenset(nodes)
        self._width = window
        ReplayWindow(window)  # validate the width now, not on the first datagram
        # Per peer: the window over all links (first copies), then one per link.
        self._any_link: dict[NodeName, ReplayWindow] = {}
        self._per_link: dict[tuple[NodeName, str], ReplayWindow] = {}
        self._counters: dict[DropReason, int] = dict.fromkeys(DropReason, 0)
        self.accepted = 0

    @property
    def counters(self) -> Mapping[DropReason, int]:
        """Datagrams dropped so far, by reason; every reason is present."""
        return MappingProxyType(self._counters)

    @property
    def windows(self) -> int:
        """Replay windows held: at most configured peers x (links + 1), whatever arrives."""
        return len(self._any_link) + len(self._per_link)

    def incarnation_of(self, node: NodeName) -> int | None:
        """The latest incarnation accepted from NODE, None before its first message."""
        win = self._any_link.get(node)
        return None if win is None else win.incarnation

    def receive(self, data: bytes, link: str = "") -> Accepted | Dropped:
        """What to do with DATA, received on LINK (the config link name). Never raises."""
        result = self._receive(data, link)
        if isinstance(result, Dropped):
            self._counters[result.reason] += 1
        else:
            self.accepted += 1
        return result

    def _receive(self, data: bytes, link: str) -> Accepted | Dropped:
        env = self.codec.decode(data)
        if isinstance(env, Dropped):
            return env
        sender = env.sender
        if sender == self.me:
            return Dropped(DropReason.FROM_SELF, "our own message", sender)
        if sender not in self._nodes:
            return Dropped(DropReason.UNKNOWN_NODE, f"node {sender!r} is not configured", sender)
        any_link = self._any_link.get(sender)
        if any_link is None:
            any_link = self._any_link[sender] = ReplayWindow(self._width)
        # A message from before the sender's latest restart is refused on every
        # link, even one that has not yet heard the new incarnation.
        if any_link.incarnation is not None and env.incarnation < any_link.incarnation:
            return Dropped(
                DropReason.STALE_INCARNATION,
                f"incarnation {env.incarnation} < {any_link.incarnation}",
                sender,
            )
        key = (sender, link)
        per_link = self._per_link.get(key)
        if per_link is None:
            per_link = self._per_link[key] = ReplayWindow(self._width)
        refused = per_link.accept(env.incarnation, env.seq)
        if refused is not None:
            return Dropped(refused, f"incarnation {env.incarnation} seq {env.seq}", sender)
        first = any_link.accept(env.incarnation, env.seq) is None
        return Accepted(env, link, first)
