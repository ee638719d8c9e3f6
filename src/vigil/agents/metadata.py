"""An agent's self-description: parameters, actions and their default timeouts.

OCF agents print it as XML (``meta-data``, the ``ra-api-1.dtd`` shape); it is
parsed here with the standard library. The other classes build the same
object from what they know (an LSB header, a Python declaration).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

#: Pacemaker's default operation timeout when neither configuration nor agent says.
DEFAULT_TIMEOUT_MS = 20_000

_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$", re.IGNORECASE)
_UNIT_MS = {"": 1000, "s": 1000, "sec": 1000, "secs": 1000, "ms": 1, "msec": 1, "msecs": 1,
            "m": 60_000, "min": 60_000, "mins": 60_000, "h": 3_600_000, "hr": 3_600_000}


class MetadataError(ValueError):
    """The agent's meta-data is not the XML OCF describes."""


def parse_duration_ms(text: str) -> int:
    """``20s`` -> 20000, ``100ms`` -> 100, ``1m`` -> 60000; bare numbers are seconds (OCF)."""
    m = _DURATION_RE.match(text)
    if m is None or m.group(2).lower() not in _UNIT_MS:
        raise ValueError(f"not a duration: {text!r} (write e.g. 20s, 500ms, 1min)")
    return round(float(m.group(1)) * _UNIT_MS[m.group(2).lower()])


@dataclass(frozen=True, slots=True)
class ParameterInfo:
    name: str
    shortdesc: str = ""
    longdesc: str = ""
    type: str = "string"
    default: str | None = None
    required: bool = False
    unique: bool = False


@dataclass(frozen=True, slots=True)
class ActionInfo:
    name: str
    timeout_ms: int | None = None
    interval_ms: int | None = None
    depth: int | None = None


@dataclass(frozen=True, slots=True)
class AgentMetadata:
    name: str
    shortdesc: str = ""
    longdesc: str = ""
    version: str = ""
    parameters: tuple[ParameterInfo, ...] = ()
    actions: tuple[ActionInfo, ...] = ()

    def action(self, name: str) -> ActionInfo | None:
        """The first declaration of NAME (for monitor: the first interval)."""
        for a in self.actions:
            if a.name == name:
                return a
        return None

    def default_timeout_ms(self, action: str) -> int:
        """The agent's advised timeout for ACTION, else Pacemaker's 20 s."""
        a = self.action(action)
        if a is None and action == "status":
            a = self.action("monitor")
        if a is not None and a.timeout_ms is not None:
            return a.timeout_ms
        return DEFAULT_TIMEOUT_MS

    def has_action(self, name: str) -> bool:
        return self.action(name) is not None


def _text(el: ET.Element | None) -> str:
    if el is None or el.text is None:
        return ""
    return " ".join(el.text.split())


def _duration_attr(el: ET.Element, attr: str) -> int | None:
    raw = el.get(attr)
    if raw is None or not raw.strip():
        return None
    try:
        return parse_duration_ms(raw)
    except ValueError:
        return None  # agents in the wild write odd values; ignore rather than refuse


def parse_ocf_metadata(xml_text: str) -> AgentMetadata:
    """Parse an OCF agent's ``meta-data`` output; raises ``MetadataError``."""
    # Output arrives with stderr merged in: keep the document only.
    start, end = xml_text.find("<?xml"), xml_text.rfind("</resource-agent>")
    if start < 0:
        start = xml_text.find("<resource-agent")
    if start >= 0 and end > start:
        xml_text = xml_text[start:end + len("</resource-agent>")]
    try:
        root = ET.fromstring(xml_text.strip())
    except ET.ParseError as e:
        raise MetadataError(f"meta-data is not well-formed XML: {e}") from None
    if root.tag != "resource-agent":
        raise MetadataError(f"meta-data root is <{root.tag}>, expected <resource-agent>")
    params: list[ParameterInfo] = []
    for p in root.iterfind("parameters/parameter"):
        name = p.get("name")
        if not name:
            continue
        content = p.find("content")
        params.append(ParameterInfo(
            name=name,
            shortdesc=_text(p.find("shortdesc")),
            longdesc=_text(p.find("longdesc")),
            type=content.get("type", "string") if content is not None else "string",
            default=content.get("default") if content is not None else None,
            required=p.get("required") in ("1", "true", "yes"),
            unique=p.get("unique") in ("1", "true", "yes"),
        ))
    actions: list[ActionInfo] = []
    for a in root.iterfind("actions/action"):
        name = a.get("name")
        if not name:
            continue
        depth = a.get("depth")
        actions.append(ActionInfo(
            name=name,
            timeout_ms=_duration_attr(a, "timeout"),
            interval_ms=_duration_attr(a, "interval"),
            depth=int(depth) if depth is not None and depth.isdigit() else None,
        ))
    return AgentMetadata(
        name=root.get("name", ""),
        shortdesc=_text(root.find("shortdesc")),
        longdesc=_text(root.find("longdesc")),
        version=root.get("version") or _text(root.find("version")),
        parameters=tuple(params),
        actions=tuple(actions),
    )
