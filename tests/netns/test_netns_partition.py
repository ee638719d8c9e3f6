"""Partitions and heals with both nodes alive, seen by a client and a holder sampler (issue 10).

The path between the nodes is cut at the bridge (nftables in the switch
namespace, faults.py) for 8 s while every node keeps its path to the client,
then healed. Timing as Heartbeat's fast profile in the issue: keepalive 200 ms,
deadtime 1 s. The holder sampler (holders.py) dumps every node's addresses on
a 10 ms grid at a real-time priority and the tests assert the resolution it
really achieved before trusting a "never two holders".

What a user notices, and what is asserted:
- 2-node compatibility cluster (no quorum, no fencing): both sides hold the
  VIP during the cut, and ``vigil status --json`` says split brain while it
  lasts; after the heal one node keeps it (the rule named in ``vigil events``;
  never both giving up: no sample without a holder),
  within one keepalive of the first heartbeat heard across, and the client
  is answered by that node within 100 ms after (the re-announcement: without
  it the client stays on the loser's MAC for seconds).
- 3-node quorum cluster, one node cut off from the other two: no sample with
  two holders, the VIP moves to the majority, and after the heal one holder.

After a long cut one node's kernel may have lost the ARP entry of its peer
(INCOMPLETE, retried once a second) while the peer's is still REACHABLE: the
heal is then heard one way at once, and the daemon that hears it drops its
failed entry and sends at once (daemon/neighbours.py) rather than waiting up
to a second for the kernel's retransmit. The third test forces that state.

Timing bounds are the issue's own; the other figures are printed (``-s``).
"""

from __future__ import annotations

import json
import time

import faults
import pytest
from bench.failover.holders import HolderLog
from cluster_lan import Service
from daemon_log import heard_again, lines_after
from watched_lan import Factory, Watched, client_follows

pytestmark = [pytest.mark.root, pytest.mark.slow, pytest.mark.timeout(120)]

KEEPALIVE_S = 0.2
DEADTIME_S = 1.0
CUT_S = 8.0
#: The sampler must vouch for the moments to this resolution (issue 10: 20 ms or better),
#: all but 1 % of its intervals; and for every moment to BLIND_MAX_S: on a loaded 2-core
#: machine a netlink dump can wait for the kernel's RTNL lock (nft, ip neigh) now and then.
RESOLUTION_S = 0.020
BLIND_MAX_S = 0.100


def assert_sampled_well(log: HolderLog, since: float, until: float) -> None:
    spots = sorted(log.blind_spots(since, until))
    p99 = spots[min(len(spots) - 1, int(0.99 * len(spots)))]
    assert p99 <= RESOLUTION_S, f"the sampler's 99th percentile interval was {p99 * 1000:.1f} ms"
    assert spots[-1] <= BLIND_MAX_S, f"the sampler was blind for {spots[-1] * 1000:.1f} ms"
WEB = Service("web", "192.0.2.50", {"node0": 100})
TIMING = {"keepalive_ms": int(KEEPALIVE_S * 1000), "deadtime_ms": int(DEADTIME_S * 1000)}


def hold_cut(began: float) -> None:
    time.sleep(max(0.0, began + CUT_S - time.monotonic()))


