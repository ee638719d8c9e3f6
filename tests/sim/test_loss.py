"""No false failover under packet loss at the default timing."""

from __future__ import annotations

import pytest

from cluster_configs import NATIVE_DEFAULT, cluster
from vigil.membership import PeerState, PeerStateChanged, ViewChanged
from vigil.sim import Delay, LinkConditions, Simulation


@pytest.mark.slow
def test_twenty_percent_loss_on_every_link_gives_no_false_dead_in_10000_seconds() -> None:
    # Three nodes on the two links of the field notes (a service link and a
    # dedicated one), each losing 20% of packets independently, with jitter.
    # Declaring a live peer dead needs 9 heartbeats in a row lost on both links:
    # 0.04^9 ≈ 3e-13 per chance, so none is expected in 300,000 chances.
    sim = Simulation(cluster(3, timing=NATIVE_DEFAULT, links=("eth0", "eth1")), seed=20,
                     links=LinkConditions(loss=0.2, delay=Delay(1, 20)))
    sim.run_until(10_000_000)
    dead = [(at, node, e) for at, node, e in sim.effects_of(PeerStateChanged)
            if isinstance(e, PeerStateChanged) and e.new is PeerState.DEAD]
    assert dead == []
    # The view formed once at start-up and never moved.
    settled = [at for at, _, _ in sim.effects_of(ViewChanged)]
    assert max(settled) < NATIVE_DEFAULT.deadtime_ms
