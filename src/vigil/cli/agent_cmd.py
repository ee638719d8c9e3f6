"""``vigil agent exec|list|info``: run and inspect resource agents outside the cluster."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path
from typing import Any

import click

from vigil.agents import (
    CLASSES,
    AgentDirs,
    AgentMetadata,
    AgentNotFoundError,
    MetadataError,
    OcfRc,
    SpecError,
    list_agents,
    parse_spec,
    resolve,
)
from vigil.config import AgentSpec, ConfigError, Resource, ResourceId, load_or_raise
from vigil.executor import DEFAULT_STATE_DIR, ExecStatus, Executor, OperationCompleted
from vigil.exitcodes import ExitCode, VigilError

EXEC_EPILOG = """\b
ARGs are KEY=VALUE parameters for ocf: and vigil: agents (OCF_RESKEY_KEY),
positional arguments for heartbeat: scripts (as NAME::arg1::arg2 in haresources).
\b
Exit code: the agent's own, so scripts can test it:
  0-9, 190, 191  what the agent returned (OCF codes; LSB and heartbeat:
                 scripts' exit codes are passed through unchanged)
  2              wrong command-line use, or the agent refused its arguments
  5              the agent is not installed (OCF's "not installed")
  6              invalid parameters for a built-in (OCF's "not configured")
  124            the agent ran past --timeout and its process group was killed
\b
Examples:
  vigil agent exec ocf:heartbeat:Dummy start state=/tmp/dummy.state
  vigil agent exec heartbeat:IPaddr monitor 10.0.0.5/24/eth0
  vigil agent exec vigil:ipaddr start ip=10.0.0.5 cidr_netmask=24 nic=eth0
"""


@click.group("agent")
def agent_group() -> None:
    """Run and inspect resource agents (ocf, lsb, heartbeat, systemd, built-in)."""


def _dirs(config: Path | None, resource_dirs: tuple[Path, ...]) -> AgentDirs:
    base = AgentDirs()
    if config is not None:
        try:
            base = AgentDirs.from_config(load_or_raise(config))
        except ConfigError as e:
            raise VigilError(f"{config}: configuration has errors ({e})", ExitCode.FAILED,
                             f"run: vigil config check {config}") from None
    if resource_dirs:
        base = dataclasses.replace(base, resource_dirs=resource_dirs + base.resource_dirs)
    return base


def _spec(text: str) -> AgentSpec:
    try:
        return parse_spec(text)
    except SpecError as e:
        raise VigilError(str(e), ExitCode.USAGE,
                         "write ocf:PROVIDER:TYPE, lsb:NAME, heartbeat:NAME, systemd:UNIT "
                         "or vigil:NAME (see: vigil agent list)") from None


def _split_args(spec: AgentSpec, raw: tuple[str, ...]) -> tuple[tuple[str, ...], dict[str, str]]:
    if spec.cls == "heartbeat":
        return raw, {}
    params: dict[str, str] = {}
    for item in raw:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise VigilError(f"{item!r} is not KEY=VALUE", ExitCode.USAGE,
                             f"{spec.cls}: agents take named parameters, e.g. ip=10.0.0.5")
        params[key] = value
    return (), params


def _exit_code(ev: OperationCompleted) -> int:
    if ev.status is ExecStatus.TIMEOUT:
        return int(ExitCode.TIMEOUT)
    if ev.status is ExecStatus.NOT_INSTALLED:
        return int(OcfRc.ERR_INSTALLED)
    return ev.exit_code if ev.exit_code is not None else ev.rc


def _as_json(ev: OperationCompleted) -> dict[str, Any]:
    return {"agent": ev.agent, "resource": ev.resource, "action": ev.action,
            "status": ev.status.value, "rc": ev.rc, "exit_code": ev.exit_code,
            "result": ev.result.value, "state": ev.state.value, "duration_ms": ev.duration_ms,
            "reason": ev.reason, "output": list(ev.output)}


@agent_group.command("exec", epilog=EXEC_EPILOG)
@click.argument("spec")
@click.argument("action")
@click.argument("args", nargs=-1)
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0.001), default=None,
              help="Seconds before the agent is killed (default: the agent's advice, else 20).")
@click.option("--id", "instance", default=None,
              help="Resource id the agent sees (OCF_RESOURCE_INSTANCE); default: the type.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--config", type=click.Path(path_type=Path), default=None,
              help="Take resource directories from this cluster configuration.")
@click.option("--resource-dir", "resource_dirs", multiple=True,
              type=click.Path(path_type=Path), help="Also look for heartbeat: scripts here.")
@click.option("--netns", default=None, help="Run the agent inside this network namespace.")
@click.option("--state-dir", type=click.Path(path_type=Path), default=DEFAULT_STATE_DIR,
              show_default=True, help="Where built-ins keep their state.")
@click.pass_context
def exec_command(ctx: click.Context, *, spec: str, action: str, args: tuple[str, ...],
                 timeout_s: float | None, instance: str | None, as_json: bool,
                 config: Path | None, resource_dirs: tuple[Path, ...], netns: str | None,
                 state_dir: Path) -> None:
    """Run ACTION of the agent SPEC once, outside the cluster, and show what it said.

    Like crm_resource --force-start: for administrators debugging an agent.
    """
    agent = _spec(spec)
    positional, params = _split_args(agent, args)
    resource = Resource(ResourceId(instance or agent.type), agent, positional, params)
    ev = asyncio.run(_exec(resource, action, timeout_s=timeout_s,
                           dirs=_dirs(config, resource_dirs), netns=netns, state_dir=state_dir))
    if as_json:
        click.echo(json.dumps(_as_json(ev), indent=2))
    else:
        word = ev.result.value if ev.status is ExecStatus.DONE else ev.status.value
        click.echo(f"{ev.action} {ev.agent}: {word} (rc={ev.rc}"
                   + (f", exit={ev.exit_code}" if ev.exit_code not in (None, ev.rc) else "")
                   + f") in {ev.duration_ms} ms")
        click.echo(f"  {ev.reason}")
        for line in ev.output:
            click.echo(f"  | {line}")
    ctx.exit(_exit_code(ev))


async def _exec(resource: Resource, action: str, *, timeout_s: float | None, dirs: AgentDirs,
                netns: str | None, state_dir: Path) -> OperationCompleted:
    executor = Executor([resource], dirs=dirs, netns=netns, state_dir=state_dir,
                        max_parallel=1)
    try:
        return await executor.run(resource.id, action, interval_ms=0,
                                  timeout_ms=round(timeout_s * 1000) if timeout_s else None)
    except ValueError as e:
        raise VigilError(str(e), ExitCode.USAGE) from None
    finally:
        await executor.close()


@agent_group.command("list")
@click.option("--class", "cls", type=click.Choice(CLASSES), default=None,
              help="Only agents of this class.")
@click.option("--config", type=click.Path(path_type=Path), default=None,
              help="Take resource directories from this cluster configuration.")
@click.option("--resource-dir", "resource_dirs", multiple=True,
              type=click.Path(path_type=Path), help="Also list heartbeat: scripts here.")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def list_command(cls: str | None, config: Path | None, resource_dirs: tuple[Path, ...],
                 as_json: bool) -> None:
    """List the agents this node can run (systemd units are named, not listed)."""
    found = [(s, where) for s, where in list_agents(_dirs(config, resource_dirs))
             if cls is None or s.cls == cls]
    if as_json:
        click.echo(json.dumps([{"agent": str(s), "source": w} for s, w in found], indent=2))
        return
    width = max((len(str(s)) for s, _ in found), default=10)
    for s, where in found:
        click.echo(f"{s!s:<{width}}  {where}")
    if cls in (None, "systemd"):
        click.echo("systemd:UNIT  any unit, through systemctl (start, stop, is-active)")


@agent_group.command("info")
@click.argument("spec")
@click.option("--config", type=click.Path(path_type=Path), default=None,
              help="Take resource directories from this cluster configuration.")
@click.option("--resource-dir", "resource_dirs", multiple=True,
              type=click.Path(path_type=Path), help="Also look for heartbeat: scripts here.")
@click.option("--json", "as_json", is_flag=True, help="Print the description as JSON.")
def info_command(spec: str, config: Path | None, resource_dirs: tuple[Path, ...],
                 as_json: bool) -> None:
    """Describe the agent SPEC: its parameters and actions (from its meta-data)."""
    agent_spec = _spec(spec)
    dirs = _dirs(config, resource_dirs)
    try:
        agent = resolve(agent_spec, dirs)
    except AgentNotFoundError as e:
        raise VigilError(e.message, ExitCode.NOT_FOUND, e.hint) from None

    async def describe() -> AgentMetadata:
        executor = Executor(dirs=dirs, max_parallel=1)
        try:
            return await executor.metadata(agent)
        finally:
            await executor.close()

    try:
        meta = asyncio.run(describe())
    except MetadataError as e:
        raise VigilError(str(e), ExitCode.FAILED) from None
    if as_json:
        click.echo(json.dumps(_meta_json(str(agent.spec), meta), indent=2))
        return
    click.echo(f"{agent.spec}: {meta.shortdesc}")
    if meta.longdesc:
        click.echo(f"  {meta.longdesc}")
    click.echo("\nParameters:")
    for p in meta.parameters:
        flags = " (required)" if p.required else ""
        default = f" [default: {p.default}]" if p.default not in (None, "") else ""
        click.echo(f"  {p.name}{flags}{default}\n      {p.shortdesc or p.longdesc}")
    if not meta.parameters:
        click.echo("  (none)")
    click.echo("\nActions:")
    for a in meta.actions:
        timing = f"timeout {a.timeout_ms / 1000:g}s" if a.timeout_ms is not None else ""
        if a.interval_ms:
            timing += f", interval {a.interval_ms / 1000:g}s"
        click.echo(f"  {a.name:<14} {timing}")


def _meta_json(spec: str, meta: AgentMetadata) -> dict[str, Any]:
    return {
        "agent": spec, "name": meta.name, "shortdesc": meta.shortdesc,
        "longdesc": meta.longdesc, "version": meta.version,
        "parameters": [{"name": p.name, "required": p.required, "unique": p.unique,
                        "type": p.type, "default": p.default, "shortdesc": p.shortdesc}
                       for p in meta.parameters],
        "actions": [{"name": a.name, "timeout_ms": a.timeout_ms, "interval_ms": a.interval_ms}
                    for a in meta.actions],
    }
