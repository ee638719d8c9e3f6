"""Resource invariants: never two active copies of an exclusive resource; all run again.

Rules of this file:
- The truth is the simulated services (``vigil.sim.agents``), never what a
  coordinator believes: a copy is active from the moment its start began until
  a stop succeeded, the service was killed, or its machine went down.
- Safety (``ExclusiveActive``) is checked at every change: a start beginning
  while another node holds an active copy is a violation, unless that node was
  fenced since (issue 7's fencing reports it through ``fenced``).
- Liveness (``unsettled``) is asked at chosen moments: every resource that
  should run runs on exactly one node, with nothing in flight.
- Heals (``HealInvariant``, issue 10): a copy may run on both sides of a
  partition in compatibility mode, but once a heal's merge completes (the
  heal + a settle bound) each exclusive resource runs on exactly one node,
  and from the heal until then it never runs on none if it ran somewhere:
  the merge stops losers, never the winner.
"""

from __future__ import annotations

from collections.abc import Iterable

from vigil.config import ClusterConfig, NodeName, ResourceId, TargetRole
from vigil.coordinator import OpKind, OpOutcome
from vigil.sim.agents import FakeExecutor, ResourceChecker
from vigil.sim.checks import InvariantViolation


class ExclusiveActive(ResourceChecker):
    """An exclusive resource is never active on two nodes at once."""

    def __init__(self, config: ClusterConfig) -> None:
        self._exclusive = {r.id for r in config.resources if r.exclusive}
        self.active: dict[ResourceId, dict[NodeName, int]] = {}  # rid -> node -> since
        self.overlaps = 0
        self.starts = 0

    def activated(self, node: NodeName, rid: ResourceId, at: int) -> None:
        self.starts += 1
        holders = self.active.setdefault(rid, {})
        others = {n: since for n, since in holders.items() if n != node}
        holders.setdefault(node, at)
        if rid in self._exclusive and others:
            self.overlaps += 1
            where = ", ".join(f"{n} (since {since} ms)" for n, since in sorted(others.items()))
            raise InvariantViolation(
                f"exclusive resource {rid} started on {node} at {at} ms while still "
                f"active on {where}")

    def deactivated(self, node: NodeName, rid: ResourceId, at: int, why: str) -> None:
        self.active.get(rid, {}).pop(node, None)

    def fenced(self, node: NodeName, at: int) -> None:
        for holders in self.active.values():
            holders.pop(node, None)


class ServiceHistory(ResourceChecker):
    """Every operation and every change of a service, in order, for tests to read."""

    def __init__(self) -> None:
        #: (at, node, resource, what): what is "start ok", "stop error", "up", "down: why"…
        self.entries: list[tuple[int, NodeName, ResourceId, str]] = []

    def activated(self, node: NodeName, rid: ResourceId, at: int) -> None:
        self.entries.append((at, node, rid, "up"))

    def deactivated(self, node: NodeName, rid: ResourceId, at: int, why: str) -> None:
        self.entries.append((at, node, rid, f"down: {why}"))

    def operation(self, node: NodeName, rid: ResourceId, kind: OpKind, outcome: OpOutcome, *,
                  began: int, at: int) -> None:
        self.entries.append((at, node, rid, f"{kind.value} {outcome.value}"))

    def of(self, rid: str, what: str | None = None) -> list[tuple[int, NodeName]]:
        """(time, node) of RID's entries, only those that are WHAT if given."""
        return [(at, n) for at, n, r, w in self.entries
                if r == rid and (what is None or w == what)]


def unsettled(config: ClusterConfig, executors: Iterable[FakeExecutor]) -> list[str]:
    """What keeps the cluster from "every resource runs exactly once, nothing in flight"."""
    where: dict[ResourceId, list[NodeName]] = {r.id: [] for r in config.resources}
    problems: list[str] = []
    for ex in executors:
        for rid, svc in ex.services.items():
            if svc.up:
                where[rid].append(ex.node)
            for kind in svc.ops:
                problems.append(f"{kind.value} of {rid} still running on {ex.node}")
    for r in config.resources:
        nodes = where[r.id]
        wanted = 1 if r.target_role is TargetRole.STARTED else 0
        if len(nodes) != wanted:
            problems.append(f"{r.id} active on {len(nodes)} nodes ({', '.join(nodes) or '-'}), "
                            f"wanted {wanted}")
    return problems


class HealInvariant(ResourceChecker):
    """After every heal in HEALS: never zero copies during the merge, one copy after it.

    The merge begins once the nodes can have heard each other (the heal +
    HEARD_MS, a keepalive and a delay): until then a node cut off still
    applies the safe mode's rule and may stop its copy, as it must.
    """

    def __init__(self, config: ClusterConfig, heals: Iterable[int], settle_ms: int,
                 heard_ms: int) -> None:
        self._exclusive = {r.id for r in config.resources if r.exclusive}
        self.heals = sorted(heals)
        self.settle_ms = settle_ms
        self.heard_ms = heard_ms
        self.holders: dict[ResourceId, set[NodeName]] = {}
        #: (heal time, resource, holders when the merge completed) for every check made.
        self.merges: list[tuple[int, ResourceId, tuple[NodeName, ...]]] = []

    def _merging(self, at: int) -> int | None:
        return next((h for h in self.heals if h + self.heard_ms <= at <= h + self.settle_ms),
                    None)

    def activated(self, node: NodeName, rid: ResourceId, at: int) -> None:
        self.holders.setdefault(rid, set()).add(node)

    def deactivated(self, node: NodeName, rid: ResourceId, at: int, why: str) -> None:
        self.holders.setdefault(rid, set()).discard(node)

    def operation(self, node: NodeName, rid: ResourceId, kind: OpKind, outcome: OpOutcome, *,
                  began: int, at: int) -> None:
        # Only stops the merge asked for: a minority's stop at warntime that began before
        # the heal is the safe mode's rule at work, not the heal's.
        heal = self._merging(began)
        if kind is OpKind.STOP and rid in self._exclusive and heal is not None \
                and not self.holders.get(rid):
            raise InvariantViolation(
                f"{rid} stopped on {node} at {at} ms, begun {began - heal} ms after the heal "
                f"at {heal} ms: no copy left; the merge must keep the winner running")

    def fenced(self, node: NodeName, at: int) -> None:
        for holders in self.holders.values():
            holders.discard(node)

    def merge_completed(self, heal: int, at: int) -> None:
        """Call at HEAL + settle: every exclusive resource runs exactly once."""
        for rid in sorted(self._exclusive):
            holders = tuple(sorted(self.holders.get(rid, ())))
            self.merges.append((heal, rid, holders))
            if len(holders) != 1:
                raise InvariantViolation(
                    f"{at - heal} ms after the heal at {heal} ms, {rid} runs on "
                    f"{len(holders)} nodes ({', '.join(holders) or '-'}), wanted 1")
