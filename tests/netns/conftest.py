"""Fixtures of the namespace tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from bench.failover import holders
from cluster_lan import ClusterLan, Service
from watched_lan import Factory, Watched, start_watching

from prereqs import require_command, require_root


@pytest.fixture
def watched(netns: Callable[[], str]) -> Iterator[Factory]:
    """Builds a ClusterLan (keyword arguments as its fields; PREPARE(lan) may change its
    files before the daemons start), starts its daemons, waits for one stable view, then
    starts the holder sampler; everything is taken down at teardown."""
    require_root()
    require_command("unshare")
    require_command("nft")
    built: list[Watched] = []
    lans: list[ClusterLan] = []

    def make(names: list[str], services: list[Service],
             prepare: Callable[[ClusterLan], None] | None = None, **options: object) -> Watched:
        lan = ClusterLan(names, services, netns, **options)  # type: ignore[arg-type]
        lans.append(lan)
        lan.build()
        if prepare is not None:
            prepare(lan)  # between writing the files and starting the daemons
        lan.start()
        lan.wait_until("every node in one stable view", lambda: lan.agreed(names))
        w = start_watching(lan)
        built.append(w)
        return w

    try:
        yield make
    finally:
        for w in built:
            holders.stop(w.sampler)
        for lan in lans:
            lan.destroy()
