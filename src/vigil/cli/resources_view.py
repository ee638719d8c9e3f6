"""The resources part of ``vigil status``: groups and resources, where, how, and why.

Reads the ``resources`` and ``warnings`` of the status document
(docs/status.md) as ``crm_mon`` shows them: each group with its node and state,
then its members with their state, failure count and the placement reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Doc = Mapping[str, Any]

STATE_STYLE = {"running": "green", "stopped": "dim", "failed": "bold red",
               "blocked": "bold red", "starting": "yellow", "stopping": "yellow",
               "probing": "yellow", "unknown": "dim"}


def units(doc: Doc) -> list[tuple[str | None, list[Doc]]]:
    """(group id or None, members) in the order the status lists resources."""
    out: list[tuple[str | None, list[Doc]]] = []
    for r in doc.get("resources") or []:
        group = r.get("group")
        if group is not None and out and out[-1][0] == group:
            out[-1][1].append(r)
        else:
            out.append((group, [r]))
    return out


def group_summary(members: Sequence[Doc]) -> tuple[str, str]:
    """A group's node and state: where its members are, and whether all run."""
    nodes = sorted({str(m.get("node")) for m in members if m.get("node")})
    states = {str(m.get("state")) for m in members}
    state = next(iter(states)) if len(states) == 1 else "partial"
    return (",".join(nodes) or "-"), state


def resource_lines(doc: Doc) -> list[str]:
    """Plain text lines (stable enough to grep, not a parse format)."""
    if "resources" not in doc:
        return []
    lines = ["", "Resources:"]
    every = doc.get("resources") or []
    if not every:
        lines.append("  (none configured)")
    width = max((len(str(r.get("id"))) for r in every), default=4)
    for group, members in units(doc):
        indent = "  "
        if group is not None:
            node, state = group_summary(members)
            lines.append(f"  group {group}: {state} on {node}")
            indent = "    "
        for r in members:
            lines.append(f"{indent}{r.get('id')!s:<{width}}  {r.get('node') or '-':<8} "
                         f"{r.get('state')!s:<9} failcount {r.get('failcount', 0)}  "
                         f"{r.get('reason') or ''}".rstrip())
    for warning in doc.get("warnings") or []:
        lines.append(f"WARNING: {warning}")
    return lines


def show_rich(doc: Doc, console: Any) -> None:
    """The same as a rich table with colours (on a terminal)."""
    from rich.table import Table
    from rich.text import Text

    if "resources" not in doc:
        return
    table = Table(title="Resources", title_justify="left", box=None, pad_edge=False)
    for col in ("resource", "node", "state", "failcount", "reason"):
        table.add_column(col, justify="right" if col == "failcount" else "left")
    for group, members in units(doc):
        if group is not None:
            node, state = group_summary(members)
            table.add_row(Text(f"group {group}", style="bold"), node,
                          Text(state, style=STATE_STYLE.get(state, "")), "", "")
        for r in members:
            state = str(r.get("state"))
            fails = int(r.get("failcount") or 0)
            table.add_row(("  " if group is not None else "") + str(r.get("id")),
                          str(r.get("node") or "-"), Text(state, style=STATE_STYLE.get(state, "")),
                          Text(str(fails), style="bold red" if fails else ""),
                          str(r.get("reason") or ""))
    console.print(table)
    for warning in doc.get("warnings") or []:
        console.print(f"WARNING: {warning}", style="bold yellow")
