"""``vigil``: the entry point. Each sub-command lives in its own module here."""

from __future__ import annotations

import importlib
import sys
import traceback

import click

from vigil import __version__
from vigil.exitcodes import ExitCode, VigilError

#: Each sub-command's module, imported only when the command runs (or --help lists
#: them): ``vigil standby`` then costs about 60 ms instead of the 250 ms of importing
#: the agents, the configuration loader and the daemon, which a planned switchover
#: would otherwise add to the service outage.
_COMMANDS = {
    "config": "vigil.cli.config_cmd:config_group",
    "agent": "vigil.cli.agent_cmd:agent_group",
    "daemon": "vigil.cli.daemon_cmd:daemon_command",
    "status": "vigil.cli.status_cmd:status_command",
    "arbiter": "vigil.cli.arbiter_cmd:arbiter_command",
    "compat": "vigil.cli.compat:compat_group",
    "simulate": "vigil.cli.simulate_cmd:simulate_command",
    "fence": "vigil.cli.fence_cmd:fence_command",
    "web": "vigil.cli.web_cmd:web_group",
    **{name: f"vigil.cli.admin_cmd:{name}_command"
       for name in ("standby", "online", "move", "unmove", "cleanup", "events")},
}


class _LazyGroup(click.Group):
    """A group whose sub-commands are imported when first asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in _COMMANDS:
            module, attr = _COMMANDS[cmd_name].split(":")
            self.add_command(getattr(importlib.import_module(module), attr), cmd_name)
        return self.commands.get(cmd_name)

EPILOG = """\b
Exit codes:
  0    success
  1    the operation failed, or the input is invalid
  2    wrong command-line use
  3    no such node, resource, agent or file
  4    no quorum
  5    refused as unsafe without --force
  6    no daemon answers on the control socket
  124  an operation ran past its timeout
`vigil agent exec` exits with the agent's own code instead (see its --help).
"""


@click.group(cls=_LazyGroup, epilog=EPILOG,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="vigil")
@click.option("--debug", is_flag=True, help="Show tracebacks for internal errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """vigil: keep services available when nodes, links or processes fail.

    A daemon on every node sends authenticated heartbeats, agrees on membership
    and quorum, fences lost nodes, and moves resources to healthy nodes. It reads
    Heartbeat's ha.cf, haresources and authkeys as they are, or a native TOML file.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug



def main(argv: list[str] | None = None) -> int:
    """Run the CLI; turn ``VigilError`` into a message and its exit code."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        rv = cli.main(args=argv, prog_name="vigil", standalone_mode=False)
    except click.exceptions.Exit as e:
        return int(e.exit_code or 0)
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except click.Abort:
        click.echo("Aborted.", err=True)
        return int(ExitCode.FAILED)
    except VigilError as e:
        click.echo(f"vigil: error: {e.message}", err=True)
        if e.hint:
            click.echo(f"  hint: {e.hint}", err=True)
        return int(e.code)
    except KeyboardInterrupt:
        return 130
    except Exception:
        if debug:
            traceback.print_exc()
        else:
            exc = sys.exc_info()[1]
            click.echo(f"vigil: internal error: {exc!r} (run with --debug for the traceback)",
                       err=True)
        return int(ExitCode.FAILED)
    # standalone_mode=False hands back ctx.exit(code) as the return value
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":
    sys.exit(main())
