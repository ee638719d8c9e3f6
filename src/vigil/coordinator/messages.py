"""The bodies of the coordinator's messages: report, actions, admin.

Rules of this file:
- The wire carries the envelope (sender, incarnation, sequence number, kind)
  and signs it; these are only the bodies, as JSON-compatible mappings.
- The protocol is state-based over unreliable UDP: nothing is "sent once".
  A ``report`` is a node's whole state, sent at once on a change, repeated
  on the next slots and then every ``machine.REPORT_REFRESH`` keepalives,
  and at once again when a
  repeated ``actions`` or ``admin`` shows a peer missed it; ``actions`` are
  the DC's pending actions for one node, repeated every keepalive until
  that node's report confirms them; an ``admin`` request is repeated until
  the settings in the DC's report show it applied. A lost, duplicated or
  reordered datagram costs at most a keepalive, never a decision.
- ``from_body`` validates everything and raises ``MalformedBody`` (a
  ``ValueError``) for anything it cannot use; unknown keys are ignored (a newer
  peer may add some); ``to_body``/``from_body`` are exact inverses.
- Bounded: every map and list holds at most ``MAX_ENTRIES`` entries and every
  name at most ``MAX_TEXT`` characters. A body must fit one datagram after
  compression (``vigil.wire.MAX_DATAGRAM``, 65,507 bytes): a report lists only
  the resources that are not stopped, so about 2,000 active resources per node
  fit uncompressed and several times more with zlib, which the daemon turns on
  for coordinator messages. Reasons are cut to ``MAX_REASON`` characters.

Report body (``kind = "report"``)::

    {"seq": 41, "view": {"node1": 7, "node2": 5}, "probed": true, "leaving": false,
     "at_risk": false, "connectivity": 200,               # pingd's score
     "resources": {"vip": "running", "db": "blocked"},   # not listed: stopped
     "busy": {"web": "start"},                           # operations in flight
     "failures": {"db": [1, 5300]},                      # [count, age of the last, ms]
     "tx": {"dc": "node1", "inc": 7, "tid": 3, "done": {"0": "ok", "2": "failed"}},
     "admin": {"version": [4, "node1"], "standby": ["node3"], "moves": {"web": "node2"},
               "cleanups": {"db": 3}, "cleanup_floor": 0, "applied": {"node2": [5, 1]}},
     "origins": {"vip": {"quorate": false, "fenced": false}}}  # optional: copies that
                                          # lost quorum or followed a fence (issue 10)

Actions body (``kind = "actions"``, from the DC; only ``node`` in incarnation
``inc`` acts on it; no actions: "transition 3 replaces every older one")::

    {"node": "node2", "inc": 5, "tid": 3,
     "actions": [{"id": 2, "op": "start", "rid": "web", "reason": "Start web on node2: …"}]}
    # an action may add "fenced": true: a start decided after this side fenced a node

Admin body (``kind = "admin"``, to the DC)::

    {"req": [5, 1], "command": "move", "node": "node2", "target": "web-group"}

Events query (``kind = "events-query"``, to the DC) and answer (``kind = "events"``,
from the DC, only ``node`` reads it); ages are milliseconds before the send::

    {"req": 3}
    {"node": "node2", "req": 3, "entries": [{"seq": 41, "age_ms": 1200,
      "kind": "decision", "resource": "web", "text": "Move web from node1 to node2: …"}]}
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeVar

from vigil.config import NodeName, ResourceId
from vigil.coordinator.admin import (
    AdminCommand,
    AdminError,
    AdminSettings,
    CommandKind,
    RequestId,
    Version,
)
from vigil.coordinator.eventlog import EventKind
from vigil.coordinator.states import ActionResult, LocalState, OpKind
from vigil.policy import CopyOrigin

MAX_TEXT = 255
MAX_REASON = 1000
MAX_ENTRIES = 20_000
MAX_COUNTER = 2**63 - 1

_E = TypeVar("_E", bound=enum.Enum)
_K = TypeVar("_K")
_V = TypeVar("_V")


class MalformedBody(ValueError):  # noqa: N818 - counted by this name, as membership's
    """A coordinator message body that does not say what its kind requires."""


class MessageKind(enum.Enum):
    """The envelope ``kind`` of each coordinator message."""

    REPORT = "report"
    ACTIONS = "actions"
    ADMIN = "admin"
    EVENTS_QUERY = "events-query"
    EVENTS = "events"


# -- validation helpers ---------------------------------------------------------


def _map(value: object, what: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise MalformedBody(f"{what} is a {type(value).__name__}, not a mapping")
    if len(value) > MAX_ENTRIES:
        raise MalformedBody(f"{what} has more than {MAX_ENTRIES} entries")
    return value


def _list(value: object, what: str) -> list[object]:
    if not isinstance(value, list | tuple):
        raise MalformedBody(f"{what} is a {type(value).__name__}, not a list")
    if len(value) > MAX_ENTRIES:
        raise MalformedBody(f"{what} has more than {MAX_ENTRIES} entries")
    return list(value)


def _get(body: Mapping[str, object], key: str) -> object:
    if not isinstance(body, Mapping):
        raise MalformedBody(f"body is a {type(body).__name__}, not a mapping")
    if key not in body:
        raise MalformedBody(f"body has no {key!r}")
    return body[key]


def _text(value: object, what: str, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str):
        raise MalformedBody(f"{what} is a {type(value).__name__}, not a string")
    if len(value) > limit:
        raise MalformedBody(f"{what} is longer than {limit} characters")
    return value


def _name(value: object, what: str) -> str:
    text = _text(value, what)
    if not text:
        raise MalformedBody(f"{what} is empty")
    return text


def _int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedBody(f"{what} is a {type(value).__name__}, not an integer")
    if not 0 <= value <= MAX_COUNTER:
        raise MalformedBody(f"{what} {value} is out of range")
    return value


def _flag(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise MalformedBody(f"{what} is a {type(value).__name__}, not true/false")
    return value


def _enum(cls: type[_E], value: object, what: str) -> _E:
    try:
        return cls(_text(value, what))
    except ValueError:
        known = ", ".join(str(m.value) for m in cls)
        raise MalformedBody(f"{what} {value!r} is not one of {known}") from None


def _pair(value: object, what: str) -> tuple[int, int]:
    items = _list(value, what)
    if len(items) != 2:
        raise MalformedBody(f"{what} must be a pair")
    return _int(items[0], what), _int(items[1], what)


def _frozen(mapping: Mapping[_K, _V]) -> Mapping[_K, _V]:
    return MappingProxyType(dict(mapping))


def cut(reason: str) -> str:
    """REASON cut to what a message carries."""
    return reason if len(reason) <= MAX_REASON else reason[: MAX_REASON - 1] + "…"


# -- admin settings ---------------------------------------------------------------


def settings_to_body(s: AdminSettings) -> dict[str, object]:
    return {
        "version": [s.version.counter, s.version.writer],
        "standby": sorted(s.standby),
        "moves": dict(sorted(s.moves.items())),
        "cleanups": dict(sorted(s.cleanups.items())),
        "cleanup_floor": s.cleanup_floor,
        "applied": {n: list(r) for n, r in sorted(s.applied.items())},
    }


def settings_from_body(body: object) -> AdminSettings:
    raw = _map(body, "admin")
    version = _list(_get(raw, "version"), "admin version")
    if len(version) != 2:
        raise MalformedBody("admin version must be [counter, writer]")
    standby = frozenset(NodeName(_name(n, "a standby node"))
                        for n in _list(_get(raw, "standby"), "standby"))
    moves = {_name(t, "a move target"): NodeName(_name(n, f"node of the move of {t}"))
             for t, n in _map(_get(raw, "moves"), "moves").items()}
    cleanups = {ResourceId(_name(r, "a cleanup")): _int(v, f"cleanup version of {r}")
                for r, v in _map(_get(raw, "cleanups"), "cleanups").items()}
    applied = {NodeName(_name(n, "an origin")): _pair(r, f"request applied for {n}")
               for n, r in _map(_get(raw, "applied"), "applied").items()}
    return AdminSettings(
        version=Version(_int(version[0], "admin version"),
                        _text(version[1], "admin version writer")),
        standby=standby,
        moves=_frozen(moves),
        cleanups=_frozen(cleanups),
        cleanup_floor=_int(_get(raw, "cleanup_floor"), "cleanup_floor"),
        applied=_frozen(applied),
    )


# -- report -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TxResults:
    """The results this node has for the newest DC transition it was sent actions of."""

    dc: NodeName
    incarnation: int
    tid: int
    done: Mapping[int, ActionResult] = field(default_factory=dict)

    @property
    def key(self) -> tuple[NodeName, int, int]:
        return (self.dc, self.incarnation, self.tid)


@dataclass(frozen=True, slots=True)
class ReportBody:
    """A node's whole resource state: see the file's docstring."""

    seq: int
    view: Mapping[NodeName, int]  # the sender's membership view: node -> incarnation
    probed: bool
    leaving: bool
    at_risk: bool
    connectivity: int  # the ping nodes' score (multiplier × reachable), 0 without any
    resources: Mapping[ResourceId, LocalState]  # never STOPPED: not listed means stopped
    busy: Mapping[ResourceId, OpKind]
    failures: Mapping[ResourceId, tuple[int, int]]  # rid -> (count, age of the last ms)
    tx: TxResults | None
    admin: AdminSettings
    #: Active copies that lost quorum or were started after a fence (issue 10's heal
    #: rule); a copy not listed kept quorum and followed no fence.
    origins: Mapping[ResourceId, CopyOrigin] = field(default_factory=dict)

    def state_of(self, rid: str) -> LocalState:
        return self.resources.get(ResourceId(rid), LocalState.STOPPED)

    def to_body(self) -> dict[str, object]:
        tx: dict[str, object] | None = None
        if self.tx is not None:
            tx = {"dc": self.tx.dc, "inc": self.tx.incarnation, "tid": self.tx.tid,
                  "done": {str(a): r.value for a, r in sorted(self.tx.done.items())}}
        return {
            "seq": self.seq,
            "view": dict(sorted(self.view.items())),
            "probed": self.probed,
            "leaving": self.leaving,
            "at_risk": self.at_risk,
            "connectivity": self.connectivity,
            "resources": {r: s.value for r, s in sorted(self.resources.items())},
            "busy": {r: k.value for r, k in sorted(self.busy.items())},
            "failures": {r: list(f) for r, f in sorted(self.failures.items())},
            "tx": tx,
            "admin": settings_to_body(self.admin),
            "origins": {r: {"quorate": o.quorate, "fenced": o.fenced}
                        for r, o in sorted(self.origins.items())},
        }

    @classmethod
    def from_body(cls, body: Mapping[str, object]) -> ReportBody:
        resources: dict[ResourceId, LocalState] = {}
        for rid, raw in _map(_get(body, "resources"), "resources").items():
            state = _enum(LocalState, raw, f"state of {rid}")
            if state is LocalState.STOPPED:
                raise MalformedBody(f"{rid} is listed as stopped: stopped ones are not listed")
            resources[ResourceId(_name(rid, "a resource"))] = state
        busy = {ResourceId(_name(r, "a busy resource")): _enum(OpKind, k, f"operation on {r}")
                for r, k in _map(_get(body, "busy"), "busy").items()}
        failures = {ResourceId(_name(r, "a failed resource")): _pair(f, f"failures of {r}")
                    for r, f in _map(_get(body, "failures"), "failures").items()}
        raw_tx = _get(body, "tx")
        tx: TxResults | None = None
        if raw_tx is not None:
            t = _map(raw_tx, "tx")
            done: dict[int, ActionResult] = {}
            for aid, result in _map(_get(t, "done"), "tx done").items():
                if not isinstance(aid, str) or not aid.isdigit() or len(aid) > 12:
                    raise MalformedBody(f"action id {aid!r} is not a number")
                done[int(aid)] = _enum(ActionResult, result, f"result of action {aid}")
            tx = TxResults(NodeName(_name(_get(t, "dc"), "tx dc")), _int(_get(t, "inc"), "tx inc"),
                           _int(_get(t, "tid"), "tx tid"), _frozen(done))
        view = {NodeName(_name(n, "a view member")): _int(i, f"incarnation of {n}")
                for n, i in _map(_get(body, "view"), "view").items()}
        return cls(
            seq=_int(_get(body, "seq"), "seq"),
            view=_frozen(view),
            probed=_flag(_get(body, "probed"), "probed"),
            leaving=_flag(_get(body, "leaving"), "leaving"),
            at_risk=_flag(_get(body, "at_risk"), "at_risk"),
            connectivity=_int(_get(body, "connectivity"), "connectivity"),
            resources=_frozen(resources),
            busy=_frozen(busy),
            failures=_frozen(failures),
            tx=tx,
            admin=settings_from_body(_get(body, "admin")),
            origins=_origins(body.get("origins", {})),
        )


def _origins(raw: object) -> Mapping[ResourceId, CopyOrigin]:
    origins: dict[ResourceId, CopyOrigin] = {}
    for rid, o in _map(raw, "origins").items():
        entry = _map(o, f"origin of {rid}")
        origins[ResourceId(_name(rid, "a resource"))] = CopyOrigin(
            quorate=_flag(_get(entry, "quorate"), f"quorate of {rid}"),
            fenced=_flag(_get(entry, "fenced"), f"fenced of {rid}"))
    return _frozen(origins)


# -- actions ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ActionRequest:
    """One action of a DC transition for the receiving node."""

    id: int
    op: OpKind
    resource: ResourceId
    reason: str
    fenced: bool = False  # a start decided after the DC's side fenced a node (issue 10)

    def __post_init__(self) -> None:
        if self.op is OpKind.MONITOR:
            raise MalformedBody("the DC asks for start, stop or probe; monitors are local")


@dataclass(frozen=True, slots=True)
class ActionsBody:
    """The DC's pending actions of transition TID for NODE in INCARNATION.

    Without actions it is a barrier: the node drops what it holds or queued of
    older transitions and reports TID, so nothing older can run there any more.
    """

    node: NodeName
    incarnation: int
    tid: int
    actions: tuple[ActionRequest, ...]

    def to_body(self) -> dict[str, object]:
        return {
            "node": self.node,
            "inc": self.incarnation,
            "tid": self.tid,
            "actions": [{"id": a.id, "op": a.op.value, "rid": a.resource, "reason": a.reason,
                         **({"fenced": True} if a.fenced else {})}
                        for a in self.actions],
        }

    @classmethod
    def from_body(cls, body: Mapping[str, object]) -> ActionsBody:
        actions: list[ActionRequest] = []
        for raw in _list(_get(body, "actions"), "actions"):
            a = _map(raw, "an action")
            actions.append(ActionRequest(
                id=_int(_get(a, "id"), "action id"),
                op=_enum(OpKind, _get(a, "op"), "action op"),
                resource=ResourceId(_name(_get(a, "rid"), "action resource")),
                reason=_text(_get(a, "reason"), "action reason", MAX_REASON),
                fenced=_flag(a.get("fenced", False), "action fenced"),
            ))
        return cls(NodeName(_name(_get(body, "node"), "node")), _int(_get(body, "inc"), "inc"),
                   _int(_get(body, "tid"), "tid"), tuple(actions))


# -- admin requests -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AdminRequestBody:
    """An administrator command on its way to the DC, with its request id."""

    request: RequestId
    command: AdminCommand

    def to_body(self) -> dict[str, object]:
        return {"req": list(self.request), "command": self.command.kind.value,
                "node": self.command.node, "target": self.command.target}

    @classmethod
    def from_body(cls, body: Mapping[str, object]) -> AdminRequestBody:
        raw_node, raw_target = _get(body, "node"), _get(body, "target")
        try:
            command = AdminCommand(
                _enum(CommandKind, _get(body, "command"), "command"),
                None if raw_node is None else NodeName(_name(raw_node, "node")),
                None if raw_target is None else _name(raw_target, "target"))
        except AdminError as e:
            raise MalformedBody(e.message) from None
        return cls(_pair(_get(body, "req"), "req"), command)


# -- events of the DC ------------------------------------------------------------------

#: Entries in one events answer (the newest), and the length of each text in it.
MAX_EVENTS_SENT = 100
MAX_EVENT_TEXT = 400


@dataclass(frozen=True, slots=True)
class EventsQueryBody:
    """A node asks the DC for its newest events (``vigil events``), request REQUEST."""

    request: int

    def to_body(self) -> dict[str, object]:
        return {"req": self.request}

    @classmethod
    def from_body(cls, body: Mapping[str, object]) -> EventsQueryBody:
        return cls(_int(_get(body, "req"), "req"))


@dataclass(frozen=True, slots=True)
class EventEntry:
    """One event of the DC's log, its time as an age (clocks differ between nodes)."""

    seq: int
    age_ms: int
    kind: EventKind
    resource: ResourceId | None
    text: str


