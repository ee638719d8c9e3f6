"""Reading ``haresources`` as Heartbeat's ResourceManager did: one group per line.

Rules of this file (``heartbeat/lib/ResourceManager.in`` unless said otherwise):

- ``#`` to the end of a line is a comment. A line ending in ``\\`` continues on
  the next, joined with nothing in between (sed ``s/\\\\\\n//``). Unlike sed,
  we strip comments on every physical line: ResourceManager stripped only the
  first, so a comment on a continuation line became resource names.
- ``NODE RESOURCE...``: NODE (lowercased, as ``awk tolower($1)``) is the
  preferred node and must be an ha.cf node (config.c: "Bad nodename").
- A resource is ``NAME`` or ``NAME::ARG::ARG...``; a word that starts with a
  digit and has three dots is an address and means ``IPaddr::WORD``
  (``isip``/``canonname``). NAME is a script in resource.d or /etc/init.d
  (``scriptpath``); one that is not installed here is a warning, not an error.
- IPaddr and IPaddr2 take one argument, ``IP[/BITS[/IFACE[:LABEL]][/BROADCAST]]``;
  Filesystem takes ``DEVICE::DIRECTORY[::FSTYPE[::OPTIONS]]`` (their
  resource.d wrappers). Both are checked here: a bad address is an error.

The model: each line is a ``Group`` with ``preferred_node`` NODE and location
score 100 for it (haresources2cib.py's ``rsc_location``). Resource ids are
stable and readable: ``IPaddr_10_0_0_5`` for an address (haresources2cib.py's
form), ``Filesystem_webdata`` for a mount point, ``NAME_ARG`` for another
script's first argument, ``NAME`` without one; ``_2``, ``_3`` make a clash
unique in file order. A group is ``group_`` + its first resource's id: the
first resource is what Heartbeat called the group's key (hb_takeover,
req_resource), and the file must not repeat it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from vigil.config.diagnostics import Diagnostics
from vigil.config.legacy_text import clean_lines, read_text, strip_hash_comment
from vigil.config.legacy_values import is_number, parse_ipv4, problem_interface, suggest
from vigil.config.model import (
    AgentSpec,
    Group,
    GroupId,
    NodeName,
    Resource,
    ResourceId,
    SourceRef,
)

__all__ = ["BUILTIN_AGENTS", "PREFERRED_SCORE", "HaResources", "read_haresources"]

#: Scripts vigil's agents provide themselves: never "not installed".
BUILTIN_AGENTS = frozenset({"IPaddr", "IPaddr2", "Filesystem"})
#: The location score of a group's preferred node (haresources2cib.py used 100).
PREFERRED_SCORE = 100
_IP_AGENTS = frozenset({"IPaddr", "IPaddr2"})
_SCRIPT_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+@-]*")
_IPADDR_USAGE = ("IPaddr::ADDRESS[/NETMASK_BITS[/INTERFACE[/BROADCAST]]], "
                 "e.g. IPaddr::10.0.0.5/24/eth0")

Word = tuple[str, int]  # a word and the line it starts on


@dataclass(frozen=True, slots=True)
class HaResources:
    resources: tuple[Resource, ...]
    groups: tuple[Group, ...]


def read_haresources(path: Path, diags: Diagnostics, nodes: Sequence[NodeName] | None,
                     resource_dirs: Sequence[Path]) -> HaResources | None:
    """Read PATH; NODES from ha.cf (None: unknown, not checked). None when unreadable."""
    lines = read_text(path, diags, "haresources",
                      "create it (empty if this cluster runs no resources)")
    if lines is None:
        return None
    reader = _Reader(path, diags, nodes, resource_dirs)
    for words in _logical_lines(path, clean_lines(path, lines, diags, strip_hash_comment), diags):
        reader.group(words)
    return HaResources(tuple(reader.resources), tuple(reader.groups))


def _logical_lines(path: Path, lines: Iterator[tuple[int, str]],
                   diags: Diagnostics) -> Iterator[list[Word]]:
    """Join continued lines; the words of each logical line with their own line numbers."""
    chars: list[tuple[str, int]] = []
    last = 0
    continued = False
    for number, content in lines:
        last = number
        text = content.rstrip()
        continued = text.endswith("\\")
        if continued:
            if text != content.rstrip("\n"):
                diags.warning(path, number, "blanks after the continuation backslash: "
                              "Heartbeat did not join this line with the next; vigil does",
                              "remove the blanks after the backslash")
            text = text[:-1]
        chars.extend((ch, number) for ch in text)
        if not continued:
            yield _words(chars)
            chars = []
    if continued:
        diags.error(path, last, "the last line ends with a backslash: it continues past the "
                    "end of the file (truncated?)", "remove the backslash or complete the line")


def _words(chars: list[tuple[str, int]]) -> list[Word]:
    words: list[Word] = []
    current: list[str] = []
    start = 0
    for ch, number in [*chars, (" ", 0)]:
        if ch.isspace():
            if current:
                words.append(("".join(current), start))
                current = []
        else:
            if not current:
                start = number
            current.append(ch)
    return words


class _Reader:
    def __init__(self, path: Path, diags: Diagnostics, nodes: Sequence[NodeName] | None,
                 resource_dirs: Sequence[Path]) -> None:
        self.path = path
        self.diags = diags
        self.nodes = nodes
        self.resource_dirs = resource_dirs
        self.resources: list[Resource] = []
        self.groups: list[Group] = []
        self.given: dict[tuple[str, tuple[str, ...]], int] = {}  # (name, args) -> line
        self.scripts_checked: set[str] = set()

    def group(self, words: list[Word]) -> None:
        if not words:
            return
        (first, line), rest = words[0], words[1:]
        node = NodeName(first.lower())
        if not rest:
            self.diags.error(self.path, line, f"{first} is followed by no resources",
                             f"list them after the node: `{node} IPaddr::10.0.0.5/24/eth0 "
                             "httpd`")
            return
        if self.nodes is not None and node not in self.nodes:
            near = suggest(node, self.nodes)
            self.diags.error(self.path, line, f"node {first} is not declared in ha.cf "
                             "(Heartbeat: Bad nodename)",
                             f"did you mean {near}?" if near else
                             f"add `node {node}` to ha.cf, or correct the name")
        members: list[ResourceId] = []
        for word, word_line in rest:
            resource = self.resource(word, word_line)
            if resource is not None:
                members.append(resource.id)
        if len(members) != len(rest):
            return
        self.groups.append(Group(GroupId(f"group_{members[0]}"), tuple(members),
                                 preferred_node=node, locations={node: PREFERRED_SCORE},
                                 source=SourceRef(self.path, line)))

    def resource(self, word: str, line: int) -> Resource | None:
        if word[0] in "0123456789" and word.count(".") >= 3:  # ResourceManager's isip()
            name, args = "IPaddr", [word]
        else:
            name, *args = word.split("::")
        problem = _problem(name, args)
        if problem:
            self.diags.error(self.path, line, f"resource {word!r}: {problem[0]}", problem[1])
            return None
        key = (name, tuple(args))
        if key in self.given:
            self.diags.error(self.path, line, f"resource {word} is given twice (first at line "
                             f"{self.given[key]}); a resource belongs to one group only",
                             "remove one of them")
            return None
        self.given[key] = line
        self.check_installed(name, line)
        rid = ResourceId(_unique(_resource_id(name, args), {r.id for r in self.resources}))
        resource = Resource(rid, AgentSpec("heartbeat", name), tuple(args),
                            source=SourceRef(self.path, line))
        self.resources.append(resource)
        return resource

    def check_installed(self, name: str, line: int) -> None:
        """Warn (once per script) when NAME is in none of the resource directories."""
        if name in BUILTIN_AGENTS or name in self.scripts_checked:
            return
        self.scripts_checked.add(name)
        for directory in self.resource_dirs:
            script = directory / name
            if script.is_file():
                if not os.access(script, os.X_OK):
                    self.diags.warning(self.path, line, f"resource script {script} is not "
                                       "executable", f"chmod 755 {script}")
                return
        where = ", ".join(str(d) for d in self.resource_dirs)
        self.diags.warning(self.path, line, f"resource script {name} is not installed on this "
                           f"machine (looked in {where})",
                           "install it on every node that may run it (ignore this when "
                           "checking on another machine)")


def _problem(name: str, args: list[str]) -> tuple[str, str] | None:
    """What is wrong with resource NAME::ARGS, and the fix; None when nothing is."""
    if not _SCRIPT_NAME.fullmatch(name):
        return (f"{name!r} is not a resource script name",
                "give the file name of a script in resource.d or /etc/init.d, then ::arguments")
    if any(not a for a in args):
        return ("an empty argument (Heartbeat's shell dropped it, shifting the others)",
                "remove the doubled or trailing '::'")
    if name in _IP_AGENTS:
        if len(args) != 1:
            return f"{name} takes exactly one argument, not {len(args)}", _IPADDR_USAGE
        found = _ipaddr_problem(args[0])
        return (found, _IPADDR_USAGE) if found else None
    if name == "Filesystem":
        usage = "Filesystem::DEVICE::DIRECTORY[::FSTYPE[::OPTIONS]], e.g. " \
                "Filesystem::/dev/sdb5::/webdata::ext3"
        if not 2 <= len(args) <= 4:
            return f"Filesystem takes 2 to 4 arguments, not {len(args)}", usage
        if not args[1].startswith("/"):
            return f"mount point {args[1]!r} is not an absolute path", usage
    return None


def _ipaddr_problem(spec: str) -> str | None:
    """IP[/BITS[/IFACE[:LABEL]][/BROADCAST]], as the IPaddr wrapper split it."""
    parts = spec.split("/")
    if parse_ipv4(parts[0]) is None:
        return f"address {parts[0]!r} is not an IPv4 address"
    if len(parts) > 4:
        return f"{spec!r} has more than 4 parts separated by '/'"
    mask = parts[1] if len(parts) > 1 else ""
    if mask and not ((is_number(mask) and int(mask) <= 32) or _is_netmask(mask)):
        return f"netmask {mask!r} is neither 0 to 32 bits nor a dotted netmask"
    if not mask and any(parts[2:]):
        return f"{spec!r} has an interface or broadcast but no netmask"
    rest = [p for p in parts[2:] if p]
    if rest and rest[0][0] in "0123456789":  # the wrapper: a digit first means a broadcast
        rest = ["", *rest]
    if len(rest) > 2:
        return f"{spec!r} has more than an interface and a broadcast after the netmask"
    if rest and rest[0] and problem_interface(rest[0].split(":", 1)[0]):
        return f"interface {rest[0]!r} is not a network interface name"
    if len(rest) > 1 and parse_ipv4(rest[1]) is None:
        return f"broadcast {rest[1]!r} is not an IPv4 address"
    return None


def _is_netmask(word: str) -> bool:
    address = parse_ipv4(word)
    if address is None:
        return False
    bits = f"{int(address):032b}"
    return "01" not in bits


def _resource_id(name: str, args: list[str]) -> str:
    if name in _IP_AGENTS:
        detail = args[0].split("/", 1)[0]
    elif name == "Filesystem":
        detail = args[1]
    else:
        detail = args[0] if args else ""
    detail = re.sub(r"[^A-Za-z0-9]+", "_", detail).strip("_")
    return f"{name}_{detail}" if detail else name


def _unique(rid: str, taken: set[ResourceId]) -> str:
    n, candidate = 2, rid
    while candidate in taken:
        candidate, n = f"{rid}_{n}", n + 1
    return candidate
