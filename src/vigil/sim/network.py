"""The virtual network: per-link loss, delay, duplication, reordering, and cuts.

Rules of this file:
- Every random draw comes from the ``random.Random`` the simulation passes in,
  in a fixed order, so one seed replays one run exactly.
- Each packet is decided when it is sent: lost, delayed, duplicated or held
  back. A cut (partition or one-way) drops what is sent while it lasts;
  packets already in flight still arrive, as on a real wire.
- Delays are whole milliseconds, at least 0.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from vigil.config import NodeName


@dataclass(frozen=True, slots=True)
class Delay:
    """One-way delay, uniform between MIN_MS and MAX_MS inclusive."""

    min_ms: int = 1
    max_ms: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.min_ms <= self.max_ms:
            raise ValueError(f"delay needs 0 <= min <= max, not {self.min_ms}..{self.max_ms}")

    def draw(self, rng: random.Random) -> int:
        if self.min_ms == self.max_ms:
            return self.min_ms
        return rng.randint(self.min_ms, self.max_ms)

    def __str__(self) -> str:
        if self.min_ms == self.max_ms:
            return f"{self.min_ms}ms"
        return f"{self.min_ms}-{self.max_ms}ms"


@dataclass(frozen=True, slots=True)
class LinkConditions:
    """How one link treats every packet on it."""

    loss: float = 0.0  # probability a packet is lost
    delay: Delay = Delay()
    duplicate: float = 0.0  # probability a packet arrives twice (each copy delayed apart)
    reorder: float = 0.0  # probability a packet is held back …
    reorder_ms: int = 0  # … by up to this long more, so later ones overtake it

    def __post_init__(self) -> None:
        for what, p in (("loss", self.loss), ("duplicate", self.duplicate),
                        ("reorder", self.reorder)):
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{what} is a probability between 0 and 1, not {p}")
        if self.reorder_ms < 0:
            raise ValueError(f"reorder_ms cannot be negative, not {self.reorder_ms}")

    @property
    def max_delay_ms(self) -> int:
        """The longest a packet can take on this link."""
        return self.delay.max_ms + (self.reorder_ms if self.reorder > 0 else 0)

    def arrivals(self, rng: random.Random) -> list[int]:
        """Delays of the copies of one packet that arrive: none, one or two."""
        if self.loss and rng.random() < self.loss:
            return []
        copies = 2 if self.duplicate and rng.random() < self.duplicate else 1
        delays = []
        for _ in range(copies):
            delay = self.delay.draw(rng)
            if self.reorder and rng.random() < self.reorder:
                delay += rng.randint(0, self.reorder_ms)
            delays.append(delay)
        return delays

    def __str__(self) -> str:
        parts = [f"loss={self.loss:g}", f"delay={self.delay}"]
        if self.duplicate:
            parts.append(f"dup={self.duplicate:g}")
        if self.reorder:
            parts.append(f"reorder={self.reorder:g}/{self.reorder_ms}ms")
        return " ".join(parts)


#: A perfect link but for a 1 ms delay.
CALM = LinkConditions()


@dataclass(frozen=True, slots=True)
class Cut:
    """Packets from any of SOURCES to any of TARGETS on LINKS (None: all) are dropped."""

    sources: frozenset[NodeName]
    targets: frozenset[NodeName]
    links: frozenset[str] | None = None

    def blocks(self, link_names: Iterable[str]) -> set[tuple[NodeName, NodeName, str]]:
        links = self.links if self.links is not None else frozenset(link_names)
        return {(s, t, link) for s in self.sources for t in self.targets
                if s != t for link in links}


def partition_cuts(groups: Sequence[Collection[str]], everyone: Sequence[NodeName],
                   links: Collection[str] | None = None) -> list[Cut]:
    """The cuts that split EVERYONE into GROUPS, both ways.

    Nodes named in no group form one more group together.
    """
    named = [frozenset(NodeName(n) for n in g) for g in groups]
    listed: frozenset[NodeName] = frozenset().union(*named) if named else frozenset()
    if sum(len(g) for g in named) != len(listed):
        raise ValueError("a node is in two groups of one partition")
    unknown = listed - set(everyone)
    if unknown:
        raise ValueError(f"partition names nodes not in the cluster: {sorted(unknown)}")
    rest = frozenset(everyone) - listed
    sides = [g for g in [*named, rest] if g]
    link_set = frozenset(links) if links is not None else None
    return [Cut(a, b, link_set) for a in sides for b in sides if a is not b]
