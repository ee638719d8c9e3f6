"""The DC's fencing decisions: whom to fence and why, when a fence counts, who is back.

Rules of this file (``fencing_rules.py`` says how a node counts as fenced; the
DC in ``dc.py`` owns one ``FenceDecisions`` and plans nothing while
``pending`` is not empty):
- With fencing configured, a node that left the view while something may have
  run there (or without saying goodbye, with devices), whose stop failed, or
  whose life was replaced by a newer incarnation while it ran something, is
  fenced (``Fence``); with watchdog self-fencing only, it counts as fenced
  ``self_fence_wait_ms`` after the decision.
- Only a quorate DC in a stable view fences (as Pacemaker: a partition without
  quorum fences nobody); a departure is looked at again on every step, so it
  is fenced once the view allows it.
- A failed fence is logged and retried by the shell; recovery keeps waiting.
- A node seen again in an incarnation already fenced (a newer report than the
  last one before the fence) was not really fenced: it is fenced again.
- Without fencing, as Heartbeat: a dead node's resources count as stopped once
  membership declares it dead (after deadtime); the events log says so.
"""

from __future__ import annotations

from typing import Protocol

from vigil.config import ClusterConfig, NodeName
from vigil.coordinator.clusterstate import KnownReport, Reports
from vigil.coordinator.effects import Effect, Fence
from vigil.coordinator.eventlog import EventKind
from vigil.coordinator.events import MembershipUpdated
from vigil.coordinator.fencing_rules import FencingMode, fencing_mode, self_fence_wait_ms
from vigil.coordinator.states import LocalState, OpKind

__all__ = ["DcSide", "FenceDecisions"]

#: Incarnations of a power-cycled node counted as over at its confirmation: a node
#: boots far slower than a confirmation travels, so none newer can have run.
LIVES_ENDED_BY_A_FENCE = 8


class DcSide(Protocol):
    """What the fencing decisions read of the DC that owns them."""

    @property
    def active(self) -> bool: ...

    @property
    def membership(self) -> MembershipUpdated | None: ...

    def note(self, now_ms: int, kind: EventKind, text: str, out: list[Effect]) -> None: ...


