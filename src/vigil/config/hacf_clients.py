"""ha.cf's programs and permissions: ``respawn``, ``apiauth``, ``stonith``, ``stonith_host``.

As Heartbeat 3.0.6's ``heartbeat/config.c``:

- ``respawn USER /full/path ARGS...`` (``add_client_child_base``): the program
  must be a full path name. Heartbeat also refused an unknown user or a
  program that is not executable; configurations are often checked on another
  machine, so those two are warnings here.
- ``apiauth CLIENT [uid=a,b] [gid=c,d]`` (``set_api_authorization``): one of
  the lists is required, each at most once, and a client only once.
- ``stonith TYPE CONFIGFILE`` and ``stonith_host HOST TYPE PARAMS...``: kept as
  written (``LegacyStonith``); vigil does not run Heartbeat STONITH plugins.

Programs that are Heartbeat API clients (ipfail, pingd, the Pacemaker daemons)
cannot work without Heartbeat; they are not started. ipfail and pingd existed
to move resources to the better-connected node, which vigil does from the ping
nodes itself, so they come back as a ``PingMover`` (pingd's ``-m`` multiplier
kept).
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vigil.config.diagnostics import Diagnostics
from vigil.config.legacy_values import is_number
from vigil.config.model import ApiAuth, LegacyStonith, Respawn, SourceRef

__all__ = ["PingMover", "read_apiauth", "read_respawn", "read_stonith"]

_HEARTBEAT_CLIENTS = frozenset({
    "ipfail", "pingd", "ccm", "cib", "crmd", "lrmd", "stonithd", "attrd", "pengine",
    "mgmtd", "hbagent", "dopd",
})
_APIAUTH_SYNTAX = "syntax: apiauth CLIENT [uid=user,user] [gid=group,group]"


@dataclass(frozen=True, slots=True)
class PingMover:
    """ipfail or pingd was respawned: ping nodes move resources (MULTIPLIER per node)."""

    program: str
    multiplier: int = 1


def read_respawn(path: Path, number: int, words: list[str],
                 diags: Diagnostics) -> Respawn | PingMover | None:
    """``respawn USER PROGRAM ARGS...``; None when refused or not to be started."""
    if len(words) < 2:
        diags.error(path, number, "respawn needs a user and the full path of a program",
                    "e.g. `respawn hacluster /usr/lib/heartbeat/ipfail`")
        return None
    user, argv = words[0], tuple(words[1:])
    if not argv[0].startswith("/"):
        diags.error(path, number, f"respawn program {argv[0]!r} is not a full path name "
                    "(Heartbeat refused it too)", f"write its absolute path: /usr/bin/{argv[0]}?")
        return None
    program = os.path.basename(argv[0])
    if program in _HEARTBEAT_CLIENTS:
        mover = program in ("ipfail", "pingd")
        does = ("moves resources to the node that reaches more ping nodes itself "
                "(ipfail's and pingd's job)" if mover else "does this job itself")
        diags.warning(path, number, f"respawn {program}: not started, it is a Heartbeat API "
                      f"client; vigil {does}", "remove the respawn line once Heartbeat is gone")
        if not mover:
            return None
        multiplier = _pingd_multiplier(path, number, argv, diags) if program == "pingd" else 1
        return PingMover(program, multiplier)
    if not os.access(argv[0], os.X_OK):
        diags.warning(path, number, f"respawn program {argv[0]} is not installed (or not "
                      "executable) on this machine", "install it on every node")
    try:
        pwd.getpwnam(user)
    except KeyError:
        diags.warning(path, number, f"respawn user {user!r} does not exist on this machine",
                      "create the user on every node")
    return Respawn(user, argv, source=SourceRef(path, number))


def _pingd_multiplier(path: Path, number: int, argv: tuple[str, ...], diags: Diagnostics) -> int:
    """pingd's ``-m N`` (or ``-mN``): each reachable ping node is worth N points."""
    args = argv[1:]
    multiplier = 1
    for i, arg in enumerate(args):
        if arg == "-m" and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith("-m") and len(arg) > 2:
            value = arg[2:]
        else:
            continue
        if is_number(value):
            multiplier = int(value)
        else:
            diags.warning(path, number, f"pingd -m {value!r} is not a number; multiplier 1 used",
                          "write e.g. `-m 100`")
    return multiplier


def read_apiauth(path: Path, number: int, words: list[str], diags: Diagnostics,
                 known: Sequence[ApiAuth]) -> ApiAuth | None:
    """``apiauth CLIENT uid=... gid=...``; KNOWN are the clients given so far."""
    client = words[0]
    lists: dict[str, tuple[str, ...]] = {}
    for word in words[1:]:
        key, sep, ids = word.partition("=")
        if key not in ("uid", "gid") or not sep:
            diags.error(path, number, f"apiauth {client}: {word!r} is not uid=... or gid=...",
                        _APIAUTH_SYNTAX)
            return None
        if key in lists:
            diags.error(path, number, f"apiauth {client}: {key}= given twice",
                        f"join the lists: {key}=a,b")
            return None
        lists[key] = tuple(i for i in ids.split(",") if i)
    if not any(lists.values()):
        diags.error(path, number, f"apiauth {client} names no uid and no gid", _APIAUTH_SYNTAX)
        return None
    if any(a.client == client for a in known):
        diags.error(path, number, f"apiauth for {client} is given twice (Heartbeat refused "
                    "it too)", "merge the two lines into one")
        return None
    return ApiAuth(client, lists.get("uid", ()), lists.get("gid", ()),
                   source=SourceRef(path, number))


def read_stonith(path: Path, number: int, name: str, words: list[str],
                 diags: Diagnostics) -> LegacyStonith | None:
    """``stonith TYPE FILE`` or ``stonith_host HOST TYPE PARAMS...``, kept as written."""
    if len(words) < 2:
        example = ("`stonith baytech /etc/ha.d/conf/stonith.baytech`" if name == "stonith" else
                   "`stonith_host * baytech 10.0.0.3 login password`")
        need = ("a device type and its configuration file" if name == "stonith" else
                "a host (or *), a device type and its parameters")
        diags.error(path, number, f"{name} needs {need}", f"e.g. {example}")
        return None
    diags.warning(path, number, f"`{name}` is accepted but vigil does not run Heartbeat "
                  "STONITH plugins", "configure a fence device (a fence_* agent) in vigil.toml")
    return LegacyStonith(name, tuple(words), SourceRef(path, number))
