"""What ha.cf says (``HaCf``), and its single-valued settings as a table.

A setting takes one value (Heartbeat applied each value in turn, so the last
counts), checks it as Heartbeat's ``set_*`` function in ``heartbeat/config.c``
did, and puts it in one field of ``HaCf``. Defaults are Heartbeat's:
auto_failback ``legacy`` and compression ``zlib`` above 2 KB (``Directives[]``),
cluster name ``linux-ha``, no syslog facility.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from vigil.config.legacy_values import is_number, parse_bool
from vigil.config.model import (
    ApiAuth,
    AutoFailback,
    Compression,
    Connectivity,
    LegacyStonith,
    Link,
    Logging,
    Node,
    Respawn,
    Timing,
)

__all__ = ["DEFAULT_CLUSTER", "SETTINGS", "SYSLOG_FACILITIES", "HaCf", "Setting"]

DEFAULT_CLUSTER = "linux-ha"  # Directives[]: KEY_CLUSTER's default

# cl_syslogfac_str2int() (cluster-glue): glibc's facility names; "none" is no syslog.
SYSLOG_FACILITIES = frozenset({
    "auth", "authpriv", "cron", "daemon", "ftp", "kern", "lpr", "mail", "news", "security",
    "syslog", "user", "uucp", *(f"local{i}" for i in range(8)),
})


@dataclass(slots=True)
class HaCf:
    """What ``ha.cf`` says, with Heartbeat's defaults filled in."""

    path: Path
    nodes: list[Node] = field(default_factory=list)
    links: tuple[Link, ...] = ()
    timing: Timing | None = None
    auto_failback: AutoFailback = AutoFailback.LEGACY
    connectivity: Connectivity = field(default_factory=Connectivity)
    respawn: list[Respawn] = field(default_factory=list)
    apiauth: list[ApiAuth] = field(default_factory=list)
    watchdog: Path | None = None
    stonith: list[LegacyStonith] = field(default_factory=list)
    compression: Compression = field(default_factory=lambda: Compression(method="zlib"))
    autojoin: str = "none"
    crm: str = "no"
    crm_line: int | None = None
    logging: Logging = field(default_factory=Logging)
    cluster_name: str = DEFAULT_CLUSTER
    unsupported: list[str] = field(default_factory=list)

    @property
    def manages_resources(self) -> bool:
        """False when ``crm`` is on: then Heartbeat ignored haresources."""
        return self.crm == "no"


@dataclass(frozen=True, slots=True)
class Setting:
    """A single-valued directive: the check, the error and fix, and where it goes."""

    ok: Callable[[str], bool]
    problem: str
    hint: str
    apply: Callable[[HaCf, str], None]
    choices: frozenset[str] = frozenset()  # for a did-you-mean hint


def _any(value: str) -> bool:
    return True


def _set_failback(out: HaCf, value: str) -> None:
    flag = parse_bool(value)
    out.auto_failback = (AutoFailback.LEGACY if flag is None else
                         AutoFailback.ON if flag else AutoFailback.OFF)


def _set_logfile(out: HaCf, value: str) -> None:
    out.logging = replace(out.logging, logfile=Path(value))


def _set_debugfile(out: HaCf, value: str) -> None:
    out.logging = replace(out.logging, debugfile=Path(value))


def _set_facility(out: HaCf, value: str) -> None:
    out.logging = replace(out.logging, logfacility=None if value == "none" else value)


def _set_debug(out: HaCf, value: str) -> None:
    out.logging = replace(out.logging, debug=int(value))


def _set_watchdog(out: HaCf, value: str) -> None:
    out.watchdog = Path(value)


def _set_compression(out: HaCf, value: str) -> None:
    out.compression = replace(out.compression, method=value)


def _set_threshold(out: HaCf, value: str) -> None:
    out.compression = replace(out.compression, threshold_bytes=int(value) * 1024)  # KB


def _set_autojoin(out: HaCf, value: str) -> None:
    out.autojoin = value.lower()


def _set_cluster(out: HaCf, value: str) -> None:
    out.cluster_name = value


SETTINGS: dict[str, Setting] = {
    "auto_failback": Setting(
        lambda v: parse_bool(v) is not None or v.lower() == "legacy",
        "is not on, off or legacy",
        "`auto_failback on`: resources return to their preferred node; `off`: they stay",
        _set_failback),
    "watchdog": Setting(
        lambda v: v.startswith("/"), "is not a device path",
        "e.g. `watchdog /dev/watchdog` (softdog gives one)", _set_watchdog),
    "logfile": Setting(_any, "", "", _set_logfile),
    "debugfile": Setting(_any, "", "", _set_debugfile),
    "logfacility": Setting(
        lambda v: v == "none" or v in SYSLOG_FACILITIES, "is not a syslog facility",
        "e.g. daemon or local0; `none` for no syslog",
        _set_facility, SYSLOG_FACILITIES),
    "debug": Setting(
        lambda v: is_number(v) and int(v) < 256, "is not a level from 0 to 255",
        "e.g. `debug 1`", _set_debug),
    "compression": Setting(
        lambda v: v in ("zlib", "bz2"), "is not zlib or bz2",
        "`compression zlib` (Heartbeat's default) or `compression bz2`", _set_compression),
    "compression_threshold": Setting(
        lambda v: is_number(v) and int(v) > 0, "is not a size in KB above zero",
        "e.g. `compression_threshold 2` (Heartbeat's default, 2 KB)", _set_threshold),
    "autojoin": Setting(
        lambda v: v.lower() in ("none", "other", "any"), "is not none, other or any",
        "`autojoin none`", _set_autojoin),
    "cluster": Setting(_any, "", "", _set_cluster),
}
