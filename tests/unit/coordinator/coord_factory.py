"""Build configurations, membership pictures and reports for coordinator unit tests."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TypeVar

from vigil.config import (
    AgentSpec,
    Auth,
    AuthKey,
    AuthMethod,
    ClusterConfig,
    FenceDevice,
    Fencing,
    Group,
    GroupId,
    Link,
    LinkKind,
    Node,
    NodeName,
    Operation,
    Resource,
    ResourceId,
    Timing,
)
from vigil.coordinator import (
    AdminSettings,
    Coordinator,
    Effect,
    Event,
    LocalState,
    MembershipUpdated,
    OperationFinished,
    OpKind,
    OpOutcome,
    ReportBody,
    ReportReceived,
    RunOperation,
    Started,
    TxResults,
)
from vigil.membership import View, ViewMember
from vigil.quorum import QuorumRules, evaluate

TIMING = Timing(keepalive_ms=100, warntime_ms=500, deadtime_ms=1000, initdead_ms=3000)
OPS = (Operation("monitor", 500, 300),)


def config(nodes: Sequence[str] = ("node1", "node2", "node3"),
           groups: Mapping[str, tuple[str | None, Sequence[str]]] | None = None,
           *, fencing: bool = False, **settings: object) -> ClusterConfig:
    groups = {"web": ("node1", ["vip", "app"])} if groups is None else groups
    resources: list[Resource] = []
    built: list[Group] = []
    for gid, (preferred, members) in groups.items():
        resources.extend(Resource(ResourceId(r), AgentSpec("vigil", "dummy"), operations=OPS)
                         for r in members)
        built.append(Group(GroupId(gid), tuple(ResourceId(r) for r in members),
                           preferred_node=NodeName(preferred) if preferred else None))
    base = ClusterConfig(
        nodes=tuple(Node(NodeName(n)) for n in nodes),
        links=(Link("eth0", LinkKind.UCAST, 694),),
        timing=TIMING,
        auth=Auth(1, {1: AuthKey(1, AuthMethod.HMAC_SHA256, b"unit")}),
        resources=tuple(resources),
        groups=tuple(built),
    )
    if fencing:
        base = replace(base, fencing=Fencing(devices=(FenceDevice("ipmi", "fence_ipmilan"),)))
    return replace(base, **settings)  # type: ignore[arg-type]


def membership(cfg: ClusterConfig, members: Mapping[str, int], *, dc: str | None = "node1",
               stable: bool = True, late: Iterable[str] = ()) -> MembershipUpdated:
    """A membership picture: MEMBERS (node -> incarnation) in view, DC, quorum from votes."""
    view = View.of(ViewMember(NodeName(n), i) for n, i in members.items())
    quorum = evaluate(QuorumRules.from_config(cfg), view.nodes, seen_all=True)
    return MembershipUpdated(view, stable, NodeName(dc) if dc else None, quorum,
                             frozenset(NodeName(n) for n in late))


def report(members: Mapping[str, int], seq: int = 1, *,
           resources: Mapping[str, LocalState] | None = None,
           busy: Mapping[str, OpKind] | None = None,
           failures: Mapping[str, tuple[int, int]] | None = None,
           tx: tuple[str, int, int, Mapping[int, str]] | None = None,
           probed: bool = True, leaving: bool = False, at_risk: bool = False,
           connectivity: int = 0, admin: AdminSettings | None = None) -> ReportBody:
    from vigil.coordinator import ActionResult

    txr = None
    if tx is not None:
        dc, inc, tid, done = tx
        txr = TxResults(NodeName(dc), inc, tid,
                        {a: ActionResult(r) for a, r in done.items()})
    return ReportBody(
        seq=seq, view={NodeName(n): i for n, i in members.items()}, probed=probed,
        leaving=leaving, at_risk=at_risk, connectivity=connectivity,
        resources={ResourceId(r): s for r, s in (resources or {}).items()},
        busy={ResourceId(r): k for r, k in (busy or {}).items()},
        failures={ResourceId(r): f for r, f in (failures or {}).items()},
        tx=txr, admin=admin or AdminSettings())


class Driver:
    """One coordinator stepped by hand; remembers every effect with its time."""

    def __init__(self, cfg: ClusterConfig, me: str = "node1", incarnation: int = 1) -> None:
        self.core = Coordinator(cfg, me, incarnation)
        self.now = 0
        self.effects: list[tuple[int, Effect]] = []

    def step(self, event: Event, at: int | None = None) -> list[Effect]:
        if at is not None:
            self.now = at
        out = self.core.step(event, self.now)
        self.effects.extend((self.now, e) for e in out)
        return out

    def start_probed(self, states: Mapping[str, OpOutcome] | None = None) -> None:
        """Start, and answer every start-up probe (not running unless STATES says)."""
        effects = self.step(Started())
        for e in effects:
            if isinstance(e, RunOperation):
                outcome = (states or {}).get(e.resource, OpOutcome.NOT_RUNNING)
                self.step(OperationFinished(e.resource, OpKind.PROBE, outcome, e.token))

    def finish(self, op: RunOperation, outcome: OpOutcome = OpOutcome.OK,
               at: int | None = None) -> list[Effect]:
        return self.step(OperationFinished(op.resource, op.kind, outcome, op.token), at)

    def peer_report(self, node: str, incarnation: int, body: ReportBody,
                    at: int | None = None) -> list[Effect]:
        return self.step(ReportReceived(NodeName(node), incarnation, body), at)


T = TypeVar("T")


def of_type(effects: Iterable[object], kind: type[T]) -> list[T]:
    return [e for e in effects if isinstance(e, kind)]
