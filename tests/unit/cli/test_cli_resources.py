"""``vigil status``'s resources section and the admin commands' exit codes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from vigil.cli import admin_cmd
from vigil.cli.resources_view import resource_lines
from vigil.exitcodes import ExitCode, VigilError


def r(rid: str, group: str | None, node: str | None, state: str, *, fails: int = 0,
      reason: str = "") -> dict[str, Any]:
    return {"id": rid, "group": group, "node": node, "nodes": [node] if node else [],
            "state": state, "failcount": fails, "reason": reason}


def test_groups_are_shown_with_their_node_and_members_with_state_failures_and_reason() -> None:
    doc = {"resources": [r("vip", "web", "node2", "running",
                           reason="Stay on node2: preferred node"),
                         r("app", "web", "node2", "starting"),
                         r("db", None, None, "stopped", fails=3,
                           reason="Stay stopped: no node can run it")],
           "warnings": ["split brain possible: no fencing configured"]}
    assert resource_lines(doc) == [
        "",
        "Resources:",
        "  group web: partial on node2",
        "    vip  node2    running   failcount 0  Stay on node2: preferred node",
        "    app  node2    starting  failcount 0",
        "  db   -        stopped   failcount 3  Stay stopped: no node can run it",
        "WARNING: split brain possible: no fencing configured",
    ]


def test_a_daemon_without_resources_in_its_status_adds_nothing() -> None:
    assert resource_lines({"node": "node1"}) == []


@pytest.mark.parametrize(("message", "code"), [
    ("no node 'node9' in the configuration", ExitCode.NOT_FOUND),
    ("no resource or group 'mail' in the configuration", ExitCode.NOT_FOUND),
    ("this partition has no quorum", ExitCode.NO_QUORUM),
    ("standby node1: the DC did not confirm it within 2000 ms", ExitCode.TIMEOUT),
    ("something else went wrong", ExitCode.FAILED),
])
def test_a_refusal_from_the_daemon_leaves_with_its_documented_exit_code(
        monkeypatch: pytest.MonkeyPatch, message: str, code: ExitCode) -> None:
    def refuse(*_args: object, **_kw: object) -> object:
        raise VigilError(message, hint="a hint")
    monkeypatch.setattr(admin_cmd, "request", refuse)
    with pytest.raises(VigilError) as raised:
        admin_cmd._admin(Path("/nonexistent.sock"), 1.0, "standby", node="node1")
    assert (raised.value.code, raised.value.message, raised.value.hint) == (code, message,
                                                                              "a hint")
