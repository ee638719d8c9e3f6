"""ha.cf's four timers (and deadping): Heartbeat's units, defaults and sanity checks.

From ``init_config()`` in Heartbeat 3.0.6's ``heartbeat/config.c``:

- defaults: keepalive 1000 ms, deadtime 30000 ms; warntime unset is
  deadtime / 2; initdead unset is deadtime when deadtime > 10 s, else 12 s when
  deadtime < 6 s, else twice deadtime; deadping unset is deadtime.
- errors: deadtime not more than twice keepalive ("Dead time is too small
  compared to keeplive"), initdead below deadtime, an explicit deadping not more
  than twice keepalive; keepalive and warntime must be above zero.
- warning: initdead below 10 s ("Initial dead time accounts for slow network
  startup time").

Heartbeat did not compare warntime with deadtime or keepalive; ha.cf(5) and
its FAQ did ("use warntime to tune deadtime"), so we warn when a warntime can
never be useful.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vigil.config.diagnostics import Diagnostics
from vigil.config.legacy_values import parse_time_ms
from vigil.config.model import Timing

__all__ = ["DEFAULT_DEADTIME_MS", "DEFAULT_KEEPALIVE_MS", "TimeSetting", "read_time", "timing"]

DEFAULT_KEEPALIVE_MS = 1000
DEFAULT_DEADTIME_MS = 30_000
_INITDEAD_ADVISED_MS = 10_000
_UNITS_HINT = "seconds (2, 0.5) or milliseconds (500ms); Heartbeat knew no other unit"


@dataclass(frozen=True, slots=True)
class TimeSetting:
    ms: int
    line: int


def read_time(path: Path, number: int, name: str, value: str,
              diags: Diagnostics) -> TimeSetting | None:
    """One time value as Heartbeat's cl_get_msec() read it."""
    ms = parse_time_ms(value)
    if ms is None:
        hint = _UNITS_HINT
        if value[:-1] and parse_time_ms(value[:-1]) is not None and value[-1] in "sS":
            hint = f"times are seconds without a unit: write `{name} {value[:-1]}`"
        diags.error(path, number, f"{name} {value!r} is not a time", hint)
        return None
    if ms <= 0 and name in ("keepalive", "warntime"):
        diags.error(path, number, f"{name} {value!r} is {ms} ms; it must be above zero",
                    f"e.g. `{name} 2` (seconds) or `{name} 500ms`")
        return None
    return TimeSetting(ms, number)


def _initdead_default(deadtime_ms: int) -> int:
    if deadtime_ms > 10_000:
        return deadtime_ms
    if deadtime_ms < 6000:
        return 12_000
    return 2 * deadtime_ms


def timing(path: Path, times: dict[str, TimeSetting], diags: Diagnostics) -> Timing:
    """Heartbeat's timing with its defaults filled in; errors and warnings go to DIAGS."""
    keepalive = times.get("keepalive")
    deadtime = times.get("deadtime")
    warntime = times.get("warntime")
    initdead = times.get("initdead")
    deadping = times.get("deadping")
    ka = keepalive.ms if keepalive else DEFAULT_KEEPALIVE_MS
    dt = deadtime.ms if deadtime else DEFAULT_DEADTIME_MS
    wt = warntime.ms if warntime else dt // 2
    idd = initdead.ms if initdead else _initdead_default(dt)

    if dt <= 2 * ka:
        where = deadtime or keepalive
        diags.error(path, where.line if where else None,
                    f"deadtime ({dt} ms) is not more than twice keepalive ({ka} ms): two "
                    "lost heartbeats and a live peer is declared dead (Heartbeat refused this)",
                    "make deadtime several keepalives long, e.g. keepalive 1, deadtime 10")
    if initdead and idd < dt:
        diags.error(path, initdead.line,
                    f"initdead ({idd} ms) is shorter than deadtime ({dt} ms) "
                    "(Heartbeat refused this)",
                    "initdead should be at least twice deadtime (ha.cf(5))")
    elif initdead and idd < _INITDEAD_ADVISED_MS:
        diags.warning(path, initdead.line,
                      f"initdead ({idd} ms) is under 10 s: a slow network start can make "
                      "peers look dead at boot (Heartbeat warned too)",
                      "use at least 10 s, and at least twice deadtime")
    if deadping and deadping.ms <= 2 * ka:
        diags.error(path, deadping.line,
                    f"deadping ({deadping.ms} ms) is not more than twice keepalive ({ka} ms) "
                    "(Heartbeat refused this)", "make deadping at least as long as deadtime")
    if warntime and wt >= dt:
        diags.warning(path, warntime.line,
                      f"warntime ({wt} ms) is not shorter than deadtime ({dt} ms): a peer is "
                      "declared dead before it is ever reported late",
                      "set warntime between keepalive and deadtime, e.g. half of deadtime")
    elif warntime and wt <= ka:
        diags.warning(path, warntime.line,
                      f"warntime ({wt} ms) is not longer than keepalive ({ka} ms): every "
                      "heartbeat would be reported late",
                      "set warntime between keepalive and deadtime, e.g. half of deadtime")
    return Timing(keepalive_ms=ka, warntime_ms=wt, deadtime_ms=dt, initdead_ms=idd)
