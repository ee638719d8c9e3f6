"""``config check``: can a partitioned minority stop before the majority starts?

Rules of this file (issue 10's safe mode, ``vigil.coordinator.local``): with
quorum deciding (three or more votes, ``no_quorum_policy = stop``), a node
that hears no majority within warntime stops its resources then, one member
after another, and the majority may start them once deadtime has passed. So
zero time with two holders needs every group's stops, end to end, within
``deadtime - warntime - keepalive`` (the last keepalive may have been lost).
A group that may take longer is reported, at its line, with the figures.
Two-node clusters (``two_node``) and other policies keep nothing from this
rule: they need fencing, and their own warnings say so. With fence devices
the rule does not matter: the majority starts nothing of a lost node before
it is fenced (powered off), however long its stops would take.
"""

from __future__ import annotations

from pathlib import Path

from vigil.config.diagnostics import Diagnostics
from vigil.config.model import ClusterConfig, NoQuorumPolicy, Resource, ResourceId, SourceRef

#: An agent's stop timeout when the configuration names none (OCF's usual 20 s).
DEFAULT_STOP_TIMEOUT_MS = 20_000


def stop_timeout_ms(resource: Resource) -> int:
    return next((op.timeout_ms for op in resource.operations if op.name == "stop"),
                DEFAULT_STOP_TIMEOUT_MS)


def minority_stop_budget_ms(config: ClusterConfig) -> int | None:
    """How long a cut-off minority has to stop everything; None: the rule does not apply."""
    votes = sum(n.votes for n in config.nodes)
    expected = config.quorum.expected_votes or votes
    if config.quorum.no_quorum_policy is not NoQuorumPolicy.STOP or expected < 3:
        return None
    t = config.timing
    return t.deadtime_ms - t.warntime_ms - t.keepalive_ms


def check_minority_stop_timing(config: ClusterConfig, diags: Diagnostics) -> None:
    """Warn about every group (or lone resource) whose stops may outlast the budget."""
    budget = minority_stop_budget_ms(config)
    if budget is None or not config.resources or config.fencing.enabled:
        return
    t = config.timing
    fallback = config.sources[0] if config.sources else Path("<config>")
    units: list[tuple[str, tuple[ResourceId, ...], SourceRef | None]] = []
    grouped = {rid for g in config.groups for rid in g.resources}
    units.extend((f"group {g.id}", g.resources, g.source) for g in config.groups)
    units.extend((f"resource {r.id}", (r.id,), r.source) for r in config.resources
                 if r.id not in grouped)
    for what, members, source in units:
        timeouts = [stop_timeout_ms(config.resource(rid)) for rid in members]
        total = sum(timeouts)
        if total <= budget:
            continue
        file = source.file if source is not None else fallback
        line = source.line if source is not None else None
        parts = " + ".join(str(x) for x in timeouts)
        diags.warning(
            file, line,
            f"{what} may take {total} ms to stop ({parts} ms of stop timeouts), but a node "
            f"cut off from the majority has deadtime - warntime - keepalive = "
            f"{t.deadtime_ms} - {t.warntime_ms} - {t.keepalive_ms} = {budget} ms to stop it "
            "before the majority may start it: during a partition it could run twice",
            f"give its stops timeouts that add up to {budget} ms or less, raise deadtime, "
            "or configure fencing")


__all__ = ["DEFAULT_STOP_TIMEOUT_MS", "check_minority_stop_timing", "minority_stop_budget_ms",
           "stop_timeout_ms"]
