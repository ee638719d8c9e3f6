"""The field notes' configurations, shipped under examples/, read as the notes meant them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from vigil.config import AuthMethod, AutoFailback, LinkKind, load

Copy = Callable[[str], Path]


def test_node0_is_the_primary_for_vip1_and_runs_pacemaker_style(example_config: Copy) -> None:
    result = load(example_config("heartbeat-3node/node0"))
    config = result.config
    assert config is not None
    assert config.node_names == ("node0", "node1")  # as node0's own file has it
    assert [(link.kind, link.interface, link.port) for link in config.links] == [
        (LinkKind.BCAST, "eth2", 694)]
    t = config.timing
    assert (t.keepalive_ms, t.deadtime_ms, t.warntime_ms, t.initdead_ms) == (
        2000, 60_000, 20_000, 240_000)
    assert config.crm == "respawn"
    assert [g.preferred_node for g in config.groups] == ["node0", "node1"]
    assert config.groups[0].resources == ("Remac1",)
    assert config.groups[1].resources == (
        "IPaddr_192_168_60_200", "Filesystem_webdata", "httpd", "tomcat")
    assert [p.name for p in config.connectivity.ping_nodes] == ["192.168.32.254", "group1"]
    assert config.connectivity.multiplier == 100  # pingd -m 100
    assert (config.compression.method, config.compression.threshold_bytes) == ("bz2", 2048)
    assert config.auth.signing_key.method is AuthMethod.CRC
    messages = [d.message for d in result.diagnostics]
    assert any("Heartbeat ignored haresources" in m for m in messages)
    assert not any("Remac1" in m for m in messages)  # found in its resource.d


def test_node1_stands_in_for_both_primaries(example_config: Copy) -> None:
    config = load(example_config("heartbeat-3node/node1")).config
    assert config is not None
    assert config.node_names == ("node0", "node2", "node1")
    assert [(g.preferred_node, g.resources) for g in config.groups] == [
        ("node0", ("Remac1",)), ("node2", ("Remac2",))]
    assert config.auto_failback is AutoFailback.ON
    assert config.connectivity.deadping_ms == 60_000
    assert config.connectivity.multiplier == 1  # ipfail
    assert (config.logging.logfacility, config.logging.debugfile) == (
        "local0", Path("/var/log/ha-debug"))
    assert not config.quorum.two_node  # three nodes: a majority


def test_node2_is_the_primary_for_vip2(example_config: Copy) -> None:
    config = load(example_config("heartbeat-3node/node2")).config
    assert config is not None
    assert config.node_names == ("node2", "node1")
    assert [(g.preferred_node, g.resources) for g in config.groups] == [("node2", ("Remac2",))]


def test_two_node_master_failover_pair(example_config: Copy) -> None:
    config = load(example_config("heartbeat-2node")).config
    assert config is not None
    assert config.node_names == ("dc_13", "dc_33")
    [link] = config.links
    assert (link.kind, link.interface, [str(p) for p in link.peers]) == (
        LinkKind.UCAST, "eth0", ["10.0.38.33"])
    assert config.timing.deadtime_ms == 5000
    [group] = config.groups
    assert group.preferred_node == "dc_13"
    assert group.resources == ("IPaddr_10_0_38_200", "any_server")
    assert config.auto_failback is AutoFailback.OFF
    assert config.quorum.two_node


def test_example_straight_from_a_clone_is_refused_until_authkeys_is_private(
        example_config: Copy) -> None:
    root = example_config("heartbeat-2node")
    (root / "authkeys").chmod(0o644)  # what git checks out
    result = load(root)
    assert not result.ok
    assert any(d.hint == f"chmod 600 {root / 'authkeys'}" for d in result.diagnostics)
