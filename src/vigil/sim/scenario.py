"""Scenario files for ``vigil simulate``: a small TOML timeline of faults and commands.

Rules of this file:
- Pure: text in, a ``Scenario`` (or every problem, as ``FILE:LINE: error``
  with a hint) out. Applying it to a simulation is ``vigil.sim.rehearsal``.
- One step a string, read like the sentence an administrator would write::

      description = "Power off the primary"
      end = "40s"
      timeline = [
          "crash node1 at 5s",
          "partition [node1] [node2,node3] at 10s until 20s",
          "fail monitor of db at 12s",
          "heal at 20s",
      ]

  Grammar: ``VERB ARGS [on WHAT] at TIME [until TIME]``; TIME is ``500ms``,
  ``5s``, ``1.5s`` or ``2m`` of simulated time from the start of the cluster.
- Names (nodes, resources, links, fence devices) are checked against the configuration by
  ``check``, so a typo is refused before anything runs.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vigil.config import ClusterConfig, NodeName, ResourceId

__all__ = [
    "VERBS",
    "Crash",
    "FailResource",
    "FenceFault",
    "Freeze",
    "Heal",
    "Online",
    "Partition",
    "Scenario",
    "ScenarioError",
    "Standby",
    "Start",
    "Step",
    "Stop",
    "check",
    "parse_scenario",
    "parse_time",
]


@dataclass(frozen=True, slots=True)
class Crash:
    """The machine loses power (or panics and resets): its services are gone with it."""

    node: NodeName


@dataclass(frozen=True, slots=True)
class Stop:
    """The daemon stops cleanly (``systemctl stop vigil``): resources are handed over first."""

    node: NodeName


@dataclass(frozen=True, slots=True)
class Start:
    """The daemon starts (again): a new incarnation."""

    node: NodeName


@dataclass(frozen=True, slots=True)
class Freeze:
    """The machine hangs (kernel hang, SIGSTOP) until ``until_ms``: silent, services kept."""

    node: NodeName
    until_ms: int | None  # None: until the end


@dataclass(frozen=True, slots=True)
class Partition:
    """The network splits into ``groups`` (on ``links`` only, if given) until ``until_ms``."""

    groups: tuple[tuple[NodeName, ...], ...]
    links: tuple[str, ...] | None
    until_ms: int | None


@dataclass(frozen=True, slots=True)
class Heal:
    """Every partition ends."""


@dataclass(frozen=True, slots=True)
class FailResource:
    """The resource's service dies (its next monitor fails), where it runs or on ``node``."""

    resource: ResourceId
    node: NodeName | None


@dataclass(frozen=True, slots=True)
class FenceFault:
    """Fence device ``device``'s agent fails every run (``fails``), or each run takes
    ``op_ms``, until ``until_ms`` (None: to the end)."""

    device: str
    fails: bool
    op_ms: int | None
    until_ms: int | None


@dataclass(frozen=True, slots=True)
class Standby:
    """``vigil standby NODE``."""

    node: NodeName


@dataclass(frozen=True, slots=True)
class Online:
    """``vigil online NODE``."""

    node: NodeName


Action = (Crash | Stop | Start | Freeze | Partition | Heal | FailResource | FenceFault
          | Standby | Online)


@dataclass(frozen=True, slots=True)
class Step:
    at_ms: int
    action: Action
    text: str  # as written
    line: int | None


@dataclass(frozen=True, slots=True)
class Scenario:
    description: str
    steps: tuple[Step, ...]  # in time order (ties: as written)
    end_ms: int | None  # None: the last step plus a settling time
    source: Path | None = None


