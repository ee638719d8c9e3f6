"""``vigil simulate``: rehearse failures on a configuration, in virtual time, before they happen."""

from __future__ import annotations

from pathlib import Path

import click

from vigil.exitcodes import ExitCode, VigilError


@click.command("simulate")
@click.argument("config_path", metavar="CONFIG", type=click.Path(path_type=Path))
@click.option("--scenario", "scenario_path", type=click.Path(path_type=Path),
              help="A scenario file (TOML timeline; examples/scenarios/). "
              "Without one (and without --chaos): the cluster starts and settles.")
@click.option("--seed", type=int, default=1, show_default=True,
              help="Seeds the simulated network's delays (and --chaos's first schedule).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON document (stable).")
@click.option("--chaos", "chaos_runs", type=click.IntRange(min=1), metavar="N",
              help="Run N random fault schedules instead of a scenario (with fence devices: "
              "also pauses, cuts, lossy links, failing fence agents); report every "
              "invariant violation with the seed that replays it.")
@click.option("--verbose", "-v", is_flag=True,
              help="Also show the start-up, before the first step (--json always has it).")
def simulate_command(config_path: Path, scenario_path: Path | None, seed: int, *,
                     as_json: bool, chaos_runs: int | None, verbose: bool) -> None:
    """Run the real membership and coordinator on CONFIG in virtual time.

    CONFIG is a directory with ha.cf, haresources and authkeys, or a .toml
    file. Agents are simulated (they succeed in 50 ms); nothing on this
    machine is touched. Prints the timeline: steps, membership and quorum
    changes, fences, every decision and action with its reason, and where
    each resource runs at the end.

    \b
    A scenario is a TOML file:
      description = "Power off the primary"
      timeline = ["crash node1 at 5s", "start node1 at 20s"]
    Steps: crash, stop, start/restart, freeze NODE [until T], partition
    [a] [b,c] [on LINK], isolate NODE, heal, fail monitor of RES [on NODE],
    fail fence DEVICE [until T], slow fence DEVICE DURATION [until T],
    standby, online; each "... at TIME" (500ms, 5s, 2m). docs/simulate.md.

    \b
    Exit status: 0 the invariants held (and with --chaos every run settled),
    1 an invariant was violated (or a chaos run did not settle), 3 no such file.
    """
    from vigil.config import load
    from vigil.sim import (
        Scenario,
        ScenarioError,
        chaos,
        chaos_json,
        chaos_text,
        check_scenario,
        parse_scenario,
        rehearsal_json,
        rehearsal_text,
        rehearse,
    )

    result = load(config_path)
    if result.config is None or not result.ok:
        errors = [d.format() for d in result.diagnostics if d.is_error]
        raise VigilError("invalid configuration:\n" + "\n".join(errors),
                         hint=f"run `vigil config check {config_path}` for details")
    config = result.config
    if chaos_runs is not None:
        if scenario_path is not None:
            raise click.UsageError("--chaos draws its own faults: give it or --scenario")
        runs = chaos(config, chaos_runs, seed)
        click.echo((chaos_json if as_json else chaos_text)(runs, str(config_path)), nl=False)
        if any(r.problem is not None for r in runs):
            raise click.exceptions.Exit(int(ExitCode.FAILED))
        return
    if scenario_path is None:
        scenario = Scenario("start the cluster and let it settle", (), None)
        name = "(no scenario)"
    else:
        try:
            text = scenario_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise VigilError(f"{scenario_path}: no such file", code=ExitCode.NOT_FOUND,
                             hint="see examples/scenarios/ for scenario files") from None
        except (OSError, UnicodeDecodeError) as e:
            raise VigilError(f"{scenario_path}: cannot read: {e}") from None
        try:
            scenario = check_scenario(parse_scenario(text, scenario_path), config)
        except ScenarioError as e:
            raise VigilError("invalid scenario:\n" + "\n".join(e.problems)) from None
        name = str(scenario_path)
    rehearsal = rehearse(config, scenario, seed)
    if as_json:
        click.echo(rehearsal_json(rehearsal, str(config_path), name), nl=False)
    else:
        click.echo(rehearsal_text(rehearsal, str(config_path), name, verbose), nl=False)
    if rehearsal.violations:
        raise click.exceptions.Exit(int(ExitCode.FAILED))
