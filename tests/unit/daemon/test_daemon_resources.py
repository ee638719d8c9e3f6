"""The daemon's resource shell: control requests to commands, settings on disk, timeouts."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from vigil.config import (
    AgentSpec,
    Auth,
    AuthKey,
    AuthMethod,
    ClusterConfig,
    Compression,
    Link,
    LinkKind,
    Node,
    NodeName,
    Operation,
    Resource,
    ResourceId,
    Timing,
)
from vigil.coordinator import (
    AdminCommand,
    AdminReceived,
    AdminRequestBody,
    CommandKind,
    MembershipUpdated,
)
from vigil.daemon.clock import Clock
from vigil.daemon.control import CommandError
from vigil.daemon.resources import (
    ResourceRuntime,
    admin_command,
    shutdown_timeout_s,
    wire_compression,
)
from vigil.membership import View, ViewMember
from vigil.quorum import QuorumRules, evaluate

CONFIG = ClusterConfig(
    nodes=(Node(NodeName("node1")), Node(NodeName("node2"))),
    links=(Link("lo", LinkKind.UCAST, 694),),
    timing=Timing(100, 500, 1000, 3000),
    auth=Auth(1, {1: AuthKey(1, AuthMethod.HMAC_SHA256, b"k")}),
    resources=(Resource(ResourceId("vip"), AgentSpec("vigil", "dummy"),
                        operations=(Operation("stop", 0, 5000),)),
               Resource(ResourceId("db"), AgentSpec("vigil", "dummy"))),
)


@pytest.mark.parametrize(("cmd", "req", "command"), [
    ("standby", {}, AdminCommand(CommandKind.STANDBY, NodeName("node1"))),
    ("standby", {"node": "node2"}, AdminCommand(CommandKind.STANDBY, NodeName("node2"))),
    ("online", {"node": ""}, AdminCommand(CommandKind.ONLINE, NodeName("node1"))),
    ("move", {"target": "web", "node": "node2"},
     AdminCommand(CommandKind.MOVE, NodeName("node2"), "web")),
    ("unmove", {"target": "web", "node": "ignored"}, AdminCommand(CommandKind.UNMOVE, None, "web")),
    ("cleanup", {"target": "db"}, AdminCommand(CommandKind.CLEANUP, None, "db")),
])
def test_a_control_request_becomes_the_command_it_names(
        cmd: str, req: dict[str, Any], command: AdminCommand) -> None:
    assert admin_command(cmd, req, "node1") == command


@pytest.mark.parametrize(("cmd", "req", "error"), [
    ("move", {"target": "web"}, "move needs a node"),
    ("cleanup", {}, "cleanup needs a resource or group"),
    ("unmove", {"target": 7}, "unmove needs a resource or group"),
])
def test_a_control_request_missing_its_words_is_refused_with_an_example(
        cmd: str, req: dict[str, Any], error: str) -> None:
    with pytest.raises(CommandError, match=error) as raised:
        admin_command(cmd, req, "node1")
    assert raised.value.hint


def test_shutdown_waits_for_a_deadtime_and_every_stop_at_its_timeout() -> None:
    # deadtime 1 s + vip's stop 5 s + db's default 20 s + 4 keepalives
    assert shutdown_timeout_s(CONFIG) == pytest.approx(26.4)


def test_large_coordinator_messages_are_compressed_unless_a_method_is_configured() -> None:
    assert wire_compression(CONFIG) == Compression("zlib", 2048)
    bz2 = replace(CONFIG, compression=Compression("bz2", 4096))
    assert wire_compression(bz2) == Compression("bz2", 4096)


async def test_administrator_settings_survive_a_restart_of_the_daemon(tmp_path: Path) -> None:
    clock = Clock(asyncio.get_running_loop())
    sent: list[str] = []

    def make() -> ResourceRuntime:
        return ResourceRuntime(CONFIG, "node1", 1, clock, state_dir=tmp_path,
                               send=lambda kind, body, urgent: sent.append(kind))

    first = make()
    first.start()
    view = View.of([ViewMember(NodeName("node1"), 1), ViewMember(NodeName("node2"), 1)])
    first._step(MembershipUpdated(view, True, NodeName("node1"),
                                  evaluate(QuorumRules.from_config(CONFIG), view.nodes,
                                           seen_all=True)))
    first._step(AdminReceived(NodeName("node2"), 1, AdminRequestBody(
        (1, 1), AdminCommand(CommandKind.STANDBY, NodeName("node2")))))
    await first.close()
    assert (tmp_path / "node1.settings.json").exists()
    second = make()
    assert second.core.settings.standby == {"node2"}
    assert second.core.settings.version.writer == "node1"
    await second.close()