class ScenarioError(ValueError):
    """Every problem of a scenario file, one ``FILE:LINE: error: ...`` line each."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = tuple(problems)


#: The verbs and what they take, for the hint of an unknown step.
VERBS = {
    "crash": "crash NODE at T (power off, kernel panic)",
    "stop": "stop NODE at T (clean stop: resources handed over)",
    "start": "start NODE at T", "restart": "restart NODE at T",
    "freeze": "freeze NODE at T [until T2] (hung kernel: silent, services kept)",
    "partition": "partition [node1] [node2,node3] [on LINK,...] at T [until T2]",
    "isolate": "isolate NODE [on LINK,...] at T [until T2] (its cable pulled)",
    "heal": "heal at T",
    "fail": "fail monitor of RESOURCE [on NODE] at T, or fail fence DEVICE at T [until T2]",
    "slow": "slow fence DEVICE DURATION at T [until T2] (each agent run takes DURATION)",
    "standby": "standby NODE at T", "online": "online NODE at T",
}
_TIME = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m)$")
_STEP = re.compile(r"^(?P<what>.*?)(?: on (?P<on>\S+))? at (?P<at>\S+)(?: until (?P<until>\S+))?$")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000}


def parse_time(text: str) -> int:
    """``500ms``, ``5s``, ``1.5s``, ``2m`` as milliseconds; ValueError otherwise."""
    m = _TIME.match(text.strip())
    if m is None:
        raise ValueError(f"bad time {text!r}: write 500ms, 5s, 1.5s or 2m")
    return round(float(m.group(1)) * _UNIT_MS[m.group(2)])


def parse_scenario(text: str, source: Path | None = None) -> Scenario:
    """TEXT (a scenario file) as a ``Scenario``; ``ScenarioError`` with every problem."""
    name = str(source) if source is not None else "<scenario>"
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError([f"{name}: error: not valid TOML: {e}"]) from None
    problems: list[str] = []
    lines = text.splitlines()

    def where(needle: str | None, after: int = 0) -> int | None:
        for i in range(after, len(lines)):
            if needle is not None and needle in lines[i]:
                return i + 1
        return None

    def error(line: int | None, message: str, hint: str | None = None) -> None:
        at = f"{name}:{line}" if line is not None else name
        problems.append(f"{at}: error: {message}" + (f"\n  hint: {hint}" if hint else ""))

    for key in doc:
        if key not in ("description", "end", "timeline"):
            error(where(key), f"unknown key {key!r}", "keys: description, end, timeline")
    description = doc.get("description", "")
    if not isinstance(description, str):
        error(where("description"), "description must be a string")
        description = ""
    end_ms: int | None = None
    if "end" in doc:
        try:
            end_ms = parse_time(str(doc["end"]))
        except ValueError as e:
            error(where("end"), f"end: {e}")
    raw = doc.get("timeline")
    if not isinstance(raw, list) or not raw:
        error(where("timeline"), "no timeline: nothing would happen",
              'timeline = ["crash node2 at 5s", "start node2 at 15s"]')
        raw = []
    steps: list[Step] = []
    last_line = 0
    for item in raw:
        if not isinstance(item, str):
            error(where("timeline"), f"timeline entries are strings, not {item!r}",
                  '"crash node2 at 5s"')
            continue
        line = where(item, last_line)
        last_line = line or last_line
        try:
            steps.append(_step(" ".join(item.split()), line))
        except ValueError as e:
            hint = None if not e.args[1:] else str(e.args[1])
            error(line, f"{item!r}: {e.args[0]}", hint)
    if end_ms is not None and steps and end_ms < max(s.at_ms for s in steps):
        error(where("end"), f"end ({end_ms} ms) comes before the last step",
              "remove end, or make it later")
    if problems:
        raise ScenarioError(problems)
    ordered = sorted(steps, key=lambda s: s.at_ms)  # stable: ties stay as written
    return Scenario(description, tuple(ordered), end_ms, source)


def _step(text: str, line: int | None) -> Step:
    m = _STEP.match(text)
    if m is None:
        raise ValueError("a step says when: '... at TIME'", 'e.g. "crash node2 at 5s"')
    at = parse_time(m.group("at"))
    until = parse_time(m.group("until")) if m.group("until") else None
    if until is not None and until <= at:
        raise ValueError(f"until ({until} ms) is not after at ({at} ms)")
    words = m.group("what").split(" ")
    verb, args = words[0], words[1:]
    on = m.group("on")
    action = _action(verb, args, on, until)
    if until is not None and not isinstance(action, Partition | Freeze | FenceFault):
        raise ValueError(f"{verb} takes no 'until'", VERBS.get(verb))
    return Step(at, action, text, line)


def _one_node(verb: str, args: list[str]) -> NodeName:
    if len(args) != 1:
        raise ValueError(f"{verb} takes one node", VERBS[verb])
    return NodeName(args[0])


def _action(verb: str, args: list[str], on: str | None, until: int | None) -> Action:
    if verb not in VERBS:
        raise ValueError(f"unknown step {verb!r}", "steps: " + "; ".join(VERBS.values()))
    if on is not None and verb not in ("partition", "isolate", "fail"):
        raise ValueError(f"{verb} takes no 'on'", VERBS[verb])
    if verb == "crash":
        return Crash(_one_node(verb, args))
    if verb == "stop":
        return Stop(_one_node(verb, args))
    if verb in ("start", "restart"):
        return Start(_one_node(verb, args))
    if verb == "freeze":
        return Freeze(_one_node(verb, args), until)
    if verb == "standby":
        return Standby(_one_node(verb, args))
    if verb == "online":
        return Online(_one_node(verb, args))
    links = tuple(on.split(",")) if on is not None and verb != "fail" else None
    if verb == "heal":
        if args:
            raise ValueError("heal takes nothing but the time", VERBS[verb])
        return Heal()
    if verb == "isolate":
        # The rest of the cluster is filled in by ``check`` (it knows the nodes).
        return Partition(((_one_node(verb, args),),), links, until)
    if verb == "partition":
        groups = _groups(" ".join(args))
        return Partition(groups, links, until)
    if verb == "slow" or args[:1] == ["fence"]:
        return _fence_fault(verb, args, on, until)
    # fail [monitor of] RESOURCE [on NODE]
    if args[:2] == ["monitor", "of"]:
        args = args[2:]
    if len(args) != 1:
        raise ValueError("fail takes one resource", VERBS[verb])
    return FailResource(ResourceId(args[0]), NodeName(on) if on is not None else None)


def _fence_fault(verb: str, args: list[str], on: str | None, until: int | None) -> FenceFault:
    """``fail fence DEVICE`` or ``slow fence DEVICE DURATION``."""
    wanted = 3 if verb == "slow" else 2
    if on is not None or len(args) != wanted or args[0] != "fence":
        raise ValueError(f"{verb} fence takes a device" + (" and a duration" if wanted == 3
                                                         else ""), VERBS[verb])
    op_ms = parse_time(args[2]) if verb == "slow" else None
    return FenceFault(args[1], verb == "fail", op_ms, until)


def _groups(text: str) -> tuple[tuple[NodeName, ...], ...]:
    groups = re.findall(r"\[([^\]]*)\]", text)
    rest = re.sub(r"\[[^\]]*\]", "", text).strip()
    if rest or len(groups) < 2:
        raise ValueError("a partition names two or more groups in brackets",
                         VERBS["partition"])
    return tuple(tuple(NodeName(n.strip()) for n in g.split(",") if n.strip())
                 for g in groups)


def check(scenario: Scenario, config: ClusterConfig) -> Scenario:
    """SCENARIO with its names checked against CONFIG (and ``isolate`` completed)."""
    nodes, rids = set(config.node_names), {r.id for r in config.resources}
    links = {link.name for link in config.links}
    name = str(scenario.source) if scenario.source is not None else "<scenario>"
    problems: list[str] = []
    steps: list[Step] = []

    def bad(step: Step, message: str, hint: str) -> None:
        at = f"{name}:{step.line}" if step.line is not None else name
        problems.append(f"{at}: error: {step.text!r}: {message}\n  hint: {hint}")

    for written in scenario.steps:
        step, a = written, written.action
        named = [a.node] if isinstance(a, Crash | Stop | Start | Freeze | Standby | Online) \
            else [n for g in a.groups for n in g] if isinstance(a, Partition) \
            else [a.node] if isinstance(a, FailResource) and a.node is not None else []
        for n in named:
            if n not in nodes:
                bad(step, f"no node {n!r} in the configuration",
                    f"nodes: {', '.join(config.node_names)}")
        devices = [d.name for d in config.fencing.devices]
        if isinstance(a, FenceFault) and a.device not in devices:
            bad(step, f"no fence device {a.device!r} in the configuration",
                f"fence devices: {', '.join(devices) or '(none: add a [[fence_device]])'}")
        if isinstance(a, FailResource) and a.resource not in rids:
            bad(step, f"no resource {a.resource!r} in the configuration",
                f"resources: {', '.join(r.id for r in config.resources) or '(none)'}")
        if isinstance(a, Partition):
            for link in a.links or ():
                if link not in links:
                    bad(step, f"no link {link!r} in the configuration",
                        f"links: {', '.join(sorted(links))}")
            if len(a.groups) == 1:  # isolate NODE: against everyone else
                rest = tuple(n for n in config.node_names if n not in a.groups[0])
                a = Partition((a.groups[0], rest), a.links, a.until_ms)
                step = Step(step.at_ms, a, step.text, step.line)
            seen = [n for g in a.groups for n in g]
            if len(seen) != len(set(seen)):
                bad(step, "a node is in two groups", "each node in one group")
        steps.append(step)
    if problems:
        raise ScenarioError(problems)
    return Scenario(scenario.description, tuple(steps), scenario.end_ms, scenario.source)
