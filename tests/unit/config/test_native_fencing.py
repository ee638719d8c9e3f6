"""Fencing levels and per-target delays in vigil.toml, as `vigil config check` reads them.

Levels follow Pacemaker's fencing-topology: per node, an index from 1 to 9
and the devices that must all succeed. Every mistake names its line and says
how to fix it; a good file gives the levels in the order they are tried.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from vigil.cli.main import main
from vigil.config import ClusterConfig, FenceLevel, NodeName, load
from vigil.config.native_fencing import parse_delay_map
from vigil.fencing import Level, delay_for, levels_for, topology_of

BASE = """\
[[node]]
name = "node1"

[[node]]
name = "node2"

[[node]]
name = "node3"

[[link]]
name = "ring0"
kind = "ucast"
addresses = { node1 = "127.0.0.1", node2 = "127.0.0.2", node3 = "127.0.0.3" }

[auth]
[[auth.key]]
secret = "0123456789abcdef0123456789abcdef"

[[fence_device]]
name = "ipmi1"
agent = "fence_ipmilan"
nodes = ["node1"]

[[fence_device]]
name = "pdu-a"
agent = "fence_apc"
host_map = { node1 = "1", node2 = "2", node3 = "3" }

[[fence_device]]
name = "pdu-b"
agent = "fence_apc"
host_map = { node1 = "1", node2 = "2", node3 = "3" }
"""
#: The first line of text appended to BASE.
FIRST = len(BASE.splitlines()) + 1

LEVELS = """
[[fencing.level]]
node = "node1"
index = 1
devices = ["ipmi1"]

