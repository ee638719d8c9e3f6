"""The field notes' three-node Heartbeat cluster, its files unchanged, on vigil.

examples/heartbeat-3node/node0, node1 and node2 are each node's /etc/ha.d as the
notes print them (README there says what was changed from the notes and why).
Each node gets a namespace with a veth called ``eth2`` on one bridge, since
their only heartbeat medium is ``bcast eth2`` on udpport 694::

    ns node0 eth2 10.94.0.1/24 --+
    ns node1 eth2 10.94.0.2/24 --+-- br0 (ns of its own)
    ns node2 eth2 10.94.0.3/24 --+

The daemons run in a private mount namespace with a directory of their own
bind-mounted over /var/log, so ha.cf's ``logfile /var/log/ha-log`` and
``debugfile /var/log/ha-debug`` work as written without touching the host, and
in a UTS namespace of their own: the scripts set the host name (``hostname
nodevir2``), which must rename the namespace, not the machine running the tests.

The three ha.cf files disagree about the cluster, as they did in the notes:
node0's names node0 and node1, node2's names node2 and node1, node1's names all
three. Heartbeat (without ``autojoin``) ignored heartbeats from nodes missing
from its own ha.cf; vigil does the same (drop reason ``unknown_node``) and says
that the peers run a different configuration. Their resources (Remac1, Remac2)
are scripts for another machine (ifconfig, /etc/rc.d/init.d/functions): their
probes fail, and that shows in ``vigil status`` without the daemons dying.

Not asserted, because it is not what Heartbeat did: with these node lists no
view becomes stable (node1 waits for node0 and node2 to report all three, which
they never will), so no DC places anything; Heartbeat in haresources mode would
have started Remac1 on node0 and Remac2 on node2 regardless.

Timing is the notes' (keepalive 2 s, deadtime 60 s, initdead 240 s): nothing
here waits for deadtime or initdead, the peers are heard within a keepalive.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from agents_lan import ip
from cluster_lan import VIGIL

from prereqs import require_command, require_root

pytestmark = [pytest.mark.root, pytest.mark.timeout(90)]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "heartbeat-3node"
NODES = ("node0", "node1", "node2")
POLL_S = 0.1


@dataclass
class FieldCluster:
    """Three node namespaces on one bridge, each running ``vigil daemon`` on its files."""

    make_ns: Callable[[], str]
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="vigil-fn-")))
    ns: dict[str, str] = field(default_factory=dict)
    switch: str = ""
    daemons: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def build(self) -> None:
        sw = self.switch = self.make_ns()
        ip("-n", sw, "link", "add", "br0", "type", "bridge")
        ip("-n", sw, "link", "set", "br0", "up")
        for i, node in enumerate(NODES):
            ns = self.ns[node] = self.make_ns()
            ip("-n", sw, "link", "add", f"p{node}", "type", "veth", "peer", "name", "eth2",
               "netns", ns)
            ip("-n", sw, "link", "set", f"p{node}", "master", "br0", "up")
            ip("-n", ns, "link", "set", "eth2", "up")
            ip("-n", ns, "addr", "add", f"10.94.0.{i + 1}/24", "dev", "eth2")
            shutil.copytree(EXAMPLE / node, self.etc(node))
            (self.etc(node) / "authkeys").chmod(0o600)  # git keeps no mode but +x
            for d in ("state", "log"):
                (self.root / node / d).mkdir(parents=True)

    def etc(self, node: str) -> Path:
        """NODE's copy of its /etc/ha.d."""
        return self.root / node / "ha.d"

    def var_log(self, node: str) -> Path:
        """What NODE's daemon sees as /var/log."""
        return self.root / node / "log"

    def socket(self, node: str) -> Path:
        return self.root / node / "vigil.sock"

    def silence(self) -> None:
        """Drop every frame between the nodes' ports from now on (nftables on the bridge)."""
        subprocess.run(["ip", "netns", "exec", self.switch, "nft", "-f", "-"], check=True,
                       input="table bridge fieldnotes {\n chain forward {\n"
                             "  type filter hook forward priority 0; policy drop;\n }\n}\n",
                       text=True, capture_output=True, timeout=10)

    def start(self) -> None:
        for node in NODES:
            argv = ["ip", "netns", "exec", self.ns[node], "unshare", "--mount", "--uts",
                    "sh", "-c",
                    'mount --bind "$0" /var/log && exec "$@"', str(self.var_log(node)),
                    str(VIGIL), "daemon", "--config", str(self.etc(node)), "--node", node,
                    "--state-dir", str(self.root / node / "state"),
                    "--socket", str(self.socket(node))]
            with (self.root / node / "stderr").open("ab") as out:
                # ip, unshare and sh each exec the next: the PID is the daemon's.
                self.daemons[node] = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                                      stdout=out, stderr=subprocess.STDOUT)

    def status(self, node: str) -> dict[str, Any]:
        """``vigil status --json`` on NODE, as its administrator runs it."""
        out = subprocess.run([str(VIGIL), "status", "--json", "--socket", str(self.socket(node))],
                             capture_output=True, text=True, timeout=10, check=False)
        if out.returncode != 0:
            raise LookupError(f"vigil status on {node}: exit {out.returncode}: {out.stderr}")
        doc = json.loads(out.stdout)
        assert isinstance(doc, dict)
        return doc

    def wait_until(self, what: str, check: Callable[[], bool], timeout_s: float = 20.0) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            with contextlib.suppress(LookupError, KeyError, StopIteration):
                if check():
                    return
            if any(proc.poll() is not None for proc in self.daemons.values()):
                pytest.fail(f"a daemon exited while waiting: {what}\n{self.diagnosis()}")
            if time.monotonic() > deadline:
                pytest.fail(f"not within {timeout_s} s: {what}\n{self.diagnosis()}")
            time.sleep(POLL_S)

    def diagnosis(self) -> str:
        parts = []
        for node in NODES:
            proc = self.daemons.get(node)
            state = ("not started" if proc is None else
                     f"exit {proc.returncode}" if proc.poll() is not None else "running")
            err = self.root / node / "stderr"
            tail = err.read_text(errors="replace").splitlines()[-20:] if err.exists() else []
            parts.append(f"--- {node} ({state})\n" + "\n".join(tail))
            debug = self.var_log(node) / "ha-debug"
            if debug.exists():
                parts.append(f"--- {node}: the last lines of its ha-debug\n" + "\n".join(
                    debug.read_text(errors="replace").splitlines()[-40:]))
        return "\n".join(parts)

    def destroy(self) -> None:
        """Kill what is left of the daemons started here (the fixture deletes the namespaces)."""
        for proc in self.daemons.values():
            if proc.poll() is None:
                proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)
        if os.environ.get("VIGIL_KEEP_NETNS_LOGS"):
            print(f"logs kept in {self.root}")
        else:
            shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def cluster(netns: Callable[[], str]) -> Iterator[FieldCluster]:
    require_root()
    for command in ("ip", "unshare", "mount", "nft"):
        require_command(command)
    c = FieldCluster(netns)
    try:
        c.build()
        yield c
    finally:
        c.destroy()


