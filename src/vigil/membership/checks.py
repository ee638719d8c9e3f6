"""Whether a configuration can run membership for a node: refused before anything changes."""

from __future__ import annotations

from vigil.config import ClusterConfig, NodeName


class MembershipConfigError(ValueError):
    """The configuration cannot run membership for this node; nothing was changed."""


def check_config(config: ClusterConfig, me: NodeName) -> None:
    """Raise ``MembershipConfigError``, with a hint, unless CONFIG can run node ME."""
    names = config.node_names
    if me not in names:
        raise MembershipConfigError(
            f"this node {me!r} is not in the configuration (nodes: {', '.join(names)}); "
            "hint: name it with --node, or add it to the node list")
    t = config.timing
    for what, value in (("keepalive", t.keepalive_ms), ("warntime", t.warntime_ms),
                        ("deadtime", t.deadtime_ms), ("initdead", t.initdead_ms)):
        if value <= 0:
            raise MembershipConfigError(f"{what} must be positive, not {value} ms")
    if len(names) > 1 and not config.links:
        raise MembershipConfigError(
            "a cluster of several nodes needs at least one heartbeat link; "
            "hint: add a ucast, bcast or mcast link")
