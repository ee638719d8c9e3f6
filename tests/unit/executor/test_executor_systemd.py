"""systemd: units through systemctl. Real units only where systemd is PID 1; the
mapping is also exercised with a stand-in systemctl so it is tested everywhere."""

from __future__ import annotations

from pathlib import Path

import pytest
from executor_scripts import install

from vigil.agents import AgentDirs, OcfRc, systemd_running
from vigil.config import AgentSpec, Resource, ResourceId
from vigil.executor import ExecStatus, Executor, ResourceState, ResultKind

PID1 = Path("/proc/1/comm").read_text().strip() if Path("/proc/1/comm").exists() else "?"

FAKE_SYSTEMCTL = """#!/bin/sh
dir="{dir}"
echo "$@" >> "$dir/calls.log"
case "$1" in
  is-active) cat "$dir/state" 2>/dev/null || echo inactive
    [ "$(cat "$dir/state" 2>/dev/null)" = active ] || exit 3 ;;
  --no-ask-password)
    case "$2" in start) echo active > "$dir/state" ;; stop) echo inactive > "$dir/state" ;; esac ;;
esac
"""


async def test_systemd_unit_driven_through_systemctl_words(tmp_path: Path) -> None:
    systemctl = install(tmp_path / "systemctl", FAKE_SYSTEMCTL.format(dir=tmp_path))
    runtime = tmp_path / "run-systemd-system"
    runtime.mkdir()
    rid = ResourceId("web")
    ex = Executor([Resource(rid, AgentSpec("systemd", "nginx"))],
                  dirs=AgentDirs(systemctl=str(systemctl), systemd_runtime=runtime),
                  state_dir=tmp_path)
    try:
        assert (await ex.run(rid, "monitor")).result is ResultKind.NOT_RUNNING
        assert (await ex.run(rid, "start")).ok
        assert (await ex.run(rid, "monitor")).result is ResultKind.OK
        assert (await ex.run(rid, "stop")).ok
        assert ex.state(rid) is ResourceState.STOPPED
        calls = (tmp_path / "calls.log").read_text().splitlines()
        assert calls[:2] == ["is-active -- nginx.service",
                             "--no-ask-password start -- nginx.service"]
    finally:
        await ex.close()


async def test_systemd_class_without_systemd_reports_not_installed(tmp_path: Path) -> None:
    rid = ResourceId("web")
    ex = Executor([Resource(rid, AgentSpec("systemd", "nginx"))],
                  dirs=AgentDirs(systemd_runtime=tmp_path / "absent"), state_dir=tmp_path)
    try:
        ev = await ex.run(rid, "start")
        assert ev.status is ExecStatus.NOT_INSTALLED
        assert ev.rc == OcfRc.ERR_INSTALLED
        assert "systemd is not running" in ev.reason
    finally:
        await ex.close()


@pytest.mark.skipif(not systemd_running() or PID1 != "systemd",
                    reason=f"systemd is not PID 1 on this machine (PID 1 is {PID1!r}): "
                           "real systemd: units cannot be started here")
async def test_real_systemd_unit_start_monitor_stop(tmp_path: Path) -> None:
    unit = Path("/run/systemd/system/vigil-test-sleep.service")
    unit.write_text("[Service]\nExecStart=/bin/sleep 600\n")
    import subprocess

    subprocess.run(["systemctl", "daemon-reload"], check=True, timeout=30)
    rid = ResourceId("u")
    ex = Executor([Resource(rid, AgentSpec("systemd", "vigil-test-sleep"))], state_dir=tmp_path)
    try:
        assert (await ex.run(rid, "start")).ok
        assert (await ex.run(rid, "monitor")).result is ResultKind.OK
        assert (await ex.run(rid, "stop")).ok
        assert (await ex.run(rid, "monitor")).result is ResultKind.NOT_RUNNING
    finally:
        await ex.close()
        unit.unlink(missing_ok=True)
        subprocess.run(["systemctl", "daemon-reload"], check=False, timeout=30)
