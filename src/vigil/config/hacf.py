"""Reading ``ha.cf`` with Heartbeat 3.0.6's grammar, defaults and sanity checks.

Rules of this file (each from ``heartbeat/config.c`` unless said otherwise):

- ``#`` starts a comment anywhere on a line; blank lines are nothing. The first
  word is the directive, the rest its values (see ``hacf_directives.Style``).
- A directive Heartbeat did not know is an error (``Illegal directive``); one
  it knew but vigil does not act on is read, validated, recorded in
  ``unsupported`` and warned about by name.
- A directive given twice: the last value counts, as ``SetParameterValue()``
  overwrote; we warn. ``watchdog``, ``baud`` and ``crm``/``pacemaker`` twice are
  errors, as there. ``node`` twice for one name is an error (Heartbeat quietly
  made two nodes of it).
- Node names are lowercased (``add_node()`` did ``inplace_ascii_strdown``).
- Defaults: keepalive 1 s, deadtime 30 s, warntime deadtime/2, initdead from
  deadtime (see ``hacf_timing``), deadping = deadtime, udpport 694, auto_failback
  legacy, compression zlib above 2 KB, cluster name "linux-ha".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from pathlib import Path

from vigil.config.diagnostics import Diagnostics
from vigil.config.hacf_checks import check_logging, check_members, check_resource_mode
from vigil.config.hacf_clients import PingMover, read_apiauth, read_respawn, read_stonith
from vigil.config.hacf_directives import ACTED_ON, ALL_DIRECTIVES, UNSUPPORTED, Style
from vigil.config.hacf_media import (
    Medium,
    build_links,
    read_mcast,
    read_ping,
    read_ping_group,
    read_ucast,
)
from vigil.config.hacf_settings import SETTINGS, HaCf
from vigil.config.hacf_timing import TimeSetting, read_time, timing
from vigil.config.legacy_text import clean_lines, read_text, strip_hash_comment
from vigil.config.legacy_values import (
    is_number,
    parse_bool,
    problem_interface,
    problem_node_name,
    suggest,
)
from vigil.config.model import (
    AutoFailback,
    Connectivity,
    LinkKind,
    Node,
    NodeName,
    PingNode,
    SourceRef,
)

__all__ = ["HaCf", "read_hacf"]

DEFAULT_UDPPORT = 694  # UDPPORT in heartbeat.h, IANA's ha-cluster port
_CRM_WORDS = frozenset({"minimal", "manual", "respawn", "ccm-only", "valgrind"})
_DELIMS = re.compile(r"[,\s]+")  # DELIMS in heartbeat.h: ", \t\n\r\f"


def read_hacf(path: Path, diags: Diagnostics) -> HaCf | None:
    """Read PATH (an ``ha.cf``); problems go to DIAGS. None when it cannot be read."""
    lines = read_text(path, diags, "ha.cf",
                      "is this a Heartbeat configuration directory such as /etc/ha.d?")
    if lines is None:
        return None
    reader = _Reader(path, diags)
    for number, content in clean_lines(path, lines, diags, strip_hash_comment):
        reader.line(number, content)
    return reader.finish()


class _Reader:
    def __init__(self, path: Path, diags: Diagnostics) -> None:
        self.path = path
        self.diags = diags
        self.out = HaCf(path)
        self.seen: dict[str, int] = {}
        self.times: dict[str, TimeSetting] = {}
        self.media: list[Medium] = []
        self.udpport: tuple[int, int] | None = None  # (port, line)
        self.ping_nodes: list[PingNode] = []
        self.ping_mover: PingMover | None = None  # ipfail/pingd: ping nodes move resources
        self.use_logd: tuple[bool, int] | None = None
        self.stonith_hosts: list[tuple[str, int]] = []
        self.other_media: list[str] = []
        self.handlers: dict[str, Callable[[int, list[str]], None]] = {
            "node": self._node,
            **{name: partial(self._time, name=name)
               for name in ("keepalive", "deadtime", "warntime", "initdead", "deadping")},
            "udpport": self._udpport, "bcast": self._bcast, "udp": self._udp,
            "ucast": self._ucast, "mcast": self._mcast,
            "ping": self._ping, "ping_group": self._ping_group,
            "nice_failback": self._nice_failback,
            "respawn": self._respawn, "apiauth": self._apiauth,
            "crm": self._crm, "pacemaker": self._pacemaker,
            "stonith": self._stonith, "stonith_host": self._stonith_host,
        }
        assert set(self.handlers) | set(SETTINGS) == set(ACTED_ON)

    def error(self, line: int | None, message: str, hint: str) -> None:
        self.diags.error(self.path, line, message, hint)

    def warning(self, line: int | None, message: str, hint: str | None = None) -> None:
        self.diags.warning(self.path, line, message, hint)

    # -- one line ---------------------------------------------------------

    def line(self, number: int, content: str) -> None:
        words = content.split(None, 1)
        if not words:
            return
        name = words[0]
        rest = words[1].lstrip(", \t\r\f") if len(words) > 1 else ""
        if name not in ALL_DIRECTIVES:
            self._unknown(number, name)
            return
        style = ACTED_ON[name] if name in ACTED_ON else UNSUPPORTED[name].style
        values = [v for v in _DELIMS.split(rest) if v] if style is Style.OPTION else rest.split()
        if not values:
            self.error(number, f"{name} needs a value; the line ends after the directive",
                       f"complete the line (see ha.cf(5) for {name}), or remove it")
            return
        if name in UNSUPPORTED:
            self._unsupported(number, name, values)
        elif name in SETTINGS:
            self._setting(number, name, values)
        else:
            self.handlers[name](number, values)

    def _unknown(self, number: int, name: str) -> None:
        if "=" in name and name.split("=", 1)[0] in ALL_DIRECTIVES:
            key, value = name.split("=", 1)
            self.error(number, f"unknown directive {name!r}",
                       f"ha.cf takes no '=': write `{key} {value}`")
            return
        near = suggest(name, ALL_DIRECTIVES)
        hint = (f"did you mean `{near}`?" if near else
                "see ha.cf(5): vigil knows every directive Heartbeat 3.0.6 did")
        self.error(number, f"unknown directive {name!r} (Heartbeat: Illegal directive)", hint)

    def _once(self, number: int, name: str) -> None:
        """Warn when a single-valued directive comes again: the last one counts."""
        first = self.seen.get(name)
        if first is not None:
            self.warning(number, f"{name} is given again (first at line {first}); "
                         "this later value counts, as in Heartbeat",
                         "remove the line that should not count")
        self.seen.setdefault(name, number)

    def _single(self, number: int, name: str, values: list[str]) -> str:
        """The value of a single-valued directive; Heartbeat applied each, so the last counts."""
        self._once(number, name)
        if len(values) > 1:
            self.warning(number, f"{name} takes one value but has {len(values)}; "
                         f"Heartbeat applied each in turn, so {values[-1]!r} counts",
                         f"write one value: `{name} {values[-1]}`")
        return values[-1]

    def _pick(self, number: int, name: str, values: list[str], ok: Callable[[str], bool], *,
              problem: str, hint: str) -> str | None:
        """``_single``, then an error (and None) unless OK(value)."""
        value = self._single(number, name, values)
        if ok(value):
            return value
        self.error(number, f"{name} {value!r} {problem}", hint)
        return None

    def _setting(self, number: int, name: str, values: list[str]) -> None:
        if name == "watchdog" and self.out.watchdog is not None:
            self.error(number, "watchdog given twice (Heartbeat: Watchdog device multiply "
                       "specified)", "keep one watchdog line")
            return
        spec = SETTINGS[name]
        near = suggest(values[-1], spec.choices) if spec.choices else None
        value = self._pick(number, name, values, spec.ok, problem=spec.problem,
                           hint=f"did you mean `{near}`?" if near else spec.hint)
        if value is not None:
            spec.apply(self.out, value)
            if name == "auto_failback":
                self.seen["failback"] = number

    def _unsupported(self, number: int, name: str, values: list[str]) -> None:
        spec = UNSUPPORTED[name]
        problem = spec.words(values) if spec.words is not None else None
        if spec.value is not None:
            for value in values:
                problem = problem or _with(value, spec.value(value))
        if problem:
            self.error(number, f"{name} {problem}", f"see ha.cf(5) for {name}, or remove the line")
            return
        if name == "baud" and "baud" in self.seen:
            self.error(number, f"baud given twice (first at line {self.seen['baud']}); "
                       "Heartbeat refused this (Baudrate multiply specified)", "keep one baud line")
            return
        if name in ("crm_daemon_dir", "crmd_spawns_pengine") and self.out.crm_line is not None:
            self.error(number, f"{name} comes after the crm/pacemaker directive "
                       f"(line {self.out.crm_line}); Heartbeat refused this",
                       "move it above the crm line")
            return
        if name == "use_logd":
            self.use_logd = (parse_bool(values[-1]) is True, number)
        if name in ("serial", "ucast6", "mcast6", "tipc", "rds"):
            self.other_media.append(name)
        self.seen.setdefault(name, number)
        if name not in self.out.unsupported:
            self.out.unsupported.append(name)
        self.warning(number, f"`{name}` is accepted but vigil does not act on it: {spec.why}",
                     "remove the line to silence this warning")

    # -- nodes and media ----------------------------------------------------

    def _node(self, number: int, values: list[str]) -> None:
        for value in values:
            problem = problem_node_name(value)
            if problem:
                self.error(number, f"node name {value!r} {problem}",
                           "use the name `uname -n` prints on that node")
                continue
            name = NodeName(value.lower())
            for other in self.out.nodes:
                if other.name == name:
                    first = other.source.line if other.source else "?"
                    self.error(number, f"node {name} is declared twice (first at line {first})",
                               "declare each node once")
                    break
            else:
                self.out.nodes.append(Node(name, source=SourceRef(self.path, number)))

    def _bcast(self, number: int, values: list[str]) -> None:
        for iface in values:
            problem = problem_interface(iface)
            if problem:
                self.error(number, f"bcast interface {iface!r} {problem}",
                           "name the interface heartbeats go out on, e.g. `bcast eth1`")
            else:
                self.media.append(Medium(LinkKind.BCAST, iface, number))

    def _udp(self, number: int, values: list[str]) -> None:
        self.warning(number, "`udp` is the old name of `bcast` (Heartbeat warned too)",
                     "write `bcast` instead of `udp`")
        self._bcast(number, values)

    def _ucast(self, number: int, values: list[str]) -> None:
        medium = read_ucast(self.path, number, values, self.diags)
        if medium is not None:
            self.media.append(medium)

    def _mcast(self, number: int, values: list[str]) -> None:
        medium = read_mcast(self.path, number, values, self.diags)
        if medium is not None:
            self.media.append(medium)

    def _udpport(self, number: int, values: list[str]) -> None:
        value = self._pick(number, "udpport", values, _is_port,
                           problem="is not a UDP port vigil can use (1 to 65534: "
                           "control messages use udpport + 1)",
                           hint=f"Heartbeat's is {DEFAULT_UDPPORT}: `udpport {DEFAULT_UDPPORT}`")
        if value is None:
            return
        self.udpport = (int(value), number)
        if self.media and int(value) != DEFAULT_UDPPORT:
            self.warning(number, "udpport comes after media lines: Heartbeat used port "
                         f"{DEFAULT_UDPPORT} for the media above it; vigil uses {value} for all",
                         "move udpport above the first bcast/ucast line, as ha.cf(5) asks")

    # -- timing ---------------------------------------------------------------

    def _time(self, number: int, values: list[str], name: str) -> None:
        if len(values) == 2 and values[1].lower() in ("ms", "msec", "us", "usec"):
            self.error(number, f"{name} {values[0]} {values[1]}: Heartbeat read two values here",
                       f"write the unit without a space: `{name} {values[0]}{values[1]}`")
            return
        setting = read_time(self.path, number, name, self._single(number, name, values),
                            self.diags)
        if setting is not None:
            self.times[name] = setting

    # -- failback, connectivity, helpers ---------------------------------------

    def _nice_failback(self, number: int, values: list[str]) -> None:
        value = self._pick(number, "nice_failback", values, lambda v: parse_bool(v) is not None,
                           problem="is not a boolean",
                           hint="replace it with `auto_failback on` or `auto_failback off`")
        if value is None:
            return
        flag = parse_bool(value)
        # set_nice_failback(): "nice_failback on" became "auto_failback off",
        # "off" became "legacy".
        self.out.auto_failback = AutoFailback.OFF if flag else AutoFailback.LEGACY
        self.seen["failback"] = number
        now = "off" if flag else "legacy"
        self.warning(number, f"nice_failback is obsolete; read as `auto_failback {now}`, "
                     "as Heartbeat did", f"write `auto_failback {now}` instead")

    def _ping(self, number: int, values: list[str]) -> None:
        self.ping_nodes += read_ping(self.path, number, values, self.diags, self.ping_nodes)

    def _ping_group(self, number: int, values: list[str]) -> None:
        group = read_ping_group(self.path, number, values, self.diags, self.ping_nodes)
        if group is not None:
            self.ping_nodes.append(group)

    def _respawn(self, number: int, values: list[str]) -> None:
        child = read_respawn(self.path, number, values, self.diags)
        if isinstance(child, PingMover):
            self.ping_mover = child
        elif child is not None:
            self.out.respawn.append(child)

    def _apiauth(self, number: int, values: list[str]) -> None:
        auth = read_apiauth(self.path, number, values, self.diags, self.out.apiauth)
        if auth is not None:
            self.out.apiauth.append(auth)

    def _crm(self, number: int, values: list[str], name: str = "crm") -> None:
        value = values[-1]
        if self.out.crm_line is not None:
            self.error(number, f"{name} given again (first at line {self.out.crm_line}); "
                       "Heartbeat refused this (pacemaker/crm directive used multiple times)",
                       "keep one crm line")
            return
        flag = parse_bool(value)
        if flag is None and value.lower() not in _CRM_WORDS:
            self.error(number, f"{name} {value!r} is not on, off, respawn, minimal, manual, "
                       "ccm-only or valgrind", "vigil manages resources itself: `crm no`")
            return
        self.out.crm = value.lower() if flag is None else ("yes" if flag else "no")
        self.out.crm_line = number
        self.seen[name] = number

    def _pacemaker(self, number: int, values: list[str]) -> None:
        self._crm(number, values, "pacemaker")

    def _stonith(self, number: int, values: list[str], name: str = "stonith") -> None:
        device = read_stonith(self.path, number, name, values, self.diags)
        if device is None:
            return
        self.out.stonith.append(device)
        if name not in self.out.unsupported:
            self.out.unsupported.append(name)
        if name == "stonith_host":
            self.stonith_hosts.append((values[0].lower(), number))

    def _stonith_host(self, number: int, values: list[str]) -> None:
        self._stonith(number, values, "stonith_host")

    # -- the whole file ---------------------------------------------------------

    def finish(self) -> HaCf:
        out = self.out
        port = self.udpport[0] if self.udpport else DEFAULT_UDPPORT
        out.links = build_links(self.path, self.media, port, self.diags, self.other_media)
        out.timing = timing(self.path, self.times, self.diags)
        deadping = self.times.get("deadping")
        out.connectivity = Connectivity(
            ping_nodes=tuple(self.ping_nodes),
            deadping_ms=deadping.ms if deadping else None,
            # Heartbeat's ping nodes only moved resources through ipfail or pingd.
            multiplier=self.ping_mover.multiplier if self.ping_mover else 0,
        )
        check_members(self.path, out.nodes, self.ping_nodes, self.stonith_hosts, self.diags)
        check_logging(self.path, out.logging, self.use_logd, self.diags)
        check_resource_mode(self.path, out.crm, (out.auto_failback, self.seen.get("failback")),
                            (out.autojoin, self.seen.get("autojoin")), self.diags)
        return out


def _is_port(value: str) -> bool:
    return is_number(value) and 0 < int(value) < 65535  # port + 1 is the control port


def _with(value: str, problem: str | None) -> str | None:
    return f"{value!r} {problem}" if problem else None