[[fencing.level]]
node = "node1"
index = 2
devices = ["pdu-a", "pdu-b"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "vigil.toml"
    path.write_text(text)
    path.chmod(0o600)
    return path


def loaded(tmp_path: Path, text: str) -> ClusterConfig:
    result = load(write(tmp_path, text))
    assert result.config is not None, [d.format() for d in result.diagnostics]
    return result.config


def test_levels_are_read_in_index_order_and_a_node_without_levels_gets_one_per_device(
        tmp_path: Path) -> None:
    # written 2 first, then 1: tried from the lowest index up all the same
    swapped = LEVELS.split("\n[[fencing.level]]")
    config = loaded(tmp_path, BASE + "\n[[fencing.level]]" + swapped[2] +
                    "\n[[fencing.level]]" + swapped[1])
    n1, n2 = NodeName("node1"), NodeName("node2")
    assert config.fencing.levels_of(n1) == (FenceLevel(n1, 1, ("ipmi1",)),
                                            FenceLevel(n1, 2, ("pdu-a", "pdu-b")))
    devices, topology = config.fencing.devices, topology_of(config.fencing)
    assert levels_for(n1, devices, n2, topology=topology) == (
        Level(1, ("ipmi1",)), Level(2, ("pdu-a", "pdu-b")))
    # node2 has no levels: every device that can fence it, one level each
    assert levels_for(n2, devices, NodeName("node3"), topology=topology) == (
        Level(1, ("pdu-a",)), Level(2, ("pdu-b",)))


def test_gaps_in_the_index_are_kept_so_logs_say_the_level_as_written(tmp_path: Path) -> None:
    text = BASE + LEVELS.replace("index = 2", "index = 5")
    config = loaded(tmp_path, text)
    levels = levels_for(NodeName("node1"), config.fencing.devices, NodeName("node2"),
                        topology=topology_of(config.fencing))
    assert [lv.index for lv in levels] == [1, 5]


@pytest.mark.parametrize("case", [
    ("unknown_device_suggests_the_nearest", LEVELS.replace('"pdu-b"]', '"pdu-c"]'),
     FIRST + 9, "[[fencing.level]] 2 of node1: unknown fence device 'pdu-c'",
     "did you mean 'pdu-b'?"),
    ("duplicate_index_names_the_first", LEVELS.replace("index = 2", "index = 1"),
     FIRST + 8, "node1 has a level 1 already (line 36)", "its own index"),
    ("node_not_in_the_cluster", LEVELS.replace('node = "node1"\nindex = 2',
                                               'node = "node4"\nindex = 2'),
     FIRST + 7, "[[fencing.level]]: node: unknown node 'node4'", "did you mean node3?"),
    ("index_beyond_nine", LEVELS.replace("index = 2", "index = 10"),
     FIRST + 8, "index = 10 is out of range", "give from 1 to 9"),
    ("empty_level", LEVELS.replace('["pdu-a", "pdu-b"]', "[]"),
     FIRST + 9, "devices is missing or empty", "every one must succeed"),
    ("device_twice_in_a_level", LEVELS.replace('"pdu-b"]', '"pdu-a"]'),
     FIRST + 9, "device 'pdu-a' is in this level twice", "name each device once"),
    ("unknown_key_in_a_level", LEVELS.replace("index = 1", "index = 1\ndevice = 'x'"),
     FIRST + 4, "unknown key 'device'", "did you mean devices?"),
], ids=lambda case: case[0])
def test_bad_fencing_level_is_refused_at_its_line_with_the_fix(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        case: tuple[str, str, int, str, str]) -> None:
    _name, append, line, says, hint = case
    path = write(tmp_path, BASE + append)
    assert main(["config", "check", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:{line}: error: " in err, err
    assert says in err, err
    assert hint in err, err


def test_a_level_naming_a_device_configured_for_other_nodes_is_warned_about(
        tmp_path: Path) -> None:
    text = BASE + LEVELS.replace('node = "node1"\nindex = 1', 'node = "node2"\nindex = 1')
    result = load(write(tmp_path, text))
    assert result.config is not None
    warnings = [d.format() for d in result.diagnostics if not d.is_error]
    assert any("device 'ipmi1' is configured for node1, not node2" in w for w in warnings)


@pytest.mark.parametrize("written", [
    '"node1:5s;node2:0s"',
    '"node1:5s; node2:0"',
    '{ node1 = "5s", node2 = "0s" }',
])
def test_per_target_delay_as_pcmk_delay_base_or_as_a_table(tmp_path: Path,
                                                           written: str) -> None:
    text = BASE.replace('host_map = { node1 = "1", node2 = "2", node3 = "3" }\n',
                        'host_map = { node1 = "1", node2 = "2", node3 = "3" }\n'
                        f"delay = {written}\n", 1)
    pdu = loaded(tmp_path, text).fencing.devices[1]
    assert pdu.delay_by_node == {"node1": 5000, "node2": 0}
    no_random = random.Random(1)
    assert delay_for(pdu, no_random, NodeName("node1")) == 5000
    assert delay_for(pdu, no_random, NodeName("node2")) == 0
    assert delay_for(pdu, no_random, NodeName("node3")) == 0  # not named: no delay


@pytest.mark.parametrize(("written", "says"), [
    ('"node1:5s;node9:0s"', "delay: unknown node 'node9'"),
    ('"node1:5s;node1:1s"', "node 'node1' is given twice"),
    ('"node1:5"', "has no unit"),
    ('"node1;node2:1s"', "'node1' is not NODE:DURATION"),
    ('{ node1 = "soon" }', "delay for node1: bad duration 'soon'"),
])
def test_bad_per_target_delay_is_refused_at_its_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], written: str, says: str) -> None:
    text = BASE.replace('nodes = ["node1"]\n', f'nodes = ["node1"]\ndelay = {written}\n', 1)
    path = write(tmp_path, text)
    assert main(["config", "check", str(path)]) == 1
    err = capsys.readouterr().err
    line = text.splitlines().index(f"delay = {written}") + 1
    assert f"{path}:{line}: error: [[fence_device]] 'ipmi1': " in err, err
    assert says in err, err


def test_parse_delay_map_reads_pacemakers_host_map_syntax() -> None:
    assert parse_delay_map("node1:1s;node2:500ms;") == {"node1": 1000, "node2": 500}
    with pytest.raises(ValueError, match="no NODE:DURATION"):
        parse_delay_map(";")


def test_config_check_lists_the_levels_in_the_order_they_are_tried(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, BASE + LEVELS)
    assert main(["config", "check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "  fencing:  node1: level 1 ipmi1, then level 2 pdu-a + pdu-b\n" in out
    assert ("other nodes: one level per device that can fence it, in order: "
            "ipmi1, pdu-a, pdu-b") in out


@pytest.mark.parametrize(("example", "warned"), [("cluster.toml", True),
                                                 ("cluster-fenced.toml", False)])
def test_slow_stops_are_a_partition_risk_only_without_fence_devices(example: str,
                                                                    warned: bool) -> None:
    # The same cluster: 60 s of stop timeouts against a 400 ms budget. With fencing the
    # majority starts nothing of a lost node before it is powered off.
    path = Path(__file__).resolve().parents[3] / "examples" / "scenarios" / example
    result = load(path)
    assert result.config is not None
    risky = [d for d in result.diagnostics if "could run twice" in d.message]
    assert bool(risky) is warned
