"""Scenario steps that break fence devices: `vigil simulate` rehearses a failing IPMI board.

``fail fence DEVICE`` and ``slow fence DEVICE DURATION`` (with an optional
``until``) act on the simulated fence agents of examples/scenarios/cluster-fenced.toml
(node1: level 1 ipmi, level 2 pdu). A typo is refused with its line, as every step.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.cli.main import main
from vigil.config import ClusterConfig, NodeName, load
from vigil.sim.rehearsal import Rehearsal, chaos, rehearse
from vigil.sim.scenario import FenceFault, Freeze, ScenarioError, check, parse_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "examples" / "scenarios"
FENCED = SCENARIOS / "cluster-fenced.toml"


def config() -> ClusterConfig:
    result = load(FENCED)
    assert result.config is not None
    return result.config


def rehearsed(*steps: str) -> Rehearsal:
    text = "timeline = [\n" + "".join(f'  "{s}",\n' for s in steps) + "]\n"
    c = config()
    return rehearse(c, check(parse_scenario(text), c), seed=1)


@pytest.mark.parametrize(("step", "action"), [
    ("fail fence ipmi at 0s", FenceFault("ipmi", True, None, None)),
    ("fail fence ipmi at 0s until 9s", FenceFault("ipmi", True, None, 9000)),
    ("slow fence pdu 3s at 1s", FenceFault("pdu", False, 3000, None)),
    ("slow fence pdu 1.5s at 1s until 20s", FenceFault("pdu", False, 1500, 20_000)),
])
def test_fence_fault_steps_read_as_written(step: str, action: FenceFault) -> None:
    assert parse_scenario(f'timeline = ["{step}"]\n').steps[0].action == action


@pytest.mark.parametrize(("step", "says"), [
    ("fail fence at 1s", "fail fence takes a device"),
    ("slow fence pdu at 1s", "slow fence takes a device and a duration"),
    ("slow fence pdu soon at 1s", "bad time 'soon'"),
    ("slow pdu 3s at 1s", "slow fence takes a device and a duration"),
    ("fail monitor of vip at 1s until 2s", "fail takes no 'until'"),
])
def test_bad_fence_fault_step_is_refused_with_its_line(step: str, says: str) -> None:
    with pytest.raises(ScenarioError) as e:
        parse_scenario(f'description = "x"\ntimeline = [\n  "{step}",\n]\n', Path("s.toml"))
    assert e.value.problems[0].startswith(f"s.toml:3: error: '{step}': {says}"), e.value


def test_unknown_fence_device_is_refused_naming_the_devices() -> None:
    scenario = parse_scenario('timeline = [\n  "fail fence ipmi2 at 1s",\n]\n', Path("s.toml"))
    with pytest.raises(ScenarioError, match=r"s.toml:2: error: 'fail fence ipmi2 at 1s': no "
                       r"fence device 'ipmi2'.*\n  hint: fence devices: ipmi, pdu"):
        check(scenario, config())


def test_a_broken_ipmi_board_delays_the_takeover_to_the_second_level() -> None:
    r = rehearsed("slow fence pdu 3s at 0s", "fail fence ipmi at 0s", "freeze node1 at 5s")
    fence = [ln for ln in r.lines if ln.kind == "fence"]
    decided = next(ln.at_ms for ln in fence if ln.text.startswith("fencing node1:"))
    agents = [(ln.at_ms - decided, ln.text) for ln in fence if ln.text.startswith("fence agent")]
    assert agents == [(200, "fence agent ipmi: reboot of node1 failed after 200 ms"),
                      (3200, "fence agent pdu: reboot of node1 succeeded after 3000 ms")]
    takeover = min(ln.at_ms for ln in r.lines if ln.kind == "action" and ln.node == "node2")
    assert takeover > decided + 3200
    assert not r.violations


def test_every_level_failing_leaves_the_group_stopped_and_the_fence_retried(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    r = rehearsed("fail fence ipmi at 0s", "fail fence pdu at 0s", "freeze node1 at 5s")
    # Only the hung node1 holds the group (frozen, unfenced): nobody else starts it.
    assert [(p.resource, p.nodes) for p in r.after] == [
        ("vip", ("node1",)), ("fs", ("node1",)), ("httpd", ("node1",))]
    assert not [ln for ln in r.lines if ln.kind == "action" and ln.node != "node1"
                and ln.at_ms > 5_000]
    failed = [ln.text for ln in r.lines if ln.text.startswith("fencing of node1 failed")]
    assert [t.split("retrying in ")[1].split(";")[0] for t in failed] == ["2 s", "4 s"]
    assert not r.violations
    # the same through the CLI: exit 0 (nothing ran twice), the retries in the timeline
    path = tmp_path / "broken.toml"
    path.write_text('timeline = ["fail fence ipmi at 0s", "fail fence pdu at 0s", '
                    '"freeze node1 at 5s"]\n')
    assert main(["simulate", str(FENCED), "--scenario", str(path)]) == 0
    out = capsys.readouterr().out
    assert "every fencing level failed for node1" in out
    assert "  vip    node1  (group web)" in out


def test_a_freeze_step_still_parses_with_until() -> None:
    step = parse_scenario('timeline = ["freeze node1 at 5s until 9s"]\n').steps[0]
    assert step.action == Freeze(NodeName("node1"), 9000)


def test_chaos_on_a_fenced_cluster_draws_failing_fence_agents_and_every_run_settles() -> None:
    runs = chaos(config(), 12, first_seed=1)
    assert [r.problem for r in runs] == [None] * 12
    drawn = [f for r in runs for f in r.faults]
    assert any(f.startswith("fence device ") for f in drawn)
    assert any(f.startswith("pause ") for f in drawn)  # frozen daemons: fencing makes them safe
