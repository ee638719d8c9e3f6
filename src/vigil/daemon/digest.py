"""The configuration digest every heartbeat carries, so nodes notice they disagree.

Only what must be the same on every node goes in: the cluster name, nodes and
votes, timing, authentication methods and key numbers (never secrets), quorum, resources,
groups, failback and stickiness, fencing devices, the arbitrator. Per-node settings (links,
whose ``ucast`` lines differ from node to node in Heartbeat's ha.cf; logging;
the files it came from) are left out, and so is where anything was written
(``source`` fields): the same cluster written as ha.cf or as TOML digests the same.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

from vigil.config import ClusterConfig

#: ClusterConfig fields that must agree across the cluster.
SHARED_FIELDS = (
    "cluster_name",
    "nodes",
    "timing",
    "auth",
    "quorum",
    "resources",
    "groups",
    "auto_failback",
    "default_stickiness",
    "migration_threshold",
    "failure_timeout_ms",
    "fencing",
    "arbiter",
)


def config_digest(config: ClusterConfig) -> str:
    """16 hex digits of SHA-256 over the shared part of CONFIG, canonically encoded."""
    shared = {name: _canonical(getattr(config, name)) for name in SHARED_FIELDS}
    text = json.dumps(shared, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _canonical(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _canonical(getattr(value, f.name))
                for f in dataclasses.fields(value) if f.compare}
    if isinstance(value, enum.Enum):
        return _canonical(value.value)
    if isinstance(value, Mapping):
        return sorted([str(k), _canonical(v)] for k, v in value.items())
    if isinstance(value, (tuple, list)):
        return [_canonical(v) for v in value]
    if isinstance(value, bytes):
        # A secret. The digest travels in clear: not even a hash of it goes in
        # (a wrong secret shows anyway, as bad_signature drops).
        return "<secret>"
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)
