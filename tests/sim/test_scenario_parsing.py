"""Scenario files: each step read as written, every mistake refused with its line and a hint."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.config import NodeName, ResourceId, load
from vigil.sim.scenario import (
    Crash,
    FailResource,
    Freeze,
    Heal,
    Online,
    Partition,
    ScenarioError,
    Standby,
    Start,
    Stop,
    check,
    parse_scenario,
    parse_time,
)

CONFIG = Path(__file__).resolve().parents[2] / "examples" / "scenarios" / "cluster.toml"
N1, N2, N3 = NodeName("node1"), NodeName("node2"), NodeName("node3")


def one(step: str) -> tuple[int, object]:
    s = parse_scenario(f'timeline = ["{step}"]\n').steps[0]
    return s.at_ms, s.action


@pytest.mark.parametrize(("step", "at", "action"), [
    ("crash node2 at 5s", 5000, Crash(N2)),
    ("stop node1 at 500ms", 500, Stop(N1)),
    ("restart node1 at 1.5s", 1500, Start(N1)),
    ("start node1 at 2m", 120_000, Start(N1)),
    ("freeze node1 at 5s until 9s", 5000, Freeze(N1, 9000)),
    ("freeze node1 at 5s", 5000, Freeze(N1, None)),
    ("partition [node1] [node2,node3] at 10s", 10_000,
     Partition(((N1,), (N2, N3)), None, None)),
    ("partition [node1] [node2, node3] on eth0 at 10s until 20s", 10_000,
     Partition(((N1,), (N2, N3)), ("eth0",), 20_000)),
    ("heal at 20s", 20_000, Heal()),
    ("fail monitor of db at 12s", 12_000, FailResource(ResourceId("db"), None)),
    ("fail httpd on node2 at 12s", 12_000, FailResource(ResourceId("httpd"), N2)),
    ("standby node1 at 3s", 3000, Standby(N1)),
    ("online node1 at 4s", 4000, Online(N1)),
])
def test_each_step_reads_as_written(step: str, at: int, action: object) -> None:
    assert one(step) == (at, action)


@pytest.mark.parametrize(("text", "message"), [
    ('timeline = ["crash node2"]', ":1: error: 'crash node2': a step says when"),
    ('timeline = ["explode node2 at 5s"]', "unknown step 'explode'"),
    ('timeline = ["crash node2 at 5h"]', "bad time '5h'"),
    ('timeline = ["partition [node1] at 5s"]', "two or more groups"),
    ('timeline = ["crash node2 at 5s until 9s"]', "crash takes no 'until'"),
    ('timeline = ["freeze node2 at 9s until 5s"]', "is not after at"),
    ('timeline = []', "no timeline"),
    ('end = "1s"\ntimeline = ["crash node2 at 5s"]', "end (1000 ms) comes before the last"),
    ('timline = ["crash node2 at 5s"]', "unknown key 'timline'"),
])
def test_mistakes_are_refused_with_the_line(text: str, message: str) -> None:
    with pytest.raises(ScenarioError) as e:
        parse_scenario(text + "\n", Path("s.toml"))
    assert message in str(e.value)
    assert str(e.value).startswith("s.toml")


def test_names_are_checked_against_the_configuration_and_isolate_means_everyone_else() -> None:
    config = load(CONFIG).config
    assert config is not None
    good = check(parse_scenario('timeline = ["isolate node1 on eth0 at 5s"]\n'), config)
    assert good.steps[0].action == Partition(((N1,), (N2, N3)), ("eth0",), None)
    text = ('timeline = [\n "fail monitor of db at 5s",\n'
            ' "partition [node1] [node4] on eth9 at 6s",\n]\n')
    with pytest.raises(ScenarioError) as e:
        check(parse_scenario(text, Path("s.toml")), config)
    problems = "\n".join(e.value.problems)
    assert "s.toml:2: error: 'fail monitor of db at 5s': no resource 'db'" in problems
    assert "s.toml:3:" in problems
    assert "no node 'node4'" in problems
    assert "no link 'eth9'" in problems


def test_times_are_milliseconds_seconds_or_minutes() -> None:
    assert [parse_time(t) for t in ("0ms", "250ms", "3s", "0.1s", "1m")] == [0, 250, 3000, 100,
                                                                              60_000]
    with pytest.raises(ValueError, match="bad time"):
        parse_time("3h")
