"""ha.cf read as Heartbeat 3.0.6 read it: defaults, units, media, and what is not acted on."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from vigil.config import (
    INFINITY,
    AutoFailback,
    ClusterConfig,
    Endpoint,
    LinkKind,
    LoadResult,
    Severity,
    load,
)
from vigil.config.hacf_directives import ALL_DIRECTIVES

Writer = Callable[..., Path]
MINIMAL = "logfacility daemon\nbcast eth1\nnode alpha\nnode beta\nauto_failback on\n"


def loaded(legacy_dir: Writer, ha_cf: str) -> tuple[ClusterConfig, LoadResult]:
    result = load(legacy_dir(ha_cf))
    assert result.config is not None, [d.format() for d in result.diagnostics]
    return result.config, result


def warnings(result: LoadResult) -> list[str]:
    return [d.message for d in result.diagnostics if d.severity is Severity.WARNING]


def test_unset_timers_take_heartbeats_defaults(legacy_dir: Writer) -> None:
    config, _ = loaded(legacy_dir, MINIMAL)
    t = config.timing
    # config.c: keepalive 1000ms, deadtime 30000ms, warntime deadtime/2,
    # initdead = deadtime when deadtime > 10 s.
    assert (t.keepalive_ms, t.deadtime_ms, t.warntime_ms, t.initdead_ms) == (
        1000, 30_000, 15_000, 30_000)
    assert config.connectivity.deadping_ms is None  # deadtime, as Heartbeat
    assert [link.port for link in config.links] == [694]
    assert config.cluster_name == "linux-ha"
    assert config.compression.method == "zlib"
    assert config.compression.threshold_bytes == 2048


@pytest.mark.parametrize(("deadtime", "initdead_ms"), [
    ("5", 12_000),  # deadtime < 6 s: 12 s
    ("8", 16_000),  # 6 s to 10 s: twice deadtime
    ("10", 20_000),
    ("20", 20_000),  # over 10 s: deadtime itself
])
def test_unset_initdead_follows_heartbeats_rule(legacy_dir: Writer, deadtime: str,
                                                initdead_ms: int) -> None:
    config, _ = loaded(legacy_dir, MINIMAL + f"deadtime {deadtime}\n")
    assert config.timing.initdead_ms == initdead_ms


@pytest.mark.parametrize(("written", "ms"), [
    ("2", 2000),
    ("0.5", 500),
    ("1.5", 1500),
    (".25", 250),
    ("200ms", 200),
    ("200MS", 200),
    ("1500msec", 1500),
    ("250000us", 250),
    ("1501us", 2),  # cl_get_msec rounds to the nearest ms
])
def test_times_in_seconds_fractions_and_milliseconds(legacy_dir: Writer, written: str,
                                                     ms: int) -> None:
    config, _ = loaded(legacy_dir, MINIMAL + f"keepalive {written}\ndeadtime 60\n")
    assert config.timing.keepalive_ms == ms


def test_sub_second_timing_is_accepted(legacy_dir: Writer) -> None:
    config, result = loaded(legacy_dir, MINIMAL + "keepalive 200ms\ndeadtime 1\nwarntime 500ms\n")
    assert (config.timing.keepalive_ms, config.timing.deadtime_ms) == (200, 1000)
    assert config.timing.initdead_ms == 12_000
    # Two nodes without fencing: only the split-brain warning (test_native_arbiter.py).
    assert [w for w in warnings(result) if "split brain" not in w] == []


def test_warntime_not_below_deadtime_is_a_warning(legacy_dir: Writer) -> None:
    _, result = loaded(legacy_dir, MINIMAL + "deadtime 10\nwarntime 10\n")
    assert any("declared dead before it is ever reported late" in w for w in warnings(result))


def test_node_names_are_lowercased_and_commas_separate_values(legacy_dir: Writer) -> None:
    config, _ = loaded(legacy_dir, "logfacility daemon\nbcast eth1\nauto_failback on\n"
                       "node Alpha,beta   GAMMA\n")
    assert config.node_names == ("alpha", "beta", "gamma")


def test_comments_anywhere_and_dos_line_ends_are_ignored(legacy_dir: Writer) -> None:
    text = "# a comment\r\n  \r\nbcast eth1   # inline\r\nnode alpha#beta\r\nnode beta\r\n" \
           "auto_failback on\r\nlogfacility daemon\r\n"
    config, _ = loaded(legacy_dir, text)
    assert config.node_names == ("alpha", "beta")
    assert [link.interface for link in config.links] == ["eth1"]


def test_ucast_lines_on_one_interface_make_one_link_with_its_peers(legacy_dir: Writer) -> None:
    text = MINIMAL.replace("bcast eth1\n", "") + (
        "udpport 5405\nucast eth0 10.0.0.1\nucast eth1 192.168.1.1\nucast eth0 10.0.0.2\n")
    config, _ = loaded(legacy_dir, text)
    assert [(link.name, link.kind) for link in config.links] == [
        ("eth0", LinkKind.UCAST), ("eth1", LinkKind.UCAST)]
    assert config.links[0].peers == (Endpoint("10.0.0.1"), Endpoint("10.0.0.2"))
    assert {link.port for link in config.links} == {5405}


def test_bcast_makes_a_link_per_interface_and_mcast_a_link_per_line(legacy_dir: Writer) -> None:
    text = MINIMAL.replace("bcast eth1\n", "bcast eth1 eth2\n") + (
        "mcast eth3 239.192.0.1 5000 2 1\nmcast eth3 239.192.0.2 5001 1 0\n")
    config, _ = loaded(legacy_dir, text)
    assert [(link.name, link.kind, link.port) for link in config.links] == [
        ("eth1", LinkKind.BCAST, 694), ("eth2", LinkKind.BCAST, 694),
        ("eth3", LinkKind.MCAST, 5000), ("eth3-mcast", LinkKind.MCAST, 5001)]
    first = config.links[2]
    assert (first.group, first.ttl, first.loop) == ("239.192.0.1", 2, True)


def test_link_names_stay_unique_when_media_share_an_interface(legacy_dir: Writer) -> None:
    config, _ = loaded(legacy_dir, MINIMAL + "ucast eth1 10.0.0.9\n")
    assert [link.name for link in config.links] == ["eth1", "eth1-ucast"]


def test_udp_is_read_as_bcast_with_a_warning(legacy_dir: Writer) -> None:
    config, result = loaded(legacy_dir, MINIMAL.replace("bcast", "udp"))
    assert config.links[0].kind is LinkKind.BCAST
    assert any("`udp` is the old name of `bcast`" in w for w in warnings(result))


def test_udpport_after_a_medium_warns_that_heartbeat_used_the_default(legacy_dir: Writer) -> None:
    config, result = loaded(legacy_dir, MINIMAL + "udpport 5000\n")
    assert config.links[0].port == 5000
    assert any("udpport comes after media lines" in w for w in warnings(result))


@pytest.mark.parametrize(("lines", "failback", "stickiness"), [
    ("auto_failback on", AutoFailback.ON, 0),
    ("auto_failback off", AutoFailback.OFF, INFINITY),
    ("auto_failback yes", AutoFailback.ON, 0),
    ("auto_failback legacy", AutoFailback.LEGACY, 0),
    ("nice_failback on", AutoFailback.OFF, INFINITY),  # set_nice_failback()
    ("nice_failback off", AutoFailback.LEGACY, 0),
    ("", AutoFailback.LEGACY, 0),  # Heartbeat's default
])
def test_auto_failback_sets_stickiness(legacy_dir: Writer, lines: str, failback: AutoFailback,
                                       stickiness: int) -> None:
    config, _ = loaded(legacy_dir, MINIMAL.replace("auto_failback on\n", lines + "\n"))
    assert (config.auto_failback, config.stickiness) == (failback, stickiness)


def test_legacy_failback_warns_as_heartbeat_did(legacy_dir: Writer) -> None:
    _, result = loaded(legacy_dir, MINIMAL.replace("auto_failback on\n", ""))
    assert any("auto_failback legacy" in w and "deprecated" in w for w in warnings(result))


def test_a_directive_given_twice_keeps_the_last_value_and_warns(legacy_dir: Writer) -> None:
    config, result = loaded(legacy_dir, MINIMAL + "deadtime 20\ndeadtime 40\n")
    assert config.timing.deadtime_ms == 40_000
    assert any("deadtime is given again (first at line 6)" in w for w in warnings(result))


def test_ping_nodes_move_resources_only_with_ipfail_or_pingd(legacy_dir: Writer) -> None:
    pings = "ping 10.0.0.254 10.0.0.253\nping_group routers 10.1.0.1 10.1.0.2\n"
    alone, _ = loaded(legacy_dir, MINIMAL + pings)
    assert [p.name for p in alone.connectivity.ping_nodes] == [
        "10.0.0.254", "10.0.0.253", "routers"]
    assert alone.connectivity.ping_nodes[2].is_group
    assert alone.connectivity.multiplier == 0  # watched, as Heartbeat without ipfail
    ipfail, _ = loaded(legacy_dir, MINIMAL + pings + "respawn root /usr/lib/heartbeat/ipfail\n")
    assert ipfail.connectivity.multiplier == 1
    assert ipfail.respawn == ()  # a Heartbeat API client is not started
    pingd, _ = loaded(legacy_dir, MINIMAL + pings + "respawn root /usr/lib/pingd -m 100 -d 5s\n")
    assert pingd.connectivity.multiplier == 100


def test_deadping_is_kept_when_given(legacy_dir: Writer) -> None:
    config, _ = loaded(legacy_dir, MINIMAL + "ping 10.0.0.254\ndeadping 45\n")
    assert config.connectivity.deadping_ms == 45_000


def test_respawn_apiauth_watchdog_and_logging_are_kept(legacy_dir: Writer) -> None:
    config, _ = loaded(legacy_dir, MINIMAL + (
        "respawn nobody /bin/sleep 3600\napiauth mon uid=root,hacluster gid=haclient\n"
        "watchdog /dev/watchdog\nlogfile /var/log/ha-log\ndebugfile /var/log/ha-debug\ndebug 2\n"
        "cluster prod\ncompression bz2\ncompression_threshold 4\n"))
    [respawn] = config.respawn
    assert (respawn.user, respawn.argv) == ("nobody", ("/bin/sleep", "3600"))
    [api] = config.apiauth
    assert (api.client, api.uids, api.gids) == ("mon", ("root", "hacluster"), ("haclient",))
    assert config.watchdog == Path("/dev/watchdog")
    assert config.logging.logfile == Path("/var/log/ha-log")
    assert (config.logging.logfacility, config.logging.debug) == ("daemon", 2)
    assert config.cluster_name == "prod"
    assert (config.compression.method, config.compression.threshold_bytes) == ("bz2", 4096)


def test_directives_not_acted_on_are_recorded_once_in_order(legacy_dir: Writer) -> None:
    config, result = loaded(legacy_dir, MINIMAL + (
        "realtime off\nhopfudge 1\nrealtime on\nstonith_host * baytech 10.0.0.3 admin pw\n"))
    assert config.unsupported == ("realtime", "hopfudge", "stonith_host")
    assert config.fencing.legacy[0].words == ("*", "baytech", "10.0.0.3", "admin", "pw")
    named = [w for w in warnings(result) if "`realtime`" in w]
    assert len(named) == 2  # one per line


def test_crm_on_is_recorded_and_warned_about(legacy_dir: Writer) -> None:
    config, result = loaded(legacy_dir, MINIMAL + "crm respawn\n")
    assert config.crm == "respawn"
    assert any("Heartbeat ignored haresources" in w for w in warnings(result))
    off, result = loaded(legacy_dir, MINIMAL + "crm off\n")
    assert off.crm == "no"


def test_two_nodes_get_two_node_quorum_and_three_a_majority(legacy_dir: Writer) -> None:
    two, _ = loaded(legacy_dir, MINIMAL)
    assert two.quorum.two_node
    three, _ = loaded(legacy_dir, MINIMAL + "node gamma\n")
    assert not three.quorum.two_node


def test_no_log_destination_warns_that_logd_is_not_used(legacy_dir: Writer) -> None:
    _, result = loaded(legacy_dir, MINIMAL.replace("logfacility daemon\n", ""))
    assert any("logging daemon, which vigil does not use" in w for w in warnings(result))


# One valid line for every directive Heartbeat 3.0.6 accepted: Directives[] and
# WLdirectives[] in heartbeat/config.c, the HBcomm plugins, and `udp`.
EVERY_DIRECTIVE = [
    "cluster prod", "node gamma", "hopfudge 1", "keepalive 1", "deadtime 30", "deadping 30",
    "initdead 60", "warntime 10", "watchdog /dev/watchdog", "baud 19200", "udpport 694",
    "logfacility local0", "logfile /var/log/ha-log", "debugfile /var/log/ha-debug",
    "nice_failback off", "auto_failback off", "rtprio 50", "hbgenmethod file", "realtime on",
    "debug 0", "msgfmt classic", "use_logd no", "conn_logd_time 60", "use_apphbd no",
    "log_badpack true", "syslogmsgfmt false", "coredumps true", "coreroot /var/lib/heartbeat/cores",
    "crm_daemon_dir /usr/lib/pacemaker", "crmd_spawns_pengine yes", "crm no", "pacemaker off",
    "autojoin none", "uuidfrom file", "compression zlib", "compression_threshold 2",
    "traditional_compression no", "env HA_LANG=C", "max_rexmit_delay 250",
    "record_config_changes on", "record_pengine_inputs on", "enable_config_writes on",
    "memreserve 6500", "quorum_server quorum.example.com",
    "stonith baytech /etc/ha.d/conf/stonith.baytech", "stonith_host * baytech 10.0.0.3 a b",
    "apiauth ipfail gid=haclient uid=hacluster", "respawn nobody /bin/true",
    "failfast hacluster /usr/lib/heartbeat/ccm",
    "bcast eth2", "udp eth3", "ucast eth0 10.0.0.2", "ucast6 eth0 fe80::2",
    "mcast eth0 239.192.0.1 694 1 0", "mcast6 eth0 ff12::1:2:3:4 694 1 0", "serial /dev/ttyS0",
    "ping 10.0.0.254", "ping6 fe80::fe", "ping_group routers 10.0.0.1 10.0.0.2",
    "hbaping qlogic-qla2200-0", "tipc netid=1234", "rds eth0 10.0.0.3",
]


def test_vigil_knows_exactly_the_directives_heartbeat_306_knew() -> None:
    assert {line.split()[0] for line in EVERY_DIRECTIVE} == ALL_DIRECTIVES


def test_every_directive_heartbeat_306_accepted_is_accepted(legacy_dir: Writer) -> None:
    text = "\n".join(line for line in EVERY_DIRECTIVE if not line.startswith("pacemaker"))
    result = load(legacy_dir(text + "\nnode alpha\n"))
    assert result.ok, [d.format() for d in result.diagnostics if d.is_error]


@pytest.mark.parametrize("line", EVERY_DIRECTIVE, ids=[x.split()[0] for x in EVERY_DIRECTIVE])
def test_each_directive_on_its_own_is_no_error(legacy_dir: Writer, line: str) -> None:
    result = load(legacy_dir(MINIMAL + line + "\n"))
    assert result.ok, [d.format() for d in result.diagnostics if d.is_error]


@pytest.mark.parametrize("line", ["udpport 65535", "mcast eth0 239.0.0.1 65535 1 0"])
def test_port_65535_is_refused_since_control_messages_use_the_next_port(
        legacy_dir: Writer, line: str) -> None:
    result = load(legacy_dir(MINIMAL + line + "\n"))
    assert result.config is None
    assert any("control messages use" in d.message for d in result.diagnostics), \
        [d.format() for d in result.diagnostics]
