"""``vigil fence NODE`` and ``vigil fence --confirm NODE``: fencing by hand.

``vigil fence NODE`` asks the local daemon to fence NODE now with the
configured fence devices (as ``stonith_admin --reboot``); once it succeeded the
daemon's coordinator counts NODE as fenced, so a DC recovers its resources.

``vigil fence --confirm NODE`` is the manual fence ("meatware", Heartbeat's
``meatclient -c``, Pacemaker's ``stonith_admin --confirm``): the administrator
swears NODE is powered off, and the DC recovers its resources without a
device. Said wrongly, this runs a service twice: both ask to type the node's
name back (as Patroni's dangerous commands do) unless ``--force``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from vigil.cli.control_client import DEFAULT_SOCKET_PATH, request
from vigil.exitcodes import ExitCode, VigilError

EXIT_CODES = """\b
Exit codes:
  0    NODE was fenced (or confirmed fenced)
  1    fencing failed, or the daemon refused (--confirm on a node that is not the DC)
  2    wrong command-line use
  3    no such node in the configuration
  5    not confirmed: the name typed back did not match, or no terminal and no --force
  6    no daemon answers on the control socket
  124  the daemon did not answer within the timeout
"""

_REFUSALS = (("no node ", ExitCode.NOT_FOUND),)


@click.command("fence", epilog=EXIT_CODES)
@click.argument("node")
@click.option("--confirm", "confirm", is_flag=True,
              help="Do not fence: swear NODE is already off (manual fence).")
@click.option("--force", is_flag=True, help="Do not ask to type NODE back.")
@click.option("--reason", default=None, help="Why, for the fence history and events log.")
@click.option("--socket", "socket_path", type=click.Path(path_type=Path),
              default=DEFAULT_SOCKET_PATH, show_default=True, help="The daemon's control socket.")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0.1), default=300.0,
              show_default=True, metavar="SECONDS",
              help="How long to wait for the fence (agents may take minutes).")
def fence_command(node: str, *, confirm: bool, force: bool, reason: str | None,
                  socket_path: Path, timeout_s: float) -> None:
    """Fence NODE now, or with --confirm record that it is off ("meatware").

    Fencing powers NODE off or reboots it through the configured fence devices;
    its resources are then recovered elsewhere. --confirm fences nothing: it
    tells the DC that you made sure NODE is off, so recovery no longer waits for
    a device that failed. Run --confirm on the DC (`vigil status` names it).
    """
    what = "confirm that it is powered off" if confirm else "fence (power off or reboot)"
    if not force:
        if not sys.stdin.isatty():
            raise VigilError(f"refusing to {what} {node} without confirmation",
                             code=ExitCode.UNSAFE, hint="run it on a terminal, or add --force")
        typed = click.prompt(f"You are about to {what} {node}. Type the node's name to go on",
                             default="", show_default=False)
        if typed.strip() != node:
            raise VigilError(f"not confirmed: {typed.strip()!r} is not {node!r}",
                             code=ExitCode.UNSAFE, hint="type the node's name exactly")
    args: dict[str, object] = {"node": node, "confirm": confirm}
    if reason:
        args["reason"] = reason
    try:
        result = request(socket_path, "fence", timeout_s, **args)
    except VigilError as e:
        for prefix, code in _REFUSALS:
            if e.message.startswith(prefix):
                raise VigilError(e.message, code=code, hint=e.hint) from e
        raise
    message = result.get("message") if isinstance(result, dict) else None
    click.echo(str(message or f"{node} fenced"))
