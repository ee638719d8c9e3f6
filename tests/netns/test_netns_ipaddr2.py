"""The real ocf:heartbeat:IPaddr2 from Debian's resource-agents, run inside a node's
network namespace by the executor (``ip netns exec``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from agents_lan import Lan, build, ip, teardown

from prereqs import require, require_root
from vigil.config import AgentSpec, Resource, ResourceId
from vigil.executor import Executor, ResourceState, ResultKind

pytestmark = [pytest.mark.root, pytest.mark.timeout(90)]
IPADDR2 = Path("/usr/lib/ocf/resource.d/heartbeat/IPaddr2")


@pytest.fixture
def lan(netns: Callable[[], str]) -> Iterator[Lan]:
    require_root()
    require(IPADDR2.exists(), "needs Debian's resource-agents (scripts/system-deps.sh)")
    built = build(netns)
    try:
        yield built
    finally:
        teardown(built)


def addresses(lan: Lan, node: str) -> list[str]:
    out = json.loads(ip("-n", lan.ns[node], "-j", "addr", "show", "dev", "eth0"))
    return [a["local"] for a in out[0]["addr_info"]]


async def test_ocf_ipaddr2_adds_monitors_and_removes_vip_in_node_namespace(
        lan: Lan, tmp_path: Path) -> None:
    rid = ResourceId("vip")
    res = Resource(rid, AgentSpec("ocf", "IPaddr2", "heartbeat"),
                   params={"ip": "192.0.2.60", "cidr_netmask": "24", "nic": "eth0"})
    node = Executor([res], netns=lan.ns["A"], state_dir=tmp_path)
    client = lan.client_socket()
    try:
        assert (await node.run(rid, "monitor")).result is ResultKind.NOT_RUNNING
        started = await node.run(rid, "start")
        assert started.ok, (started.reason, started.output)
        assert [h.action for h in node.history(rid)][-2:] == ["validate-all", "start"]
        assert "192.0.2.60" in addresses(lan, "A")
        assert lan.first_answer(client, "192.0.2.60", 0.05, 3.0)[0] == "A"
        assert (await node.run(rid, "monitor", interval_ms=10_000)).result is ResultKind.OK
        stopped = await node.run(rid, "stop")
        assert stopped.ok, stopped.reason
        assert "192.0.2.60" not in addresses(lan, "A")
        assert node.state(rid) is ResourceState.STOPPED
    finally:
        client.close()
        await node.close()


async def test_ocf_ipaddr2_with_invalid_address_is_refused_by_validate_all(
        lan: Lan, tmp_path: Path) -> None:
    rid = ResourceId("vip")
    res = Resource(rid, AgentSpec("ocf", "IPaddr2", "heartbeat"),
                   params={"ip": "192.0.2.300;touch /tmp/vigil-pwned", "nic": "eth0"})
    node = Executor([res], netns=lan.ns["A"], state_dir=tmp_path)
    try:
        result = await node.run(rid, "start")
        assert not result.ok
        assert "validate-all" in result.reason
        assert result.rc in (2, 6)  # OCF_ERR_ARGS / OCF_ERR_CONFIGURED
        assert not Path("/tmp/vigil-pwned").exists()
    finally:
        await node.close()
