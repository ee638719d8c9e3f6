"""Administrator commands: ``vigil standby|online|move|unmove|cleanup|events``.

Each asks the local daemon over the control socket (``vigil.cli.control_client``);
the daemon forwards the command to the DC and answers only once the DC has
accepted it: the settings version the DC reports includes the change. So when
``vigil standby`` returns 0, the whole cluster knows, and a DC elected later
knows too (every node keeps the settings).

The words are Heartbeat's and Pacemaker's: ``standby``/``online`` as
``hb_standby``/``hb_takeover`` (and ``crm node standby``), ``move``/``unmove``
as ``crm resource move``/``unmove``, ``cleanup`` as ``crm resource cleanup``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from vigil.cli.control_client import DEFAULT_SOCKET_PATH, request
from vigil.exitcodes import ExitCode, VigilError

EXIT_CODES = """\b
Exit codes:
  0    the DC accepted the command
  1    the command failed
  2    wrong command-line use
  3    no such node, resource or group in the configuration
  4    this node's partition has no quorum
  6    no daemon answers on the control socket
  124  the DC did not confirm within the timeout
"""

#: How the daemon words a refusal, and the exit code it stands for.
_REFUSALS = (
    ("no node ", ExitCode.NOT_FOUND),
    ("no resource or group ", ExitCode.NOT_FOUND),
    ("this partition has no quorum", ExitCode.NO_QUORUM),
    ("the DC did not confirm", ExitCode.TIMEOUT),
)


def _socket_option(f: Any) -> Any:
    return click.option("--socket", "socket_path", type=click.Path(path_type=Path),
                        default=DEFAULT_SOCKET_PATH, show_default=True,
                        help="The daemon's control socket.")(f)


def _timeout_option(f: Any) -> Any:
    return click.option("--timeout", "timeout_s", type=click.FloatRange(min=0.1),
                        default=60.0, show_default=True, metavar="SECONDS",
                        help="How long to wait for the DC to accept the command.")(f)


def _admin(socket_path: Path, timeout_s: float, cmd: str, **args: str | None) -> None:
    """Send CMD, print the daemon's answer; a refusal becomes its documented exit code."""
    try:
        result = request(socket_path, cmd, timeout_s,
                         **{k: v for k, v in args.items() if v is not None})
    except VigilError as e:
        for prefix, code in _REFUSALS:
            if e.message.startswith(prefix) or f": {prefix}" in e.message:
                raise VigilError(e.message, code=code, hint=e.hint) from e
        raise
    message = result.get("message") if isinstance(result, dict) else None
    click.echo(str(message or f"{cmd}: done"))


@click.command("standby", epilog=EXIT_CODES)
@click.argument("node", required=False)
@_socket_option
@_timeout_option
def standby_command(node: str | None, socket_path: Path, timeout_s: float) -> None:
    """Put NODE (default: this node) in standby: it gives up its resources.

    As Heartbeat's hb_standby: the resources move to other nodes at once,
    without waiting for deadtime, and NODE takes none until `vigil online`.
    The setting survives the DC and is kept by every node.
    """
    _admin(socket_path, timeout_s, "standby", node=node)


@click.command("online", epilog=EXIT_CODES)
@click.argument("node", required=False)
@_socket_option
@_timeout_option
def online_command(node: str | None, socket_path: Path, timeout_s: float) -> None:
    """Take NODE (default: this node) out of standby: it may run resources again.

    With auto_failback on (stickiness 0), the groups that prefer NODE move back
    to it, as after hb_takeover.
    """
    _admin(socket_path, timeout_s, "online", node=node)


@click.command("move", epilog=EXIT_CODES)
@click.argument("target", metavar="RESOURCE|GROUP")
@click.argument("node")
@_socket_option
@_timeout_option
def move_command(target: str, node: str, socket_path: Path, timeout_s: float) -> None:
    """Run RESOURCE or GROUP on NODE until `vigil unmove`.

    A resource of a group moves its whole group (a group runs on one node). A
    new move of the same group replaces the old one. As `crm resource move`,
    the move outweighs stickiness and location scores, but not standby, a
    failure count at migration-threshold, or a resource blocked by a failed stop.
    """
    _admin(socket_path, timeout_s, "move", target=target, node=node)


@click.command("unmove", epilog=EXIT_CODES)
@click.argument("target", metavar="RESOURCE|GROUP")
@_socket_option
@_timeout_option
def unmove_command(target: str, socket_path: Path, timeout_s: float) -> None:
    """Drop the move of RESOURCE or GROUP: its placement follows the usual scores again.

    Whether it then moves back depends on stickiness (auto_failback).
    """
    _admin(socket_path, timeout_s, "unmove", target=target)


@click.command("cleanup", epilog=EXIT_CODES)
@click.argument("target", metavar="RESOURCE|GROUP")
@_socket_option
@_timeout_option
def cleanup_command(target: str, socket_path: Path, timeout_s: float) -> None:
    """Forget the failures of RESOURCE (or every member of GROUP) on every node.

    Every node probes it again, so a resource blocked by a failed stop is
    freed once the probe finds it stopped (or running, and it is then handled
    as running). Failure counts shown by `vigil status` drop to 0.
    """
    _admin(socket_path, timeout_s, "cleanup", target=target)


@click.command("events", epilog="""\b
Exit codes:
  0    the events were printed
  6    no daemon answers on the control socket
""")
@click.option("--json", "as_json", is_flag=True, help="Print the events as JSON.")
@_socket_option
def events_command(as_json: bool, socket_path: Path) -> None:
    """Show what the cluster did and why: decisions, actions, failures, quorum, commands.

    \b
    Each line: time, node, kind, resource, and the reason in words, e.g.
      12:03:55.120 node1 decision  web  Move from node1 to node2: node1 is in standby
    Kinds: decision (the DC planned), action (an operation on a node),
    failure, quorum, admin, fence, role (DC elected or stepped down).
    Shows the events this node logged (the newest 500) and, when this node is
    not the DC, the DC's newest 100, asked for over the cluster; if the DC
    does not answer within five keepalives, this node's only (the first line
    says whose they are).
    """
    result = request(socket_path, "events", 15.0)
    events = result.get("events", []) if isinstance(result, dict) else []
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    if isinstance(result, dict) and result.get("source"):
        click.echo(f"# {result['source']}")
    for e in events:
        rid = e.get("resource") or "-"
        stamp = _clock(e.get("time"), e.get("at_ms"))
        click.echo(f"{stamp} {e.get('node')} {e.get('kind'):<9} {rid:<12} {e.get('text')}")
    if not events:
        click.echo("no events")


def _clock(when: object, at_ms: object) -> str:
    """HH:MM:SS.mmm of a wall-clock time, or the daemon's milliseconds when there is none."""
    if not isinstance(when, int | float):
        return f"{at_ms} ms"
    return time.strftime("%H:%M:%S", time.localtime(when)) + f".{int(when * 1000) % 1000:03d}"


ADMIN_COMMANDS = (standby_command, online_command, move_command, unmove_command,
                  cleanup_command, events_command)
