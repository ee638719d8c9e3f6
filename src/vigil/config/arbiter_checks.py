"""``config check``: can the two sides of a split both run a service?

Rules of this file:
- With an arbitrator, the holder of the lease that can no longer renew it
  gives up its vote (and so quorum, and so its resources) at last send + TTL -
  longest stop - ``LEASE_MARGIN_MS`` (``vigil.quorum.arbiter``). That leaves
  time for the stops only when the TTL is longer than the longest stop plus the
  margin; a shorter TTL is refused at the line of ``lease_ttl``. The longest
  stop is that of a group's exclusive members one after another (a group stops
  member after member), or a lone exclusive resource's.
- A two-node cluster with neither fencing nor an arbitrator cannot tell a dead
  peer from a cut link: each side of a split believes it is the survivor. That
  is a warning (Heartbeat ran so for years), not an error.
"""

from __future__ import annotations

from pathlib import Path

from vigil.config.diagnostics import Diagnostics
from vigil.config.model import LEASE_MARGIN_MS, ArbiterBackend, ClusterConfig
from vigil.config.partition_checks import stop_timeout_ms

__all__ = ["check_split_brain_safety", "longest_exclusive_stop"]

#: etcd grants leases in whole seconds, and none shorter than its minimum TTL
#: (1.5 × election timeout: 1.5 s with etcd's defaults).
ETCD_MIN_TTL_MS = 2_000


def longest_exclusive_stop(config: ClusterConfig) -> tuple[int, str]:
    """The longest time stopping exclusive resources can take, and what takes it."""
    grouped = {rid for g in config.groups for rid in g.resources}
    best = (0, "no exclusive resource")
    for g in config.groups:
        members = [config.resource(rid) for rid in g.resources]
        total = sum(stop_timeout_ms(r) for r in members if r.exclusive)
        if total > best[0]:
            best = (total, f"group {g.id}'s stops")
    for r in config.resources:
        if r.id not in grouped and r.exclusive and stop_timeout_ms(r) > best[0]:
            best = (stop_timeout_ms(r), f"resource {r.id}'s stop")
    return best


def check_split_brain_safety(config: ClusterConfig, diags: Diagnostics) -> None:
    """Refuse a lease TTL the holder's stops do not fit in; warn about an unarbitrated pair."""
    fallback = config.sources[0] if config.sources else Path("<config>")
    arbiter = config.arbiter
    if arbiter is not None:
        file = arbiter.source.file if arbiter.source is not None else fallback
        line = arbiter.source.line if arbiter.source is not None else None
        stop, what = longest_exclusive_stop(config)
        ttl = arbiter.lease_ttl_ms
        if ttl <= stop + LEASE_MARGIN_MS:
            need = stop + LEASE_MARGIN_MS + 1
            diags.error(
                file, line,
                f"[arbiter]: lease_ttl {ttl} ms is not longer than {what} ({stop} ms) plus "
                f"the {LEASE_MARGIN_MS} ms margin: a lease holder cut off from the arbitrator "
                "could still be stopping it when the lease is granted to the other side",
                f"raise lease_ttl to at least {-(-need // 1000)}s, or lower the stop timeouts "
                f"of {what.split(chr(39))[0]}")
        if arbiter.backend is ArbiterBackend.ETCD and (ttl % 1000 or ttl < ETCD_MIN_TTL_MS):
            diags.error(file, line,
                        f"[arbiter]: lease_ttl {ttl} ms: etcd grants leases in whole seconds, "
                        f"at least {ETCD_MIN_TTL_MS // 1000}",
                        f"write lease_ttl = \"{max(-(-ttl // 1000), ETCD_MIN_TTL_MS // 1000)}s\"")
    elif len(config.nodes) == 2 and not config.fencing.enabled:
        node = config.nodes[1]
        file = node.source.file if node.source is not None else fallback
        line = node.source.line if node.source is not None else None
        diags.warning(
            file, line,
            "a two-node cluster with neither fencing nor an arbitrator: when the link between "
            "the nodes fails, each side believes the other dead and both may run the same "
            "resources (split brain)",
            "configure a fence device ([[fence_device]]) or an arbitrator ([arbiter]: "
            "`vigil arbiter` on a third machine, or etcd)")
