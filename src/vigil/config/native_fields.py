"""Typed access to the tables of a native ``vigil.toml``, with file and line in every error.

Rules of this file:
- A getter never raises: a bad value is reported through ``Diagnostics`` and
  the getter returns its default, so one reading finds every problem.
- Each table names the keys it knows; ``done()`` reports the others, with the
  nearest known key as a suggestion.
- Value syntaxes shared by several tables live here: durations, scores,
  addresses. Their documentation is docs/configuration.md.
"""

from __future__ import annotations

import datetime
import difflib
import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from vigil.config.diagnostics import Diagnostics
from vigil.config.model import INFINITY, Endpoint
from vigil.config.toml_lines import KeyPath, Lines

__all__ = [
    "Reader",
    "Table",
    "Unique",
    "describe",
    "did_you_mean",
    "format_duration",
    "name_problem",
    "parse_duration",
    "parse_endpoint",
    "parse_host",
    "read_name",
]

_DURATION = re.compile(r"(?P<num>\d+(?:\.\d+)?)\s*(?P<unit>ms|s|m|h)")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000}
# Host name labels as the legacy reader takes them: letters, digits, - and _.
_HOSTNAME = re.compile(r"(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
                       r"(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?")
DURATION_HINT = 'write a duration as a string with its unit ("200ms", "2s", "1.5s", "5m") ' \
                "or as an integer of milliseconds (200)"
SCORE_HINT = 'a score is an integer between -1000000 and 1000000, or "INFINITY" / "-INFINITY"'


def parse_duration(value: object) -> int:
    """Milliseconds from ``"200ms"``/``"2s"``/``"1.5m"``/``"1h"`` or an integer of ms.

    Raises ValueError with the reason; fractions must come to whole milliseconds.
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a duration, got {describe(value)}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"negative duration {value}")
        return value
    if isinstance(value, float):
        raise ValueError(f"a bare number {value} has no unit")
    if not isinstance(value, str):
        raise ValueError(f"expected a duration, got {describe(value)}")
    m = _DURATION.fullmatch(value.strip())
    if m is None:
        if re.fullmatch(r"\s*-.*", value):
            raise ValueError(f"negative duration {value!r}")
        if re.fullmatch(r"\s*\d+(\.\d+)?\s*", value):
            raise ValueError(f"duration {value!r} has no unit")
        raise ValueError(f"bad duration {value!r}")
    num: str = m.group("num")
    unit: str = m.group("unit")
    whole, _, frac = num.partition(".")
    scale = _UNIT_MS[unit]
    # Exact decimal arithmetic: "0.1s" is 100 ms, not 100.00000000000001.
    numerator = int(whole + frac) * scale
    denominator: int = 10 ** len(frac)
    if numerator % denominator:
        raise ValueError(f"duration {value!r} is not a whole number of milliseconds")
    return numerator // denominator


def format_duration(ms: int) -> str:
    """The shortest exact spelling of MS that ``parse_duration`` reads back."""
    if ms % 1000 == 0:
        return f"{ms // 1000}s"
    return f"{ms}ms"


def parse_host(text: str) -> str:
    """An IPv4/IPv6 address or a host name; raises ValueError for anything else."""
    if ":" in text or re.fullmatch(r"[\d.]+", text):
        try:
            ipaddress.ip_address(text)
        except ValueError:
            raise ValueError(f"bad IP address {text!r}") from None
        return text
    if not _HOSTNAME.fullmatch(text):
        raise ValueError(f"bad address {text!r}: neither an IP address nor a host name")
    return text


def parse_endpoint(text: str) -> Endpoint:
    """``HOST``, ``HOST:PORT``, ``[V6]:PORT`` or a bare IPv6 address."""
    host, port_text = text, None
    if text.startswith("["):
        close = text.find("]")
        if close < 0 or (close + 1 < len(text) and text[close + 1] != ":"):
            raise ValueError(f"bad address {text!r}: write [IPV6]:PORT")
        host = text[1:close]
        port_text = text[close + 2:] if close + 1 < len(text) else None
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    parse_host(host)
    if port_text is None:
        return Endpoint(host)
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError(f"bad port {port_text!r} in {text!r}: a port is 1 to 65535")
    return Endpoint(host, int(port_text))


def describe(value: object) -> str:
    """A TOML value's type in words, for 'expected X, got Y'."""
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int):
        return f"an integer ({value})"
    if isinstance(value, float):
        return f"a float ({value})"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, datetime.date | datetime.time):
        return f"a date/time ({value})"
    return type(value).__name__


def did_you_mean(word: str, choices: Sequence[str]) -> str | None:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


