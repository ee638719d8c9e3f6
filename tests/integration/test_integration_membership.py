"""Three real daemons on loopback: they agree, notice deaths, restarts and clean stops,
shrug off forged, replayed and garbage datagrams, and survive a broken reload.

Exact timings are the simulator's job (tests/sim) and bench/membership.py's;
here every wait is a bounded poll, and timing claims are checked on the
daemon's own clock (how long a peer had been silent when it was declared dead).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import stat
from collections.abc import Callable

import pytest
from loopback_cluster import SECRET, LoopbackCluster

from vigil.config import Auth, AuthKey, AuthMethod, Compression, NodeName
from vigil.wire import Codec, Envelope

pytestmark = pytest.mark.timeout(60)


def test_three_nodes_come_up_and_agree_on_view_dc_and_quorum(cluster: LoopbackCluster) -> None:
    docs = [cluster[n].status() for n in cluster.names]
    assert {d["dc"] for d in docs} == {"node1"}  # first in configuration order
    for d in docs:
        assert d["quorate"]
        assert d["quorum"]["votes"] == 3
        assert d["quorum"]["needed"] == 2
        assert [n["state"] for n in d["nodes"]] == ["up", "up", "up"]
        assert d["drops"]["total"] == 0
    # every daemon sees the same incarnation for every node
    assert len({tuple(sorted(d["view"]["incarnations"].items())) for d in docs}) == 1
    assert stat.S_IMODE(os.stat(cluster["node1"].socket).st_mode) == 0o600


def test_sigkilled_node_is_seen_dead_by_both_survivors_after_deadtime_not_before(
    cluster: LoopbackCluster,
) -> None:
    deadtime = cluster.deadtime_ms
    cluster["node3"].signal(signal.SIGKILL)
    for survivor in ("node1", "node2"):
        d = cluster[survivor]
        cluster.wait_until(f"{survivor} sees node3 dead",
                           lambda d=d: d.node("node3")["state"] == "dead", timeout_s=5)
        node3 = d.node("node3")
        assert not node3["left"]
        # On the daemon's clock: silent for at least deadtime when it was declared dead,
        # and declared dead within deadtime plus one keepalive of the last heartbeat.
        silent_when_declared = node3["last_heard_ms"] - node3["state_since_ms"]
        assert deadtime <= silent_when_declared <= deadtime + cluster.keepalive_ms
    cluster.wait_until("survivors agree without node3",
                       lambda: cluster.agreed(["node1", "node2"]))


def test_restarted_node_is_seen_as_a_new_incarnation(cluster: LoopbackCluster) -> None:
    before = cluster["node1"].node("node3")["incarnation"]
    cluster["node3"].signal(signal.SIGKILL)
    cluster["node3"].wait_exit()
    cluster["node3"].start()
    cluster.wait_until("node3 back in a view all three agree on",
                       lambda: cluster.agreed(cluster.names))
    for survivor in ("node1", "node2"):
        node3 = cluster[survivor].node("node3")
        assert node3["state"] == "up"
        assert node3["incarnation"] == before + 1


def test_sigtermed_node_exits_0_and_is_seen_left_at_once(cluster: LoopbackCluster) -> None:
    deadtime = cluster.deadtime_ms
    cluster["node2"].signal(signal.SIGTERM)
    assert cluster["node2"].wait_exit() == 0
    assert not cluster["node2"].socket.exists()
    for survivor in ("node1", "node3"):
        d = cluster[survivor]
        cluster.wait_until(f"{survivor} sees node2 left",
                           lambda d=d: d.node("node2")["left"], timeout_s=5)
        node2 = d.node("node2")
        assert node2["state"] == "dead"
        # declared dead after far less silence than deadtime: it said goodbye
        assert node2["last_heard_ms"] - node2["state_since_ms"] < deadtime // 2
    cluster.wait_until("node1 and node3 agree", lambda: cluster.agreed(["node1", "node3"]))
    assert "leave sent node=node2" in cluster["node2"].log_text()


def _capture_delivered_heartbeat(spy: socket.socket, sender_host: str) -> bytes:
    """A heartbeat SENDER_HOST sent that the other nodes have surely received already.

    Old datagrams queued at the spy (from before the others started) are skipped;
    once the next heartbeat arrives, the one before it left at least a keepalive ago.
    """
    spy.setblocking(False)
    with contextlib.suppress(BlockingIOError):
        while True:
            spy.recv(65536)
    spy.settimeout(5)
    heard: list[bytes] = []
    while len(heard) < 2:
        data, source = spy.recvfrom(65536)
        if source[0] == sender_host:
            heard.append(data)
    return heard[0]


def test_forged_replayed_truncated_and_garbage_datagrams_are_dropped_counted_and_harmless(
    make_cluster: Callable[..., LoopbackCluster],
) -> None:
    c = make_cluster(3, spy=True)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as spy:
        spy.bind((c.spy_host, c.port))
        spy.settimeout(5)
        c.start()
        c.wait_until("3 nodes agree", lambda: c.agreed(c.names))
        captured = _capture_delivered_heartbeat(spy, c.hosts["node2"])
        target = (c.hosts["node1"], c.port)
        # node1 got this datagram from node2 already: sending it again is a replay
        spy.sendto(captured, target)
        spy.sendto(captured[:20], target)  # cut inside the header
        spy.sendto(b"\x00" + os.urandom(300), target)  # not even our magic
        wrong_key = Codec(Auth(1, {1: AuthKey(1, AuthMethod.HMAC_SHA256, b"not the secret")}),
                          Compression(), "itest")
        forged = Envelope("itest", NodeName("node2"), 1 << 40, 1, "heartbeat", {"view": {}})
        spy.sendto(wrong_key.encode(forged), target)
    expected = {"replayed": 1, "truncated": 1, "garbage": 1, "bad_signature": 1}

    def counted() -> bool:
        by_reason = c["node1"].status()["drops"]["by_reason"]
        return all(by_reason.get(k, 0) >= v for k, v in expected.items())

    c.wait_until("node1 counts each drop by its reason", counted, timeout_s=5)
    drops = c["node1"].status()["drops"]
    assert {k: v for k, v in drops["by_reason"].items() if v} == expected
    assert drops["total"] == 4
    assert c.agreed(c.names)  # nothing above disturbed the cluster
    assert SECRET not in c["node1"].log_text()
    assert "datagram dropped reason=bad_signature" in c["node1"].log_text()


def test_sighup_with_a_broken_config_keeps_the_running_one_and_says_why(
    cluster: LoopbackCluster,
) -> None:
    good = cluster.config.read_text()
    cluster.write_config(good.replace('deadtime = "500ms"', 'deadtime = "soon"'))
    cluster["node1"].signal(signal.SIGHUP)
    cluster.wait_until("node1 reports the failed reload",
                       lambda: bool(cluster["node1"].status()["config"]["reload_errors"]))
    doc = cluster["node1"].status()
    assert "deadtime" in doc["config"]["reload_errors"][0]
    assert doc["timing_ms"]["deadtime"] == 500
    assert cluster.agreed(cluster.names)
    assert "configuration not reloaded, keeping the running one" in cluster["node1"].log_text()
    # A valid change afterwards is applied, and the error goes away.
    cluster.write_config(warntime_ms=350)
    cluster["node1"].signal(signal.SIGHUP)
    cluster.wait_until("node1 runs the new warntime",
                       lambda: cluster["node1"].status()["timing_ms"]["warntime"] == 350)
    assert cluster["node1"].status()["config"]["reload_errors"] == []
    assert cluster.agreed(cluster.names)


def test_daemon_with_an_unknown_node_name_refuses_to_start_with_a_hint(
    make_cluster: Callable[..., LoopbackCluster],
) -> None:
    c = make_cluster(2)
    d = c["node1"]
    d.name = "node9"
    d.start()
    assert d.wait_exit() == 3
    text = d.log_text()
    assert "'node9' is not a node of the configuration" in text
    assert "hint:" in text


def test_daemon_tells_systemd_ready_reloading_and_stopping_and_logs_to_its_logfile(
    make_cluster: Callable[..., LoopbackCluster],
) -> None:
    c = make_cluster(2)
    logfile = c.dir / "ha-log"
    c.write_config(extra=f'[logging]\nlogfile = "{logfile}"\n')
    notify_path = c.dir / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as systemd:
        systemd.bind(str(notify_path))
        systemd.settimeout(10)
        c["node1"].start(notify_socket=str(notify_path))
        ready = systemd.recv(4096).decode()
        assert "READY=1" in ready.splitlines()
        assert f"MAINPID={c['node1'].pid}" in ready.splitlines()
        c["node1"].signal(signal.SIGHUP)
        assert systemd.recv(4096).decode().startswith("RELOADING=1\nMONOTONIC_USEC=")
        assert systemd.recv(4096) == b"READY=1"
        c["node1"].signal(signal.SIGTERM)
        assert systemd.recv(4096) == b"STOPPING=1"
        assert c["node1"].wait_exit() == 0
    text = logfile.read_text()
    assert "node1 vigil[" in text
    assert "INFO: daemon started node=node1 incarnation=1" in text
    assert "configuration reloaded" in text
    assert "daemon stopped node=node1" in text
