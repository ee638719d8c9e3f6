"""Real scripts through the executor: Heartbeat resource.d, LSB, OCF (our own and
Debian's ocf:heartbeat:Dummy), and the failures an administrator meets."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import pytest
from executor_scripts import HEARTBEAT, LSB, OCF, install

from prereqs import require
from vigil.agents import AgentDirs, OcfRc
from vigil.config import AgentSpec, Operation, Resource, ResourceId
from vigil.executor import ExecStatus, Executor, OperationCompleted, ResourceState, ResultKind

DUMMY = Path("/usr/lib/ocf/resource.d/heartbeat/Dummy")
pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def dirs(tmp_path: Path) -> AgentDirs:
    state = tmp_path / "state"
    state.mkdir()
    install(tmp_path / "resource.d" / "vsvc", HEARTBEAT.format(dir=state))
    install(tmp_path / "init.d" / "vtest", LSB.format(dir=state))
    install(tmp_path / "ocf" / "resource.d" / "vigiltest" / "Probe", OCF.format(dir=state))
    return AgentDirs(resource_dirs=(tmp_path / "resource.d",), lsb_dir=tmp_path / "init.d",
                     ocf_root=tmp_path / "ocf")


def res(rid: str, spec: AgentSpec, *args: str, ops: tuple[Operation, ...] = (),
        **params: str) -> Resource:
    return Resource(ResourceId(rid), spec, args, params, ops)


HB = AgentSpec("heartbeat", "vsvc")
LSBS = AgentSpec("lsb", "vtest")
PROBE = AgentSpec("ocf", "Probe", "vigiltest")


async def lifecycle(ex: Executor, rid: ResourceId) -> list[tuple[str, ResultKind]]:
    seen = []
    for action in ("monitor", "start", "monitor", "stop", "monitor"):
        ev = await ex.run(rid, action)
        seen.append((action, ev.result))
    return seen


EXPECTED = [("monitor", ResultKind.NOT_RUNNING), ("start", ResultKind.OK),
            ("monitor", ResultKind.OK), ("stop", ResultKind.OK),
            ("monitor", ResultKind.NOT_RUNNING)]


@pytest.mark.parametrize("spec", [HB, LSBS, PROBE, AgentSpec("vigil", "dummy")],
                         ids=str)
async def test_start_monitor_stop_for_every_class(dirs: AgentDirs, tmp_path: Path,
                                                  spec: AgentSpec) -> None:
    rid = ResourceId("svc")
    args = ("svc-a",) if spec.cls == "heartbeat" else ()
    ex = Executor([Resource(rid, spec, args)], dirs=dirs, state_dir=tmp_path / "vs")
    try:
        assert await lifecycle(ex, rid) == EXPECTED
        assert ex.state(rid) is ResourceState.STOPPED
    finally:
        await ex.close()


async def test_real_ocf_dummy_is_validated_once_before_first_start(tmp_path: Path) -> None:
    require(DUMMY.exists(), "needs Debian's resource-agents (scripts/system-deps.sh)")
    rid = ResourceId("d")
    ex = Executor([res("d", AgentSpec("ocf", "Dummy", "heartbeat"),
                       state=str(tmp_path / "d.state"))], state_dir=tmp_path)
    try:
        assert await lifecycle(ex, rid) == EXPECTED
        assert (await ex.run(rid, "start")).ok
        actions = [h.action for h in ex.history(rid)]
        assert actions.count("validate-all") == 1
        assert actions.index("validate-all") == actions.index("start") - 1
        meta = await ex.metadata(rid)
        assert {p.name for p in meta.parameters} >= {"state", "fake"}
    finally:
        await ex.close()


async def test_real_ocf_dummy_refused_by_validate_all_is_not_started(tmp_path: Path) -> None:
    require(DUMMY.exists(), "needs Debian's resource-agents (scripts/system-deps.sh)")
    rid = ResourceId("d")
    ex = Executor([res("d", AgentSpec("ocf", "Dummy", "heartbeat"),
                       state="/nonexistent-dir/d.state")], state_dir=tmp_path)
    try:
        ev = await ex.run(rid, "start")
        assert ev.status is ExecStatus.INVALID
        assert ev.rc == OcfRc.ERR_ARGS
        assert "validate-all" in ev.reason
        assert "not writable" in ev.reason
        assert ex.state(rid) is ResourceState.FAILED
        assert [h.action for h in ex.history(rid)] == ["validate-all", "start"]
    finally:
        await ex.close()


async def test_ocf_agent_sees_its_environment_and_meta_data_timeouts(
        dirs: AgentDirs, tmp_path: Path) -> None:
    rid = ResourceId("p")
    ex = Executor([res("p", PROBE, mode="ok")], dirs=dirs, node_name="node1",
                  state_dir=tmp_path / "vs")
    try:
        await ex.run(rid, "start")
        env = dict(line.split("=", 1) for line in
                   (tmp_path / "state" / "env.start").read_text().splitlines())
        assert env["OCF_RESKEY_CRM_meta_timeout"] == "7000"  # from the agent's meta-data
        assert env["OCF_RESOURCE_INSTANCE"] == "p"
        assert env["OCF_RESKEY_mode"] == "ok"
        assert env["OCF_RESKEY_CRM_meta_on_node"] == "node1"
        await ex.run(rid, "monitor", interval_ms=1500, timeout_ms=900)
        env = dict(line.split("=", 1) for line in
                   (tmp_path / "state" / "env.monitor").read_text().splitlines())
        assert (env["OCF_RESKEY_CRM_meta_interval"], env["OCF_RESKEY_CRM_meta_timeout"]) == \
            ("1500", "900")
    finally:
        await ex.close()


async def test_monitor_reporting_failure_marks_resource_failed(dirs: AgentDirs,
                                                               tmp_path: Path) -> None:
    rid = ResourceId("web")
    ex = Executor([res("web", LSBS)], dirs=dirs, state_dir=tmp_path / "vs")
    try:
        assert (await ex.run(rid, "start")).ok
        (tmp_path / "state" / "crashed").touch()  # LSB status 1: dead, pid file remains
        ev = await ex.run(rid, "monitor", interval_ms=5000)
        assert ev.result is ResultKind.ERROR
        assert ev.exit_code == 1
        assert "pid file remains" in ev.reason
        assert ex.state(rid) is ResourceState.FAILED
    finally:
        await ex.close()


async def test_agent_hanging_past_timeout_is_killed_and_loop_keeps_ticking(
        dirs: AgentDirs, tmp_path: Path) -> None:
    rid = ResourceId("p")
    ex = Executor([res("p", PROBE, ops=(Operation("start", 0, 300),), mode="hang")],
                  dirs=dirs, kill_grace_ms=200, state_dir=tmp_path / "vs")
    ticks: list[float] = []
    loop = asyncio.get_running_loop()

    async def ticker() -> None:
        while True:
            ticks.append(loop.time())
            await asyncio.sleep(0.01)

    task = asyncio.create_task(ticker())
    try:
        ev = await ex.run(rid, "start")
    finally:
        task.cancel()
        await ex.close()
    assert ev.status is ExecStatus.TIMEOUT
    assert ev.result is ResultKind.TIMEOUT
    assert "timed out after 300 ms" in ev.reason
    assert ex.state(rid) is ResourceState.FAILED
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert len(ticks) >= 15
    assert max(gaps) < 0.25


async def test_agent_ignoring_term_is_killed_after_grace(dirs: AgentDirs,
                                                         tmp_path: Path) -> None:
    rid = ResourceId("p")
    ex = Executor([res("p", PROBE, ops=(Operation("stop", 0, 200),), mode="stubborn")],
                  dirs=dirs, kill_grace_ms=200, state_dir=tmp_path / "vs")
    try:
        ev = await ex.run(rid, "stop")
        assert ev.status is ExecStatus.TIMEOUT
        assert "TERM, then KILL" in ev.reason
        assert ex.state(rid) is ResourceState.FAILED  # a stop that failed needs fencing
    finally:
        await ex.close()


@pytest.mark.parametrize("spec", [
    AgentSpec("ocf", "Gone", "vigiltest"), AgentSpec("lsb", "gone"),
    AgentSpec("heartbeat", "gone"), AgentSpec("vigil", "gone")], ids=str)
async def test_missing_agent_is_reported_not_installed_and_probe_says_stopped(
        dirs: AgentDirs, tmp_path: Path, spec: AgentSpec) -> None:
    rid = ResourceId("x")
    ex = Executor([Resource(rid, spec)], dirs=dirs, state_dir=tmp_path / "vs")
    try:
        probe = await ex.run(rid, "monitor")
        assert probe.status is ExecStatus.NOT_INSTALLED
        assert probe.rc == OcfRc.ERR_INSTALLED
        assert ex.state(rid) is ResourceState.STOPPED
        start = await ex.run(rid, "start")
        assert start.result is ResultKind.NOT_INSTALLED
        assert ex.state(rid) is ResourceState.FAILED
    finally:
        await ex.close()


@pytest.mark.parametrize(("resource", "words"), [
    (res("x", AgentSpec("vigil", "dummy"), staet="/tmp/x"), "no parameter 'staet'"),
    (res("x", AgentSpec("vigil", "ipaddr")), "needs parameter ip"),
    (res("x", AgentSpec("vigil", "ipaddr"), ip="10.0.0.5;reboot"), "not an IPv4 or IPv6"),
    (res("x", PROBE, **{"bad name": "1"}), "not valid"),
    (res("x", PROBE, mode="bad"), "mode bad"),  # the agent's own validate-all
    (res("x", LSBS, "extra"), "take no parameters"),
], ids=["typo", "missing", "bad-ip", "bad-env-name", "agent-validation", "lsb-args"])
async def test_wrong_parameters_are_refused_before_anything_runs(
        dirs: AgentDirs, tmp_path: Path, resource: Resource, words: str) -> None:
    ex = Executor([resource], dirs=dirs, state_dir=tmp_path / "vs")
    try:
        ev = await ex.run(resource.id, "start")
        assert ev.status is ExecStatus.INVALID, ev.reason
        assert ev.rc in (OcfRc.ERR_ARGS, OcfRc.ERR_CONFIGURED)
        assert words in ev.reason
        assert not (tmp_path / "state" / "running").exists()
    finally:
        await ex.close()


async def test_shell_metacharacters_reach_the_script_as_one_argument(
        dirs: AgentDirs, tmp_path: Path) -> None:
    pwned = tmp_path / "pwned"
    evil = f"svc;touch {pwned} $(touch {pwned}) `touch {pwned}` | touch {pwned}"
    ex = Executor([res("x", HB, evil, "two words")], dirs=dirs, state_dir=tmp_path / "vs")
    try:
        await ex.run(ResourceId("x"), "start")
        assert not pwned.exists()
        argv = (tmp_path / "state" / "argv.log").read_text().splitlines()
        assert argv == [evil, "two words", "start"]
    finally:
        await ex.close()


async def test_operations_on_one_resource_never_overlap(dirs: AgentDirs,
                                                        tmp_path: Path) -> None:
    rid = ResourceId("d")
    ex = Executor([res("d", AgentSpec("vigil", "dummy"), op_sleep_ms="50")],
                  state_dir=tmp_path / "vs")
    order: list[str] = []
    ex.subscribe(lambda ev: order.append(ev.action))
    try:
        results = await asyncio.gather(ex.run(rid, "start"), ex.run(rid, "monitor"),
                                       ex.run(rid, "stop"), ex.run(rid, "monitor"))
        assert [r.result for r in results] == [ResultKind.OK, ResultKind.OK, ResultKind.OK,
                                               ResultKind.NOT_RUNNING]
        assert order == ["start", "monitor", "stop", "monitor"]
    finally:
        await ex.close()


async def test_listener_errors_do_not_break_the_executor(tmp_path: Path) -> None:
    rid = ResourceId("d")
    ex = Executor([res("d", AgentSpec("vigil", "dummy"))], state_dir=tmp_path)
    got: list[OperationCompleted] = []

    def broken(ev: OperationCompleted) -> None:
        raise RuntimeError("listener bug")

    ex.subscribe(broken)
    unsubscribe = ex.subscribe(got.append)
    try:
        assert (await ex.run(rid, "start")).ok
        unsubscribe()
        assert (await ex.run(rid, "stop")).ok
        assert [e.action for e in got] == ["start"]
    finally:
        await ex.close()
