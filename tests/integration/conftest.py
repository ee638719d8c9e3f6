"""Fixtures: loopback clusters of real daemons, every PID reaped in teardown."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from loopback_cluster import LoopbackCluster


@pytest.fixture
def make_cluster(tmp_path: Path) -> Iterator[Callable[..., LoopbackCluster]]:
    """Build clusters in this test's temporary directory; every daemon is reaped after."""
    clusters: list[LoopbackCluster] = []

    def make(size: int = 3, **kwargs: Any) -> LoopbackCluster:
        root = tmp_path / f"c{len(clusters)}"
        root.mkdir()
        cluster = LoopbackCluster(root, size, **kwargs)
        clusters.append(cluster)
        return cluster

    yield make
    for cluster in clusters:
        cluster.reap()


@pytest.fixture
def cluster(make_cluster: Callable[..., LoopbackCluster]) -> LoopbackCluster:
    """Three daemons up and agreed (keepalive 100 ms, deadtime 500 ms)."""
    c = make_cluster(3)
    c.start()
    c.wait_until("3 nodes agree on view, DC and quorum", lambda: c.agreed(c.names))
    return c
