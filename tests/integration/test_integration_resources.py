"""Three real daemons on loopback move vigil:dummy resources: failover, standby, monitors.

The resources and groups are examples/native/loopback-3node.toml's (web-group =
vip + web preferring node1, db-group = db preferring node2), with auto_failback
on; timing is the fixtures' (keepalive 100 ms, deadtime 500 ms). A dummy
resource is a state file in the node's agent directory
(STATE_DIR/NODE.agents/dummy-ID.state): deleting it is a service dying behind
the cluster's back.
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from loopback_cluster import VIGIL, LoopbackCluster, config_text

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "native" / "loopback-3node.toml"
HOME = {"vip": "node1", "web": "node1", "db": "node2"}


@pytest.fixture
def resources_cluster(make_cluster: Callable[..., LoopbackCluster]) -> LoopbackCluster:
    c = make_cluster(3)
    example = EXAMPLE.read_text()
    extra = example[example.index("[[resource]]"):]
    text = config_text(c.names, c.hosts, c.port, keepalive_ms=c.keepalive_ms,
                       deadtime_ms=c.deadtime_ms, extra=extra)
    c.write_config(text=text.replace('name = "itest"', 'name = "itest"\nauto_failback = "on"'))
    c.start()
    c.wait_until("3 nodes agree", lambda: c.agreed(c.names))
    c.wait_until("every resource on its preferred node", lambda: placement(c, "node3") == {
        rid: (node, "running") for rid, node in HOME.items()})
    return c


def placement(c: LoopbackCluster, asked: str) -> dict[str, tuple[str | None, str]]:
    return {r["id"]: (r["node"], r["state"]) for r in c[asked].status()["resources"]}


def resource(c: LoopbackCluster, asked: str, rid: str) -> dict[str, object]:
    return next(r for r in c[asked].status()["resources"] if r["id"] == rid)


def vigil(c: LoopbackCluster, node: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(VIGIL), *args, "--socket", str(c[node].socket)],
                          capture_output=True, text=True, timeout=30, check=False)


def test_resources_start_on_their_preferred_nodes_and_status_explains_why(
        resources_cluster: LoopbackCluster) -> None:
    c = resources_cluster
    vip = resource(c, "node2", "vip")
    assert vip["group"] == "web-group"
    assert vip["failcount"] == 0
    assert vip["reason"] == "Stay on node1: preferred node (score 100)"
    assert "split brain possible: no fencing configured" in c["node2"].status()["warnings"]
    plain = subprocess.run([str(VIGIL), "status", "--socket", str(c["node1"].socket)],
                           capture_output=True, text=True, timeout=30, check=True).stdout
    assert "group web-group: running on node1" in plain
    assert (c.dir / "state" / "node1.agents" / "dummy-vip.state").exists()


def test_sigkill_of_a_node_moves_its_group_and_it_comes_back_with_auto_failback(
        resources_cluster: LoopbackCluster) -> None:
    c = resources_cluster
    c["node1"].signal(signal.SIGKILL)
    c.wait_until("web-group on node2", lambda: placement(c, "node3") == {
        "vip": ("node2", "running"), "web": ("node2", "running"), "db": ("node2", "running")})
    c["node1"].start()
    c.wait_until("web-group back on node1", lambda: placement(c, "node3") == {
        rid: (node, "running") for rid, node in HOME.items()}, timeout_s=15)


def test_standby_moves_a_nodes_groups_away_and_online_lets_them_back(
        resources_cluster: LoopbackCluster) -> None:
    c = resources_cluster
    done = vigil(c, "node3", "standby", "node1")
    assert (done.returncode, done.stdout.strip()) == (
        0, "standby node1: accepted by the DC (settings version 1 by node1)")
    c.wait_until("web-group away from node1", lambda: placement(c, "node2")["vip"][0] == "node2"
                 and placement(c, "node2")["web"] == ("node2", "running"))
    assert c["node2"].status()["coordinator"]["standby"] == ["node1"]
    done = vigil(c, "node1", "online")  # NODE defaults to this node, as hb_takeover
    assert done.returncode == 0, done.stderr
    c.wait_until("web-group back on node1", lambda: placement(c, "node2") == {
        rid: (node, "running") for rid, node in HOME.items()})


def test_a_dummy_deleted_behind_the_clusters_back_is_restarted_in_place_and_cleaned_up(
        resources_cluster: LoopbackCluster) -> None:
    c = resources_cluster
    state = c.dir / "state" / "node1.agents" / "dummy-vip.state"
    state.unlink()
    # The monitor (every 1 s) finds it gone; the DC restarts vip (and web after it) there.
    c.wait_until("vip restarted on node1", lambda: resource(c, "node3", "vip")["failcount"] == 1
                 and resource(c, "node3", "vip")["state"] == "running" and state.exists())
    assert resource(c, "node3", "vip")["node"] == "node1"
    done = vigil(c, "node2", "cleanup", "vip")
    assert done.returncode == 0, done.stderr
    c.wait_until("failcount cleared", lambda: resource(c, "node3", "vip")["failcount"] == 0)
    events = vigil(c, "node2", "events")
    assert events.returncode == 0, events.stderr
    assert "monitor of vip failed (not-running)" in events.stdout
    assert "Recover on node1" in events.stdout or "restart in place after a failure" in \
        events.stdout


@pytest.mark.parametrize(("args", "code", "message"), [
    (("standby", "nodeX"), 3, "no node 'nodeX' in the configuration"),
    (("move", "mail", "node2"), 3, "no resource or group 'mail' in the configuration"),
])
def test_a_command_naming_what_is_not_configured_fails_with_exit_code_3(
        resources_cluster: LoopbackCluster, args: tuple[str, ...], code: int,
        message: str) -> None:
    done = vigil(resources_cluster, "node2", *args)
    assert done.returncode == code
    assert message in done.stderr


def test_sigterm_hands_the_group_over_before_the_daemon_exits(
        resources_cluster: LoopbackCluster) -> None:
    c = resources_cluster
    c["node1"].signal(signal.SIGTERM)
    assert c["node1"].wait_exit(timeout_s=15) == 0
    # Handed over while node1 still ran: on node2 by the time its daemon is gone,
    # not a deadtime later.
    assert placement(c, "node2")["vip"] == ("node2", "running")
    assert placement(c, "node2")["web"] == ("node2", "running")
    assert not (c.dir / "state" / "node1.agents" / "dummy-vip.state").exists()
    assert "handing resources over before leaving" in c["node1"].log_text()


def test_move_runs_a_group_on_the_named_node_until_unmove(
        resources_cluster: LoopbackCluster) -> None:
    c = resources_cluster
    done = vigil(c, "node2", "move", "web", "node3")  # a member moves its whole group
    assert done.returncode == 0, done.stderr
    c.wait_until("web-group on node3", lambda: placement(c, "node1")["vip"] == ("node3", "running")
                 and placement(c, "node1")["web"] == ("node3", "running"))
    assert resource(c, "node1", "vip")["reason"] == \
        "Stay on node3: moved to node3 by the administrator"
    assert vigil(c, "node2", "unmove", "web-group").returncode == 0
    c.wait_until("web-group back on node1", lambda: placement(c, "node1")["vip"] == (
        "node1", "running"))


#: A Heartbeat resource script whose stop fails: the service may still be running.
STUCK = """#!/bin/sh
case "$1" in
  start) touch "$0.running" ;;
  stop) echo "cannot stop" >&2; exit 1 ;;
  status) if [ -e "$0.running" ]; then echo running; else echo stopped; fi ;;
