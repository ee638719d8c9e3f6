"""``cl_status`` as Heartbeat 3.0.6's ``tools/cl_status.c``, answered from ``vigil status --json``.

Output strings and exit codes are Heartbeat's, so scripts that parse them keep
working: 0 OK, 1 a "normal" failure (node or link down, heartbeat stopped),
11 a parameter error, 13 an unknown error (here: information the daemon does
not give). ``-m`` makes the output "human readable" with Heartbeat's sentences.

How vigil's states read in Heartbeat's words:

- a cluster node that is up (or late) is ``active``, a dead one ``dead``, one
  never heard since start-up ``init``; ``nodetype`` is ``normal``;
- a ping node (``ping``/``ping_group``) is a node of type ``ping`` whose status
  is ``ping`` while it answers, ``dead`` after ``deadping``;
- a heartbeat link is ``up`` or ``dead`` (late counts as up, as in Heartbeat);
- ``rscstatus`` is ``all``, ``local``, ``foreign`` or ``none``: whether this
  node holds groups whose preferred (haresources home) node is itself
  (``local``), groups at home elsewhere (``foreign``), both (``all``) or none.

This module is pure: ``run(argv, doc, homes)`` returns the lines and the code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

OK, NORMAL_FAIL, PARAMETER_ERROR, TIMEOUT, UNKNOWN_ERROR = 0, 1, 11, 12, 13

USAGE = """\
Usage: cl_status <sub-command> [<options>] [<parameters>]

