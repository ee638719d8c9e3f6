"""``vigil status`` prints what the daemon says, and says so when no daemon answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from vigil.cli.main import cli, main
from vigil.cli.status_cmd import ago, plain_lines

DOC: dict[str, Any] = {
    "cluster": "demo",
    "node": "node1",
    "incarnation": 4,
    "dc": "node1",
    "quorate": True,
    "quorum": {"votes": 2, "expected": 3, "needed": 2},
    "view": {"members": ["node1", "node2"], "stable": True},
    "nodes": [
        {"name": "node1", "state": "up", "incarnation": 4, "self": True, "links": []},
        {"name": "node2", "state": "late", "incarnation": 9,
         "links": [{"name": "lan", "state": "late", "last_heard_ms": 1200},
                   {"name": "hb", "state": "dead", "last_heard_ms": 4000}]},
        {"name": "node3", "state": "dead", "incarnation": 2, "left": True,
         "links": [{"name": "lan", "state": "dead", "last_heard_ms": 65_000}]},
        {"name": "node4", "state": "unknown", "incarnation": None,
         "links": [{"name": "lan", "state": "unknown", "last_heard_ms": None}]},
    ],
    "links": [{"name": "lan", "kind": "ucast", "address": "127.0.0.1:6940",
               "sent": 10, "received": 20, "send_errors": 0}],
    "drops": {"total": 3, "by_reason": {"bad_signature": 2, "garbage": 1, "replayed": 0}},
    "config": {"reload_errors": []},
}


def test_plain_status_names_dc_quorum_and_every_node_with_its_links() -> None:
    text = "\n".join(plain_lines(DOC))
    assert "node node1 (incarnation 4), DC node1" in text
    assert "partition with quorum (2 of 3 votes, 2 needed)" in text
    lines = {line.split()[0]: line for line in plain_lines(DOC) if line.startswith("  node")}
    assert "late" in lines["node2"]
    assert "lan late 1.2 s ago" in lines["node2"]
    assert "hb dead 4.0 s ago" in lines["node2"]
    assert "dead" in lines["node3"]
    assert "left the cluster" in lines["node3"]
    assert "unknown" in lines["node4"]
    assert "incarnation -" in lines["node4"]
    assert "Dropped datagrams: 3 (bad_signature 2, garbage 1)" in text


def test_lost_quorum_and_a_failed_reload_are_spelled_out() -> None:
    doc = {**DOC, "quorate": False, "config": {"reload_errors": ["x.toml:3: error: bad"]}}
    text = "\n".join(plain_lines(doc))
    assert "partition WITHOUT quorum" in text
    assert "Last reload failed: x.toml:3: error: bad" in text


def test_durations_read_like_a_person_would_say_them() -> None:
    assert [ago(None), ago(87), ago(1234), ago(125_000), ago(7_200_000)] == [
        "never", "87 ms", "1.2 s", "2 min", "2.0 h"]


def test_no_daemon_exits_6_with_a_hint(tmp_path: Path, capsys: Any) -> None:
    code = main(["status", "--socket", str(tmp_path / "none.sock")])
    err = capsys.readouterr().err
    assert code == 6
    assert "no vigil daemon answers on" in err
    assert "hint:" in err
    assert "--socket" in err


def test_json_output_is_the_daemons_document_unchanged(tmp_path: Path, monkeypatch: Any) -> None:
    from vigil.cli import status_cmd

    monkeypatch.setattr(status_cmd, "request", lambda path, cmd: DOC)
    result = CliRunner().invoke(cli, ["status", "--json", "--socket", str(tmp_path / "s")])
    assert result.exit_code == 0
    assert json.loads(result.output) == DOC
