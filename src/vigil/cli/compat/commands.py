"""The ``vigil compat`` commands: Heartbeat's tools answered by the local daemon."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from vigil.cli.compat import cl_status
from vigil.cli.control_client import DEFAULT_SOCKET_PATH, request
from vigil.exitcodes import ExitCode, VigilError

SOCKET_ENV = "VIGIL_SOCKET"  # the compat tools take no --socket: Heartbeat's had none
TOOLS = ("cl_status", "hb_standby", "hb_takeover")
_RAW = {"ignore_unknown_options": True, "allow_interspersed_args": False,
        "help_option_names": []}


def _socket() -> Path:
    return Path(os.environ.get(SOCKET_ENV, str(DEFAULT_SOCKET_PATH)))


def _status() -> dict[str, Any] | None:
    try:
        doc = request(_socket(), "status", 5.0)
    except VigilError:
        return None
    return doc if isinstance(doc, dict) else None


def _homes(doc: dict[str, Any] | None) -> dict[str, str | None]:
    """Each group's preferred node, from the daemon's configuration file."""
    path = ((doc or {}).get("config") or {}).get("path")
    if not path:
        return {}
    from vigil.config import load  # the loader only when rscstatus needs it

    try:
        config = load(Path(path)).config
    except OSError:
        return {}
    if config is None:
        return {}
    return {str(g.id): g.preferred_node for g in config.groups}


@click.group("compat")
def compat_group() -> None:
    """Heartbeat's cl_status, hb_standby and hb_takeover, answered by vigil."""


@compat_group.command("install")
@click.option("--prefix", type=click.Path(path_type=Path), default=Path("/usr/local"),
              show_default=True, help="Install into PREFIX/bin.")
def install_command(prefix: Path) -> None:
    """Write cl_status, hb_standby and hb_takeover into PREFIX/bin."""
    bindir = prefix / "bin"
    bindir.mkdir(parents=True, exist_ok=True)
    vigil = Path(sys.argv[0]).resolve() if Path(sys.argv[0]).name == "vigil" else None
    exe = str(vigil) if vigil is not None and vigil.exists() else "vigil"
    for tool in TOOLS:
        target = bindir / tool
        target.write_text(f"#!/bin/sh\n# Heartbeat's {tool}, answered by vigil "
                          f"(written by `vigil compat install`).\n"
                          f'exec {exe} compat {tool} "$@"\n')
        target.chmod(0o755)
        click.echo(f"installed {target}")


@compat_group.command("cl_status", context_settings=_RAW)
@click.argument("argv", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def cl_status_command(ctx: click.Context, argv: tuple[str, ...]) -> None:
    """Heartbeat's cl_status (hbstatus, listnodes, nodestatus, ...)."""
    doc = _status()
    homes = _homes(doc) if argv[:1] == ("rscstatus",) else {}
    answer = cl_status.run(list(argv), doc, homes)
    for line in answer.out:
        click.echo(line)
    for line in answer.err:
        click.echo(f"cl_status: {line}" if not line.startswith("\t") else line, err=True)
    ctx.exit(answer.code)


def _admin(tool: str, argv: tuple[str, ...]) -> tuple[str, list[tuple[str, dict[str, str]]]]:
    """The resources word and the control requests TOOL ARGV stands for.

    As Heartbeat 3.0.6's hb_standby/hb_takeover (heartbeat/lib/*.in): no word is
    ``all``; hb_standby reads ``failback`` as ``foreign``. Heartbeat's requests
    were one-shot; vigil's standby and moves persist (``vigil online``/``unmove``
    undo them), so hb_takeover ``all`` also ends this node's standby."""
    if len(argv) > 1:
        raise VigilError(f"{tool}: too many arguments", code=ExitCode.FAILED,
                         hint=f"usage: {tool} [all|foreign|local|failback]")
    which = argv[0] if argv else "all"
    if which not in ("all", "foreign", "local", "failback"):
        raise VigilError(f"{tool}: wrong resources({which}).", code=ExitCode.FAILED,
                         hint=f"usage: {tool} [all|foreign|local|failback]")
    if tool == "hb_standby" and which == "failback":
        which = "foreign"
    doc = request(_socket(), "status", 5.0)
    me = str(doc["node"])
    homes = _homes(doc)
    if tool == "hb_standby":
        if which == "all":  # the whole node: vigil's standby
            return which, [("standby", {"node": me})]
        if which == "local":  # my own groups to another node
            other = _other(doc, me)
            return which, [("move", {"target": g, "node": other})
                           for g, home in homes.items() if home == me]
        # foreign: the others' groups back home
        return which, [("move", {"target": g, "node": home}) for g, home in homes.items()
                       if home is not None and home != me]
    # hb_takeover: the other nodes release the groups (all, or those at home here for
    # local/failback, or at home elsewhere for foreign) and this node takes them.
    wanted = [g for g, home in homes.items()
              if which == "all" or (home == me) == (which in ("local", "failback"))]
    online = [("online", {"node": me})] if which == "all" else []
    return which, online + [("move", {"target": g, "node": me}) for g in wanted]


def _other(doc: dict[str, Any], me: str) -> str:
    for node in doc.get("nodes", []):
        if node["name"] != me and node.get("in_view"):
            return str(node["name"])
    raise VigilError("no other node is up to take this node's resources",
                     code=ExitCode.FAILED, hint="start vigil on another node first")


def _run_admin(tool: str, argv: tuple[str, ...]) -> None:
    which, requests = _admin(tool, argv)
    if tool == "hb_standby":
        click.echo(f"Going standby [{which}].")  # Heartbeat's line; hb_takeover says nothing
    for cmd, args in requests:
        try:
            request(_socket(), cmd, 10.0, **args)
        except VigilError as e:
            if e.message.startswith("unknown command"):
                raise VigilError(
                    f"{tool}: this vigil daemon does not support `{cmd}` yet",
                    code=ExitCode.NOT_RUNNING,
                    hint="upgrade vigil on this node; nothing was changed") from e
            raise


@compat_group.command("hb_standby", context_settings=_RAW)
@click.argument("argv", nargs=-1, type=click.UNPROCESSED)
def hb_standby_command(argv: tuple[str, ...]) -> None:
    """Heartbeat's hb_standby [all|foreign|local|failback]: give resources up."""
    _run_admin("hb_standby", argv)


@compat_group.command("hb_takeover", context_settings=_RAW)
@click.argument("argv", nargs=-1, type=click.UNPROCESSED)
def hb_takeover_command(argv: tuple[str, ...]) -> None:
    """Heartbeat's hb_takeover [all|foreign|local|failback]: take resources over."""
    _run_admin("hb_takeover", argv)
