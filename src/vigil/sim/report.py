"""A rehearsal for people (like ``crm_simulate``) and for programs (``--json``, stable).

Text: the scenario, where resources ran before the first step, the timeline
(steps, faults, membership and quorum changes, every decision and action with
its reason), then where everything is at the end and whether the invariants
held. JSON: the same facts; fields are added, never renamed (``schema``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from vigil.sim.rehearsal import ChaosRun, Placement, Rehearsal

__all__ = ["JSON_SCHEMA", "chaos_json", "chaos_text", "rehearsal_json", "rehearsal_text"]

JSON_SCHEMA = 1


def _seconds(ms: int) -> str:
    return f"{ms / 1000:.3f}s"


def _placement_lines(placements: Sequence[Placement]) -> list[str]:
    if not placements:
        return ["  (no resources)"]
    width = max(len(p.resource) for p in placements)
    out = []
    for p in placements:
        where = ", ".join(p.nodes) if p.nodes else "stopped"
        if len(p.nodes) > 1:
            where += "  <- ACTIVE ON MORE THAN ONE NODE"
        group = f"  (group {p.group})" if p.group else ""
        out.append(f"  {p.resource:<{width}}  {where}{group}")
    return out


def rehearsal_text(r: Rehearsal, config_name: str, scenario_name: str,
                   verbose: bool = False) -> str:
    """R as text; CONFIG_NAME and SCENARIO_NAME as the user named them. The start-up
    (before the first step) is summed up by the placement unless VERBOSE."""
    out = [f"Simulation of {scenario_name} on {config_name}"]
    if r.description:
        out.append(f"Scenario: {r.description}")
    out += [r.banner, "", f"Before the first step ({_seconds(r.before_ms)}):"]
    out += _placement_lines(r.before)
    lines = [ln for ln in r.lines if verbose or ln.at_ms >= r.before_ms]
    hidden = len(r.lines) - len(lines)
    out += ["", "Timeline:" + (f" ({hidden} start-up events before the first step: "
                               "--verbose shows them)" if hidden else "")]
    nodes = max([len(ln.node) for ln in lines if ln.node] + [1])
    for ln in lines:
        out.append(f"  {_seconds(ln.at_ms):>9}  {ln.node or '-':<{nodes}}  "
                   f"{ln.kind:<9} {ln.text}")
    out += ["", f"At the end ({_seconds(r.end_ms)}):"]
    out += _placement_lines(r.after)
    states = ", ".join(f"{n.name} {n.state}" for n in r.nodes)
    out.append(f"  nodes: {states}")
    out.append(f"  DC: {r.dc or 'none'}; {r.quorum}")
    out.append("")
    if r.violations:
        out.append(f"INVARIANTS VIOLATED ({len(r.violations)}):")
        out += [f"  {v}" for v in r.violations]
        scenario = f" --scenario {scenario_name}" if scenario_name != "(no scenario)" else ""
        out.append(f"  replay: vigil simulate {config_name}{scenario} --seed {r.seed}")
    else:
        out.append("Invariants held: no exclusive resource was ever active on two nodes.")
    return "\n".join(out) + "\n"


def rehearsal_json(r: Rehearsal, config_name: str, scenario_name: str) -> str:
    def places(ps: Sequence[Placement]) -> list[dict[str, object]]:
        return [{"resource": p.resource, "group": p.group, "nodes": list(p.nodes)} for p in ps]

    doc = {
        "schema": JSON_SCHEMA,
        "config": config_name,
        "scenario": scenario_name,
        "description": r.description,
        "seed": r.seed,
        "end_ms": r.end_ms,
        "before_ms": r.before_ms,
        "before": places(r.before),
        "timeline": [{"at_ms": ln.at_ms, "node": ln.node, "kind": ln.kind, "text": ln.text}
                     for ln in r.lines],
        "after": places(r.after),
        "nodes": [{"name": n.name, "state": n.state, "incarnation": n.incarnation}
                  for n in r.nodes],
        "dc": r.dc,
        "quorum": r.quorum,
        "violations": list(r.violations),
    }
    return json.dumps(doc, indent=2) + "\n"


def chaos_text(runs: Sequence[ChaosRun], config_name: str) -> str:
    failed = [r for r in runs if r.problem is not None]
    out = [f"Chaos on {config_name}: {len(runs)} random fault schedule"
           f"{'s' if len(runs) != 1 else ''}, each healed "
           f"(seeds {runs[0].seed}..{runs[-1].seed})" if runs else
           f"Chaos on {config_name}: no runs"]
    for r in failed:
        out += [f"SEED={r.seed}: {r.problem}", "  faults: " + "; ".join(r.faults),
                f"  replay: vigil simulate {config_name} --chaos 1 --seed {r.seed}"]
    out.append(f"{len(runs) - len(failed)} of {len(runs)} runs safe and settled"
               + ("" if not failed else f"; {len(failed)} FAILED"))
    return "\n".join(out) + "\n"


def chaos_json(runs: Sequence[ChaosRun], config_name: str) -> str:
    doc = {"schema": JSON_SCHEMA, "config": config_name, "runs": [
        {"seed": r.seed, "faults": list(r.faults), "ok": r.problem is None,
         "problem": r.problem} for r in runs],
        "failed": [r.seed for r in runs if r.problem is not None]}
    return json.dumps(doc, indent=2) + "\n"
