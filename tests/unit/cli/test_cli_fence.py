"""``vigil fence``: dangerous, so it asks to type the node's name back unless --force."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.cli.main import main
from vigil.exitcodes import ExitCode


@pytest.mark.parametrize("confirm", [[], ["--confirm"]])
def test_fence_without_a_terminal_or_force_is_refused_as_unsafe(
        confirm: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["fence", "node2", *confirm, "--socket", str(tmp_path / "none.sock")])
    assert code == ExitCode.UNSAFE
    assert "without confirmation" in capsys.readouterr().err


def test_fence_with_force_asks_the_daemon_and_says_when_none_answers(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["fence", "node2", "--force", "--socket", str(tmp_path / "none.sock")])
    assert code == ExitCode.NOT_RUNNING
    assert "no vigil daemon answers" in capsys.readouterr().err


def test_fence_help_lists_its_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fence", "--help"]) == 0
    out = capsys.readouterr().out
    assert "meatware" in out
    assert "5    not confirmed" in out
