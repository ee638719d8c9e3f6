"""``vigil web passwd USER``: the lines that give USER a dashboard password.

Prints a ``[[web.user]]`` entry to paste into the ``[web]`` section of
vigil.toml (docs/web.md): the password itself is never stored, only its
scrypt hash. The password is read from the terminal without echo (twice), or
from the first line of standard input with ``--stdin`` for scripts.
"""

from __future__ import annotations

import sys

import click

from vigil.exitcodes import ExitCode, VigilError

MIN_LENGTH = 8


@click.group("web")
def web_group() -> None:
    """The web dashboard (docs/web.md)."""


@web_group.command("passwd")
@click.argument("user")
@click.option("--role", type=click.Choice(["operator", "read-only"]), default="operator",
              show_default=True, help="operator may act (standby, move, cleanup); "
              "read-only may only look.")
@click.option("--stdin", "from_stdin", is_flag=True,
              help="Read the password from the first line of standard input.")
def passwd_command(user: str, role: str, from_stdin: bool) -> None:
    """Print a [[web.user]] entry for USER with a hash of a new password.

    \b
    Paste it into the configuration under [web] and reload (SIGHUP or
    `vigil daemon` restart); the password is asked for twice, without echo.
    Example:  echo 'secret-pass' | vigil web passwd alice --stdin
    """
    from vigil.config.native_fields import name_problem
    from vigil.config.native_web import format_password_hash
    from vigil.web.passwords import hash_password

    problem = name_problem(user)
    if problem is not None:
        raise VigilError(f"user name {user!r} {problem}", code=ExitCode.USAGE,
                         hint="use letters, digits and - _ . (no spaces)")
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True,
                                err=True)
    if len(password) < MIN_LENGTH:
        raise VigilError(f"the password is shorter than {MIN_LENGTH} characters",
                         code=ExitCode.USAGE, hint="choose a longer one (a passphrase)")
    h = format_password_hash(hash_password(password))
    click.echo(f'[[web.user]]\nname = "{user}"\nrole = "{role}"\npassword_hash = "{h}"')
