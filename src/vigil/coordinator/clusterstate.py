"""Every node's latest report, and the ``policy.ClusterState`` built from them.

Rules of this file:
- Every node keeps every member's latest report (reports go to everyone), so a
  new DC starts from what the nodes say, never from what only the old DC knew,
  and ``vigil status`` on any node shows the whole cluster.
- A report replaces the one before only if it is newer: a higher incarnation,
  or the same incarnation and a higher ``seq`` (UDP reorders).
- Failure times travel as ages ("the last one was 5,300 ms ago"), since every
  node has its own clock; a receiver turns the age into its own time once,
  when the count changes, so repeats of a report do not move it.
- Reports of nodes outside the view are passed on only to explain ("where it
  ran is offline"); a node fenced since its last report is known to run nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from vigil.config import ClusterConfig, NodeName, ResourceId
from vigil.coordinator.admin import AdminSettings
from vigil.coordinator.messages import ReportBody
from vigil.coordinator.states import LocalState
from vigil.membership import View
from vigil.policy import ClusterState, CopyOrigin, FailCount, NodeAttributes, ResourceState


@dataclass(slots=True)
class KnownReport:
    """A node's latest report, when it came, and its failure times in our clock."""

    incarnation: int
    body: ReportBody
    received_ms: int
    last_failure_ms: dict[ResourceId, int] = field(default_factory=dict)

    def significant(self) -> tuple[object, ...]:
        """What a plan depends on (not failure ages, not busy, not transaction results)."""
        b = self.body
        return (b.probed, b.leaving, b.at_risk, b.connectivity,
                tuple(sorted(b.resources.items())),
                tuple(sorted((r, c) for r, (c, _) in b.failures.items())),
                tuple(sorted(b.origins.items())))


class Reports:
    """The latest report of every node this node has heard (itself included)."""

    def __init__(self) -> None:
        self._by_node: dict[NodeName, KnownReport] = {}

    def accept(self, node: NodeName, incarnation: int, body: ReportBody,
               now_ms: int) -> tuple[KnownReport | None, KnownReport] | None:
        """Keep BODY if newer; return (the previous, the new one), or None when it is stale."""
        old = self._by_node.get(node)
        if old is not None and (incarnation, body.seq) <= (old.incarnation, old.body.seq):
            return None
        same = old is not None and old.incarnation == incarnation
        last: dict[ResourceId, int] = {}
        for rid, (count, age) in body.failures.items():
            if same and old is not None and rid in old.last_failure_ms and \
                    old.body.failures.get(rid, (None, 0))[0] == count:
                last[rid] = old.last_failure_ms[rid]
            else:
                last[rid] = now_ms - age
        new = KnownReport(incarnation, body, now_ms, last)
        self._by_node[node] = new
        return old, new

    def get(self, node: NodeName) -> KnownReport | None:
        return self._by_node.get(node)

    def current(self, node: NodeName, view: View) -> KnownReport | None:
        """NODE's report if it is from the incarnation VIEW holds."""
        known = self._by_node.get(node)
        if known is None or view.incarnation_of(node) != known.incarnation:
            return None
        return known

    def forget(self, node: NodeName) -> None:
        """NODE was fenced: it runs nothing, whatever it last said."""
        self._by_node.pop(node, None)

    def nodes(self) -> Iterable[NodeName]:
        return tuple(self._by_node)


def cluster_state(config: ClusterConfig, reports: Reports, view: View, *, quorate: bool,
                  settings: AdminSettings, now_ms: int,
                  unavailable: Iterable[NodeName] = ()) -> ClusterState:
    """The policy's input: members' current reports, failures, standby, moves, quorum.

    UNAVAILABLE nodes (leaving, or unable to hear a majority) are in the view
    but take nothing: they are given to the policy as standby.
    """
    configured = frozenset(config.node_names)
    online = frozenset(n for n in view.nodes if n in configured)
    resources = {r.id for r in config.resources}
    states: dict[NodeName, Mapping[ResourceId, ResourceState]] = {}
    failures: dict[tuple[ResourceId, NodeName], FailCount] = {}
    scores: dict[NodeName, int] = {}
    origins: dict[tuple[ResourceId, NodeName], CopyOrigin] = {}
    for node in reports.nodes():
        if node not in configured:
            continue
        known = reports.current(node, view) if node in online else reports.get(node)
        if known is None:
            continue
        states[node] = {rid: s.policy_state for rid, s in known.body.resources.items()
                        if s is not LocalState.STOPPED}
        if node in online:
            scores[node] = known.body.connectivity
            origins.update(((rid, node), o) for rid, o in known.body.origins.items()
                           if rid in resources)
            for rid, (count, _) in known.body.failures.items():
                if rid in resources and count > 0:
                    failures[(rid, node)] = FailCount(count, max(0, known.last_failure_ms[rid]))
    standby = set(settings.standby) | set(unavailable)
    attributes = {n: NodeAttributes(standby=n in standby, connectivity=scores.get(n, 0))
                  for n in config.node_names if n in standby or scores.get(n, 0)}
    return ClusterState(
        config=config,
        online=online,
        has_quorum=quorate,
        reports=states,
        failures=failures,
        attributes=attributes,
        constraints=settings.constraints(config),
        now_ms=max(0, now_ms),
        origins=origins,
    )
