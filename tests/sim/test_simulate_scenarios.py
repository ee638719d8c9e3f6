"""`vigil simulate`: the four classic tests of the field notes, rehearsed, against golden timelines.

Each examples/scenarios/*.toml (but the cluster*.toml configurations) is run
with seed 1 on examples/scenarios/cluster.toml, or on the configuration
CONFIG_FOR names (cluster-fenced.toml: the same cluster with fence devices);
the text report must equal tests/sim/golden/NAME.txt. A change of wording or
behaviour in the core shows here as a diff; read it, then re-bless on purpose:
``VIGIL_BLESS=1 pytest tests/sim/test_simulate_scenarios.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from vigil.cli.main import main
from vigil.config import ClusterConfig, load
from vigil.sim.rehearsal import Rehearsal, chaos, rehearse
from vigil.sim.report import rehearsal_json, rehearsal_text
from vigil.sim.scenario import check, parse_scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "examples" / "scenarios"
CONFIG_PATH = SCENARIOS / "cluster.toml"
GOLDEN = Path(__file__).resolve().parent / "golden"
BLESS = os.environ.get("VIGIL_BLESS") == "1"
CASES = sorted(p.stem for p in SCENARIOS.glob("*.toml") if not p.name.startswith("cluster"))
CONFIG_NAME = "examples/scenarios/cluster.toml"
#: Scenarios that run on another configuration than cluster.toml.
CONFIG_FOR = {"kernel-crash-fenced": "cluster-fenced.toml"}


def config(name: str = "cluster.toml") -> ClusterConfig:
    result = load(SCENARIOS / name)
    assert result.config is not None, [d.format() for d in result.diagnostics]
    return result.config


def run(name: str, seed: int = 1) -> Rehearsal:
    path = SCENARIOS / f"{name}.toml"
    c = config(CONFIG_FOR.get(name, "cluster.toml"))
    return rehearse(c, check(parse_scenario(path.read_text(), path), c), seed)


def test_the_four_classic_tests_of_the_field_notes_ship_as_scenarios() -> None:
    # the kernel crash twice: without fencing (split brain shown), and fenced
    assert CASES == ["cable-pulled", "graceful-stop", "kernel-crash", "kernel-crash-fenced",
                     "power-off"]


@pytest.mark.parametrize("name", CASES)
def test_scenario_timeline_matches_its_golden_file(name: str) -> None:
    config_name = f"examples/scenarios/{CONFIG_FOR.get(name, 'cluster.toml')}"
    text = rehearsal_text(run(name), config_name, f"examples/scenarios/{name}.toml")
    expected = GOLDEN / f"{name}.txt"
    if BLESS:
        expected.write_text(text)
    assert expected.exists(), f"{expected} missing: run with VIGIL_BLESS=1 to create it"
    assert text == expected.read_text(), f"{name} changed; diff it, bless with VIGIL_BLESS=1"


@pytest.mark.parametrize("name", ["graceful-stop", "cable-pulled", "power-off"])
def test_primary_failure_moves_the_group_to_a_standby_and_back_home(name: str) -> None:
    r = run(name)
    assert all(p.nodes == ("node1",) for p in r.before)
    assert not r.violations
    moved = [ln for ln in r.lines if ln.kind == "action" and ln.text.startswith("start of vip")
             and ln.node in ("node2", "node3")]
    assert moved, "vip never started on a standby"
    assert all(p.nodes == ("node1",) for p in r.after), "auto_failback on: back on node1"


def test_hung_primary_without_fencing_shows_two_active_copies() -> None:
    r = run("kernel-crash")
    assert [v.split(" started")[0] for v in r.violations] == ["vip", "fs", "httpd"]
    assert all(len(p.nodes) == 1 for p in r.after)


def test_hung_primary_with_fencing_is_powered_off_before_the_takeover_and_gets_it_back(
        ) -> None:
    r = run("kernel-crash-fenced")
    assert not r.violations
    fenced = next(ln.at_ms for ln in r.lines if ln.kind == "fault"
                  and ln.text.startswith("power off node1: fenced by node2 with ipmi"))
    confirmed = next(ln.at_ms for ln in r.lines if ln.text.startswith("node1 fenced:"))
    takeover = [ln.at_ms for ln in r.lines if ln.kind == "action"
                and ln.text.startswith("start ") and ln.node in ("node2", "node3")]
    assert takeover
    assert fenced <= confirmed <= min(takeover)  # never while node1 could still run it
    assert all(p.nodes == ("node1",) for p in r.after), "rebooted, rejoined, failed back"


def test_same_seed_same_rehearsal_and_json_carries_the_same_timeline() -> None:
    a, b = run("power-off", seed=7), run("power-off", seed=7)
    assert a == b
    doc = json.loads(rehearsal_json(a, CONFIG_NAME, "power-off"))
    assert doc["schema"] == 1
    assert len(doc["timeline"]) == len(a.lines)
    assert doc["after"] == [{"resource": r, "group": "web", "nodes": ["node1"]}
                            for r in ("vip", "fs", "httpd")]


def test_cli_exits_1_when_an_invariant_breaks_and_0_when_it_holds(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", str(CONFIG_PATH), "--scenario",
                 str(SCENARIOS / "kernel-crash.toml")]) == 1
    assert "INVARIANTS VIOLATED (3)" in capsys.readouterr().out
    assert main(["simulate", str(CONFIG_PATH), "--scenario",
                 str(SCENARIOS / "power-off.toml"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["violations"] == []


def test_cli_refuses_a_scenario_naming_an_unknown_node_with_file_and_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('timeline = [\n  "crash node1 at 5s",\n  "crash nod2 at 6s",\n]\n')
    assert main(["simulate", str(CONFIG_PATH), "--scenario", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:3: error: 'crash nod2 at 6s': no node 'nod2'" in err


def test_chaos_runs_report_safe_and_settled_with_their_seeds(
        capsys: pytest.CaptureFixture[str]) -> None:
    runs = chaos(config(), 3, first_seed=11)
    assert [r.seed for r in runs] == [11, 12, 13]
    assert all(r.faults for r in runs)
    assert [r.problem for r in runs] == [None, None, None]
    assert main(["simulate", str(CONFIG_PATH), "--chaos", "2", "--seed", "11"]) == 0
    assert "2 of 2 runs safe and settled" in capsys.readouterr().out
