"""Real daemons fence a hung node with a fence agent, and recover its services only after.

The fence device is a script speaking the fence-agents protocol; "powering off"
a node is SIGKILL of its daemon (read from a pid file the test writes) and
removal of its dummy services' state files, and the script logs the time it did
so. The resources are examples/native/loopback-3node.toml's.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from loopback_cluster import VIGIL, LoopbackCluster, config_text
from test_integration_resources import EXAMPLE, placement

AGENT = """#!/bin/sh
opts=$(cat)
get() { printf '%s\\n' "$opts" | sed -n "s/^$1=//p" | tail -n 1; }
action=$(get action)
plug=$(get plug)
case "$action" in
  off|reboot)
    kill -KILL "$(cat "$(get dir)/$plug.pid")" 2>/dev/null
    rm -f "$(get dir)/state/$plug.agents/"dummy-*
    date +%s.%N > "$(get dir)/fenced-$plug"
    echo "powered $plug off";;
  monitor|status|list) ;;
esac
exit 0
"""


@pytest.fixture
def fenced_cluster(make_cluster: Callable[..., LoopbackCluster]) -> LoopbackCluster:
    c = make_cluster(3)
    agent = c.dir / "fence_kill"
    agent.write_text(AGENT)
    agent.chmod(0o755)
    example = EXAMPLE.read_text()
    extra = example[example.index("[[resource]]"):] + (
        f'\n[[fence_device]]\nname = "killer"\nagent = "{agent}"\n'
        f'params = {{ dir = "{c.dir}" }}\n')
    c.write_config(text=config_text(c.names, c.hosts, c.port, keepalive_ms=c.keepalive_ms,
                                    deadtime_ms=c.deadtime_ms, extra=extra))
    c.start()
    for name in c.names:
        (c.dir / f"{name}.pid").write_text(str(c[name].pid))
    c.wait_until("3 nodes agree", lambda: c.agreed(c.names))
    c.wait_until("web on node1", lambda: placement(c, "node3").get("web") == ("node1",
                                                                            "running"))
    return c


def test_hung_node_is_fenced_before_its_services_start_elsewhere(
        fenced_cluster: LoopbackCluster) -> None:
    c = fenced_cluster
    assert "split brain possible: no fencing configured" not in c["node2"].status()["warnings"]
    c["node1"].signal(signal.SIGSTOP)  # hung: web keeps running until node1 is fenced
    c.wait_until("web runs on another node",
                 lambda: placement(c, "node3").get("web", (None, ""))[0] in ("node2", "node3")
                 and placement(c, "node3")["web"][1] == "running", 15)
    fenced = c.dir / "fenced-node1"
    assert fenced.exists()
    assert c["node1"].wait_exit(5) == -signal.SIGKILL
    dc = c["node2"].status()["dc"]
    doc = c[dc].status()["fencing"]
    assert doc["mode"] == "devices"
    assert doc["devices"][0]["name"] == "killer"
    assert [(h["node"], h["succeeded"]) for h in doc["history"]] == [("node1", True)]
    events = subprocess.run([str(VIGIL), "events", "--socket", str(c[dc].socket)],
                            capture_output=True, text=True, timeout=20, check=True).stdout
    assert "fencing node1" in events
    assert "node1 fenced" in events


def test_manual_confirmation_is_refused_on_a_node_that_is_not_the_dc(
        fenced_cluster: LoopbackCluster) -> None:
    c = fenced_cluster
    dc = c["node3"].status()["dc"]
    other = next(n for n in c.names if n not in (dc, "node1"))
    done = subprocess.run([str(VIGIL), "fence", "--confirm", "node1", "--force",
                           "--socket", str(c[other].socket)],
                          capture_output=True, text=True, timeout=20, check=False)
    assert done.returncode == 1
    assert "not the DC" in done.stderr
    assert f"on {dc}" in done.stderr
    time.sleep(0.2)
    assert c["node1"].status()["fencing"]["history"] == []
    unknown = subprocess.run([str(VIGIL), "fence", "nodeX", "--force",
                              "--socket", str(c[dc].socket)],
                             capture_output=True, text=True, timeout=20, check=False)
    assert unknown.returncode == 3


def test_vigil_fence_powers_the_node_off_and_its_services_move(
        fenced_cluster: LoopbackCluster) -> None:
    c = fenced_cluster
    dc = c["node3"].status()["dc"]
    asker = "node3" if dc != "node3" else "node2"
    done = subprocess.run([str(VIGIL), "fence", "node1", "--force", "--reason", "test",
                           "--socket", str(c[asker].socket)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert c["node1"].wait_exit(5) == -signal.SIGKILL
    c.wait_until("web runs on another node",
                 lambda: placement(c, "node3").get("web", (None, ""))[0] in ("node2", "node3")
                 and placement(c, "node3")["web"][1] == "running", 15)
    assert Path(c.dir / "fenced-node1").exists()
