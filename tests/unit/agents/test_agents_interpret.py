"""How each agent class's answer is read: exit codes and, for Heartbeat, output."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.agents import OcfRc, OperationRequest
from vigil.agents.heartbeat import HeartbeatAgent
from vigil.agents.lsb import LsbAgent
from vigil.agents.ocf import OcfAgent
from vigil.agents.systemd import SystemdAgent
from vigil.config import AgentSpec

HB = HeartbeatAgent(AgentSpec("heartbeat", "httpd"), Path("/etc/ha.d/resource.d/httpd"))
LSB = LsbAgent(AgentSpec("lsb", "nginx"), Path("/etc/init.d/nginx"))
OCF = OcfAgent(AgentSpec("ocf", "Dummy", "heartbeat"), Path("/x/Dummy"))
SYSTEMD = SystemdAgent(AgentSpec("systemd", "nginx"))


def req(action: str) -> OperationRequest:
    return OperationRequest(action, "r1", 20_000)


# Heartbeat's status is read from the output (cluster-glue raexechb.c map_ra_retvalue).
@pytest.mark.parametrize(("output", "exit_code", "rc"), [
    ("httpd is running", 0, OcfRc.OK),
    ("Running", 0, OcfRc.OK),
    ("OK", 0, OcfRc.OK),
    ("status: ok", 0, OcfRc.NOT_RUNNING),  # *OK* is matched as written, upper case
    ("httpd is stopped", 0, OcfRc.NOT_RUNNING),
    ("httpd is not running", 0, OcfRc.NOT_RUNNING),  # "not running" wins over "running"
    ("Stopped, but running services remain", 0, OcfRc.NOT_RUNNING),
    ("No", 0, OcfRc.NOT_RUNNING),
    ("", 0, OcfRc.NOT_RUNNING),  # silence: stopped, as Heartbeat read it
    ("running", 3, OcfRc.OK),  # the output wins over the code, as in Heartbeat
    ("", 1, OcfRc.NOT_RUNNING),  # whatever the code: it did not say running
    ("Usage: Remac1 {start|stop}", 1, OcfRc.NOT_RUNNING),  # no status action at all
    ("", 3, OcfRc.NOT_RUNNING),
])
def test_heartbeat_status_is_read_from_output_like_heartbeat(output: str, exit_code: int,
                                                             rc: OcfRc) -> None:
    assert HB.interpret(req("monitor"), exit_code, output).rc == rc
    assert HB.interpret(req("status"), exit_code, output).rc == rc


@pytest.mark.parametrize(("exit_code", "rc"), [
    (0, OcfRc.OK), (3, OcfRc.NOT_RUNNING), (1, OcfRc.ERR_GENERIC), (2, OcfRc.ERR_GENERIC),
    (4, OcfRc.ERR_GENERIC), (150, OcfRc.ERR_GENERIC),
])
def test_lsb_status_codes(exit_code: int, rc: OcfRc) -> None:
    assert LSB.interpret(req("monitor"), exit_code, "whatever it printed").rc == rc


@pytest.mark.parametrize(("exit_code", "rc"), [
    (0, OcfRc.OK), (1, OcfRc.ERR_GENERIC), (5, OcfRc.ERR_INSTALLED), (6, OcfRc.ERR_CONFIGURED),
    (7, OcfRc.NOT_RUNNING), (127, OcfRc.ERR_GENERIC),
])
def test_lsb_and_heartbeat_start_stop_codes_are_lsbs(exit_code: int, rc: OcfRc) -> None:
    for agent in (LSB, HB):
        reply = agent.interpret(req("start"), exit_code, "")
        assert reply.rc == rc
        assert reply.exit_code == exit_code  # the script's own code is kept


@pytest.mark.parametrize(("exit_code", "rc"), [
    (0, OcfRc.OK), (7, OcfRc.NOT_RUNNING), (8, OcfRc.RUNNING_PROMOTED), (6, OcfRc.ERR_CONFIGURED),
    (190, OcfRc.DEGRADED), (42, OcfRc.ERR_GENERIC), (-1, OcfRc.ERR_GENERIC),
])
def test_ocf_codes_pass_through_and_unknown_ones_are_generic_errors(exit_code: int,
                                                                   rc: OcfRc) -> None:
    assert OCF.interpret(req("monitor"), exit_code, "").rc == rc


def test_ocf_exit_reason_line_becomes_the_reason() -> None:
    out = "INFO: something\nocf-exit-reason:State file \"/x\" is not writable\n"
    reply = OCF.interpret(req("validate-all"), 2, out)
    assert reply.rc == OcfRc.ERR_ARGS
    assert reply.reason.endswith('State file "/x" is not writable')


@pytest.mark.parametrize(("output", "rc"), [
    ("active\n", OcfRc.OK), ("reloading", OcfRc.OK), ("activating", OcfRc.OK),
    ("deactivating", OcfRc.OK), ("inactive", OcfRc.NOT_RUNNING), ("failed", OcfRc.NOT_RUNNING),
    ("", OcfRc.ERR_GENERIC), ("unknown", OcfRc.ERR_GENERIC),
])
def test_systemd_is_active_words(output: str, rc: OcfRc) -> None:
    assert SYSTEMD.interpret(req("monitor"), 0 if rc == OcfRc.OK else 3, output).rc == rc
