"""Recurring monitors, start-up probes and the bound on parallel operations."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from executor_scripts import install

from vigil.agents import AgentDirs
from vigil.config import AgentSpec, Operation, Resource, ResourceId
from vigil.executor import Executor, OperationCompleted, ResourceState, ResultKind

pytestmark = pytest.mark.timeout(60)
DUMMY = AgentSpec("vigil", "dummy")


def dummy(rid: str, state: Path, *ops: Operation) -> Resource:
    return Resource(ResourceId(rid), DUMMY, params={"state": str(state)}, operations=ops)


class Events:
    """Collects reported results and lets a test await the one it expects."""

    def __init__(self, ex: Executor) -> None:
        self.seen: list[OperationCompleted] = []
        self.changed = asyncio.Event()
        ex.subscribe(self.add)

    def add(self, ev: OperationCompleted) -> None:
        self.seen.append(ev)
        self.changed.set()

    async def until(self, what: str, pred: object, timeout: float = 5.0) -> OperationCompleted:
        async def wait() -> OperationCompleted:
            while True:
                for ev in self.seen:
                    if callable(pred) and pred(ev):
                        return ev
                self.changed.clear()
                await self.changed.wait()
        try:
            return await asyncio.wait_for(wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"never saw {what}: {[e.reason for e in self.seen]}") from None


async def test_recurring_monitor_notices_a_resource_that_died(tmp_path: Path) -> None:
    rid = ResourceId("d")
    state = tmp_path / "d.state"
    ex = Executor([dummy("d", state, Operation("monitor", 50, 1000))], state_dir=tmp_path)
    events = Events(ex)
    try:
        assert (await ex.run(rid, "start")).ok
        ex.start_monitor(rid)
        assert ex.monitoring(rid)
        first = await events.until("first monitor", lambda e: e.interval_ms == 50)
        assert first.result is ResultKind.OK
        await asyncio.sleep(0.2)  # several unchanged monitors: not reported again
        assert [e.action for e in events.seen] == ["start", "monitor"]
        state.unlink()  # the service dies behind our back
        died = await events.until("failure", lambda e: e.result is ResultKind.NOT_RUNNING)
        assert died.interval_ms == 50
        assert died.previous is ResourceState.RUNNING
        assert died.state is ResourceState.FAILED
        assert ex.state(rid) is ResourceState.FAILED
        assert [e.action for e in ex.history(rid)] == ["start", "monitor", "monitor"]
        last = ex.last_monitor(rid)
        assert last is not None
        assert last.result is ResultKind.NOT_RUNNING
    finally:
        await ex.close()
    assert not ex.monitoring(rid)


async def test_stop_cancels_the_recurring_monitor_first(tmp_path: Path) -> None:
    rid = ResourceId("d")
    ex = Executor([dummy("d", tmp_path / "d.state")], state_dir=tmp_path)
    events = Events(ex)
    try:
        assert (await ex.run(rid, "start")).ok
        ex.start_monitor(rid, interval_ms=30, timeout_ms=1000)
        await events.until("a monitor", lambda e: e.interval_ms == 30)
        assert (await ex.run(rid, "stop")).ok
        assert not ex.monitoring(rid)
        await asyncio.sleep(0.1)
        assert ex.state(rid) is ResourceState.STOPPED  # no monitor called the stop a failure
        assert not any(e.result is ResultKind.NOT_RUNNING for e in events.seen)
    finally:
        await ex.close()


async def test_monitor_without_configured_interval_is_refused(tmp_path: Path) -> None:
    ex = Executor([dummy("d", tmp_path / "d.state")], state_dir=tmp_path)
    with pytest.raises(ValueError, match="no recurring monitor"):
        ex.start_monitor(ResourceId("d"))
    with pytest.raises(KeyError):
        await ex.run(ResourceId("nope"), "start")
    with pytest.raises(ValueError, match="not an action"):
        await ex.run(ResourceId("d"), "../start")
    await ex.close()


async def test_startup_probes_report_what_really_runs(tmp_path: Path) -> None:
    (tmp_path / "up.state").touch()
    ex = Executor([dummy("up", tmp_path / "up.state"), dummy("down", tmp_path / "down.state"),
                   Resource(ResourceId("gone"), AgentSpec("ocf", "Nope", "nobody"))],
                  state_dir=tmp_path)
    try:
        assert set(ex.states().values()) == {ResourceState.UNKNOWN}
        results = await ex.probe_all()
        assert {rid: ev.result for rid, ev in results.items()} == {
            "up": ResultKind.OK, "down": ResultKind.NOT_RUNNING,
            "gone": ResultKind.NOT_INSTALLED}
        assert ex.states() == {"up": ResourceState.RUNNING, "down": ResourceState.STOPPED,
                               "gone": ResourceState.STOPPED}
    finally:
        await ex.close()


CONCURRENCY = """#!/bin/sh
dir="{dir}"
eval "op=\\${{$#}}"
touch "$dir/run.$$"
ls "$dir" | grep -c '^run\\.' >> "$dir/count.log"
sleep 0.3
rm -f "$dir/run.$$"
echo OK
"""


async def test_parallel_operations_are_bounded(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    install(tmp_path / "rd" / "slow", CONCURRENCY.format(dir=work))
    dirs = AgentDirs(resource_dirs=(tmp_path / "rd",), lsb_dir=tmp_path / "none")
    resources = [Resource(ResourceId(f"r{i}"), AgentSpec("heartbeat", "slow"), (f"r{i}",))
                 for i in range(4)]
    ex = Executor(resources, dirs=dirs, max_parallel=2, state_dir=tmp_path)
    try:
        results = await asyncio.gather(*(ex.run(r.id, "start") for r in resources))
        assert all(r.ok for r in results)
        counts = [int(c) for c in (work / "count.log").read_text().split()]
        assert len(counts) == 4
        assert max(counts) == 2
    finally:
        await ex.close()


CHATTY = """#!/bin/sh
i=0; while [ $i -lt 100 ]; do echo "line $i"; i=$((i+1)); done
echo running
"""


async def test_history_is_bounded_and_keeps_the_last_lines_of_output(tmp_path: Path) -> None:
    install(tmp_path / "rd" / "chatty", CHATTY)
    dirs = AgentDirs(resource_dirs=(tmp_path / "rd",), lsb_dir=tmp_path / "none")
    rid = ResourceId("c")
    ex = Executor([Resource(rid, AgentSpec("heartbeat", "chatty"))], dirs=dirs,
                  history_size=3, output_lines=4, state_dir=tmp_path)
    try:
        for action in ("start", "status", "stop", "start", "status"):
            await ex.run(rid, action)
        history = ex.history(rid)
        assert [h.action for h in history] == ["stop", "start", "status"]
        assert history[-1].output == ("line 97", "line 98", "line 99", "running")
        assert history[-1].result is ResultKind.OK  # Heartbeat read "running" in the output
        assert all(h.duration_ms >= 0 for h in history)
    finally:
        await ex.close()
