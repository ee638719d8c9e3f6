"""Chaos on real daemons in namespaces: the exclusive service is never active twice (issue 7).

A VIP then an exclusive service whose init script records every start and
stop with its CLOCK_MONOTONIC time (chaos_lan.py); a schedule of faults, each
held longer than deadtime then undone and the cluster let back to health:
heartbeat-path partitions with every node alive, crashes (frozen, cable
pulled, rebooted), pauses of the daemon (SIGSTOP) and packet loss. The
checker (bench/chaos_check.py) reads the records: moments with the service active
on two nodes, and the time it was active nowhere.

- The safe modes show no moment with two active: a 3-node cluster with quorum
  (partitions, crashes, loss: a paused daemon cannot stop its service, so
  pauses need fencing or a watchdog), and a 2-node cluster with fencing (a
  fence agent that powers the node off from outside; a delay before fencing
  node0 decides the fence race) under every kind of fault.
- Compatibility mode without fencing runs it twice on a partition, as
  Heartbeat did, and ``vigil status`` says so while it lasts.

The schedule comes from a seed (``VIGIL_CHAOS_SEED`` replays one; the default
is fixed so CI runs the same schedule); ``bench/chaos.py`` runs long ones.
"""

from __future__ import annotations

import os
import random
import time

import chaos_lan
import faults
import pytest
from bench import chaos_check
from cluster_lan import ClusterLan, Service
from watched_lan import Factory, Watched

pytestmark = [pytest.mark.root, pytest.mark.slow, pytest.mark.timeout(150)]

DEADTIME_S = 1.0
TIMING = {"keepalive_ms": 100, "deadtime_ms": int(DEADTIME_S * 1000), "auto_failback": "on"}
WEB = Service("web", "192.0.2.50", {"node0": 100})
SEED = int(os.environ.get("VIGIL_CHAOS_SEED", "7"))


def run_schedule(w: Watched, kinds: tuple[str, ...], steps: int) -> chaos_check.ChaosReport:
    plan = chaos_lan.schedule(random.Random(SEED), w.lan.names, kinds, steps, DEADTIME_S)
    print(f"\nSEED={SEED} (replay: VIGIL_CHAOS_SEED={SEED}); {len(w.lan.names)} nodes; "
          f"schedule: {'; '.join(map(str, plan))}")
    report = chaos_lan.run(w, plan)
    print(f"records: {report.summary()}")
    return report


def test_three_node_quorum_cluster_never_runs_the_service_twice_under_partitions_crashes_and_loss(
        watched: Factory) -> None:
    w = watched(["node0", "node1", "node2"], [WEB], prepare=chaos_lan.prepare, **TIMING)
    w.lan.wait_placed("node1", {"web": "node0"})

    report = run_schedule(w, ("partition", "crash", "loss"), 4)

    assert report.overlaps == [], f"active twice (SEED={SEED}): {report.overlaps}"
    assert report.kills.get("crash", 0) >= 1, "no crash in the schedule"
    assert report.starts >= 2, "the schedule never moved the service: it proved nothing"


def test_two_node_cluster_with_fencing_never_runs_the_service_twice_under_any_fault(
        watched: Factory) -> None:
    w = watched(["node0", "node1"], [WEB], quorum="two_node = true",
                prepare=lambda lan: chaos_lan.prepare(lan, fence_delay={"node0": "2s"}),
                **TIMING)
    w.lan.wait_placed("node1", {"web": "node0"})

    report = run_schedule(w, chaos_lan.KINDS, 4)

    assert report.overlaps == [], f"active twice (SEED={SEED}): {report.overlaps}"
    assert report.kills.get("fence", 0) >= 1, "no fault made a node fence the other"


def test_compatibility_mode_without_fencing_runs_the_service_twice_on_a_partition_and_status_says_so(  # noqa: E501
        watched: Factory) -> None:
    w = watched(["node0", "node1"], [WEB], quorum="two_node = true",
                prepare=chaos_lan.prepare, **TIMING)
    lan: ClusterLan = w.lan
    lan.wait_placed("node1", {"web": "node0"})
    begin = time.monotonic()

    cut = faults.cut(lan, "node0", "node1")
    said: list[tuple[float, str]] = []
    while time.monotonic() < cut + 2.5 * DEADTIME_S:
        shown = lan.vigil("node1", "status")
        said.append((time.monotonic(), shown.stdout))
        time.sleep(0.1)
    faults.heal(lan, "node0", "node1")
    chaos_lan.recover(lan)
    end = time.monotonic()
    shown_after = lan.vigil("node1", "status").stdout

    report = chaos_check.read(chaos_lan.record_files(lan), begin, end)
    print(f"\ncompatibility mode, 2.5 s partition: {report.summary()}")
    assert [o.nodes for o in report.overlaps] == [("node0", "node1")]
    both = report.overlaps[0]
    warned = [t for t, text in said if both.start <= t <= both.end
              and "split brain possible: vip-web, echo-web run on node1" in text]
    assert warned, "vigil status did not warn of the split brain while it lasted:\n" + \
        (said[-1][1] if said else "")
    assert "split brain possible: vip-web" not in shown_after