class FenceDecisions:
    """The fencing side of one DC (see the module)."""

    def __init__(self, config: ClusterConfig, me: NodeName, reports: Reports,
                 dc: DcSide) -> None:
        self.config = config
        self.me = me
        self.reports = reports
        self.dc = dc
        self.mode = fencing_mode(config)
        self.pending: set[NodeName] = set()
        #: Watchdog mode: node -> when it counts as self-fenced.
        self.self_fence_at: dict[NodeName, int] = {}
        self._fence_incarnation: dict[NodeName, int] = {}  # pending fences: of which life
        # (node, incarnation) fenced -> the newest report seq known before the fence
        self._fenced: dict[tuple[NodeName, int], int] = {}
        # (node, incarnation) seen as members of a view: only those can leave one
        self._members_seen: set[tuple[NodeName, int]] = set()
        self._last_life: dict[NodeName, int] = {}  # the newest incarnation seen in a view
        # node -> (incarnation, why): a life replaced by a newer incarnation while its
        # last report showed something active (a daemon killed and started again)
        self._lost_lives: dict[NodeName, tuple[int, str]] = {}
        # (node, incarnation) whose departure was dealt with: fenced, or noted without fencing
        self._departed: set[tuple[NodeName, int]] = set()

    # -- what the DC hears -------------------------------------------------------

    def seen_view(self, old: MembershipUpdated | None, new: MembershipUpdated, now_ms: int,
                  out: list[Effect]) -> None:
        """A membership update: remember who was a member, in which life."""
        self._members_seen.update((v.node, v.incarnation) for v in new.view.members)
        for v in new.view.members:
            self._last_life[v.node] = max(v.incarnation, self._last_life.get(v.node, 0))
        self._rejoined(old, new, now_ms, out)

    def before_report(self, node: NodeName, old: KnownReport | None, new: KnownReport,
                      now_ms: int, out: list[Effect]) -> bool:
        """A report of NODE arrived: True when the DC is to ignore it (a fenced life's)."""
        if self._fenced_again(node, new, now_ms, out):
            return True
        if old is not None and old.incarnation < new.incarnation and \
                self.mode is not FencingMode.NONE:
            ran = sorted(r for r, s in old.body.resources.items() if s.is_active)
            if ran and (node, old.incarnation) not in self._departed:
                self._lost_lives[node] = (old.incarnation, f"{node} came back as incarnation "
                                          f"{new.incarnation} while incarnation "
                                          f"{old.incarnation} ran {', '.join(ran)}")
        return False

    def after_report(self, node: NodeName, new: KnownReport, now_ms: int,
                     out: list[Effect]) -> None:
        """A report the DC took in: a failed stop there (a blocked resource) is fenced."""
        if self.mode is FencingMode.NONE:
            return
        blocked = sorted(r for r, s in new.body.resources.items() if s is LocalState.BLOCKED)
        if blocked:
            self._fence(node, new.incarnation, f"stop of {', '.join(blocked)} failed on {node}",
                        now_ms, out)

    def confirmed(self, node: NodeName, reason: str, now_ms: int, out: list[Effect]) -> None:
        """NODE is fenced: nothing of its lives so far runs, its reports are forgotten."""
        self.pending.discard(node)
        self.self_fence_at.pop(node, None)
        life = self._fence_incarnation.pop(node, None)
        if self.mode is not FencingMode.WATCHDOG:
            # The machine was power-cycled: every life seen so far is over, none is to be
            # fenced again.
            newest = self._last_life.get(node, 0)
            self._departed.update(
                (node, i) for i in range(max(1, newest - LIVES_ENDED_BY_A_FENCE), newest + 1))
        known = self.reports.get(node)
        # A device powers the whole machine off; a watchdog resets only the life that
        # stopped feeding: a newer incarnation (a restarted daemon) probed, its report holds.
        if known is not None and (self.mode is not FencingMode.WATCHDOG or life is None
                                  or known.incarnation <= life):
            self._fenced[(node, known.incarnation)] = known.body.seq
            self.reports.forget(node)
        self.dc.note(now_ms, EventKind.FENCE, f"{node} fenced: {reason}; nothing runs there",
                     out)

    def failed(self, node: NodeName, reason: str, now_ms: int, out: list[Effect]) -> None:
        """The shell's fence of NODE failed: its resources stay where they were."""
        self.dc.note(now_ms, EventKind.FENCE, f"fencing of {node} failed: {reason}; its "
                     "resources are not recovered until it is fenced (retrying; or "
                     f"`vigil fence --confirm {node}` once it is off)", out)

    def due(self, now_ms: int) -> list[tuple[NodeName, str]]:
        """(node, why) of every self-fence that counts as done by NOW_MS."""
        return [(node, f"self-fenced: its watchdog has reset it by now "
                       f"({self_fence_wait_ms(self.config)} ms since fencing was decided)")
                for node, at in sorted(self.self_fence_at.items()) if now_ms >= at]

    def next_deadline(self) -> int | None:
        """The next moment a self-fence counts as done, if any."""
        return min(self.self_fence_at.values(), default=None)

    def side_fenced(self) -> bool:
        """This partition fenced a node that is not back: its starts say so (issue 10)."""
        m = self.dc.membership
        return m is not None and any(n not in m.view for n, _ in self._fenced)

    # -- deciding ------------------------------------------------------------------

    def deal_with_departed(self, now_ms: int, out: list[Effect]) -> None:
        """Nodes out of the view whose last report says something may run there: fence
        them (with fencing), or say they count as stopped (without, as Heartbeat)."""
        m = self.dc.membership
        if m is None:
            return
        for node, (life, why) in sorted(self._lost_lives.items()):
            if (node, life) in self._departed:
                del self._lost_lives[node]
            else:
                self._fence(node, life, why, now_ms, out)
        for node in sorted(self.reports.nodes()):
            known = self.reports.get(node)
            if node in m.view or known is None or (node, known.incarnation) in self._departed \
                    or (node, known.incarnation) not in self._members_seen:
                continue  # (a report of a new incarnation may come before its heartbeat)
            body = known.body
            active = sorted({*(r for r, s in body.resources.items() if s.is_active),
                             *(r for r, k in body.busy.items() if k is not OpKind.PROBE)})
            if not active and (body.leaving or self.mode is not FencingMode.DEVICES):
                continue  # nothing ran there (a node that left without goodbye is fenced)
            why = f"{node} left the view while running {', '.join(active)}" if active \
                else f"{node} left the view without saying goodbye"
            if self.mode is not FencingMode.NONE:
                self._fence(node, known.incarnation, why, now_ms, out)
            else:
                self._departed.add((node, known.incarnation))
                self.dc.note(now_ms, EventKind.FENCE, f"{why}: counted as stopped after "
                             "deadtime (no fencing configured: split brain possible)", out)
        if self.mode is FencingMode.NONE:
            return
        for node, life in sorted(self._last_life.items()):
            known = self.reports.get(node)
            if node == self.me or node in m.view or (node, life) in self._departed or \
                    (known is not None and known.incarnation >= life):
                continue
            # A member whose report never came (reports are repeated only now and then):
            # what runs there is unknown, so it is fenced like one running something.
            self._fence(node, life, f"{node} left the view and its resources are unknown "
                        "(no report of it)", now_ms, out)

    def _fence(self, node: NodeName, incarnation: int, why: str, now_ms: int,
               out: list[Effect]) -> None:
        m = self.dc.membership
        if not self.dc.active or (node, incarnation) in self._departed or m is None \
                or not m.quorum.quorate or not m.stable:
            return  # only in a stable, quorate view; asked again once it is
        self._departed.add((node, incarnation))
        self.pending.add(node)
        self._fence_incarnation[node] = max(incarnation, self._fence_incarnation.get(node, 0))
        if self.mode is FencingMode.WATCHDOG:
            wait = self_fence_wait_ms(self.config)
            self.self_fence_at.setdefault(node, now_ms + wait)
            self.dc.note(now_ms, EventKind.FENCE, f"fencing {node} by its watchdog: {why}; "
                         f"it counts as fenced in {wait} ms", out)
            return
        out.append(Fence(node, why))
        self.dc.note(now_ms, EventKind.FENCE, f"fencing {node}: {why}", out)

    def _rejoined(self, old: MembershipUpdated | None, new: MembershipUpdated, now_ms: int,
                  out: list[Effect]) -> None:
        """Members back in the view in the same life: a later departure is a new one. With
        watchdog self-fencing, a pending one is called off: the node is back, feeding."""
        before = old.view.members if old is not None else frozenset()
        for v in new.view.members:
            if v.node == self.me or v in before or (v.node, v.incarnation) not in self._departed:
                continue
            self._departed.discard((v.node, v.incarnation))
            if self.mode is FencingMode.WATCHDOG and \
                    self._fence_incarnation.get(v.node) == v.incarnation:
                self.pending.discard(v.node)
                self.self_fence_at.pop(v.node, None)
                self._fence_incarnation.pop(v.node, None)
                self.dc.note(now_ms, EventKind.FENCE, f"{v.node} is back in the view: "
                             "its self-fencing is called off", out)

    def _fenced_again(self, node: NodeName, new: KnownReport, now_ms: int,
                      out: list[Effect]) -> bool:
        """A report of an incarnation fenced already: True when it is to be ignored."""
        fenced_seq = self._fenced.get((node, new.incarnation))
        if fenced_seq is None:
            return False
        if new.body.seq <= fenced_seq:
            self.reports.forget(node)  # a datagram from before the fence, late
            return True
        del self._fenced[(node, new.incarnation)]
        if self.mode is FencingMode.DEVICES:
            # Powered off, yet it speaks: the fence did not take. Fence it again.
            self._departed.discard((node, new.incarnation))
            self._fence(node, new.incarnation, f"{node} is seen again in incarnation "
                        f"{new.incarnation} after it was fenced (stale incarnation)",
                        now_ms, out)
        return False
