"""What reaches an external agent: argv items and environment, never a shell line."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.agents import AgentContext, OperationRequest, ParameterError, ProgramOutcome
from vigil.agents.builtin.legacy import filesystem_params, ipaddr_params
from vigil.agents.heartbeat import HeartbeatAgent
from vigil.agents.lsb import LsbAgent
from vigil.agents.ocf import OcfAgent
from vigil.config import AgentSpec


async def never(argv: tuple[str, ...], env: object, timeout_ms: int) -> ProgramOutcome:
    raise AssertionError("nothing should run")


CTX = AgentContext(run_program=never, node_name="node1")
OCF = OcfAgent(AgentSpec("ocf", "IPaddr2", "heartbeat"),
               Path("/usr/lib/ocf/resource.d/heartbeat/IPaddr2"))


def test_ocf_environment_carries_parameters_and_operation_meta() -> None:
    request = OperationRequest("monitor", "vip1", 30_000, params={"ip": "10.0.0.5"},
                               interval_ms=10_000, depth=10)
    inv = OCF.invocation(request, CTX)
    assert inv.argv == ("/usr/lib/ocf/resource.d/heartbeat/IPaddr2", "monitor")
    env = dict(inv.env)
    assert env["OCF_ROOT"] == "/usr/lib/ocf"
    assert env["OCF_RESOURCE_INSTANCE"] == "vip1"
    assert env["OCF_RESOURCE_TYPE"] == "IPaddr2"
    assert env["OCF_RESOURCE_PROVIDER"] == "heartbeat"
    assert env["OCF_RESKEY_ip"] == "10.0.0.5"
    assert env["OCF_RESKEY_CRM_meta_timeout"] == "30000"
    assert env["OCF_RESKEY_CRM_meta_interval"] == "10000"
    assert env["OCF_RESKEY_CRM_meta_on_node"] == "node1"
    assert env["OCF_CHECK_LEVEL"] == "10"
    assert env["OCF_RA_VERSION_MAJOR"] == "1"
    assert "HOME" not in env  # nothing inherited from whoever started vigil


@pytest.mark.parametrize("name", ["ip;rm", "a b", "1ip", "ip=x", ""])
def test_ocf_parameter_names_that_are_not_variables_are_refused(name: str) -> None:
    with pytest.raises(ParameterError):
        OCF.invocation(OperationRequest("start", "r", 1000, params={name: "x"}), CTX)


def test_ocf_values_with_shell_metacharacters_travel_as_they_are() -> None:
    evil = "10.0.0.5; rm -rf / $(reboot) `halt`"
    inv = OCF.invocation(OperationRequest("start", "r", 1000, params={"ip": evil}), CTX)
    assert inv.env["OCF_RESKEY_ip"] == evil
    assert len(inv.argv) == 2


def test_heartbeat_arguments_are_separate_argv_items_then_the_action() -> None:
    agent = HeartbeatAgent(AgentSpec("heartbeat", "IPaddr"), Path("/rd/IPaddr"))
    request = OperationRequest("monitor", "r", 1000, args=("10.0.0.5;rm -rf /", "b c"))
    assert agent.invocation(request, CTX).argv == ("/rd/IPaddr", "10.0.0.5;rm -rf /", "b c",
                                                   "status")
    with pytest.raises(ParameterError):
        agent.invocation(OperationRequest("start", "r", 1000, params={"ip": "x"}), CTX)


def test_lsb_scripts_get_no_arguments_but_the_action() -> None:
    agent = LsbAgent(AgentSpec("lsb", "nginx"), Path("/etc/init.d/nginx"))
    assert agent.invocation(OperationRequest("monitor", "r", 1000), CTX).argv == \
        ("/etc/init.d/nginx", "status")
    with pytest.raises(ParameterError):
        agent.invocation(OperationRequest("start", "r", 1000, args=("x",)), CTX)


@pytest.mark.parametrize(("args", "params"), [
    (("10.0.0.5",), {"ip": "10.0.0.5"}),
    (("10.0.0.5/24",), {"ip": "10.0.0.5", "cidr_netmask": "24"}),
    (("10.0.0.5/24/eth0",), {"ip": "10.0.0.5", "cidr_netmask": "24", "nic": "eth0"}),
    (("10.0.0.5/24/eth0/10.0.0.255",),
     {"ip": "10.0.0.5", "cidr_netmask": "24", "nic": "eth0", "broadcast": "10.0.0.255"}),
    (("10.0.0.5//eth0",), {"ip": "10.0.0.5", "nic": "eth0"}),
])
def test_heartbeat_ipaddr_arguments_map_onto_builtin_parameters(
        args: tuple[str, ...], params: dict[str, str]) -> None:
    assert ipaddr_params(args) == params


def test_heartbeat_filesystem_arguments_map_onto_builtin_parameters() -> None:
    assert filesystem_params(("/dev/sdb1", "/data", "ext4")) == \
        {"device": "/dev/sdb1", "directory": "/data", "fstype": "ext4"}
    with pytest.raises(ParameterError):
        filesystem_params(("/dev/sdb1",))
    with pytest.raises(ParameterError):
        ipaddr_params(("10.0.0.5", "24"))
