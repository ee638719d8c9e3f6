"""Every ha.cf directive Heartbeat 3.0.6 accepted, and those vigil accepts but does not act on.

Heartbeat's list is ``Directives[]`` and ``WLdirectives[]`` in
``heartbeat/config.c`` plus the communication plugins in
``lib/plugins/HBcomm`` (a directive is legal if a plugin of that name exists:
bcast, mcast, mcast6, ucast, ucast6, serial, ping, ping6, ping_group, and, in
builds that have them, hbaping, tipc, rds). ``udp`` is the old name of
``bcast``. ``normalpoll`` only existed in builds with ALLOWPOLLCHOICE, which
3.0.6 did not define, so it is unknown here as it was there.

Two ways to read a line, as config.c did:

- ``OPTION`` directives (``Directives[]`` and the plugins with a ``new``
  function): the words after the name, split at white space *and commas*, are
  applied one at a time (``node a,b c`` declares three nodes).
- ``LINE`` directives (``WLdirectives[]`` and the plugins with a ``parse``
  function): the rest of the line, split at white space.

``UNSUPPORTED`` holds the directives vigil reads and validates as Heartbeat did
but does not act on (yet); ``vigil config check`` names each one in a warning.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from vigil.config.legacy_values import is_number, parse_bool, parse_time_ms, problem_host

__all__ = [
    "ACTED_ON",
    "ALL_DIRECTIVES",
    "UNSUPPORTED",
    "Style",
    "Unsupported",
    "check_bool",
    "check_int",
    "check_one_of",
]


class Style(enum.Enum):
    OPTION = "option"  # values split at white space and commas, applied one by one
    LINE = "line"  # the rest of the line, split at white space


#: What is wrong with one value (or with a LINE directive's words), or None.
ValueCheck = Callable[[str], str | None]
WordsCheck = Callable[[list[str]], str | None]


def check_bool(value: str) -> str | None:
    if parse_bool(value) is None:
        return "is not a boolean (on/off, yes/no, true/false, 1/0)"
    return None


def check_int(low: int, high: int | None = None) -> ValueCheck:
    def check(value: str) -> str | None:
        if not is_number(value) or int(value) < low or (high is not None and int(value) > high):
            top = f" to {high}" if high is not None else " or more"
            return f"is not a whole number from {low}{top}"
        return None
    return check


def check_one_of(*choices: str) -> ValueCheck:
    def check(value: str) -> str | None:
        return None if value in choices else f"is not one of {', '.join(choices)}"
    return check


def _check_positive_time(value: str) -> str | None:
    ms = parse_time_ms(value)
    return None if ms is not None and ms > 0 else "is not a time above zero (seconds, or 500ms)"


def _check_abs_path(value: str) -> str | None:
    return None if value.startswith("/") else "is not an absolute path"


def _check_env(value: str) -> str | None:
    return None if "=" in value and not value.startswith("=") else "is not NAME=value"


def _check_host(value: str) -> str | None:
    return problem_host(value)


def _check_ipv6_host(value: str) -> str | None:
    return None if ":" in value or problem_host(value) is None else "is not an IPv6 address or host"


def _check_baud(value: str) -> str | None:
    # StringToBaud() in config.c: the termios rates it knew.
    rates = ("9600", "19200", "38400", "57600", "115200", "230400", "460800")
    return None if value in rates else f"is not a baud rate Heartbeat knew ({', '.join(rates)})"


def _words_at_least(n: int, usage: str) -> WordsCheck:
    def check(words: list[str]) -> str | None:
        return None if len(words) >= n else f"needs {usage}"
    return check


def _check_child(words: list[str]) -> str | None:
    if len(words) < 2:
        return "needs a user and the full path of a program"
    return None if words[1].startswith("/") else f"program {words[1]} is not a full path name"


@dataclass(frozen=True, slots=True)
class Unsupported:
    """A directive vigil validates but does not act on, and why."""

    style: Style
    why: str
    value: ValueCheck | None = None  # OPTION: each value
    words: WordsCheck | None = None  # LINE: all words


_SERIAL = "vigil sends heartbeats over UDP only (bcast, ucast, mcast)"
_IPV6 = "IPv6 heartbeat media are not supported yet; use ucast, bcast or mcast"
_PACEMAKER = "a setting of Pacemaker on Heartbeat; vigil manages resources itself"
_LOGD = ("vigil does not use Heartbeat's logging daemon; "
         "it logs as logfile, debugfile and logfacility say")

UNSUPPORTED: dict[str, Unsupported] = {
    "serial": Unsupported(Style.OPTION, _SERIAL, value=_check_abs_path),
    "baud": Unsupported(Style.OPTION, _SERIAL, value=_check_baud),
    "ucast6": Unsupported(Style.LINE, _IPV6, words=_words_at_least(2, "an interface and a peer")),
    "mcast6": Unsupported(Style.LINE, _IPV6,
                          words=_words_at_least(5, "interface, group, port, hops and loop")),
    "ping6": Unsupported(Style.OPTION, "IPv6 ping nodes are not supported yet",
                         value=_check_ipv6_host),
    "hbaping": Unsupported(Style.OPTION, "Fibre Channel HBA ping nodes are not supported"),
    "tipc": Unsupported(Style.LINE, "TIPC heartbeat media are not supported",
                        words=_words_at_least(1, "its parameters")),
    "rds": Unsupported(Style.LINE, "RDS heartbeat media are not supported",
                       words=_words_at_least(1, "its parameters")),
    "hopfudge": Unsupported(Style.OPTION, "vigil does not relay messages over several hops",
                            value=check_int(0, 255)),
    "rtprio": Unsupported(Style.OPTION, "vigil does not change its scheduling priority",
                          value=check_int(1, 99)),
    "realtime": Unsupported(Style.OPTION, "vigil does not change its scheduling priority",
                            value=check_bool),
    "hbgenmethod": Unsupported(Style.OPTION, "vigil keeps its incarnation number in its state "
                               "directory", value=check_one_of("file", "time")),
    "uuidfrom": Unsupported(Style.OPTION, "vigil names nodes by their node lines, not UUIDs",
                            value=check_one_of("file", "nodename")),
    "msgfmt": Unsupported(Style.OPTION, "vigil has its own wire format",
                          value=check_one_of("classic", "netstring")),
    "traditional_compression": Unsupported(Style.OPTION, "vigil has its own wire format",
                                           value=check_bool),
    "max_rexmit_delay": Unsupported(Style.OPTION, "vigil times its retransmissions itself",
                                    value=check_int(1)),
    "use_logd": Unsupported(Style.OPTION, _LOGD, value=check_bool),
    "conn_logd_time": Unsupported(Style.OPTION, _LOGD, value=_check_positive_time),
    "syslogmsgfmt": Unsupported(Style.OPTION, "vigil writes its own log line format",
                                value=check_bool),
    "log_badpack": Unsupported(Style.OPTION, "vigil counts bad packets in its own way",
                               value=check_bool),
    "use_apphbd": Unsupported(Style.OPTION, "vigil does not register with apphbd",
                              value=check_bool),
    "coredumps": Unsupported(Style.OPTION, "core dumps are the service manager's business",
                             value=check_bool),
    "coreroot": Unsupported(Style.OPTION, "core dumps are the service manager's business",
                            value=_check_abs_path),
    "memreserve": Unsupported(Style.OPTION, "vigil does not preallocate memory",
                              value=check_int(1)),
    "env": Unsupported(Style.OPTION, "vigil does not pass HA_ variables to respawned programs",
                       value=_check_env),
    "failfast": Unsupported(Style.LINE, "vigil does not reboot when a helper program dies",
                            words=_check_child),
    "quorum_server": Unsupported(Style.OPTION, "Heartbeat's quorumd is not supported; "
                                 "use vigil's arbitrator", value=_check_host),
    "crm_daemon_dir": Unsupported(Style.OPTION, _PACEMAKER, value=_check_abs_path),
    "crmd_spawns_pengine": Unsupported(Style.OPTION, _PACEMAKER, value=check_bool),
    "record_config_changes": Unsupported(Style.OPTION, _PACEMAKER, value=check_bool),
    "record_pengine_inputs": Unsupported(Style.OPTION, _PACEMAKER, value=check_bool),
    "enable_config_writes": Unsupported(Style.OPTION, _PACEMAKER, value=check_bool),
}

#: Directives that end up in the model, and how their lines are split.
ACTED_ON: dict[str, Style] = {
    "cluster": Style.OPTION,
    "node": Style.OPTION,
    "keepalive": Style.OPTION,
    "deadtime": Style.OPTION,
    "warntime": Style.OPTION,
    "initdead": Style.OPTION,
    "deadping": Style.OPTION,
    "udpport": Style.OPTION,
    "bcast": Style.OPTION,
    "udp": Style.OPTION,  # config.c's DIRTYALIASKLUDGE: the old name of bcast
    "ucast": Style.LINE,
    "mcast": Style.LINE,
    "ping": Style.OPTION,
    "ping_group": Style.LINE,
    "auto_failback": Style.OPTION,
    "nice_failback": Style.OPTION,
    "respawn": Style.LINE,
    "apiauth": Style.LINE,
    "crm": Style.OPTION,
    "pacemaker": Style.OPTION,
    "stonith": Style.LINE,
    "stonith_host": Style.LINE,
    "watchdog": Style.OPTION,
    "logfile": Style.OPTION,
    "debugfile": Style.OPTION,
    "logfacility": Style.OPTION,
    "debug": Style.OPTION,
    "compression": Style.OPTION,
    "compression_threshold": Style.OPTION,
    "autojoin": Style.OPTION,
}

ALL_DIRECTIVES: frozenset[str] = frozenset(ACTED_ON) | frozenset(UNSUPPORTED)
