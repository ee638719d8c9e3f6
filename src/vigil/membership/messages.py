"""The bodies of the messages membership sends: heartbeat and leave.

Rules of this file:
- The wire layer carries the envelope (sender, incarnation, sequence number,
  kind) and signs it; these are only the bodies, as JSON-compatible mappings.
- ``from_body`` validates everything and raises ``MalformedBody`` (a
  ``ValueError``) for anything it cannot use, so the daemon can count it and
  drop the message. Keys it does not know are ignored: a newer peer may add some.
- ``to_body`` and ``from_body`` are exact inverses for every valid body.

Heartbeat body::

    {"view": {"node1": 4, "node2": 7}, "dc": "node1", "quorate": true,
     "digest": "…", "leaving": false}

Leave body::

    {"reason": "stopped by SIGTERM"}
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from vigil.config import NodeName
from vigil.membership.view import View, ViewMember

#: Node names and digests longer than this are refused (a name is a hostname).
MAX_TEXT = 255
#: Incarnations are unsigned 63-bit counters.
MAX_INCARNATION = 2**63 - 1
#: A view larger than this cannot come from a cluster we support.
MAX_MEMBERS = 256


class MalformedBody(ValueError):  # noqa: N818 - the daemon counts it by this name
    """A message body that does not say what its kind requires."""


class MessageKind(enum.Enum):
    """The envelope ``kind`` of each membership message."""

    HEARTBEAT = "heartbeat"
    LEAVE = "leave"


def _field(body: Mapping[str, object], key: str) -> object:
    if not isinstance(body, Mapping):
        raise MalformedBody(f"body is a {type(body).__name__}, not a mapping")
    if key not in body:
        raise MalformedBody(f"body has no {key!r}")
    return body[key]


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise MalformedBody(f"{what} is a {type(value).__name__}, not a string")
    if len(value) > MAX_TEXT:
        raise MalformedBody(f"{what} is longer than {MAX_TEXT} characters")
    return value


def _name(value: object, what: str) -> NodeName:
    text = _text(value, what)
    if not text:
        raise MalformedBody(f"{what} is empty")
    return NodeName(text)


def _flag(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise MalformedBody(f"{what} is a {type(value).__name__}, not true/false")
    return value


def _incarnation(value: object, what: str) -> int:
    # bool is an int in Python; a JSON true is not an incarnation.
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedBody(f"{what} is a {type(value).__name__}, not an integer")
    if not 0 <= value <= MAX_INCARNATION:
        raise MalformedBody(f"{what} {value} is out of range")
    return value


@dataclass(frozen=True, slots=True)
class HeartbeatBody:
    """What a node says every keepalive: whom it sees, its DC, quorum, config, leaving."""

    view: View
    dc: NodeName | None
    quorate: bool
    config_digest: str
    leaving: bool = False

    def to_body(self) -> dict[str, object]:
        return {
            "view": {m.node: m.incarnation for m in sorted(self.view.members)},
            "dc": self.dc,
            "quorate": self.quorate,
            "digest": self.config_digest,
            "leaving": self.leaving,
        }

    @classmethod
    def from_body(cls, body: Mapping[str, object]) -> HeartbeatBody:
        raw_view = _field(body, "view")
        if not isinstance(raw_view, Mapping):
            raise MalformedBody(f"view is a {type(raw_view).__name__}, not a mapping")
        if len(raw_view) > MAX_MEMBERS:
            raise MalformedBody(f"view has more than {MAX_MEMBERS} members")
        members = [
            ViewMember(_name(name, "a view member"), _incarnation(inc, f"incarnation of {name}"))
            for name, inc in raw_view.items()
        ]
        raw_dc = _field(body, "dc")
        return cls(
            view=View.of(members),
            dc=None if raw_dc is None else _name(raw_dc, "dc"),
            quorate=_flag(_field(body, "quorate"), "quorate"),
            config_digest=_text(_field(body, "digest"), "digest"),
            leaving=_flag(_field(body, "leaving"), "leaving"),
        )


@dataclass(frozen=True, slots=True)
class LeaveBody:
    """What a node says when it stops cleanly, so peers need not wait for deadtime."""

    reason: str

    def to_body(self) -> dict[str, object]:
        return {"reason": self.reason}

    @classmethod
    def from_body(cls, body: Mapping[str, object]) -> LeaveBody:
        return cls(reason=_text(_field(body, "reason"), "reason"))


Body = HeartbeatBody | LeaveBody


def parse_body(kind: MessageKind, body: Mapping[str, object]) -> Body:
    """The body of a message of KIND; ``MalformedBody`` when it is not one."""
    if kind is MessageKind.HEARTBEAT:
        return HeartbeatBody.from_body(body)
    return LeaveBody.from_body(body)
