"""Malformed vigil.toml files: `vigil config check` exits 1 and names the right line.

Each case changes one thing in a valid file (BASE) and says which line the
error must point at and what it must say.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from vigil.cli.main import main

BASE = """\
[cluster]
name = "t"

[timing]
keepalive = "200ms"
deadtime = "2s"

[[node]]
name = "node1"

[[node]]
name = "node2"

[[link]]
name = "ring0"
kind = "ucast"
addresses = { node1 = "127.0.0.1", node2 = "127.0.0.2" }

[auth]
[[auth.key]]
secret = "0123456789abcdef0123456789abcdef"

[[resource]]
id = "vip"
agent = "vigil:dummy"

[[resource]]
id = "app"
agent = "vigil:dummy"

[[group]]
id = "g"
resources = ["vip", "app"]
preferred_node = "node1"
"""


@dataclass(frozen=True)
class Case:
    """Replace lines of BASE (1-based; a value may hold several lines) and/or append text."""

    name: str
    line: int | None
    says: str
    replace: dict[int, str] = field(default_factory=dict)
    append: str = ""
    hint: str | None = None

    def text(self) -> str:
        lines = BASE.splitlines()
        for number, new in self.replace.items():
            lines[number - 1] = new
        return "\n".join(lines) + "\n" + self.append


CASES = [
    Case("toml_syntax_error_reports_tomllib_line", 16, "not valid TOML",
         {16: "kind = ucast"}),
    Case("unknown_key_suggests_the_nearest", 5, "unknown key 'keepalvie'",
         {5: 'keepalvie = "200ms"'}, hint="did you mean keepalive?"),
    Case("unknown_table_suggests_the_nearest", 4, "unknown table 'timimg'",
         {4: "[timimg]"}, hint="did you mean [timing]?"),
    Case("node_name_of_wrong_type", 9, "name must be a string, not an integer (1)",
         {9: "name = 1"}),
    Case("duration_without_unit", 5, "has no unit", {5: 'keepalive = "200"'},
         hint='"200ms"'),
    Case("duration_with_unknown_unit", 5, "bad duration '2 sec'", {5: 'keepalive = "2 sec"'}),
    Case("negative_duration", 6, "negative duration", {6: "deadtime = -5"}),
    Case("deadtime_not_above_two_keepalives", 6, "deadtime 300ms is too small",
         {6: 'deadtime = "300ms"'}),
    Case("initdead_shorter_than_deadtime", 7, "initdead 1s is shorter than deadtime",
         {6: 'deadtime = "2s"\ninitdead = "1s"'}),
    Case("address_for_unknown_node", 17, "unknown node 'node3'",
         {17: 'addresses = { node1 = "127.0.0.1", node3 = "127.0.0.3" }'}),
    Case("bad_ip_address_in_link", 17, "bad IP address '127.0.0.300'",
         {17: 'addresses = { node1 = "127.0.0.300", node2 = "127.0.0.2" }'}),
    Case("two_nodes_binding_one_address", 17, "which node1 on link 'ring0' binds already",
         {17: 'addresses = { node1 = "127.0.0.1", node2 = "127.0.0.1" }'}),
    Case("port_out_of_range", 17, "port = 70000 is out of range",
         {16: 'kind = "ucast"\nport = 70000'}),
    Case("port_65535_leaves_no_control_port", 17, "port = 65535 leaves no port for control",
         {16: 'kind = "ucast"\nport = 65535'}),
    Case("address_port_65535_leaves_no_control_port", 17,
         "addresses: port 65535 leaves no port for control",
         {17: 'addresses = { node1 = "127.0.0.1:65535", node2 = "127.0.0.2" }'}),
    Case("mcast_group_not_multicast", 17, "'10.0.0.1' is not a multicast address",
         {16: 'kind = "mcast"\ngroup = "10.0.0.1"'}),
    Case("unknown_link_kind", 16, "kind = 'unicast' is not one of",
         {16: 'kind = "unicast"'}),
    Case("duplicate_node", 12, "duplicate node 'node1'", {12: 'name = "node1"'},
         hint="line 9"),
    Case("node_written_as_a_table_not_an_array_of_tables", 8,
         "node must be an array of tables ([[node]]), not a table",
         {8: "[node]", 11: "[[nodes]]"}),
    Case("node_without_name", 8, "[[node]]: name is missing", {9: "votes = 1"}),
    Case("secret_missing", 20, "sha1 needs a secret", {21: 'method = "sha1"'},
         hint="openssl rand -hex 32"),
    Case("crc_with_a_secret", 22, "crc does not use a secret",
         {21: 'method = "crc"\nsecret = "x"'}),
    Case("active_key_not_defined", 20, "active = 3 names no [[auth.key]]",
         {19: "[auth]\nactive = 3"}),
    Case("duplicate_key_index", 25, "duplicate key index 1",
         {19: "[auth]\nactive = 1",
          21: 'index = 1\nsecret = "0123456789abcdef0123456789abcdef"\n[[auth.key]]\n'
              'index = 1\nsecret = "fedcba9876543210fedcba9876543210"'}, hint="line 22"),
    Case("duplicate_group_id", 37, "duplicate group id 'g'",
         append='\n[[group]]\nid = "g"\nresources = ["app"]\n', hint="line 32"),
    Case("duplicate_resource_id", 28, "duplicate resource id", {28: 'id = "vip"'}),
    Case("agent_without_ocf_provider", 25, "an ocf agent needs its provider",
         {25: 'agent = "ocf:IPaddr2"'}),
    Case("agent_with_path_in_name", 25, "is not a plain name",
         {25: 'agent = "heartbeat:../../bin/sh"'}),
    Case("unknown_builtin_agent", 25, "vigil's built-in agents are",
         {25: 'agent = "vigil:dumy"'}),
    Case("start_operation_with_interval", 26, "start runs once",
         {25: 'agent = "vigil:dummy"\nop = [{ name = "start", interval = "10s" }]'}),
    Case("unknown_key_in_operation", 26, "unknown key 'intreval'",
         {25: 'agent = "vigil:dummy"\nop = [{ name = "monitor", intreval = "10s" }]'},
         hint="did you mean interval?"),
    Case("group_names_missing_resource", 33, "no [[resource]] 'ap'",
         {33: 'resources = ["vip", "ap"]'}, hint="did you mean app?"),
    Case("resource_listed_twice_in_group", 33, "'vip' is listed twice",
         {33: 'resources = ["vip", "vip"]'}),
    Case("resource_in_two_groups", 38, "'vip' is already in group 'g'",
         append='\n[[group]]\nid = "h"\nresources = ["vip"]\n'),
    Case("group_id_clashes_with_resource_id", 32, "'vip' is already a resource id",
         {32: 'id = "vip"'}),
    Case("preferred_node_unknown", 34, "unknown node 'node9'",
         {34: 'preferred_node = "node9"'}),
    Case("location_score_not_a_score", 35, "must be a score",
         append='locations = { node1 = "lots" }\n'),
    Case("location_score_beyond_infinity", 35, "is beyond INFINITY",
         append="locations = { node1 = 2000000 }\n"),
    Case("two_node_with_three_nodes", 38, "two_node is for clusters of exactly 2 nodes",
         {12: 'name = "node2"\n[[node]]\nname = "node3"'}, append="[quorum]\ntwo_node = true\n"),
    Case("fence_device_for_unknown_node", 39, "unknown node 'nodeX'",
         append='\n[[fence_device]]\nname = "ipmi"\nagent = "fence_ipmilan"\n'
                'nodes = ["nodeX"]\n'),
    Case("unknown_syslog_facility", 37, "facility = 'deamon' is not one of",
         append='\n[logging]\nfacility = "deamon"\n', hint="did you mean 'daemon'?"),
]


def _check(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | bytes,
           mode: int = 0o600) -> tuple[int, str, Path]:
    path = tmp_path / "vigil.toml"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    os.chmod(path, mode)
    code = main(["config", "check", str(path)])
    return code, capsys.readouterr().err, path


def test_base_file_is_valid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err, _ = _check(tmp_path, capsys, BASE)
    assert code == 0, err


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_malformed_native_file_fails_with_its_line(
        case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err, path = _check(tmp_path, capsys, case.text())
    assert code == 1, err
    where = f"{path}:{case.line}: error: " if case.line is not None else f"{path}: error: "
    reports = [line for line in err.splitlines() if line.startswith(str(path))]
    assert any(r.startswith(where) and case.says in r for r in reports), \
        f"expected {where}...{case.says}...\n{err}"
    if case.hint is not None:
        assert case.hint in err, err


def test_binary_garbage_is_not_utf8_at_its_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err, path = _check(tmp_path, capsys, b'[cluster]\nname = "x"\n\x00\xff\xfe\x01junk')
    assert code == 1
    assert f"{path}:3: error: not UTF-8 text" in err


def test_empty_file_says_it_is_empty(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err, path = _check(tmp_path, capsys, "")
    assert code == 1
    assert f"{path}: error: the file holds no configuration" in err
    assert "no [[node]]" in err


def test_world_readable_file_with_secrets_is_refused_with_chmod_hint(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err, path = _check(tmp_path, capsys, BASE, mode=0o644)
    assert code == 1
    assert f"{path}: error: bad permissions 0644" in err
    assert f"hint: chmod 600 {path}" in err


def test_every_problem_is_reported_in_one_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = Case("", None, "", {5: 'keepalive = "fast"', 25: 'agent = "nope"',
                               33: 'resources = ["vip", "zzz"]'}).text()
    code, err, path = _check(tmp_path, capsys, text)
    assert code == 1
    for line in (5, 25, 33):
        assert f"{path}:{line}: error:" in err, err
