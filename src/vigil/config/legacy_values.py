"""Values as Heartbeat wrote them: times, booleans, names, addresses, ports.

Each function takes one word and returns the value or None (``problem_*``:
a description of what is wrong, or None when the word is fine). They know no
file or line: the readers of ``ha.cf`` and ``haresources`` say where.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Iterable
from decimal import ROUND_FLOOR, Decimal, InvalidOperation

__all__ = [
    "is_number",
    "parse_bool",
    "parse_ipv4",
    "parse_time_ms",
    "problem_host",
    "problem_interface",
    "problem_node_name",
    "suggest",
]

# cl_get_msec() (cluster-glue lib/clplumbing/cl_misc.c): digits and dots, then
# nothing (seconds), "ms"/"msec" or "us"/"usec"; rounded to the nearest ms.
# "2s" is not a time there, and it is not one here.
_TIME = re.compile(r"([0-9]+\.?[0-9]*|\.[0-9]+)(ms|msec|us|usec)?", re.IGNORECASE)


def parse_time_ms(word: str) -> int | None:
    """Heartbeat's time: ``2`` = 2 s, ``1.5`` = 1500 ms, ``500ms``, ``250000us``."""
    m = _TIME.fullmatch(word)
    if m is None:
        return None
    try:
        number = Decimal(m.group(1))
    except InvalidOperation:
        return None
    unit = (m.group(2) or "").lower()
    if unit in ("ms", "msec"):
        ms = number
    elif unit in ("us", "usec"):
        ms = number / 1000
    else:
        ms = number * 1000
    # cl_get_msec adds 0.5 and truncates: 499us is 0 ms, 501us is 1 ms.
    return int((ms + Decimal("0.5")).to_integral_value(rounding=ROUND_FLOOR))


def is_number(word: str) -> bool:
    """ASCII digits only: ``"²".isdigit()`` is true, and int() of it fails."""
    return word.isascii() and word.isdigit()


_TRUE = frozenset({"true", "on", "yes", "y", "1"})
_FALSE = frozenset({"false", "off", "no", "n", "0"})


def parse_bool(word: str) -> bool | None:
    """cl_str_to_boolean(): true/on/yes/y/1 and false/off/no/n/0, any case."""
    w = word.lower()
    if w in _TRUE:
        return True
    if w in _FALSE:
        return False
    return None


# Heartbeat kept node names in HOSTLENG (100) bytes and compared them with
# `uname -n`, lowercased. Host names are letters, digits, '-' and '.'; '_' is
# common in private networks (the field notes' dc_13) and harmless.
_NODE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
MAX_NODE_NAME = 99


def problem_node_name(name: str) -> str | None:
    if len(name) > MAX_NODE_NAME:
        return f"is {len(name)} characters long (at most {MAX_NODE_NAME})"
    if not _NODE_NAME.fullmatch(name):
        return "may hold only letters, digits, '.', '-' and '_', starting with a letter or digit"
    return None


# Linux: IFNAMSIZ is 16 with the NUL, and a name holds no '/', ':' is an alias.
_INTERFACE = re.compile(r"[A-Za-z0-9_.:@-]{1,15}")


def problem_interface(name: str) -> str | None:
    if not _INTERFACE.fullmatch(name) or name in (".", ".."):
        return "is not a network interface name (at most 15 letters, digits, '.', '-', '_')"
    return None


def parse_ipv4(word: str) -> ipaddress.IPv4Address | None:
    """A dotted-quad IPv4 address (no leading zeros, which inet_aton reads as octal)."""
    try:
        return ipaddress.IPv4Address(word)
    except ValueError:
        return None


_LABEL = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")


def problem_host(word: str) -> str | None:
    """An IPv4 address or a host name (resolved when the daemon starts, as gethostbyname)."""
    labels = word.split(".")
    if all(is_number(label) for label in labels):
        return None if parse_ipv4(word) else "is not a valid IPv4 address"
    if ":" in word:
        return "is an IPv6 address; these links take IPv4 addresses or host names"
    if len(word) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        return "is neither an IPv4 address nor a host name"
    return None


def suggest(word: str, choices: Iterable[str]) -> str | None:
    """The closest of CHOICES to WORD, when one is close enough to be a typo."""
    found = difflib.get_close_matches(word.lower(), list(choices), n=1, cutoff=0.75)
    return found[0] if found else None