Sub-commands:
clientstatus <node-name> <client-id> [<timeout>]
\tShow the status of heartbeat clients.
hblinkstatus <node-name> <link-name>
\tShow the status of a heartbeat link
hbstatus
\tIndicate if heartbeat is running on the local system.
listhblinks <node-name>
\tList the network interfaces used as hearbeat links.
listnodes [<option>]
\tList the nodes in the cluster.
\tOptions:
\t\t-p\tlist only 'ping' type nodes
\t\t-n\tlist only 'normal' type nodes
nodestatus <node-name>
\tList the node status.
nodetype <node-name>
\tList the nodes of a given type.
rscstatus
\tShow the status of cluster resources.
"""


@dataclass(slots=True)
class Answer:
    """What cl_status prints (stdout, stderr) and its exit code."""

    code: int
    out: list[str] = field(default_factory=list)
    err: list[str] = field(default_factory=list)


_NODE_STATUS = {"up": "active", "late": "active", "dead": "dead", "unknown": "init"}
_PING_STATUS = {"up": "ping", "dead": "dead", "init": "init"}


def hbstatus(doc: Mapping[str, Any] | None) -> Answer:
    if doc is None:
        return Answer(NORMAL_FAIL, ["Heartbeat is stopped on this machine."])
    return Answer(OK, ["Heartbeat is running on this machine."])


def _nodes(doc: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """Every node Heartbeat would list: name -> (type, Heartbeat status)."""
    out: dict[str, tuple[str, str]] = {}
    for node in doc.get("nodes", []):
        out[str(node["name"])] = ("normal", _NODE_STATUS.get(str(node["state"]), "dead"))
    for ping in (doc.get("connectivity") or {}).get("ping_nodes", []):
        out[str(ping["name"])] = ("ping", _PING_STATUS.get(str(ping["state"]), "dead"))
    return out


def _options(args: Sequence[str], allowed: str) -> tuple[set[str], list[str]] | None:
    """getopt as cl_status: single-letter flags anywhere; None on an unknown one."""
    flags: set[str] = set()
    rest: list[str] = []
    for arg in args:
        if arg.startswith("-") and len(arg) > 1:
            for letter in arg[1:]:
                if letter not in allowed:
                    return None
                flags.add(letter)
        else:
            rest.append(arg)
    return flags, rest


def run(argv: Sequence[str], doc: Mapping[str, Any] | None,
        homes: Mapping[str, str | None] | None = None) -> Answer:
    """cl_status ARGV against status document DOC (None: no daemon answers).

    HOMES maps each group to its preferred node (for ``rscstatus``)."""
    if not argv or (len(argv) == 1 and argv[0] == "-h"):
        return Answer(OK, USAGE.rstrip("\n").split("\n"))
    command, args = argv[0], list(argv[1:])
    if command == "hbstatus":
        return hbstatus(doc)
    handler = _COMMANDS.get(command)
    if handler is None:
        return Answer(PARAMETER_ERROR, err=[f"{command}: invalid sub-command."])
    if doc is None:  # Heartbeat: "Cannot signon with heartbeat"
        return Answer(NORMAL_FAIL, err=["Cannot signon with heartbeat",
                                        "REASON: no vigil daemon answers"])
    allowed = "mpn" if command == "listnodes" else "m"
    parsed = _options(args, allowed)
    if parsed is None:
        return Answer(PARAMETER_ERROR, err=["Error: getopt returned character code ?."])
    flags, rest = parsed
    return handler(doc, flags, rest, homes or {})


Handler = Callable[[Mapping[str, Any], set[str], list[str], Mapping[str, str | None]], Answer]


def _listnodes(doc: Mapping[str, Any], flags: set[str], _rest: list[str],
               _homes: Mapping[str, str | None]) -> Answer:
    wanted = {"ping"} if flags & {"p", "n"} == {"p"} else (
        {"normal"} if flags & {"p", "n"} == {"n"} else {"ping", "normal"})
    out = ["The nodes are as follow:"] if "m" in flags else []
    out += [name for name, (kind, _) in _nodes(doc).items() if kind in wanted]
    return Answer(OK, out)


def _nodestatus(doc: Mapping[str, Any], flags: set[str], rest: list[str],
                _homes: Mapping[str, str | None]) -> Answer:
    if not rest:
        return Answer(PARAMETER_ERROR, err=["Not enough parameters."])
    node = _nodes(doc).get(rest[0])
    if node is None:
        return Answer(PARAMETER_ERROR, err=["Error. May be due to incorrect node name"])
    status = node[1]
    line = f"The cluster node {rest[0]} is {status}" if "m" in flags else status
    return Answer(OK if status in ("active", "up", "ping") else NORMAL_FAIL, [line])


def _nodetype(doc: Mapping[str, Any], flags: set[str], rest: list[str],
              _homes: Mapping[str, str | None]) -> Answer:
    if not rest:
        return Answer(PARAMETER_ERROR, err=["No enough parameter."])
    node = _nodes(doc).get(rest[0])
    if node is None:
        return Answer(PARAMETER_ERROR, err=["Error. May be due to incorrect node name"])
    line = f"The node {rest[0]}'s type: {node[0]}" if "m" in flags else node[0]
    return Answer(OK, [line])


def _links_of(doc: Mapping[str, Any], name: str) -> dict[str, str] | None:
    for node in doc.get("nodes", []):
        if node["name"] == name:
            if node.get("self"):  # our own links: up when open, as Heartbeat's own
                return {str(link["name"]): "up" if link["state"] == "open" else "dead"
                        for link in doc.get("links", [])}
            return {str(link["name"]): "up" if link["state"] in ("up", "late") else "dead"
                    for link in node.get("links", [])}
    return None


def _listhblinks(doc: Mapping[str, Any], flags: set[str], rest: list[str],
                 _homes: Mapping[str, str | None]) -> Answer:
    if not rest:
        return Answer(PARAMETER_ERROR, err=["No enough parameter."])
    links = _links_of(doc, rest[0])
    if links is None:
        return Answer(UNKNOWN_ERROR, err=["Cannot start heartbeat link interface walk.",
                                          "REASON: unknown node"])
    out = ["\tthis node have the following heartbeat links:"] if "m" in flags else []
    return Answer(OK, out + [f"\t{name}" for name in links])


def _hblinkstatus(doc: Mapping[str, Any], flags: set[str], rest: list[str],
                  _homes: Mapping[str, str | None]) -> Answer:
    if len(rest) < 2:
        return Answer(PARAMETER_ERROR, err=["No enough parameter."])
    status = (_links_of(doc, rest[0]) or {}).get(rest[1])
    if status is None:
        return Answer(UNKNOWN_ERROR, err=["Cannot get heartbeat link status",
                                          "REASON: unknown node or link"])
    line = (f"The node {rest[0]}'s heartbeat link {rest[1]} is {status}" if "m" in flags
            else status)
    return Answer(OK if status == "up" else NORMAL_FAIL, [line])


def _rscstatus(doc: Mapping[str, Any], flags: set[str], _rest: list[str],
               homes: Mapping[str, str | None]) -> Answer:
    resources = doc.get("resources")
    if not isinstance(resources, list):
        return Answer(UNKNOWN_ERROR, err=["Cannot get cluster resource status",
                                          "REASON: this daemon does not report resources"])
    me = doc.get("node")
    local = foreign = False
    for res in resources:
        if me not in (res.get("nodes") or [res.get("node")]):
            continue
        home = homes.get(str(res.get("group") or res.get("id")))
        if home == me:
            local = True
        else:
            foreign = True
    held = "all" if local and foreign else "local" if local else "foreign" if foreign else "none"
    line = f"This node is holding {held} resources." if "m" in flags else held
    return Answer(OK, [line])


def _clientstatus(_doc: Mapping[str, Any], _flags: set[str], rest: list[str],
                  _homes: Mapping[str, str | None]) -> Answer:
    if len(rest) < 2:
        return Answer(PARAMETER_ERROR, err=["No enough parameter."])
    # vigil has no Heartbeat API clients: every client is offline, as Heartbeat said
    # of a client that had not signed on.
    return Answer(NORMAL_FAIL, ["offline"])


_COMMANDS: dict[str, Handler] = {
    "listnodes": _listnodes,
    "nodestatus": _nodestatus,
    "nodetype": _nodetype,
    "listhblinks": _listhblinks,
    "hblinkstatus": _hblinkstatus,
    "rscstatus": _rscstatus,
    "clientstatus": _clientstatus,
}