def peer(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(n for n in doc["nodes"] if n["name"] == name)


def resource(doc: dict[str, Any], rid: str) -> dict[str, Any]:
    return next(r for r in doc["resources"] if r["id"] == rid)


def is_up_on_eth2(doc: dict[str, Any], name: str) -> bool:
    p = peer(doc, name)
    return p["state"] == "up" and any(
        link["name"] == "eth2" and link["state"] == "up" for link in p["links"])


def hears_node1_drops_stranger(cluster: FieldCluster, node: str) -> bool:
    doc = cluster.status(node)
    return is_up_on_eth2(doc, "node1") and doc["drops"]["by_reason"]["unknown_node"] > 0


def reports_stopped(cluster: FieldCluster, node: str, rids: list[str]) -> bool:
    doc = cluster.status(node)
    return all((r := resource(doc, rid))["state"] == "stopped" and r["failcount"] == 0
               for rid in rids) and not any(w.startswith("split brain:") for w in doc["warnings"])


def test_field_notes_three_nodes_run_their_hacf_unchanged_and_hear_each_other_on_eth2(
        cluster: FieldCluster) -> None:
    began = time.monotonic()

    # What an administrator does first: every node's files check out (warnings only).
    for node in NODES:
        check = subprocess.run([str(VIGIL), "config", "check", str(cluster.etc(node))],
                               capture_output=True, text=True, timeout=30, check=False)
        assert check.returncode == 0, f"{node}: {check.stdout}{check.stderr}"
        assert "bcast eth2 port 694" in check.stdout, check.stdout
        assert "crc authenticates nothing" in check.stderr, check.stderr

    cluster.start()

    # node1 lists all three: it hears node0 and node2 over bcast on eth2 (crc-signed,
    # nothing dropped for a bad signature) and forms the view at once, not after initdead.
    cluster.wait_until("node1 sees node0 and node2 up on eth2, all three in its view", lambda: (
        (doc := cluster.status("node1")) is not None
        and is_up_on_eth2(doc, "node0") and is_up_on_eth2(doc, "node2")
        and sorted(doc["view"]["members"]) == list(NODES)))
    # node0 and node2 each list node1 only: they see it up, and drop the third node
    # they were never told about, as Heartbeat did without autojoin.
    for node, stranger in (("node0", "node2"), ("node2", "node0")):
        cluster.wait_until(f"{node} sees node1 up and drops {stranger} as unknown",
                           partial(hears_node1_drops_stranger, cluster, node))
        doc = cluster.status(node)
        assert {n["name"] for n in doc["nodes"]} == {node, "node1"}, doc["nodes"]
        assert sorted(doc["view"]["members"]) == sorted([node, "node1"]), doc["view"]

    one = cluster.status("node1")
    assert one["timing_ms"] == {"keepalive": 2000, "warntime": 20000, "deadtime": 60000,
                                "initdead": 240000}
    for reason in ("bad_signature", "unknown_key", "wrong_cluster", "unknown_node"):
        assert one["drops"]["by_reason"][reason] == 0, (reason, one["drops"])
    [link] = one["links"]
    assert (link["name"], link["kind"], link["state"]) == ("eth2", "bcast", "open"), link
    assert link["sent"] > 0, link
    assert link["received"] > 0, link
    assert link["send_errors"] == 0, link
    assert link["destinations"] == ["255.255.255.255:694"], link

    # The files differ between nodes: each peer's digest is not node1's, and node1 says so
    # in ha.cf's own logfile (/var/log/ha-log, as written).
    for other in ("node0", "node2"):
        theirs = peer(one, other)["config_digest"]
        assert theirs, (other, peer(one, other))
        assert theirs != one["config"]["digest"], (other, theirs)
    cluster.wait_until("node1 logs to its logfile that node0 and node2 run other files", lambda: (
        all(f"configuration differs node={other}" in
            (cluster.var_log("node1") / "ha-log").read_text(errors="replace")
            for other in ("node0", "node2"))), timeout_s=10)
    assert (cluster.var_log("node1") / "ha-debug").stat().st_size > 0

    # Remac1/Remac2 have no status action (they print their usage and exit 1): Heartbeat
    # read that as "not running" (cluster-glue raexechb.c), and so does vigil: probed as
    # stopped, no failcount, no false split-brain alarm, and the daemons carry on.
    for node, rids in (("node0", ["Remac1"]), ("node1", ["Remac1", "Remac2"]),
                       ("node2", ["Remac2"])):
        cluster.wait_until(f"{node} reports {rids} stopped, with no failure",
                           partial(reports_stopped, cluster, node, rids))
    for node in NODES:
        assert cluster.daemons[node].poll() is None, cluster.diagnosis()
        assert cluster.status(node)["node"] == node

    # Stopping as an init script does: SIGTERM, a clean exit. The bridge drops their
    # traffic first: with these node lists, whichever node's goodbye is heard first
    # makes a peer take over Remac1 or Remac2 (as Heartbeat would), and those scripts,
    # written for another machine, fail to stop where net-tools is missing (their last
    # command, /sbin/route, exits 127). A failed stop blocks the resource, and the
    # daemon's shutdown then waits for deadtime and the stop timeouts (88 s on node2) for
    # an administrator's cleanup (tests/integration covers a goodbye that is heard).
    cluster.silence()
    for node in NODES:
        cluster.daemons[node].send_signal(signal.SIGTERM)
    for node in NODES:
        try:
            assert cluster.daemons[node].wait(20) == 0, cluster.diagnosis()
        except subprocess.TimeoutExpired:
            pytest.fail(f"{node} did not exit within 20 s of SIGTERM\n{cluster.diagnosis()}")
    print(f"field-notes cluster checked in {time.monotonic() - began:.1f} s")
