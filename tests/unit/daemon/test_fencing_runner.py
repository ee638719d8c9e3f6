"""The daemon's fencing runner: fences as tasks, retries a failed fence, manual confirmation.

The agent is a real script speaking the fence-agents protocol (options on stdin);
its exit code comes from a file the test rewrites, so a fence can fail and then
work. What the runner feeds the coordinator is collected as the coordinator
would receive it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from vigil.config import FenceDevice, NodeName
from vigil.coordinator import Event, Fence, FenceConfirmed, FenceFailed
from vigil.daemon.fencing_runner import FencingRunner
from vigil.fencing import Fencer

pytestmark = pytest.mark.timeout(30)

ME, N2 = NodeName("node1"), NodeName("node2")
AGENT = """#!/bin/sh
opts=$(cat)
echo "$opts" | grep -q '^action=' || exit 1
echo "agent ran: $(echo "$opts" | grep '^action=')"
exit "$(cat "$0.rc")"
"""


@pytest.fixture
def agent(tmp_path: Path) -> Path:
    path = tmp_path / "fence_test"
    path.write_text(AGENT)
    path.chmod(0o755)
    (tmp_path / "fence_test.rc").write_text("1")
    return path


def runner_for(agent: Path, fed: list[Event]) -> FencingRunner:
    fencer = Fencer([FenceDevice("pdu", str(agent), nodes=(N2,))], ME)
    return FencingRunner(None, ME, fed.append, fencer=fencer,  # type: ignore[arg-type]
                         retry_first_s=0.05, retry_max_s=0.1)


async def wait_for(fed: list[Event], kind: type, timeout_s: float = 10.0) -> Event:
    async with asyncio.timeout(timeout_s):
        while True:
            for e in fed:
                if isinstance(e, kind):
                    return e
            await asyncio.sleep(0.01)


async def test_failed_fence_is_logged_retried_with_back_off_and_confirmed_once_it_works(
        agent: Path) -> None:
    fed: list[Event] = []
    runner = runner_for(agent, fed)
    runner.request(Fence(N2, "node2 left the view while running vip"))
    failed = await wait_for(fed, FenceFailed)
    assert isinstance(failed, FenceFailed)
    assert failed.node == N2
    assert "retrying" in failed.reason
    assert runner.status_doc()["retrying"][N2]
    agent.with_name("fence_test.rc").write_text("0")  # the PDU answers again
    confirmed = await wait_for(fed, FenceConfirmed)
    assert isinstance(confirmed, FenceConfirmed)
    assert confirmed.node == N2
    assert N2 in confirmed.reason
    doc = runner.status_doc()
    assert doc["retrying"] == {}
    assert doc["in_progress"] == []
    assert [h["succeeded"] for h in doc["history"]][-1] is True
    assert any(not h["succeeded"] for h in doc["history"])
    await runner.close()


async def test_same_node_asked_twice_runs_one_fence(agent: Path) -> None:
    fed: list[Event] = []
    runner = runner_for(agent, fed)
    agent.with_name("fence_test.rc").write_text("0")
    runner.request(Fence(N2, "first"))
    runner.request(Fence(N2, "again"))
    await wait_for(fed, FenceConfirmed)
    await asyncio.sleep(0.1)
    assert len([e for e in fed if isinstance(e, FenceConfirmed)]) == 1
    assert len(runner.status_doc()["history"]) == 1
    await runner.close()


async def test_manual_confirmation_stops_the_retries_and_counts_as_fenced(agent: Path) -> None:
    fed: list[Event] = []
    runner = runner_for(agent, fed)
    runner.request(Fence(N2, "stop of db failed on node2"))
    await wait_for(fed, FenceFailed)
    result = runner.confirm(N2, "pulled the power cord myself")
    assert result.manual
    assert result.succeeded
    assert FenceConfirmed(N2, result.summary) in fed
    count = len(fed)
    await asyncio.sleep(0.3)  # past several retry periods: nothing more is tried
    assert len(fed) == count
    assert runner.status_doc()["in_progress"] == []
    await runner.close()
