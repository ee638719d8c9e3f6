"""Heartbeat's tools installed and answering as Heartbeat 3.0.6 did, from a status document."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from vigil.cli.compat import cl_status
from vigil.cli.main import cli


def doc(resources: list[dict[str, Any]] | None) -> dict[str, Any]:
    d: dict[str, Any] = {"node": "alpha", "nodes": [], "links": []}
    if resources is not None:
        d["resources"] = resources
    return d


@pytest.mark.parametrize(
    ("here", "out"),
    [
        ([], "none"),
        (["web"], "local"),  # web's haresources home is alpha
        (["db"], "foreign"),
        (["web", "db"], "all"),
    ],
)
def test_rscstatus_says_which_groups_this_node_holds_in_heartbeats_words(
    here: list[str], out: str
) -> None:
    resources = [{"id": "ip", "group": g, "node": "alpha" if g in here else "beta",
                  "nodes": ["alpha"] if g in here else ["beta"]} for g in ("web", "db")]
    homes: dict[str, str | None] = {"web": "alpha", "db": "beta"}
    answer = cl_status.run(["rscstatus"], doc(resources), homes)
    assert (answer.code, answer.out) == (0, [out])
    human = cl_status.run(["rscstatus", "-m"], doc(resources), homes)
    assert human.out == [f"This node is holding {out} resources."]


def test_rscstatus_without_resource_information_is_heartbeats_unknown_error() -> None:
    answer = cl_status.run(["rscstatus"], doc(None), {})
    assert (answer.code, answer.out) == (13, [])
    assert answer.err[0] == "Cannot get cluster resource status"


def test_commands_needing_the_daemon_fail_as_heartbeats_signon_failure() -> None:
    answer = cl_status.run(["listnodes"], None)
    assert (answer.code, answer.err[0]) == (1, "Cannot signon with heartbeat")


def test_compat_install_writes_three_executables_that_exec_vigil(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["compat", "install", "--prefix", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for tool in ("cl_status", "hb_standby", "hb_takeover"):
        path = tmp_path / "bin" / tool
        assert os.access(path, os.X_OK)
        text = path.read_text()
        assert text.startswith("#!/bin/sh\n")
        assert text.rstrip().endswith(f'compat {tool} "$@"')
        assert f"installed {path}" in result.output
