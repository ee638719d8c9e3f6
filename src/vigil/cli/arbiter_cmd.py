"""``vigil arbiter``: the lease service a third machine runs for a cluster."""

from __future__ import annotations

from pathlib import Path

import click

from vigil.exitcodes import ExitCode, VigilError


def parse_listen(text: str) -> tuple[str, int]:
    """``ADDR:PORT`` or ``[V6ADDR]:PORT`` as (host, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise VigilError(f"--listen {text!r} is not ADDR:PORT", ExitCode.USAGE,
                         "e.g. --listen 192.0.2.10:5406 or --listen [2001:db8::10]:5406")
    return host.strip("[]"), int(port)


@click.command("arbiter")
@click.option("--listen", "listen", required=True, metavar="ADDR:PORT",
              help="Where to answer lease requests (UDP); port 0 picks a free one.")
@click.option("--key-file", "key_file", required=True, type=click.Path(path_type=Path),
              help="The cluster's authkeys (mode 0600), or its vigil.toml (its [auth] keys, "
                   "HMAC-SHA256 included): requests must be signed with them.")
@click.option("--cluster", "cluster", default="vigil", show_default=True,
              help="The cluster's name, as in its configuration.")
@click.option("--state-file", "state_file", type=click.Path(path_type=Path),
              default=Path("/var/lib/vigil/arbiter.state"), show_default=True,
              help="Keeps the fencing token across restarts; it never goes back.")
@click.option("--ttl-ms", "ttl_ms", type=click.IntRange(min=100), default=30_000,
              show_default=True, help="How long a lease lasts without a renewal: the "
              "cluster's [arbiter] lease_ttl (whose default this is).")
def arbiter_command(listen: str, key_file: Path, cluster: str, state_file: Path,
                    ttl_ms: int) -> None:
    """Run the arbitrator for one cluster, in the foreground.

    Nodes acquire one lease (with a TTL and renewals) and get a fencing token
    that only grows; the partition holding the lease gets this machine's vote,
    so a two-node split has exactly one winner. Requests are signed with the
    cluster's authkeys and replays are refused. SIGTERM or SIGINT stop it.
    """
    import asyncio
    import logging
    import signal
    import sys

    from vigil.arbiter import StateFileError, serve
    from vigil.config import Auth, Compression, Diagnostics, read_authkeys
    from vigil.wire import Codec

    host, port = parse_listen(listen)
    diags = Diagnostics()
    auth: Auth | None
    if key_file.suffix == ".toml":  # the cluster's own configuration: its [auth]
        from vigil.config import load

        result = load(key_file)
        if result.config is None:
            first = next((d for d in result.diagnostics if d.is_error), None)
            raise VigilError(first.format() if first else f"{key_file}: unusable",
                             ExitCode.NOT_FOUND if not key_file.exists() else ExitCode.FAILED,
                             f"run `vigil config check {key_file}`")
        auth = result.config.auth
    else:
        auth = read_authkeys(key_file, diags)
    if auth is None:
        first = next((d for d in diags.items if d.is_error), None)
        where = f"{key_file}:{first.line}" if first and first.line else str(key_file)
        raise VigilError(f"{where}: {first.message if first else 'unusable key file'}",
                         ExitCode.NOT_FOUND if not key_file.exists() else ExitCode.FAILED,
                         first.hint if first else None)
    codec = Codec(auth, Compression(), cluster)
    try:
        state_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as e:
        raise VigilError(f"cannot create {state_file.parent}: {e.strerror}",
                         hint="give --state-file in a directory this user can write") from e
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s vigil-arbiter %(levelname)s %(message)s")

    def ready(bound_host: str, bound_port: int) -> None:
        click.echo(f"arbiter listening on {bound_host}:{bound_port} cluster={cluster} "
                   f"ttl_ms={ttl_ms}", err=True)
        sys.stderr.flush()

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await serve(host, port, codec, state_file, ttl_ms, stop=stop, on_ready=ready)

    try:
        asyncio.run(run())
    except StateFileError as e:
        raise VigilError(str(e), ExitCode.FAILED,
                         "restore the file from a backup; deleting it can reuse tokens") from e
    except OSError as e:
        raise VigilError(f"arbiter stopped: {e.filename or listen}: {e.strerror}",
                         ExitCode.FAILED) from e
