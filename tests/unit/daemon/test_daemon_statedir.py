"""The incarnation survives restarts, grows on every start, and is never torn."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.daemon.statedir import StateDir, write_atomically
from vigil.exitcodes import VigilError


def test_every_start_gets_a_higher_incarnation_than_the_last(tmp_path: Path) -> None:
    seen = []
    for _ in range(3):
        state = StateDir(tmp_path / "state", "node1")
        state.acquire()
        seen.append(state.next_incarnation())
        state.release()
    assert seen == [1, 2, 3]
    assert (tmp_path / "state" / "node1.incarnation").read_text() == "3\n"


def test_daemons_for_different_nodes_share_a_state_dir_without_sharing_numbers(
    tmp_path: Path,
) -> None:
    a, b = StateDir(tmp_path, "node1"), StateDir(tmp_path, "node2")
    a.acquire()
    b.acquire()
    assert (a.next_incarnation(), a.next_incarnation(), b.next_incarnation()) == (1, 2, 1)
    a.release()
    b.release()


def test_second_daemon_for_the_same_node_is_refused_with_a_hint(tmp_path: Path) -> None:
    first = StateDir(tmp_path, "node1")
    first.acquire()
    try:
        with pytest.raises(VigilError, match="another vigil daemon for node node1") as err:
            StateDir(tmp_path, "node1").acquire()
        assert err.value.hint
        assert "--state-dir" in err.value.hint
    finally:
        first.release()
    StateDir(tmp_path, "node1").acquire()  # free again once the first let go


@pytest.mark.parametrize("content", ["", "seven\n", "-3\n", "\x00\x00"])
def test_damaged_incarnation_file_stops_start_up_instead_of_reusing_a_number(
    tmp_path: Path, content: str
) -> None:
    (tmp_path / "node1.incarnation").write_text(content)
    with pytest.raises(VigilError, match=r"node1\.incarnation") as err:
        StateDir(tmp_path, "node1").next_incarnation()
    assert err.value.hint
    assert "date +%s" in err.value.hint
    assert (tmp_path / "node1.incarnation").read_text() == content  # left as found


def test_atomic_write_leaves_no_temporary_file_behind(tmp_path: Path) -> None:
    target = tmp_path / "f"
    write_atomically(target, b"one\n")
    write_atomically(target, b"two\n")
    assert target.read_bytes() == b"two\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]
    assert target.stat().st_mode & 0o777 == 0o600
