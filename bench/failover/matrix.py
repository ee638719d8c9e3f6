"""What a run measures: faults, timing profiles, and which peer runs which (fault, profile).

A profile is a heartbeat interval and a dead time, given to every peer the
same way: vigil's and Heartbeat's ``keepalive``/``deadtime``, keepalived's
``advert_int`` (VRRP declares the master down after three adverts plus a skew
of under one advert, so keepalived can only match profiles whose dead time is
three intervals).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass


class Fault(enum.Enum):
    CRASH = "crash"            # processes frozen (SIGSTOP) and link down, at once
    STOP = "stop"              # SIGTERM to the active daemon, as systemctl stop
    SWITCHOVER = "switchover"  # the administrator moves everything away (hb_standby)
    PARTITION = "partition"    # the path between the nodes cut for 8 s, both alive, then healed

    @property
    def title(self) -> str:
        return {Fault.CRASH: "crash (frozen + link down)",
                Fault.STOP: "graceful stop (SIGTERM)",
                Fault.SWITCHOVER: "planned switchover",
                Fault.PARTITION: "8 s partition, both alive"}[self]


@dataclass(frozen=True, slots=True, order=True)
class Profile:
    """A heartbeat interval and the silence after which a peer is declared dead."""

    keepalive_ms: int
    deadtime_ms: int

    @property
    def label(self) -> str:
        return f"{_duration(self.keepalive_ms)}/{_duration(self.deadtime_ms)}"

    @property
    def warntime_ms(self) -> int:
        return self.deadtime_ms // 2

    @property
    def initdead_ms(self) -> int:
        # Heartbeat warns below 10 s, but a longer wait only slows every trial down.
        return max(2 * self.deadtime_ms, 2000)


def _duration(ms: int) -> str:
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s)$")


def parse_duration_ms(text: str) -> int:
    """``"200ms"``, ``"1s"``, ``"0.1s"`` -> milliseconds."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a duration such as 200ms or 1s")
    value = float(match.group(1)) * (1000 if match.group(2) == "s" else 1)
    if value != int(value) or value <= 0:
        raise ValueError(f"{text!r} is not a positive whole number of milliseconds")
    return int(value)


def parse_profile(text: str) -> Profile:
    """``"200ms/1s"`` -> Profile(200, 1000); the dead time must exceed twice the interval."""
    parts = text.split("/")
    if len(parts) != 2:
        raise ValueError(f"{text!r}: write a profile as KEEPALIVE/DEADTIME, e.g. 200ms/1s")
    profile = Profile(parse_duration_ms(parts[0]), parse_duration_ms(parts[1]))
    if profile.deadtime_ms <= 2 * profile.keepalive_ms:
        raise ValueError(f"{text!r}: the dead time must be more than twice the interval")
    return profile


FAST = Profile(100, 300)   # keepalived advert_int 0.1
HB_FAST = Profile(200, 1000)  # Heartbeat keepalive 200ms, deadtime 1
SLOW = Profile(1000, 3000)  # keepalived advert_int 1; Heartbeat keepalive 1, deadtime 3


@dataclass(frozen=True, slots=True, order=True)
class Row:
    """One row of the table: a fault at a profile; each peer listed runs it."""

    fault: Fault
    profile: Profile
    peers: tuple[str, ...]


#: The rows of PRODUCT.md's peer table, each with vigil beside the peers measured there.
DEFAULT_ROWS: tuple[Row, ...] = (
    Row(Fault.CRASH, FAST, ("vigil", "keepalived")),
    Row(Fault.CRASH, HB_FAST, ("vigil", "heartbeat")),
    Row(Fault.CRASH, SLOW, ("vigil", "keepalived", "heartbeat")),
    Row(Fault.STOP, FAST, ("vigil", "keepalived")),
    Row(Fault.STOP, HB_FAST, ("vigil", "heartbeat")),
    Row(Fault.STOP, SLOW, ("vigil", "keepalived")),
    Row(Fault.SWITCHOVER, HB_FAST, ("vigil", "heartbeat")),
    Row(Fault.PARTITION, FAST, ("vigil", "keepalived")),
    Row(Fault.PARTITION, HB_FAST, ("vigil", "heartbeat")),
)


def select_rows(peers: tuple[str, ...], faults: tuple[Fault, ...],
                profiles: tuple[Profile, ...] | None,
                all_peers: tuple[str, ...]) -> tuple[Row, ...]:
    """The rows to run: the default table filtered by PEERS and FAULTS, or, with
    PROFILES given, every fault of FAULTS at every profile for every peer of PEERS
    (each peer's runner says later which of them it cannot do)."""
    if profiles is None:
        rows = []
        for row in DEFAULT_ROWS:
            chosen = tuple(p for p in row.peers if p in peers)
            if row.fault in faults and chosen:
                rows.append(Row(row.fault, row.profile, chosen))
        return tuple(rows)
    ordered = tuple(p for p in all_peers if p in peers)
    return tuple(Row(fault, profile, ordered) for fault in faults for profile in profiles)
