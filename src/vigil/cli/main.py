"""``vigil``: the entry point. Each sub-command lives in its own module here."""

from __future__ import annotations

import sys
import traceback

import click

from vigil import __version__
from vigil.cli.admin_cmd import ADMIN_COMMANDS
from vigil.cli.agent_cmd import agent_group
from vigil.cli.arbiter_cmd import arbiter_command
from vigil.cli.compat import compat_group
from vigil.cli.config_cmd import config_group
from vigil.cli.daemon_cmd import daemon_command
from vigil.cli.status_cmd import status_command
from vigil.exitcodes import ExitCode, VigilError

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


@click.group(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
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


cli.add_command(config_group)
cli.add_command(agent_group)
cli.add_command(daemon_command)
cli.add_command(status_command)
cli.add_command(arbiter_command)
cli.add_command(compat_group)
for _command in ADMIN_COMMANDS:
    cli.add_command(_command)


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
