"""``vigil status``: who is alive, who coordinates, is there quorum (like ``crm_mon``).

Asks the local daemon over the control socket for its status document (the
stable JSON in ``docs/status.md``) and prints it: tables with colour on a
terminal, plain lines otherwise (for scripts, mail and logs), or the JSON
itself with ``--json``. ``--watch N`` repeats every N seconds, as
``crm_mon -i N``, and keeps going while the daemon is away.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from vigil.cli import resources_view
from vigil.cli.control_client import DEFAULT_SOCKET_PATH, request
from vigil.exitcodes import VigilError

Doc = Mapping[str, Any]

_STATE_STYLE = {"up": "green", "late": "yellow", "dead": "bold red", "unknown": "dim"}


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the status document as JSON.")
@click.option("--watch", "watch", type=click.FloatRange(min=0.1), metavar="SECONDS",
              help="Refresh every SECONDS until interrupted (like crm_mon -i).")
@click.option("--socket", "socket_path", type=click.Path(path_type=Path),
              default=DEFAULT_SOCKET_PATH, show_default=True,
              help="The daemon's control socket.")
def status_command(as_json: bool, watch: float | None, socket_path: Path) -> None:
    """Show this node, the DC, quorum, every node and link, and dropped datagrams.

    \b
    Node states: up (heard within warntime), late (not heard for warntime),
    dead (not heard for deadtime, or left the cluster), unknown (never heard).
    Exit status: 0 when the daemon answered, 6 when no daemon answers.
    """
    if watch is None:
        show(request(socket_path, "status"), as_json, tty=sys.stdout.isatty())
        return
    tty = sys.stdout.isatty()
    try:
        while True:
            _show_once_watching(socket_path, as_json, tty, watch)
            time.sleep(watch)
    except KeyboardInterrupt:
        pass


def _show_once_watching(socket_path: Path, as_json: bool, tty: bool, every: float) -> None:
    try:
        doc = request(socket_path, "status")
    except VigilError as e:
        # crm_mon keeps retrying while the cluster is away; so do we.
        if as_json:
            click.echo(json.dumps({"error": e.message}))
        else:
            if tty:
                click.clear()
            click.echo(f"{time.strftime('%H:%M:%S')} {e.message}; retrying every {every:g} s")
        return
    if as_json:
        click.echo(json.dumps(doc, separators=(",", ":")))  # one document per line
        return
    if tty:
        click.clear()
    else:
        click.echo(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')}")
    show(doc, as_json=False, tty=tty)


def show(doc: Doc, as_json: bool, tty: bool) -> None:
    """Print one status document the way the user asked."""
    if as_json:
        click.echo(json.dumps(doc, indent=2))
    elif tty:
        _show_rich(doc)
    else:
        click.echo("\n".join(plain_lines(doc)))


def ago(ms: int | None) -> str:
    """``87 ms``, ``1.2 s``, ``3 min``: how long since a peer was last heard."""
    if ms is None:
        return "never"
    if ms < 1000:
        return f"{ms} ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    if ms < 3_600_000:
        return f"{ms // 60_000} min"
    return f"{ms / 3_600_000:.1f} h"


def _quorum_words(doc: Doc) -> str:
    q = doc.get("quorum") or {}
    have = "with quorum" if doc.get("quorate") else "WITHOUT quorum"
    return f"partition {have} ({q.get('votes', '?')} of {q.get('expected', '?')} votes, " \
           f"{q.get('needed', '?')} needed)"


def _header_lines(doc: Doc) -> list[str]:
    view = doc.get("view") or {}
    members = " ".join(view.get("members", [])) or "-"
    stable = "stable" if view.get("stable") else "not yet agreed"
    return [
        f"Cluster {doc.get('cluster', '?')}: node {doc.get('node')} "
        f"(incarnation {doc.get('incarnation')}), DC {doc.get('dc') or 'none'}",
        f"Quorum: {_quorum_words(doc)}",
        f"View: {members} ({stable})",
    ]


def arbiter_line(doc: Doc) -> str | None:
    """``Arbitrator: vigil at HOST:PORT, lease held by node1 (token 7, ...)``; None without one."""
    a = doc.get("arbiter")
    if not a:
        return None
    where = f"Arbitrator: {a.get('backend')} at {a.get('address')}"
    if a.get("last_error") is not None:
        where += f", UNREACHABLE ({a['last_error']})"
    elif a.get("holder") is None:
        where += ", lease held by nobody" if a.get("reachable") else ", no answer yet"
    else:
        expires = a.get("lease_expires_in_ms")
        where += (f", lease held by {a['holder']} (token {a.get('token')}"
                  + (f", expires in {ago(expires)}" if expires is not None else "") + ")")
    if a.get("vote"):
        until = a.get("vote_deadline_in_ms")
        where += "; its vote counts here" + (f" for {ago(until)} unless renewed"
                                              if until is not None else "")
    else:
        where += "; its vote does not count here"
    return where


def _link_words(node: Doc) -> str:
    words = []
    for link in node.get("links", []):
        words.append(f"{link.get('name')} {link.get('state')} {ago(link.get('last_heard_ms'))} ago"
                     if link.get("last_heard_ms") is not None
                     else f"{link.get('name')} {link.get('state')}")
    return ", ".join(words)


def _node_note(node: Doc) -> str:
    """Why a node is not simply up: it left, or what the daemon says happened."""
    if node.get("self"):
        return "this node"
    if node.get("left"):
        return "left the cluster"
    if node.get("state") != "up" and node.get("reason"):
        return str(node["reason"])
    return ""


def _connectivity_words(doc: Doc, node: Doc) -> str:
    """``connectivity 200`` (``connectivity -`` when unknown); "" without ping nodes."""
    if not (doc.get("connectivity") or {}).get("ping_nodes"):
        return ""
    score = node.get("connectivity")
    return f"connectivity {'-' if score is None else score}"


def _drop_words(doc: Doc) -> str:
    drops = doc.get("drops") or {}
    by_reason = drops.get("by_reason") or {}
    total = drops.get("total", sum(by_reason.values()))
    if not total:
        return "none"
    detail = ", ".join(f"{k} {v}" for k, v in sorted(by_reason.items()) if v)
    return f"{total} ({detail})"


def plain_lines(doc: Doc) -> list[str]:
    """The status as plain text lines: stable enough to grep, not a parse format."""
    lines = _header_lines(doc)
    arbiter = arbiter_line(doc)
    if arbiter is not None:
        lines.append(arbiter)
    lines.append("")
    lines.append("Nodes:")
    nodes = doc.get("nodes", [])
    width = max((len(str(n.get("name"))) for n in nodes), default=4)
    for n in nodes:
        inc = n.get("incarnation")
        parts = [f"  {n.get('name')!s:<{width}}  {n.get('state')!s:<7}",
                 f"incarnation {inc if inc is not None else '-'}"]
        reach = _connectivity_words(doc, n)
        if reach:
            parts.append(reach)
        links = "" if n.get("self") else _link_words(n)
        if links:
            parts.append(links)
        note = _node_note(n)
        if note:
            parts.append(f"({note})")
        lines.append("  ".join(parts))
    lines.append("")
    lines.append("Links:")
    for link in doc.get("links", []):
        lines.append(f"  {link.get('name')}  {link.get('kind')}  {link.get('address') or '-'}  "
                     f"sent {link.get('sent', 0)}  received {link.get('received', 0)}"
                     f"  send errors {link.get('send_errors', 0)}")
    lines.append(f"Dropped datagrams: {_drop_words(doc)}")
    for err in (doc.get("config") or {}).get("reload_errors") or []:
        lines.append(f"Last reload failed: {err}")
    lines.extend(resources_view.resource_lines(doc))
    return lines


def _show_rich(doc: Doc) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(highlight=False)
    quorate = bool(doc.get("quorate"))
    head = _header_lines(doc)
    console.print(Text(head[0], style="bold"))
    console.print(Text(head[1], style="green" if quorate else "bold red"))
    console.print(head[2])
    arbiter = arbiter_line(doc)
    if arbiter is not None:
        a = doc.get("arbiter") or {}
        console.print(arbiter, style="bold red" if a.get("last_error") else "")

    nodes = Table(title="Nodes", title_justify="left", box=None, pad_edge=False)
    pinging = bool((doc.get("connectivity") or {}).get("ping_nodes"))
    for col in ("node", "state", "incarnation", *(("connectivity",) if pinging else ()),
                "links (last heard)", ""):
        nodes.add_column(col)
    for n in doc.get("nodes", []):
        state = str(n.get("state"))
        inc = n.get("incarnation")
        nodes.add_row(
            Text(str(n.get("name")), style="bold" if n.get("name") == doc.get("dc") else ""),
            Text(state, style=_STATE_STYLE.get(state, "")),
            "-" if inc is None else str(inc),
            *((_connectivity_words(doc, n).removeprefix("connectivity "),) if pinging else ()),
            "" if n.get("self") else _link_words(n),
            _node_note(n),
        )
    console.print(nodes)

    links = Table(title="Links", title_justify="left", box=None, pad_edge=False)
    for col in ("link", "kind", "address", "sent", "received", "send errors"):
        links.add_column(col, justify="right" if col in {"sent", "received", "send errors"}
                         else "left")
    for link in doc.get("links", []):
        links.add_row(str(link.get("name")), str(link.get("kind")),
                      str(link.get("address") or "-"), str(link.get("sent", 0)),
                      str(link.get("received", 0)), str(link.get("send_errors", 0)))
    console.print(links)
    drops = _drop_words(doc)
    console.print(f"Dropped datagrams: {drops}", style="" if drops == "none" else "yellow")
    for err in (doc.get("config") or {}).get("reload_errors") or []:
        console.print(f"Last reload failed: {err}", style="bold red")
    resources_view.show_rich(doc, console)
