"""Announcing addresses again after a heal, so clients follow the one holder (issue 10).

Rules of this file:
- When the view gains a member (a heal, a node back), every address this
  node runs is announced again, once no other member's report sent under
  the new view shows it active or starting: after a split brain the copy that
  stays speaks last, right after the other side's stop, and a client whose
  ARP entry still points at the loser is corrected at once. A copy that
  stops here first is never announced. "Sent under the new view" means
  received since the view grew: after a heal the view can be the very one
  the members had before the partition, and a report from before the cut
  would say the other side runs nothing.
- Addresses are the resources whose agent announces: ``vigil:ipaddr`` and the
  Heartbeat names it answers to (``IPaddr``, ``IPaddr2``).
- Pure: the view, this node's states and every member's report in;
  ``Reannounce`` effects out.
"""

from __future__ import annotations

from vigil.config import ClusterConfig, NodeName, Resource, ResourceId
from vigil.coordinator.clusterstate import Reports
from vigil.coordinator.effects import Reannounce
from vigil.coordinator.events import MembershipUpdated
from vigil.coordinator.states import LocalState, OpKind

_ANNOUNCING = {("vigil", "ipaddr"), ("heartbeat", "IPaddr"), ("heartbeat", "IPaddr2")}


def announces(resource: Resource) -> bool:
    """Whether RESOURCE's agent holds an address it can announce again."""
    return (resource.agent.cls, resource.agent.type) in _ANNOUNCING


class Reannouncer:
    """The addresses of node ME waiting to be announced again since the view grew."""

    def __init__(self, config: ClusterConfig, me: NodeName) -> None:
        self.me = me
        self._addresses = tuple(r.id for r in config.resources if announces(r))
        self._pending: set[ResourceId] = set()
        self._joined: tuple[NodeName, ...] = ()
        self._since_ms = 0  # when the view last grew: older reports do not count

    def on_membership(self, old: MembershipUpdated | None, new: MembershipUpdated,
                      now_ms: int) -> None:
        if old is None or not self._addresses:
            return
        joined = tuple(sorted(new.view.nodes - old.view.nodes))
        if joined:
            self._pending = set(self._addresses)
            self._joined = joined
            self._since_ms = now_ms

    def due(self, membership: MembershipUpdated | None, states: dict[ResourceId, LocalState],
            reports: Reports) -> list[Reannounce]:
        """The announcements to make now (each pending address once)."""
        m = membership
        if not self._pending or m is None or not m.stable:
            return []
        view = {v.node: v.incarnation for v in m.view.members}
        others = []
        for node in sorted(m.view.nodes - {self.me}):
            known = reports.current(node, m.view)
            if known is None or dict(known.body.view) != view or \
                    known.received_ms < self._since_ms:
                return []  # not everyone has told us what it runs since the view formed
            others.append(known.body)
        out: list[Reannounce] = []
        for rid in sorted(self._pending):
            if states.get(rid) is not LocalState.RUNNING:
                self._pending.discard(rid)  # stopped (or stopping) here: nothing to announce
                continue
            if any(b.state_of(rid).is_active or b.busy.get(rid) is OpKind.START
                   for b in others):
                continue  # another copy still runs: wait for its stop
            self._pending.discard(rid)
            out.append(Reannounce(rid, f"{', '.join(self._joined)} joined the view: {rid} "
                                       "runs here only, announcing its address again"))
        return out


__all__ = ["Reannouncer", "announces"]
