"""Resource tables of a native ``vigil.toml``: resources and groups (fencing elsewhere)."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from vigil.config.model import (
    AgentSpec,
    Group,
    GroupId,
    NodeName,
    Operation,
    Resource,
    ResourceId,
    SourceRef,
    TargetRole,
)
from vigil.config.native_cluster import unknown_node
from vigil.config.native_fields import (
    Table,
    Unique,
    did_you_mean,
    format_duration,
    read_name,
)
from vigil.config.native_schema import (
    AGENT_CLASSES,
    BUILTIN_AGENTS,
    DEFAULT_OP_TIMEOUT_MS,
    GROUP_KEYS,
    ONE_SHOT_OPS,
    OP_KEYS,
    RESOURCE_KEYS,
)

__all__ = [
    "agent_location",
    "parse_agent",
    "read_groups",
    "read_resources",
    "read_threshold",
    "warn_not_installed",
]

_AGENT_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+@-]*")
#: heartbeat: scripts vigil runs with a built-in when none is installed.
_BUILTIN_SCRIPTS = frozenset({"IPaddr", "IPaddr2", "Filesystem"})
_SYSTEMD_DIRS = (Path("/etc/systemd/system"), Path("/run/systemd/system"),
                 Path("/lib/systemd/system"), Path("/usr/lib/systemd/system"))
AGENT_HINT = ('write class:type or ocf:provider:type, e.g. "ocf:heartbeat:IPaddr2", '
              '"lsb:apache2", "heartbeat:IPaddr", "systemd:nginx.service", "vigil:dummy"')


def parse_agent(text: str) -> AgentSpec:
    """``class:provider:type`` (ocf) or ``class:type``; raises ValueError saying why."""
    parts = text.split(":")
    if len(parts) not in (2, 3) or not all(parts):
        raise ValueError(f"agent {text!r} is not class:type or class:provider:type")
    cls = parts[0]
    if cls not in AGENT_CLASSES:
        guess = did_you_mean(cls, AGENT_CLASSES)
        extra = f" (did you mean {guess!r}?)" if guess else ""
        raise ValueError(f"agent {text!r}: unknown class {cls!r}{extra}")
    if cls == "ocf" and len(parts) != 3:
        raise ValueError(f"agent {text!r}: an ocf agent needs its provider (ocf:PROVIDER:TYPE)")
    if cls != "ocf" and len(parts) != 2:
        raise ValueError(f"agent {text!r}: only ocf agents have a provider")
    agent_type = parts[-1]
    for word in parts[1:]:
        # The rule vigil.agents applies before it builds a path from a name.
        if not _AGENT_NAME.fullmatch(word):
            raise ValueError(f"agent {text!r}: {word!r} is not a plain name "
                             "(letters, digits and _ . + @ -, no /)")
    if cls == "vigil" and agent_type not in BUILTIN_AGENTS:
        raise ValueError(f"agent {text!r}: vigil's built-in agents are "
                         f"{', '.join(BUILTIN_AGENTS)}")
    return AgentSpec(cls, agent_type, parts[1] if len(parts) == 3 else None)


def agent_location(agent: AgentSpec, resource_dirs: Sequence[Path]) -> Path | None:
    """Where AGENT is installed on this machine; None when it is not (built-ins always are).

    Looked up as vigil.agents does at run time: heartbeat scripts in the
    resource directories, LSB scripts in /etc/init.d, OCF agents under
    $OCF_ROOT/resource.d/PROVIDER, systemd units in the unit directories.
    """
    if agent.cls == "vigil" or (agent.cls == "heartbeat" and agent.type in _BUILTIN_SCRIPTS):
        return Path("/")
    if agent.cls == "heartbeat":
        candidates = [d / agent.type for d in resource_dirs]
    elif agent.cls == "lsb":
        candidates = [Path("/etc/init.d") / agent.type]
    elif agent.cls == "ocf":
        root = Path(os.environ.get("OCF_ROOT", "/usr/lib/ocf"))
        candidates = [root / "resource.d" / (agent.provider or "") / agent.type]
    else:
        unit = agent.type if "." in agent.type else f"{agent.type}.service"
        candidates = [d / unit for d in _SYSTEMD_DIRS]
    return next((c for c in candidates if c.exists()), None)


def warn_not_installed(top: Table, resources: Sequence[Resource],
                       resource_dirs: Sequence[Path]) -> None:
    """A warning per agent not installed here: configurations are often checked elsewhere."""
    seen: set[AgentSpec] = set()
    for res in resources:
        if res.agent in seen:
            continue
        seen.add(res.agent)
        if agent_location(res.agent, resource_dirs) is None:
            line = res.source.line if res.source is not None else None
            top.reader.diags.warning(
                top.reader.file, line,
                f"[[resource]] {res.id!r}: agent {res.agent} is not installed on this machine",
                "install it on every node that may run the resource "
                "(ignore this when checking on another machine)")


def _read_operations(t: Table) -> tuple[Operation, ...]:
    ops: list[Operation] = []
    seen: set[tuple[str, int]] = set()
    for o in t.tables("op", f"{t.name} op", OP_KEYS):
        name = o.string("name", required=True,
                           hint='each op needs name = "monitor" (or start, stop, ...)')
        interval = o.duration("interval", 0)
        timeout = o.duration("timeout", DEFAULT_OP_TIMEOUT_MS, minimum=1)
        o.done()
        if name is None:
            continue
        if not name.replace("-", "").replace("_", "").isalnum() or not name.islower():
            o.error("name", f"{o.name}: bad operation name {name!r}",
                    "operations are lower-case words: start, stop, monitor, status, ...")
            continue
        if name in ONE_SHOT_OPS and interval:
            o.error("interval", f"{o.name}: {name} runs once, so its interval must be 0",
                    f"remove interval; a recurring check is op name = \"monitor\" interval = "
                    f"\"{format_duration(interval)}\"")
            continue
        if (name, interval) in seen:
            o.error("name", f"{o.name}: {name} with interval {format_duration(interval)} "
                    "is given twice", "each (name, interval) pair must be unique, as Pacemaker")
            continue
        seen.add((name, interval))
        ops.append(Operation(name, interval, timeout))
    return tuple(ops)


def _read_resource(t: Table) -> Resource | None:
    rid = read_name(t, "id", "resource id")
    if rid is not None:
        t.name = f"[[resource]] {rid!r}"
    agent_text = t.string("agent", required=True, hint=AGENT_HINT)
    agent: AgentSpec | None = None
    if agent_text is not None:
        try:
            agent = parse_agent(agent_text)
        except ValueError as e:
            t.error("agent", f"{t.name}: {e}", AGENT_HINT)
    args = t.str_list("args") or ()
    params = t.str_map("params")
    for key in params:
        if not key or not all(c.isalnum() or c in "_.-" for c in key):
            t.reader.error(t.at("params", key), f"{t.name}: bad parameter name {key!r}",
                           "parameter names are letters, digits and _ (OCF_RESKEY_<name>)")
    ops = _read_operations(t)
    stickiness = t.score("stickiness")
    threshold = read_threshold(t, None)
    failure_timeout = t.optional_duration("failure_timeout")
    role = t.string("target_role", TargetRole.STARTED.value,
                    choices=[r.value for r in TargetRole])
    exclusive = t.boolean("exclusive", True)
    t.done()
    if rid is None or agent is None or role is None:
        return None
    return Resource(ResourceId(rid), agent, tuple(args), params, ops, stickiness, threshold,
                    failure_timeout, TargetRole(role), exclusive,
                    SourceRef(t.reader.file, t.line()))


def read_threshold(t: Table, default: int | None) -> int | None:
    """migration_threshold: failures before a resource moves; 1 and up, or INFINITY."""
    threshold = t.score("migration_threshold", default)
    if threshold is not None and threshold < 1:
        t.error("migration_threshold", f"{t.name}: migration_threshold must be at least 1",
                'give the number of failures before moving, or "INFINITY" to never move')
        return default
    return threshold


def read_resources(top: Table) -> tuple[Resource, ...]:
    resources: list[Resource] = []
    ids = Unique("resource id")
    for t in top.tables("resource", "[[resource]]", RESOURCE_KEYS):
        res = _read_resource(t)
        if res is not None and ids.add(t, "id", res.id):
            resources.append(res)
    return tuple(resources)


def _unknown_resource(t: Table, index: int, rid: str, known: Sequence[str]) -> None:
    guess = did_you_mean(rid, known)
    hint = f"did you mean {guess}?" if guess else "declare it with [[resource]] id = ..."
    t.reader.error(t.at("resources", index), f"{t.name}: no [[resource]] {rid!r}", hint)


def read_groups(top: Table, nodes: tuple[NodeName, ...],
                resources: tuple[Resource, ...]) -> tuple[Group, ...]:
    known = [r.id for r in resources]
    groups: list[Group] = []
    ids = Unique("group id")
    member_of: dict[str, str] = {}
    for t in top.tables("group", "[[group]]", GROUP_KEYS):
        gid = read_name(t, "id", "group id")
        if gid is not None:
            t.name = f"[[group]] {gid!r}"
        members = t.str_list("resources")
        preferred = t.string("preferred_node")
        locations: dict[NodeName, int] = {}
        for node, value in t.mapping("locations").items():
            score = t.score_value(t.at("locations", node), f"locations.{node}", value, None)
            if node not in nodes:
                unknown_node(t, ("locations", node), node, nodes, "locations")
            elif score is not None:
                locations[NodeName(node)] = score
        t.done()
        ok = gid is not None
        if preferred is not None and preferred not in nodes:
            unknown_node(t, ("preferred_node",), preferred, nodes, "preferred_node")
            ok = False
        if gid is not None and gid in ids:
            ids.add(t, "id", gid)
            ok = False
        elif gid is not None and gid in known:
            t.error("id", f"{t.name}: {gid!r} is already a resource id",
                    "resources and groups share one name space, as in Pacemaker")
            ok = False
        if members is None or not members:
            t.error("resources" if members is not None else None,
                    f"{t.name}: a group needs its resources, in start order",
                    'add resources = ["vip", "fs", "app"]')
            continue
        chosen: list[ResourceId] = []
        for i, rid in enumerate(members):
            if rid not in known:
                _unknown_resource(t, i, rid, known)
                ok = False
            elif rid in chosen:
                t.reader.error(t.at("resources", i), f"{t.name}: {rid!r} is listed twice")
                ok = False
            elif rid in member_of:
                t.reader.error(t.at("resources", i),
                               f"{t.name}: {rid!r} is already in group {member_of[rid]!r}",
                               "a resource belongs to one group at most")
                ok = False
            else:
                chosen.append(ResourceId(rid))
        if not ok or gid is None:
            continue
        ids.add(t, "id", gid)
        for rid in chosen:
            member_of[rid] = gid
        groups.append(Group(GroupId(gid), tuple(chosen),
                            NodeName(preferred) if preferred is not None else None,
                            locations, SourceRef(t.reader.file, t.line())))
    return tuple(groups)
