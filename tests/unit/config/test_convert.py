"""`vigil config convert`: Heartbeat's files to one vigil.toml that means the same."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from vigil.cli.main import main
from vigil.config import ConfigFormat, load
from vigil.config.convert import to_toml

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
LEGACY_EXAMPLES = ["heartbeat-3node/node0", "heartbeat-3node/node1", "heartbeat-3node/node2",
                   "heartbeat-2node"]


def legacy_copy(tmp_path: Path, example: str) -> Path:
    """A private copy of a shipped legacy example (git keeps no 0600 on authkeys)."""
    src = EXAMPLES / example
    assert (src / "ha.cf").is_file(), f"missing example {src}"
    dst = tmp_path / "ha.d"
    shutil.copytree(src, dst)
    os.chmod(dst / "authkeys", 0o600)
    return dst


@pytest.mark.parametrize("example", LEGACY_EXAMPLES)
def test_converted_legacy_example_checks_and_loads_to_the_same_model(
        example: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = legacy_copy(tmp_path, example)
    assert main(["config", "convert", str(directory)]) == 0
    text = capsys.readouterr().out
    toml = tmp_path / "vigil.toml"
    toml.write_text(text, encoding="utf-8")
    os.chmod(toml, 0o600)
    assert main(["config", "check", str(toml)]) == 0, capsys.readouterr().err
    legacy = load(directory).config
    native = load(toml).config
    assert legacy is not None
    assert native is not None
    assert legacy.format is ConfigFormat.LEGACY
    assert native.format is ConfigFormat.NATIVE
    assert native == legacy


def test_converted_file_says_where_it_came_from_and_where_each_part_was(
        tmp_path: Path) -> None:
    directory = legacy_copy(tmp_path, "heartbeat-2node")
    config = load(directory).config
    assert config is not None
    text = to_toml(config)
    head = text.splitlines()[:6]
    assert "Converted by `vigil config convert`" in "\n".join(head)
    assert f"#   {directory / 'ha.cf'}" in head
    assert "# from haresources:" in text
    assert to_toml(config) == text  # deterministic


def test_output_file_is_written_mode_0600_and_not_overwritten_without_force(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = legacy_copy(tmp_path, "heartbeat-2node")
    out = tmp_path / "vigil.toml"
    assert main(["config", "convert", str(directory), "-o", str(out)]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert load(out).ok
    out.write_text("# mine\n")
    os.chmod(out, 0o600)
    assert main(["config", "convert", str(directory), "-o", str(out)]) == 5
    assert "give --force to overwrite it" in capsys.readouterr().err
    assert out.read_text() == "# mine\n"
    assert main(["config", "convert", str(directory), "-o", str(out), "--force"]) == 0
    assert load(out).ok


def test_invalid_legacy_files_are_not_converted(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = legacy_copy(tmp_path, "heartbeat-2node")
    os.chmod(directory / "authkeys", 0o644)
    out = tmp_path / "vigil.toml"
    assert main(["config", "convert", str(directory), "-o", str(out)]) == 1
    assert "nothing converted" in capsys.readouterr().err
    assert not out.exists()


def test_native_example_converts_to_itself(tmp_path: Path) -> None:
    path = tmp_path / "vigil.toml"
    shutil.copy(EXAMPLES / "native" / "vigil.toml", path)
    os.chmod(path, 0o600)
    config = load(path).config
    assert config is not None
    again = tmp_path / "again.toml"
    again.write_text(to_toml(config), encoding="utf-8")
    os.chmod(again, 0o600)
    assert load(again).config == config