esac
"""


def test_sigterm_with_a_stop_that_fails_waits_and_says_why(
        make_cluster: Callable[..., LoopbackCluster], tmp_path: Path) -> None:
    # Nothing may assume a failed stop: the resource is blocked where it ran, and the
    # stopping daemon waits (deadtime + the stop timeouts) for a cleanup or a fence
    # rather than leave as if nothing ran there. Its log says so while it waits.
    scripts = tmp_path / "resource.d"
    scripts.mkdir()
    (scripts / "stuck").write_text(STUCK)
    (scripts / "stuck").chmod(0o755)
    c = make_cluster(2)
    text = config_text(c.names, c.hosts, c.port, keepalive_ms=c.keepalive_ms,
                       deadtime_ms=c.deadtime_ms,
                       extra='[[resource]]\nid = "stuck"\nagent = "heartbeat:stuck"\n'
                             '[[group]]\nid = "g"\nresources = ["stuck"]\n'
                             'preferred_node = "node1"\n')
    c.write_config(text=text.replace('name = "itest"',
                                     f'name = "itest"\nresource_dirs = ["{scripts}"]'))
    c.start()
    c.wait_until("stuck runs on node1", lambda: placement(c, "node2").get("stuck") ==
                 ("node1", "running"))
    c["node1"].signal(signal.SIGTERM)
    c.wait_until("node1 says what its shutdown waits for", lambda:
                 "shutdown waits for a blocked resource resources=stuck" in
                 c["node1"].log_text())
    assert "fix it and run `vigil cleanup`" in c["node1"].log_text()
    # Still there a second later, waiting; the fixture kills it.
    with pytest.raises(subprocess.TimeoutExpired):
        c["node1"].wait_exit(timeout_s=1)
    assert (scripts / "stuck.running").exists()