def _dotted(path: KeyPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


@dataclass
class Reader:
    """One file being read: where to report, and the lines of its keys."""

    file: Path
    diags: Diagnostics
    lines: Lines

    def error(self, path: KeyPath, message: str, hint: str | None = None) -> None:
        self.diags.error(self.file, self.lines.of(path), message, hint)

    def warning(self, path: KeyPath, message: str, hint: str | None = None) -> None:
        self.diags.warning(self.file, self.lines.of(path), message, hint)

    def table(self, data: Mapping[str, object], path: KeyPath, name: str,
              keys: Sequence[str]) -> Table:
        return Table(self, data, path, name, tuple(keys))


class Table:
    """One TOML table: typed getters by key, then ``done()`` for unknown keys.

    ``name`` is how messages call the table: ``[timing]``, ``[[resource]] "vip"``.
    """

    def __init__(self, reader: Reader, data: Mapping[str, object], path: KeyPath,
                 name: str, keys: tuple[str, ...]) -> None:
        self.reader = reader
        self.data = data
        self.path = path
        self.name = name
        self.keys = keys

    # -- reporting -------------------------------------------------------------

    def at(self, key: str | int, *more: str | int) -> KeyPath:
        return (*self.path, key, *more)

    def error(self, key: str | None, message: str, hint: str | None = None) -> None:
        self.reader.error(self.path if key is None else self.at(key), message, hint)

    def warning(self, key: str | None, message: str, hint: str | None = None) -> None:
        self.reader.warning(self.path if key is None else self.at(key), message, hint)

    def line(self, key: str | None = None) -> int | None:
        return self.reader.lines.of(self.path if key is None else self.at(key))

    def has(self, key: str) -> bool:
        return key in self.data

    def _wrong(self, key: str, expected: str, value: object, hint: str | None = None) -> None:
        where = f"{self.name}: " if self.name else ""
        self.error(key, f"{where}{key} must be {expected}, not {describe(value)}", hint)

    def done(self) -> None:
        """Report every key this table does not know, suggesting the nearest known one."""
        for key in self.data:
            if key in self.keys:
                continue
            guess = did_you_mean(key, self.keys)
            if not self.path:
                message = f"unknown table {key!r}"
                hint = (f"did you mean [{guess}]?" if guess
                        else f"the tables are: {', '.join(self.keys)}")
            else:
                message = f"{self.name}: unknown key {key!r}"
                hint = (f"did you mean {guess}?" if guess
                        else f"known keys: {', '.join(self.keys)}")
            self.error(key, message, hint)

    # -- scalars ---------------------------------------------------------------

    def string(self, key: str, default: str | None = None, *, required: bool = False,
            choices: Sequence[str] | None = None, hint: str | None = None) -> str | None:
        value = self.data.get(key)
        if value is None:
            if required:
                self.error(None, f"{self.name}: {key} is missing", hint)
            return default
        if not isinstance(value, str):
            self._wrong(key, "a string", value, hint)
            return default
        if choices is not None and value not in choices:
            guess = did_you_mean(value, choices)
            self.error(key, f"{self.name}: {key} = {value!r} is not one of "
                       f"{', '.join(repr(c) for c in choices)}",
                       f"did you mean {guess!r}?" if guess else hint)
            return default
        if required and not value.strip():
            self.error(key, f"{self.name}: {key} is empty", hint)
            return default
        return value

    def integer(self, key: str, default: int | None = None, *, minimum: int | None = None,
            maximum: int | None = None, required: bool = False) -> int | None:
        value = self.data.get(key)
        if value is None:
            if required:
                self.error(None, f"{self.name}: {key} is missing")
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self._wrong(key, "an integer", value)
            return default
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            bounds = (f"from {minimum} to {maximum}" if minimum is not None and maximum is not None
                      else f"at least {minimum}" if minimum is not None else f"at most {maximum}")
            self.error(key, f"{self.name}: {key} = {value} is out of range", f"give {bounds}")
            return default
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self._wrong(key, "true or false", value)
            return default
        return value

    def duration(self, key: str, default: int, *, minimum: int = 0) -> int:
        """Milliseconds (see ``parse_duration``); DEFAULT when absent or wrong."""
        ms = self.optional_duration(key, minimum=minimum)
        return default if ms is None else ms

    def optional_duration(self, key: str, *, minimum: int = 0) -> int | None:
        """Milliseconds, or None when absent (or wrong, which is reported)."""
        value = self.data.get(key)
        if value is None:
            return None
        try:
            ms = parse_duration(value)
        except ValueError as e:
            self.error(key, f"{self.name}: {key}: {e}", DURATION_HINT)
            return None
        if ms < minimum:
            self.error(key, f"{self.name}: {key} must be at least {format_duration(minimum)}",
                       DURATION_HINT)
            return None
        return ms

    def score(self, key: str, default: int | None = None) -> int | None:
        value = self.data.get(key)
        if value is None:
            return default
        return self.score_value(self.at(key), key, value, default)

    def score_value(self, path: KeyPath, label: str, value: object,
                    default: int | None) -> int | None:
        """A score: integer in [-INFINITY, INFINITY] or the words INFINITY/-INFINITY."""
        if isinstance(value, str):
            word = value.strip().upper()
            if word in ("INFINITY", "+INFINITY"):
                return INFINITY
            if word == "-INFINITY":
                return -INFINITY
        elif isinstance(value, int) and not isinstance(value, bool):
            if -INFINITY <= value <= INFINITY:
                return value
            self.reader.error(path, f"{self.name}: {label} = {value} is beyond INFINITY "
                              f"({INFINITY})", SCORE_HINT)
            return default
        self.reader.error(path, f"{self.name}: {label} must be a score, not {describe(value)}",
                          SCORE_HINT)
        return default

    # -- collections -----------------------------------------------------------

    def str_list(self, key: str, *, allow_string: bool = False) -> tuple[str, ...] | None:
        """An array of strings (None when absent); ALLOW_STRING also takes one string."""
        value = self.data.get(key)
        if value is None:
            return None
        if allow_string and isinstance(value, str):
            return (value,)
        if not isinstance(value, list):
            self._wrong(key, "an array of strings", value)
            return None
        out: list[str] = []
        for i, item in enumerate(value):
            if not isinstance(item, str):
                self.reader.error(self.at(key, i), f"{self.name}: {key}[{i}] must be a "
                                  f"string, not {describe(item)}")
                continue
            out.append(item)
        return tuple(out)

    def str_map(self, key: str) -> dict[str, str]:
        """A table of string values; integers and booleans are taken as their text."""
        value = self.data.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self._wrong(key, "a table (key = value pairs)", value)
            return {}
        out: dict[str, str] = {}
        for k, v in value.items():
            if isinstance(v, bool):
                out[k] = "true" if v else "false"
            elif isinstance(v, int | str):
                out[k] = str(v)
            else:
                self.reader.error(self.at(key, k), f"{self.name}: {key}.{k} must be a string, "
                                  f"not {describe(v)}")
        return out

    def mapping(self, key: str) -> dict[str, object]:
        """A sub-table, unchecked values (empty when absent or wrong)."""
        value = self.data.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self._wrong(key, "a table", value)
            return {}
        return value

    def table(self, key: str, name: str, keys: Sequence[str]) -> Table | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            self._wrong(key, "a table", value)
            return None
        return Table(self.reader, value, self.at(key), name, tuple(keys))

    def tables(self, key: str, name: str, keys: Sequence[str]) -> list[Table]:
        """An array of tables (``[[name]]`` or ``key = [{...}, ...]``)."""
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self._wrong(key, f"an array of tables ([[{_dotted(self.at(key))}]])", value)
            return []
        out: list[Table] = []
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                self.reader.error(self.at(key, i), f"{name}: each entry must be a table, "
                                  f"not {describe(item)}")
                continue
            out.append(Table(self.reader, item, self.at(key, i), name, tuple(keys)))
        return out


def name_problem(text: str) -> str | None:
    """Why TEXT cannot name a node, link, resource or group (None when it can)."""
    if not text:
        return "is empty"
    if any(c.isspace() for c in text):
        return "contains white space"
    if not text.isprintable():
        return "contains control characters"
    if len(text) > 255:
        return "is longer than 255 characters"
    return None


def read_name(t: Table, key: str, what: str, *, required: bool = True) -> str | None:
    """A name (``name``/``id``) read from T: present, a string, without spaces."""
    value = t.string(key, required=required, hint=f'every {t.name} needs {key} = "..."')
    if value is None:
        return None
    problem = name_problem(value)
    if problem is not None:
        t.error(key, f"{t.name}: {what} {value!r} {problem}",
                "use letters, digits and - _ . (no spaces)")
        return None
    return value


class Unique:
    """The names given so far to one kind of thing; a repeat is an error naming the first."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.lines: dict[str | int, int | None] = {}

    def __contains__(self, name: object) -> bool:
        return name in self.lines

    def add(self, t: Table, key: str, name: str | int) -> bool:
        """Record NAME (written at T[KEY]); False, with an error, when it was given before."""
        if name in self.lines:
            t.error(key, f"{t.name}: duplicate {self.what} {name!r}",
                    f"it is first given at line {self.lines[name]}")
            return False
        self.lines[name] = t.line(key)
        return True


def read_listen_endpoint(t: Table, section: str, key: str, sub: str | None, text: object,
                         *, hint: str) -> Endpoint | None:
    """A listening address (``IP:PORT``, the port required) of SECTION, or None, reported."""
    at = t.at(key) if sub is None else t.at(key, sub)
    if not isinstance(text, str):
        t.reader.error(at, f"{section}: {key} must be a string", hint)
        return None
    try:
        ep = parse_endpoint(text)
    except ValueError as e:
        t.reader.error(at, f"{section}: {key}: {e}", hint)
        return None
    if ep.port is None:
        t.reader.error(at, f"{section}: {key}: {text!r} has no port", hint)
        return None
    return ep
