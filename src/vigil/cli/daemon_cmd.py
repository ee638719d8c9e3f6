"""``vigil daemon``: run this node's cluster daemon in the foreground."""

from __future__ import annotations

from pathlib import Path

import click

from vigil.cli.control_client import DEFAULT_SOCKET_PATH


@click.command("daemon")
@click.option("--config", "config_path", required=True, type=click.Path(path_type=Path),
              help="A directory with ha.cf, haresources and authkeys, or a .toml file.")
@click.option("--node", "node", metavar="NAME",
              help="This node's name in the configuration [default: uname -n]. "
              "Lets several daemons share one machine (tests, demos).")
@click.option("--state-dir", "state_dir", type=click.Path(path_type=Path),
              default=Path("/var/lib/vigil"), show_default=True,
              help="Where the incarnation number is kept across restarts.")
@click.option("--socket", "socket_path", type=click.Path(path_type=Path),
              default=DEFAULT_SOCKET_PATH, show_default=True,
              help="The control socket (mode 0600) that vigil status talks to.")
def daemon_command(config_path: Path, node: str | None, state_dir: Path,
                   socket_path: Path) -> None:
    """Run the cluster daemon for this node, in the foreground.

    It sends authenticated heartbeats on every link, tracks which peers are up,
    late or dead, agrees on the membership view, quorum and DC, and answers
    `vigil status` on the control socket. It logs as logfile, debugfile and
    logfacility say, and always to standard error.

    \b
    Signals: SIGTERM or SIGINT  tell the peers we leave, then exit 0
             SIGHUP             reload the configuration if it is valid;
                                otherwise keep the running one and log why
    systemd: Type=notify works (READY=1 once heartbeats are going).
    """
    # Imported here so that other commands do not pay for asyncio and the core.
    from vigil.daemon import DaemonOptions, run_daemon

    code = run_daemon(DaemonOptions(config_path=config_path, node=node, state_dir=state_dir,
                                    socket_path=socket_path))
    if code:
        raise click.exceptions.Exit(code)
