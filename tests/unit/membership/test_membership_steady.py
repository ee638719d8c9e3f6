"""``Membership.heard_steady`` is ``step(HeartbeatReceived(...))`` for less work.

The daemon hands nearly every heartbeat to ``heard_steady`` (the steady case:
a known peer repeating its last report) and falls back to ``step`` when it
returns None. Hypothesis drives two memberships through the same random
schedule of heartbeats (two peers, two links, restarts, repeated and
reordered sequence numbers, reports that change, late arrivals), ticks and
peer restarts:
one takes the shortcut whenever it applies, the other always steps. Their
effects and everything they know must stay equal at every step.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cluster_configs import cluster, timing
from vigil.config import NodeName
from vigil.membership import (
    Effect,
    HeartbeatBody,
    HeartbeatReceived,
    Membership,
    Started,
    Ticked,
    View,
    ViewMember,
)

N1, N2, N3 = NodeName("node1"), NodeName("node2"), NodeName("node3")
CONFIG = cluster(3, timing=timing(100, 1000), links=("eth0", "eth1"))


def _body(*members: tuple[NodeName, int]) -> HeartbeatBody:
    return HeartbeatBody(View.of(ViewMember(n, i) for n, i in members), N1, True, "d")


#: Per sender, the reports it may send, as fixed objects: the shell hands the
#: same object for the same bytes, which is what the shortcut relies on.
BODIES = {
    sender: [_body((N1, 1), (sender, 1)), _body((N1, 1), (N2, 1), (N3, 2)),
             _body((N1, 1), (N2, 1), (N3, 1)), _body((N1, 1), (N2, 2), (N3, 1))]
    for sender in (N2, N3)
}

# Weighted towards the steady case (the next sequence number, the usual report,
# little waiting), so the shortcut is taken often and its edges are hit.
heartbeat = st.tuples(
    st.just("hb"),
    st.sampled_from([N2, N3]),
    st.sampled_from([1] * 6 + [0, 0, -1, 2, 3]),  # sequence step: repeats, reordering
    st.sampled_from(["eth0", "eth1"]),
    st.sampled_from([2] * 6 + [0, 1, 3]),  # which report
    st.sampled_from([5, 150]).flatmap(lambda most: st.integers(0, most)),  # socket wait
    st.sampled_from([25] * 9 + [600]).flatmap(lambda most: st.integers(0, most)),  # gap
)
tick = st.tuples(st.just("tick"), st.integers(0, 100))
restart = st.tuples(st.just("restart"), st.sampled_from([N2, N3]))
OPS = st.sampled_from([heartbeat] * 16 + [tick] * 3 + [restart]).flatmap(lambda s: s)


def _known(m: Membership) -> tuple[Any, ...]:
    """Everything a step can change, including what the snapshot leaves out."""
    peers = tuple(
        (p.incarnation, p.state, p.last_heard_ms, p.report_seq, p.report, p.changed, p.left,
         p.digest_logged, tuple((r.state, r.last_heard_ms) for r in p.links.values()))
        for p in m._peers.values())
    return (peers, m.view, m.stable, m.dc, m.quorum, m.next_deadline(),
            m._peer_due, m._timer_at, m._next_send_ms)


@settings(max_examples=300, deadline=None)
@given(st.lists(OPS, min_size=40, max_size=160))
def test_the_shortcut_has_the_effects_and_state_of_a_full_step(ops: list[tuple[Any, ...]]) -> None:
    short, full = Membership(CONFIG, N1, 1, "d"), Membership(CONFIG, N1, 1, "d")
    now = 0
    assert short.step(Started(), now) == full.step(Started(), now)
    lives = {N2: 1, N3: 1}
    seqs = {N2: 0, N3: 0}
    for op in ops:
        if op[0] == "tick":
            now += op[1]
            assert short.step(Ticked(), now) == full.step(Ticked(), now)
        elif op[0] == "restart":  # its next heartbeats come from a new life
            lives[op[1]] += 1
            seqs[op[1]] = 0
        else:
            _, sender, step, link, which, waited, gap = op
            now += gap
            seq = seqs[sender] = max(0, seqs[sender] + step)
            body = BODIES[sender][which]
            arrived = max(0, now - waited)
            event = HeartbeatReceived(sender, lives[sender], seq, link, body, arrived)
            taken = short.heard_steady(sender, lives[sender], seq, link, body,
                                       arrived_ms=arrived, now_ms=now)
            effects: list[Effect] = taken if taken is not None else short.step(event, now)
            assert effects == full.step(event, now), op
        assert _known(short) == _known(full), op


def test_a_peer_repeating_its_report_is_taken_by_the_shortcut_and_a_change_is_not() -> None:
    m = Membership(CONFIG, N1, 1, "d")
    m.step(Started(), 0)
    same = _body((N1, 1), (N2, 1), (N3, 1))
    for seq, at in ((1, 10), (2, 110)):
        for sender in (N2, N3):
            m.step(HeartbeatReceived(sender, 1, seq, "eth0", same, at), at)
    assert m.stable
    # The next heartbeat repeats the report: taken, nothing to do.
    assert m.heard_steady(N2, 1, 3, "eth0", same, arrived_ms=150, now_ms=150) == []
    assert m.snapshot(150).nodes[1].last_heard_ms == 150
    # A new report (another object), a restart or an unknown link: not this case.
    other = _body((N1, 1), (N2, 1))
    assert m.heard_steady(N2, 1, 4, "eth0", other, arrived_ms=160, now_ms=160) is None
    assert m.heard_steady(N2, 2, 1, "eth0", same, arrived_ms=160, now_ms=160) is None
    assert m.heard_steady(N2, 1, 4, "wlan9", same, arrived_ms=160, now_ms=160) is None