def status_json(w: Watched, node: str) -> dict[str, object]:
    done = w.lan.vigil(node, "status", "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert isinstance(doc, dict)
    return doc


def test_two_node_partition_is_a_split_brain_status_shows_and_the_heal_leaves_one_holder_the_client_follows(  # noqa: E501
        watched: Factory) -> None:
    w = watched(["node0", "node1"], [WEB], quorum="two_node = true", auto_failback="off",
                **TIMING)
    lan = w.lan
    lan.wait_placed("node1", {"web": "node0"})
    lan.wait_steady(WEB, "node0")

    cut = faults.cut(lan, "node0", "node1")
    both = w.wait_holders(WEB.vip, lambda h: h == {"node0", "node1"},
                          "both nodes hold the VIP during the cut")
    warned = [str(x) for x in status_json(w, "node1")["warnings"]]  # type: ignore[attr-defined]
    assert any(x.startswith("split brain possible: vip-web") and "node0" in x for x in warned), \
        warned
    hold_cut(cut)
    healed = faults.heal(lan, "node0", "node1")
    w.wait_holders(WEB.vip, lambda h: len(h) == 1, "one holder after the heal")
    time.sleep(1.0)  # it stays one, and the client has had time to follow

    log = w.poll()
    now = time.monotonic()
    settled = log.settled_on_one(WEB.vip, healed, now)
    assert settled is not None, "the VIP did not stay on one node after the heal"
    one_at, winner = settled
    heard0 = heard_again(lan.log("node0"), w.clock, "node1", healed)
    heard1 = heard_again(lan.log("node1"), w.clock, "node0", healed)
    assert heard0 is not None, lan.diagnosis()
    assert heard1 is not None, lan.diagnosis()
    first_heard, both_heard = min(heard0, heard1), max(heard0, heard1)
    followed = client_follows(lan, WEB.vip, winner, healed - CUT_S)
    assert followed is not None, f"the client is not answered by {winner} alone"
    events = lan.vigil(winner, "events").stdout
    print(f"\n2-node partition: two holders {log.multi_holder_s(WEB.vip, cut, healed):.2f} s "
          f"(from {both - cut:.2f} s after the cut); after the heal: first heartbeat across "
          f"{first_heard - healed:+.3f} s, both ways {both_heard - healed:+.3f} s, one holder "
          f"({winner}) {one_at - healed:+.3f} s, client on {winner} {followed - healed:+.3f} s; "
          f"sampler resolution {log.resolution(cut, now) * 1000:.1f} ms")

    assert_sampled_well(log, cut, now)
    assert [s for s in log.between(cut, now) if not s.holders.get(WEB.vip)] == [], \
        "the VIP was on no node at some moment: the heal must never make both give up"
    assert f"split brain healed: vip-web, echo-web ran on node0 and node1 at once during a " \
        f"partition; {winner} keeps them" in events
    assert both_heard - healed <= 2 * KEEPALIVE_S + 0.3, \
        "the nodes did not hear each other again after the heal"
    assert one_at - first_heard <= KEEPALIVE_S, \
        "two holders remained longer than one keepalive after the first heartbeat across"
    assert followed - one_at <= 0.1, "the client did not follow the holder that stayed"
    assert lines_after(lan.log(winner), w.clock, healed, "address announced again")


def test_three_node_quorum_cluster_never_has_two_holders_when_one_node_is_cut_off(
        watched: Factory) -> None:
    w = watched(["node0", "node1", "node2"], [WEB], auto_failback="on", **TIMING)
    lan = w.lan
    lan.wait_placed("node1", {"web": "node0"})
    lan.wait_steady(WEB, "node0")

    began = w.poll().samples[-1].start
    cut = faults.cut(lan, "node0", ["node1", "node2"])
    moved = w.wait_holders(WEB.vip, lambda h: len(h) == 1 and "node0" not in h,
                           "the majority holds the VIP")
    # The minority says why it stopped, once it has declared the others dead (deadtime:
    # it stopped already at warntime, when they were only late).
    deadline = time.monotonic() + 2 * DEADTIME_S + 1.0
    while True:
        warnings = [str(x) for x in status_json(w, "node0")["warnings"]]  # type: ignore[attr-defined]
        if any("quorum" in x for x in warnings) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert any("quorum" in x for x in warnings), warnings
    hold_cut(cut)
    healed = faults.heal(lan, "node0", ["node1", "node2"])
    lan.wait_placed("node1", {"web": "node0"})  # auto_failback on: back to node0
    lan.wait_steady(WEB, "node0")
    time.sleep(0.5)

    log = w.poll()
    now = time.monotonic()
    many = log.samples_with_many(WEB.vip, began, now)
    gap = [s for s in log.between(cut, moved) if not s.holders.get(WEB.vip)]
    print(f"\n3-node quorum partition: the majority held the VIP {moved - cut:.3f} s after the "
          f"cut, no holder for {(gap[-1].end - gap[0].start) if gap else 0:.3f} s; "
          f"{len(log.between(began, now))} samples, resolution "
          f"{log.resolution(began, now) * 1000:.1f} ms, samples with two holders: {len(many)}")
    assert_sampled_well(log, began, now)
    assert many == [], f"two holders at {[round(s.start - cut, 3) for s in many]} s after the cut"
    assert log.settled_on_one(WEB.vip, healed, now) is not None


def test_heal_is_heard_both_ways_within_a_keepalive_when_one_node_lost_its_arp_entry(
        watched: Factory) -> None:
    w = watched(["node0", "node1"], [WEB], quorum="two_node = true", auto_failback="off",
                **TIMING)
    lan = w.lan
    lan.wait_placed("node1", {"web": "node0"})

    cut = faults.cut(lan, "node0", "node1")
    time.sleep(3.0)
    faults.forget_neighbour(lan, "node0", lan.address("node1"))  # INCOMPLETE from its next send
    time.sleep(1.3)
    faults.pin_neighbour(lan, "node1", lan.address("node0"), "node0")
    healed = faults.heal(lan, "node0", "node1")
    w.wait_holders(WEB.vip, lambda h: len(h) == 1, "one holder after the heal")

    heard0 = heard_again(lan.log("node0"), w.clock, "node1", healed)
    heard1 = heard_again(lan.log("node1"), w.clock, "node0", healed)
    assert heard0 is not None, lan.diagnosis()
    assert heard1 is not None, lan.diagnosis()
    print(f"\nnode0 heard node1 {heard0 - healed:+.3f} s after the heal, node1 heard node0 "
          f"{heard1 - healed:+.3f} s (cut {healed - cut:.1f} s)")
    assert abs(heard1 - heard0) <= KEEPALIVE_S + 0.1
