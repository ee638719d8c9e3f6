"""Replay windows, and captured traffic replayed into a receiver."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from wire_helpers import ALICE, BOB, CAROL, NODES, codec, traffic

from vigil.config import AuthMethod, NodeName
from vigil.wire import Accepted, Dropped, DropReason, Receiver, ReplayWindow

OK = None
R = DropReason.REPLAYED
OLD = DropReason.TOO_OLD
STALE = DropReason.STALE_INCARNATION

# (incarnation, seq) fed in order to a window 4 wide, and what each gets.
WINDOW_CASES = {
    "first message may start anywhere": [((1, 1000), OK), ((1, 1001), OK)],
    "a duplicate is refused": [((1, 5), OK), ((1, 5), R)],
    "reordering inside the window is accepted once": [
        ((1, 10), OK), ((1, 8), OK), ((1, 9), OK), ((1, 7), OK), ((1, 9), R), ((1, 8), R)],
    "below the window cannot be told apart from a replay": [
        ((1, 10), OK), ((1, 6), OLD), ((1, 7), OK)],
    "a jump clears the window": [((1, 1), OK), ((1, 100), OK), ((1, 1), OLD), ((1, 99), OK)],
    "a restart (higher incarnation) starts over": [
        ((1, 500), OK), ((2, 1), OK), ((2, 2), OK), ((2, 1), R)],
    "the old incarnation is stale after a restart": [((1, 5), OK), ((2, 1), OK), ((1, 6), STALE)],
    "a stale incarnation does not disturb the window": [
        ((3, 5), OK), ((2, 50), STALE), ((3, 6), OK), ((3, 5), R)],
}


@pytest.mark.parametrize("steps", list(WINDOW_CASES.values()), ids=list(WINDOW_CASES))
def test_replay_window_cases(steps: list[tuple[tuple[int, int], DropReason | None]]) -> None:
    window = ReplayWindow(width=4)
    got = [window.accept(inc, seq) for (inc, seq), _ in steps]
    assert got == [expected for _, expected in steps]


@given(st.lists(st.tuples(st.integers(1, 3), st.integers(0, 200)), max_size=300),
       st.integers(1, 70))
def test_replay_window_accepts_each_message_at_most_once_and_never_goes_back(
    messages: list[tuple[int, int]], width: int
) -> None:
    """Against a model that remembers everything: accepted means new, within
    the window of the latest incarnation; refused means one of the three reasons."""
    window = ReplayWindow(width)
    seen: set[tuple[int, int]] = set()
    latest_inc, highest = 0, -1
    for inc, seq in messages:
        assert window.check(inc, seq) == window.check(inc, seq)  # check changes nothing
        result = window.accept(inc, seq)
        if inc < latest_inc:
            assert result is STALE
            continue
        if inc > latest_inc:
            assert result is OK
            latest_inc, highest = inc, seq
            seen.add((inc, seq))
            continue
        if seq <= highest - width:
            assert result is OLD
        elif (inc, seq) in seen:
            assert result is R
        else:
            assert result is OK
            seen.add((inc, seq))
            highest = max(highest, seq)


def test_captured_traffic_replayed_into_a_receiver_is_all_dropped() -> None:
    c = codec(AuthMethod.HMAC_SHA256, compression="zlib", threshold=64)
    capture = traffic(c, count=200)
    bob = Receiver(c, BOB, NODES)
    assert all(isinstance(bob.receive(d, "eth0"), Accepted) for d in capture)

    replays = [*capture, *reversed(capture), *random.Random(4).sample(capture, len(capture))]
    results = [bob.receive(d, "eth0") for d in replays]

    assert all(isinstance(r, Dropped) for r in results)
    assert bob.accepted == 200
    # The last 64 are remembered exactly; older ones are below the window.
    assert bob.counters[DropReason.REPLAYED] == 3 * 64
    assert bob.counters[DropReason.TOO_OLD] == 3 * (200 - 64)


def test_traffic_from_before_a_restart_is_stale_on_every_link() -> None:
    c = codec()
    before = traffic(c, incarnation=7, count=5)
    after = traffic(c, incarnation=8, count=1)
    bob = Receiver(c, BOB, NODES)
    bob.receive(before[0], "eth0")
    assert isinstance(bob.receive(after[0], "eth0"), Accepted)
    # eth1 never heard incarnation 8, yet an old message there is refused.
    refused = bob.receive(before[1], "eth1")
    assert isinstance(refused, Dropped)
    assert refused.reason is STALE
    assert refused.sender == ALICE


def test_each_message_is_accepted_once_per_link_and_first_copy_only_once() -> None:
    c = codec()
    capture = traffic(c, count=3)
    bob = Receiver(c, BOB, NODES)
    eth0 = [bob.receive(d, "eth0") for d in capture]
    eth1 = [bob.receive(d, "eth1") for d in reversed(capture)]
    again = [bob.receive(d, "eth1") for d in capture]
    assert [r.first_copy for r in eth0 if isinstance(r, Accepted)] == [True] * 3
    assert [r.first_copy for r in eth1 if isinstance(r, Accepted)] == [False] * 3
    assert [r.link for r in eth1 if isinstance(r, Accepted)] == ["eth1"] * 3
    assert all(isinstance(r, Dropped) and r.reason is R for r in again)


def test_forged_sender_names_hold_no_memory_even_under_crc() -> None:
    """crc authenticates nothing: anyone can sign. Windows exist only for
    configured nodes, so a flood of invented names costs nothing."""
    c = codec(AuthMethod.CRC)
    bob = Receiver(c, BOB, NODES)
    for i in range(2000):
        bob.receive(traffic(c, sender=NodeName(f"forged{i}"), count=1)[0], "eth0")
    for node in (ALICE, CAROL):
        for link in ("eth0", "eth1"):
            bob.receive(traffic(c, sender=node, count=1)[0], link)
    assert bob.counters[DropReason.UNKNOWN_NODE] == 2000
    assert bob.windows == 2 * 3  # alice and carol: any-link window + two links
