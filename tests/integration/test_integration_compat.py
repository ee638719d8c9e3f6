"""Heartbeat's cl_status and hb_standby against running daemons, with Heartbeat 3.0.6's
output strings and exit codes (tools/cl_status.c, heartbeat/lib/hb_standby.in)."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from loopback_cluster import VIGIL, LoopbackCluster, config_text

from prereqs import require_root

EXTRA = """
[connectivity]
deadping = "400ms"
multiplier = 100
[[connectivity.ping]]
addresses = ["127.0.0.1"]
[[connectivity.ping]]
name = "v6"
group = true
addresses = ["::1"]

[[respawn]]
user = "nobody"
command = "/bin/sleep 600"
"""


def cl_status(cluster: LoopbackCluster, node: str, *args: str) -> tuple[int, str, str]:
    proc = subprocess.run([str(VIGIL), "compat", "cl_status", *args], check=False,
                          capture_output=True,
                          text=True, timeout=20,
                          env={**os.environ, "VIGIL_SOCKET": str(cluster[node].socket)})
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture
def pinging(make_cluster: Callable[..., LoopbackCluster]) -> LoopbackCluster:
    require_root()  # raw ICMP sockets, and respawning as nobody
    c = make_cluster(2)
    c.write_config(extra=EXTRA)
    c.start()
    c.wait_until("2 nodes agree", lambda: c.agreed(c.names))
    c.wait_until("both ping nodes up on node1", lambda: c["node1"].status()
                 ["connectivity"]["reachable"] == 2)
    return c


@pytest.mark.parametrize(
    ("args", "code", "out"),
    [
        (["hbstatus"], 0, "Heartbeat is running on this machine.\n"),
        (["listnodes"], 0, "node1\nnode2\n127.0.0.1\nv6\n"),
        (["listnodes", "-n"], 0, "node1\nnode2\n"),
        (["listnodes", "-p"], 0, "127.0.0.1\nv6\n"),
        (["listnodes", "-m", "-p"], 0, "The nodes are as follow:\n127.0.0.1\nv6\n"),
        (["nodestatus", "node2"], 0, "active\n"),
        (["nodestatus", "-m", "node2"], 0, "The cluster node node2 is active\n"),
        (["nodestatus", "127.0.0.1"], 0, "ping\n"),
        (["nodetype", "node2"], 0, "normal\n"),
        (["nodetype", "v6"], 0, "ping\n"),
        (["nodetype", "-m", "v6"], 0, "The node v6's type: ping\n"),
        (["listhblinks", "node2"], 0, "\tlo\n"),
        (["hblinkstatus", "node2", "lo"], 0, "up\n"),
        (["hblinkstatus", "-m", "node1", "lo"], 0, "The node node1's heartbeat link lo is up\n"),
        (["nodestatus", "nosuchnode"], 11, ""),
        (["nodestatus"], 11, ""),
        (["frobnicate"], 11, ""),
    ],
)
def test_cl_status_prints_what_heartbeat_printed(
    pinging: LoopbackCluster, args: list[str], code: int, out: str
) -> None:
    rc, stdout, stderr = cl_status(pinging, "node1", *args)
    assert (rc, stdout) == (code, out), stderr


def test_cl_status_sees_a_stopped_peer_dead_and_a_stopped_daemon(
    pinging: LoopbackCluster
) -> None:
    pinging["node2"].signal(signal.SIGTERM)
    pinging["node2"].wait_exit()
    pinging.wait_until("node1 sees node2 dead",
                       lambda: cl_status(pinging, "node1", "nodestatus", "node2")[1] == "dead\n")
    assert cl_status(pinging, "node1", "nodestatus", "node2")[0] == 1
    assert cl_status(pinging, "node1", "hblinkstatus", "node2", "lo")[:2] == (1, "dead\n")
    assert cl_status(pinging, "node2", "hbstatus")[:2] == (
        1, "Heartbeat is stopped on this machine.\n")


def test_status_shows_connectivity_and_the_respawned_helper_stops_with_the_daemon(
    pinging: LoopbackCluster
) -> None:
    doc = pinging["node1"].status()
    assert doc["connectivity"]["score"] == 200
    assert [p["state"] for p in doc["connectivity"]["ping_nodes"]] == ["up", "up"]
    [helper] = doc["respawn"]
    assert (helper["state"], helper["user"], helper["argv"]) == (
        "running", "nobody", ["/bin/sleep", "600"])
    pid = helper["pid"]
    os.kill(pid, signal.SIGKILL)
    pinging.wait_until("the helper is respawned", lambda: pinging["node1"].status()
                       ["respawn"][0]["restarts"] == 1 and
                       pinging["node1"].status()["respawn"][0]["state"] == "running")
    new_pid = pinging["node1"].status()["respawn"][0]["pid"]
    assert new_pid != pid
    assert "respawning program program=/bin/sleep user=nobody" in pinging["node1"].log_text()
    pinging["node1"].signal(signal.SIGTERM)
    assert pinging["node1"].wait_exit() == 0
    assert not Path(f"/proc/{new_pid}").exists()


def compat(cluster: LoopbackCluster, node: str, tool: str,
           *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(VIGIL), "compat", tool, *args], check=False,
                          capture_output=True, text=True, timeout=30,
                          env={**os.environ, "VIGIL_SOCKET": str(cluster[node].socket)})


def test_hb_standby_without_resources_says_going_standby_and_rejects_a_bad_word(
    pinging: LoopbackCluster
) -> None:
    proc = compat(pinging, "node1", "hb_standby")
    assert (proc.returncode, proc.stdout) == (0, "Going standby [all].\n"), proc.stderr
    assert pinging["node1"].status()["coordinator"]["standby"] == ["node1"]
    bad = subprocess.run([str(VIGIL), "compat", "hb_standby", "sideways"], check=False,
                         capture_output=True,
                         text=True, timeout=20, env={**os.environ, "VIGIL_SOCKET": "/none"})
    assert bad.returncode == 1
    assert "hb_standby: wrong resources(sideways)." in bad.stderr


EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "native" / "loopback-3node.toml"


@pytest.fixture
def two_groups(make_cluster: Callable[..., LoopbackCluster]) -> LoopbackCluster:
    """node1 and node2 running examples/native/loopback-3node.toml's groups at home
    (web-group on node1, db-group on node2), auto_failback on, as haresources would."""
    c = make_cluster(2)
    example = EXAMPLE.read_text()
    text = config_text(c.names, c.hosts, c.port, keepalive_ms=c.keepalive_ms,
                       deadtime_ms=c.deadtime_ms,
                       extra=example[example.index("[[resource]]"):example.index("[quorum]")])
    c.write_config(text=text.replace('name = "itest"', 'name = "itest"\nauto_failback = "on"'))
    c.start()
    c.wait_until("2 nodes agree", lambda: c.agreed(c.names))
    c.wait_until("each group at home", lambda: groups(c) == {"web-group": "node1",
                                                              "db-group": "node2"})
    return c


def groups(c: LoopbackCluster) -> dict[str, str | None]:
    """Each group's node (every member running there), as node2's daemon reports it."""
    out: dict[str, set[str | None]] = {}
    for r in c["node2"].status()["resources"]:
        out.setdefault(r["group"], set()).add(r["node"] if r["state"] == "running" else None)
    return {g: nodes.pop() if len(nodes) == 1 else None for g, nodes in out.items()}


def rscstatus(c: LoopbackCluster) -> dict[str, str]:
    return {n: cl_status(c, n, "rscstatus")[1].strip() for n in c.names}


def test_rscstatus_hb_standby_and_hb_takeover_move_groups_as_heartbeat_did(
    two_groups: LoopbackCluster
) -> None:
    c = two_groups
    assert rscstatus(c) == {"node1": "local", "node2": "local"}
    assert cl_status(c, "node1", "rscstatus", "-m")[:2] == (
        0, "This node is holding local resources.\n")

    # hb_standby (all): node1 gives everything up.
    proc = compat(c, "node1", "hb_standby")
    assert (proc.returncode, proc.stdout) == (0, "Going standby [all].\n"), proc.stderr
    c.wait_until("both groups on node2", lambda: groups(c) == {"web-group": "node2",
                                                               "db-group": "node2"})
    assert rscstatus(c) == {"node1": "none", "node2": "all"}

    # hb_takeover (all): node1 takes everything, silently as Heartbeat's.
    proc = compat(c, "node1", "hb_takeover")
    assert (proc.returncode, proc.stdout) == (0, ""), proc.stderr
    c.wait_until("both groups on node1", lambda: groups(c) == {"web-group": "node1",
                                                               "db-group": "node1"})
    assert rscstatus(c) == {"node1": "all", "node2": "none"}
    assert c["node1"].status()["coordinator"]["standby"] == []

    # hb_standby failback (= foreign): node2's group goes home, node1 keeps its own.
    proc = compat(c, "node1", "hb_standby", "failback")
    assert (proc.returncode, proc.stdout) == (0, "Going standby [foreign].\n"), proc.stderr
    c.wait_until("db-group home on node2", lambda: groups(c) == {"web-group": "node1",
                                                                 "db-group": "node2"})
    assert rscstatus(c) == {"node1": "local", "node2": "local"}