@dataclass(frozen=True, slots=True)
class EventsBody:
    """The DC's answer to NODE's events query REQUEST."""

    node: NodeName
    request: int
    entries: tuple[EventEntry, ...]

    def to_body(self) -> dict[str, object]:
        return {"node": self.node, "req": self.request, "entries": [
            {"seq": e.seq, "age_ms": e.age_ms, "kind": e.kind.value, "resource": e.resource,
             "text": e.text} for e in self.entries]}

    @classmethod
    def from_body(cls, body: Mapping[str, object]) -> EventsBody:
        entries: list[EventEntry] = []
        raw_entries = _list(_get(body, "entries"), "entries")
        if len(raw_entries) > MAX_EVENTS_SENT:
            raise MalformedBody(f"entries has more than {MAX_EVENTS_SENT} events")
        for raw in raw_entries:
            e = _map(raw, "an event")
            rid = _get(e, "resource")
            entries.append(EventEntry(
                _int(_get(e, "seq"), "event seq"), _int(_get(e, "age_ms"), "event age"),
                _enum(EventKind, _get(e, "kind"), "event kind"),
                None if rid is None else ResourceId(_name(rid, "event resource")),
                _text(_get(e, "text"), "event text", MAX_EVENT_TEXT)))
        return cls(NodeName(_name(_get(body, "node"), "node")), _int(_get(body, "req"), "req"),
                   tuple(entries))


Body = ReportBody | ActionsBody | AdminRequestBody | EventsQueryBody | EventsBody

_PARSERS: dict[MessageKind, Callable[[Mapping[str, object]], Body]] = {
    MessageKind.REPORT: ReportBody.from_body,
    MessageKind.ACTIONS: ActionsBody.from_body,
    MessageKind.ADMIN: AdminRequestBody.from_body,
    MessageKind.EVENTS_QUERY: EventsQueryBody.from_body,
    MessageKind.EVENTS: EventsBody.from_body,
}


def parse_body(kind: MessageKind, body: Mapping[str, object]) -> Body:
    """The body of a message of KIND; ``MalformedBody`` when it is not one."""
    return _PARSERS[kind](body)
