"""``vigil config check`` and ``vigil config convert``."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from vigil.config import (
    ClusterConfig,
    ConfigFormat,
    Diagnostic,
    LoadResult,
    load,
    longest_exclusive_stop,
)
from vigil.config.support import not_acted_on
from vigil.exitcodes import ExitCode, VigilError


@click.group("config")
def config_group() -> None:
    """Check and convert cluster configuration."""


def _print_diagnostics(diagnostics: tuple[Diagnostic, ...]) -> None:
    for d in diagnostics:
        click.echo(d.format(), err=True)


def summary(config: ClusterConfig) -> dict[str, Any]:
    """What `config check` reports about a valid configuration (also its JSON)."""
    from vigil.quorum import QuorumRules

    t = config.timing
    rules = QuorumRules.from_config(config)
    return {
        "cluster_name": config.cluster_name,
        "format": config.format.value,
        "nodes": [{"name": n.name, "votes": n.votes} for n in config.nodes],
        "quorum": {
            "expected_votes": rules.expected_votes,
            "needed": rules.votes_needed,
            "two_node": rules.two_node_active,
            "wait_for_all": config.quorum.wait_for_all,
            "no_quorum_policy": config.quorum.no_quorum_policy.value,
        },
        "links": [
            {
                "name": link.name,
                "kind": link.kind.value,
                "interface": link.interface,
                "port": link.port,
                "peers": [str(p) for p in link.peers],
                "addresses": {k: str(v) for k, v in link.addresses.items()},
                "group": link.group,
            }
            for link in config.links
        ],
        "timing_ms": {
            "keepalive": t.keepalive_ms,
            "warntime": t.warntime_ms,
            "deadtime": t.deadtime_ms,
            "initdead": t.initdead_ms,
        },
        "auth": {"active": config.auth.active,
                 "method": config.auth.signing_key.method.value,
                 "keys": sorted(config.auth.keys)},
        "auto_failback": config.auto_failback.value,
        "stickiness": config.stickiness,
        "groups": [
            {
                "id": g.id,
                "preferred_node": g.preferred_node,
                "resources": [
                    {"id": rid, "agent": str(config.resource(rid).agent)} for rid in g.resources
                ],
            }
            for g in config.groups
        ],
        "fencing": config.fencing.enabled,
        "fence_devices": [d.name for d in config.fencing.devices],
        "fence_levels": {n: [{"index": lv.index, "devices": list(lv.devices)}
                             for lv in config.fencing.levels_of(n)]
                         for n in dict.fromkeys(lv.node for lv in config.fencing.levels)},
        "arbiter": None if config.arbiter is None else {
            "backend": config.arbiter.backend.value,
            "address": str(config.arbiter.address) if config.arbiter.address else None,
            "endpoints": list(config.arbiter.endpoints),
            "lease_ttl_ms": config.arbiter.lease_ttl_ms,
            "longest_stop_ms": longest_exclusive_stop(config)[0],
        },
        "unsupported": list(config.unsupported),
        "not_acted_on": sorted({item.setting for item in not_acted_on(config)}),
        "web": None if not config.web.enabled else {
            "tls": config.web.tls,
            "listen": str(config.web.listen) if config.web.listen is not None else None,
            "addresses": {k: str(v) for k, v in config.web.addresses.items()},
            "users": [{"name": u.name, "role": u.role.value} for u in config.web.users],
            "token": config.web.token_file is not None,
        },
    }


def _describe_link(link: dict[str, Any]) -> str:
    words = [link["kind"]]
    if link["interface"]:
        words.append(link["interface"])
    if link["group"]:
        words.append(link["group"])
    # every link also uses the next port for control traffic (see docs/configuration.md)
    words.append(f"port {link['port']} (control {link['port'] + 1})")
    if link["peers"]:
        words.append("to " + ", ".join(link["peers"]))
    if link["addresses"]:
        words.append("(" + ", ".join(f"{k}={v}" for k, v in link["addresses"].items()) + ")")
    return " ".join(words)


def _fencing_lines(s: dict[str, Any]) -> list[str]:
    """The fence levels per node, in the order they are tried (Pacemaker's topology)."""
    if not s["fence_devices"]:
        return []
    lines = []
    for i, (node, levels) in enumerate(s["fence_levels"].items()):
        said = ", then ".join(f"level {lv['index']} {' + '.join(lv['devices'])}"
                              for lv in levels)
        lines.append(f"  {'fencing:' if i == 0 else '':9} {node}: {said}")
    rest = "other nodes" if s["fence_levels"] else "every node"
    lines.append(f"  {'fencing:' if not s['fence_levels'] else '':9} {rest}: one level per "
                 f"device that can fence it, in order: {', '.join(s['fence_devices'])}")
    return lines


def _print_summary(path: Path, s: dict[str, Any], result: LoadResult) -> None:
    warnings = sum(1 for d in result.diagnostics if not d.is_error)
    kind = "legacy Heartbeat files" if s["format"] == ConfigFormat.LEGACY.value else "native TOML"
    t = s["timing_ms"]
    q = s["quorum"]
    lines = [
        f"{path}: valid ({kind}), {warnings} warning{'s' if warnings != 1 else ''}",
        f"  cluster:  {s['cluster_name']}",
        f"  nodes:    {' '.join(n['name'] for n in s['nodes'])}"
        f"  ({q['expected_votes']} votes, quorum at {q['needed']}"
        f"{', two_node' if q['two_node'] else ''})",
    ]
    for i, link in enumerate(s["links"]):
        lines.append(f"  {'links:' if i == 0 else '':9} {_describe_link(link)}")
    lines.append(
        f"  timing:   keepalive {t['keepalive']} ms, warntime {t['warntime']} ms, "
        f"deadtime {t['deadtime']} ms, initdead {t['initdead']} ms"
    )
    auth = s["auth"]
    lines.append(f"  auth:     signs with key {auth['active']} ({auth['method']}), "
                 f"accepts {', '.join(map(str, auth['keys']))}")
    lines.append(f"  failback: auto_failback {s['auto_failback']} (stickiness {s['stickiness']})")
    if not s["groups"]:
        lines.append("  groups:   none")
    for i, g in enumerate(s["groups"]):
        members = " ".join(r["id"] for r in g["resources"])
        where = f" on {g['preferred_node']}" if g["preferred_node"] else ""
        lines.append(f"  {'groups:' if i == 0 else '':9} {g['id']}{where}: {members}")
    lines.extend(_fencing_lines(s))
    arbiter = s.get("arbiter")
    if arbiter:
        where = arbiter["address"] or ", ".join(arbiter["endpoints"])
        lines.append(f"  arbiter:  {arbiter['backend']} at {where}, lease TTL "
                     f"{arbiter['lease_ttl_ms']} ms (longest stop {arbiter['longest_stop_ms']} "
                     "ms); its vote breaks a split's tie")
    web = s.get("web")
    if web:
        served = [f"{k}={v}" for k, v in web["addresses"].items()]
        if web["listen"]:
            served.append(f"{web['listen']} (other nodes)" if served else web["listen"])
        users = ", ".join(f"{u['name']} ({u['role']})" for u in web["users"]) or "none"
        lines.append(f"  web:      {'https' if web['tls'] else 'http'} on {' '.join(served)}; "
                     f"users: {users}{'; bearer token' if web['token'] else ''}")
    ignored = [*s["unsupported"], *(x for x in s["not_acted_on"] if x not in s["unsupported"])]
    if ignored:
        lines.append(f"  not acted on: {', '.join(ignored)} (see the warnings)")
    click.echo("\n".join(lines))


@config_group.command("check")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
@click.pass_context
def check(ctx: click.Context, path: Path, as_json: bool) -> None:
    """Check the configuration at PATH and say exactly what is wrong.

    PATH is a directory holding Heartbeat's ha.cf, haresources and authkeys
    (e.g. /etc/ha.d), or a native vigil .toml file. Each problem is printed on
    stderr as FILE:LINE: error|warning: message, with a hint for the fix.

    \b
    Exit status: 0 valid (warnings allowed), 1 invalid, 2 usage error.
    """
    result = load(path)
    if as_json:
        doc: dict[str, Any] = {
            "path": str(path),
            "valid": result.ok,
            "diagnostics": [d.to_json() for d in result.diagnostics],
        }
        if result.config is not None and result.ok:
            doc["summary"] = summary(result.config)
        click.echo(json.dumps(doc, indent=2))
    else:
        _print_diagnostics(result.diagnostics)
        if result.config is not None and result.ok:
            _print_summary(path, summary(result.config), result)
        else:
            errors = sum(1 for d in result.diagnostics if d.is_error)
            click.echo(f"{path}: invalid, {errors} error{'s' if errors != 1 else ''}", err=True)
    ctx.exit(int(ExitCode.OK if result.ok else ExitCode.FAILED))


@config_group.command("convert")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Write the TOML here (mode 0600: it holds the keys) instead of stdout.")
@click.option("--force", is_flag=True, help="Overwrite OUTPUT if it exists.")
@click.pass_context
def convert(ctx: click.Context, directory: Path, output: Path | None, force: bool) -> None:
    """Convert Heartbeat's ha.cf, haresources and authkeys to one vigil.toml.

    The successor of haresources2cib.py: reads the legacy files in DIRECTORY
    and writes a native configuration that means the same. Reading the result
    back gives the same model. Nothing is written when the input is invalid.
    """
    from vigil.config.convert import to_toml

    result = load(directory)
    _print_diagnostics(result.diagnostics)
    if result.config is None or not result.ok:
        raise VigilError(f"{directory}: invalid, nothing converted", ExitCode.FAILED,
                         hint=f"run: vigil config check {directory}")
    text = to_toml(result.config)
    if output is None:
        sys.stdout.write(text)
        ctx.exit(0)
    if output.exists() and not force:
        raise VigilError(f"{output} exists", ExitCode.UNSAFE, hint="give --force to overwrite it")
    tmp = output.with_name(output.name + ".tmp")
    # O_EXCL after unlink: a leftover .tmp must not lend the keys its (wider) mode
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, output)
    click.echo(f"wrote {output}", err=True)
    ctx.exit(0)
