"""``vigil agent exec|list|info`` as an administrator uses them: output and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from prereqs import require
from vigil.cli.main import main

DUMMY = Path("/usr/lib/ocf/resource.d/heartbeat/Dummy")



def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_exec_exits_with_the_agents_own_code(capsys: pytest.CaptureFixture[str],
                                             tmp_path: Path) -> None:
    state = f"state={tmp_path / 'd.state'}"
    base = ("agent", "exec", "vigil:dummy")
    assert run(capsys, *base, "monitor", state)[0] == 7
    code, out, _ = run(capsys, *base, "start", state)
    assert code == 0
    assert out.startswith("start vigil:dummy: ok (rc=0)")
    assert run(capsys, *base, "monitor", state)[0] == 0


def test_exec_real_ocf_dummy_with_json(capsys: pytest.CaptureFixture[str],
                                       tmp_path: Path) -> None:
    require(DUMMY.exists(), "needs Debian's resource-agents (scripts/system-deps.sh)")
    code, out, _ = run(capsys, "agent", "exec", "ocf:heartbeat:Dummy", "monitor",
                       f"state={tmp_path / 'x'}", "--json")
    assert code == 7
    doc = json.loads(out)
    assert (doc["rc"], doc["result"], doc["status"]) == (7, "not-running", "done")
    assert set(doc) >= {"agent", "action", "exit_code", "duration_ms", "reason", "output"}


def test_exec_timeout_exits_124(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "agent", "exec", "vigil:dummy", "start",
                       f"state={tmp_path / 'd'}", "op_sleep_ms=5000", "--timeout", "0.2")
    assert code == 124
    assert "timed out after 200 ms" in out


def test_exec_missing_agent_exits_5_with_a_hint(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "agent", "exec", "ocf:nobody:Nothing", "start")
    assert code == 5
    assert "not-installed" in out
    assert "hint:" in out


@pytest.mark.parametrize(("argv", "code"), [
    (("agent", "exec", "ocf:../..:sh", "start"), 2),
    (("agent", "exec", "vigil:dummy", "start", "not-a-pair"), 2),
    (("agent", "exec", "vigil:dummy", "start;reboot"), 2),
    (("agent", "exec", "heartbeat:IPaddr", "start", "10.0.0.5;rm -rf /"), 6),
    (("agent", "exec", "vigil:dummy", "start", "staet=/tmp/x"), 6),
])
def test_exec_refuses_bad_input_before_running_anything(
        capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], code: int) -> None:
    assert run(capsys, *argv)[0] == code


def test_exec_help_documents_the_timeout_code(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "agent", "exec", "--help")
    assert code == 0
    assert "124" in out
    assert "KEY=VALUE" in out


def test_list_and_info(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "agent", "list", "--class", "vigil")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == \
        ["vigil:dummy", "vigil:filesystem", "vigil:ipaddr", "vigil:macaddr"]
    code, out, _ = run(capsys, "agent", "info", "vigil:ipaddr", "--json")
    doc = json.loads(out)
    assert code == 0
    assert doc["parameters"][0] == {
        "name": "ip", "required": True, "unique": False, "type": "string", "default": None,
        "shortdesc": "The virtual address (IPv4 or IPv6)"}
    code, out, err = run(capsys, "agent", "info", "lsb:vigil-no-such-script")
    assert code == 3
    assert "no init script" in err


def test_info_reads_real_ocf_meta_data(capsys: pytest.CaptureFixture[str]) -> None:
    require(DUMMY.exists(), "needs Debian's resource-agents (scripts/system-deps.sh)")
    code, out, _ = run(capsys, "agent", "info", "ocf:heartbeat:Dummy")
    assert code == 0
    assert "state [default:" in out
    assert "validate-all" in out
    assert "timeout 20s" in out
