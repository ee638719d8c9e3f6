"""The filesystem built-in mounts a tmpfs, and on stop clears the processes using it
(TERM, then KILL for one that ignores TERM) so the unmount succeeds."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from prereqs import require_root
from vigil.agents.builtin.filesystem import mounted_device
from vigil.config import AgentSpec, Resource, ResourceId
from vigil.executor import Executor, ResourceState, ResultKind

pytestmark = [pytest.mark.root, pytest.mark.timeout(60)]

STUBBORN = ("import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "f = open(sys.argv[1], 'w'); print('ready', flush=True); time.sleep(60)")


@pytest.fixture
def mount_point(tmp_path: Path) -> Iterator[Path]:
    require_root()
    target = tmp_path / "data"
    try:
        yield target
    finally:
        if mounted_device(target) is not None:
            subprocess.run(["umount", "-l", str(target)], check=False, timeout=10)


def data(target: Path, **extra: str) -> Resource:
    return Resource(ResourceId("data"), AgentSpec("vigil", "filesystem"),
                    params={"device": "tmpfs", "directory": str(target), "fstype": "tmpfs",
                            "options": "size=4m,mode=0755", **extra})


async def test_filesystem_stop_kills_holders_then_unmounts(mount_point: Path,
                                                           tmp_path: Path) -> None:
    rid = ResourceId("data")
    node = Executor([data(mount_point, term_grace_ms="300")], state_dir=tmp_path / "state")
    holders: list[subprocess.Popen[str]] = []
    try:
        assert (await node.run(rid, "monitor")).result is ResultKind.NOT_RUNNING
        started = await node.run(rid, "start")
        assert started.ok, started.reason
        assert mounted_device(mount_point) is not None
        assert (await node.run(rid, "monitor", interval_ms=1000)).result is ResultKind.OK
        # One process sits in the mount, one holds a file open and ignores TERM.
        holders.append(subprocess.Popen(["sleep", "60"], cwd=mount_point, text=True))
        stubborn = subprocess.Popen([sys.executable, "-c", STUBBORN,
                                     str(mount_point / "open.log")],
                                    stdout=subprocess.PIPE, text=True)
        holders.append(stubborn)
        assert stubborn.stdout is not None
        assert stubborn.stdout.readline().strip() == "ready"

        stopped = await node.run(rid, "stop")
        assert stopped.ok, stopped.reason
        assert "stopped 2 process(es)" in stopped.reason
        assert "1 with KILL" in stopped.reason
        assert mounted_device(mount_point) is None
        assert holders[0].wait(5) == -15  # TERM was enough
        assert holders[1].wait(5) == -9  # ignored TERM: KILL after the grace
        assert node.state(rid) is ResourceState.STOPPED
        assert (await node.run(rid, "monitor")).result is ResultKind.NOT_RUNNING
    finally:
        for p in holders:
            if p.poll() is None:
                p.kill()
                p.wait(5)
        await node.close()


async def test_filesystem_mount_failure_is_reported_with_mounts_words(
        tmp_path: Path, mount_point: Path) -> None:
    rid = ResourceId("data")
    bad = Resource(rid, AgentSpec("vigil", "filesystem"),
                   params={"device": "/dev/vigil-no-such-disk", "directory": str(mount_point),
                           "fstype": "ext4"})
    node = Executor([bad], state_dir=tmp_path / "state")
    try:
        result = await node.run(rid, "start")
        assert result.result is ResultKind.ERROR
        assert "/dev/vigil-no-such-disk" in result.reason
        assert node.state(rid) is ResourceState.FAILED
    finally:
        await node.close()
