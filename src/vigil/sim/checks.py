"""Invariant checkers: what must hold at every step of every simulated run.

Rules of this file:
- A checker watches through hooks (node started, paused, resumed, a message
  delivered, a step taken, the run finished) and raises ``InvariantViolation``
  with words that say what broke; the simulation adds the seed.
- Checkers keep their own record of the truth (what each node was actually
  delivered, and when) and compare the core's decisions against it; they never
  trust the core's own bookkeeping.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from vigil.config import NodeName, Timing
from vigil.membership import (
    ChangeCause,
    Effect,
    Event,
    HeartbeatReceived,
    LeaveReceived,
    LinkStateChanged,
    PeerState,
    PeerStateChanged,
    View,
    ViewChanged,
)

if TYPE_CHECKING:
    from vigil.sim.simulation import Simulation


class InvariantViolation(AssertionError):  # noqa: N818 - reads as what it is
    """A simulated run broke an invariant."""


class Checker:
    """Hooks called by the simulation; each does nothing unless overridden."""

    def node_started(self, sim: Simulation, node: NodeName, at: int) -> None:
        """NODE's daemon started (a new incarnation)."""

    def node_paused(self, sim: Simulation, node: NodeName, at: int) -> None:
        """NODE was frozen."""

    def node_resumed(self, sim: Simulation, node: NodeName, at: int) -> None:
        """NODE runs again; its buffered packets follow."""

    def delivered(self, sim: Simulation, node: NodeName, event: Event, at: int) -> None:
        """EVENT (a message) is about to be given to NODE's core."""

    def stepped(self, sim: Simulation, node: NodeName, effects: Sequence[Effect],
                at: int) -> None:
        """NODE's core took a step and returned EFFECTS."""

    def finished(self, sim: Simulation, at: int) -> None:
        """``run_until`` reached AT."""


class DetectionTiming(Checker):
    """Every peer and link is in exactly the state the truth says, at every step.

    The truth is what the simulation delivered: late exactly at warntime and
    dead exactly at deadtime after the last heartbeat processed (on any link for
    the peer, on that link for a link), unknown until initdead then dead when
    never heard, dead at once after a leave. Transitions must happen on time,
    never a millisecond early; only a node that was frozen since may be late.
    """

    def __init__(self) -> None:
        self._started: dict[NodeName, int] = {}
        self._resumed: dict[NodeName, int] = {}
        # Keyed by (observer, peer): the highest incarnation accepted, whether it
        # left, and when a heartbeat was last processed (any link, any incarnation).
        self._known: dict[tuple[NodeName, NodeName], int] = {}
        self._left: set[tuple[NodeName, NodeName]] = set()
        self._heard: dict[tuple[NodeName, NodeName], int] = {}
        # Keyed by (observer, peer, link).
        self._link_heard: dict[tuple[NodeName, NodeName, str], int] = {}
        self._link_left: set[tuple[NodeName, NodeName, str]] = set()
        # The next moment a sweep of an observer can find something new.
        self._next_sweep: dict[NodeName, int] = {}
        self._last_event: dict[NodeName, Event] = {}

    def node_started(self, sim: Simulation, node: NodeName, at: int) -> None:
        self._started[node] = at
        self._resumed[node] = at
        self._next_sweep[node] = at
        self._last_event.pop(node, None)
        self._known = {k: v for k, v in self._known.items() if k[0] != node}
        self._heard = {k: v for k, v in self._heard.items() if k[0] != node}
        self._link_heard = {k: v for k, v in self._link_heard.items() if k[0] != node}
        self._left = {k for k in self._left if k[0] != node}
        self._link_left = {k for k in self._link_left if k[0] != node}

    def node_resumed(self, sim: Simulation, node: NodeName, at: int) -> None:
        self._resumed[node] = at

    def delivered(self, sim: Simulation, node: NodeName, event: Event, at: int) -> None:
        self._last_event[node] = event
        if not isinstance(event, HeartbeatReceived | LeaveReceived):
            return
        key = (node, event.sender)
        known = self._known.get(key)
        if known is not None and event.incarnation < known:
            return  # stale
        if isinstance(event, LeaveReceived):
            self._known[key] = event.incarnation
            self._left.add(key)
            for link in sim.config.links:
                self._link_left.add((node, event.sender, link.name))
            return
        if key in self._left and known == event.incarnation:
            return  # a straggler of an incarnation that left
        self._left.discard(key)
        self._known[key] = event.incarnation
        self._heard[key] = at
        self._link_heard[(node, event.sender, event.link)] = at
        self._link_left.discard((node, event.sender, event.link))

    def stepped(self, sim: Simulation, node: NodeName, effects: Sequence[Effect],
                at: int) -> None:
        timing = sim.config.timing
        event = self._last_event.pop(node, None)
        changes = False
        for effect in effects:
            if not isinstance(effect, PeerStateChanged | LinkStateChanged):
                continue
            changes = True
            if not isinstance(effect, PeerStateChanged):
                continue
            from_it = isinstance(event, HeartbeatReceived | LeaveReceived) and (
                event.sender == effect.node)
            if effect.new is PeerState.UP and not (
                    from_it and isinstance(event, HeartbeatReceived)):
                raise InvariantViolation(
                    f"{node} has {effect.node} up without a heartbeat from it: {effect.reason}")
            if effect.cause is ChangeCause.LEFT and not (
                    from_it and isinstance(event, LeaveReceived)):
                raise InvariantViolation(
                    f"{node} has {effect.node} left without a leave from it: {effect.reason}")
            if effect.cause in (ChangeCause.DEADTIME, ChangeCause.WARNTIME):
                dead = effect.cause is ChangeCause.DEADTIME
                last = self._heard.get((node, effect.node))
                if last is None:
                    raise InvariantViolation(
                        f"{node} declared {effect.node} {effect.new.value} by "
                        f"{effect.cause.value}, but never processed a heartbeat from it")
                self._check_exact(node, effect.node, what=effect.new.value,
                                  timer=effect.cause.value, since=last, at=at,
                                  limit=timing.deadtime_ms if dead else timing.warntime_ms)
            elif effect.cause is ChangeCause.INITDEAD:
                if (node, effect.node) in self._heard:
                    raise InvariantViolation(
                        f"{node} declared {effect.node} never heard (initdead), but it "
                        f"processed a heartbeat from it at {self._heard[(node, effect.node)]} ms")
                self._check_exact(node, effect.node, what="dead", timer="initdead",
                                  since=self._started[node], at=at, limit=timing.initdead_ms)
        if changes or at >= self._next_sweep.get(node, 0):
            self._sweep(sim, node, at)

    def finished(self, sim: Simulation, at: int) -> None:
        for node in sim.config.node_names:
            if sim.is_running(node) and not sim.is_paused(node):
                self._sweep(sim, node, at)

    def _check_exact(self, node: NodeName, peer: NodeName, *, what: str, timer: str,
                     since: int, at: int, limit: int) -> None:
        silent = at - since
        if silent < limit:
            raise InvariantViolation(
                f"{node} declared {peer} {what} after only {silent} ms of silence "
                f"({timer} {limit} ms): EARLY")
        if silent > limit and self._resumed.get(node, 0) <= since:
            raise InvariantViolation(
                f"{node} declared {peer} {what} after {silent} ms of silence "
                f"({timer} {limit} ms): {silent - limit} ms LATE though its timers ran on time")

    def _expected(self, last: int | None, started: int, at: int, timing: Timing
                  ) -> tuple[PeerState, int | None]:
        """The state the truth gives at AT, and when it will next change by itself."""
        if last is None:
            due = started + timing.initdead_ms
            return (PeerState.UNKNOWN, due) if at < due else (PeerState.DEAD, None)
        if at < last + timing.warntime_ms:
            return PeerState.UP, last + timing.warntime_ms
        if at < last + timing.deadtime_ms:
            return PeerState.LATE, last + timing.deadtime_ms
        return PeerState.DEAD, None

    def _sweep(self, sim: Simulation, node: NodeName, at: int) -> None:
        core = sim.membership(node)
        if core is None:
            return
        timing = sim.config.timing
        started = self._started[node]
        soonest = at + timing.deadtime_ms
        for status in core.snapshot(at).nodes:
            if status.is_me:
                continue
            peer = status.name
            key = (node, peer)
            if key in self._left:
                expected, due = PeerState.DEAD, None
            else:
                expected, due = self._expected(self._heard.get(key), started, at, timing)
            if status.state is not expected:
                last = self._heard.get(key)
                raise InvariantViolation(
                    f"{node} has {peer} {status.state.value} at {at} ms, but it should be "
                    f"{expected.value}: last heard {'never' if last is None else f'at {last} ms'}"
                    f"{', then it left' if key in self._left else ''} ({status.reason})")
            if due is not None:
                soonest = min(soonest, due)
            for link in status.links:
                lkey = (node, peer, link.name)
                if lkey in self._link_left:
                    expected, due = PeerState.DEAD, None
                else:
                    expected, due = self._expected(self._link_heard.get(lkey), started, at,
                                                   timing)
                if link.state is not expected:
                    raise InvariantViolation(
                        f"{node} has link {link.name} of {peer} {link.state.value} at {at} ms, "
                        f"but it should be {expected.value} ({link.reason})")
                if due is not None:
                    soonest = min(soonest, due)
        # Heartbeats delivered meanwhile only move these later: sweeping then is
        # early, never late.
        self._next_sweep[node] = soonest


class ViewConsistency(Checker):
    """The view holds this node and exactly its up and late peers (with their
    incarnations); a peer is the best of its links; a stable view's DC is its
    first node in configuration order, and a DC is always a member."""

    def stepped(self, sim: Simulation, node: NodeName, effects: Sequence[Effect],
                at: int) -> None:
        if not any(isinstance(e, PeerStateChanged | LinkStateChanged | ViewChanged)
                   for e in effects):
            return
        core = sim.membership(node)
        if core is None:
            return
        snap = core.snapshot(at)
        view = core.view
        if view.incarnation_of(node) != core.incarnation:
            raise InvariantViolation(f"{node}'s view {view} does not hold itself")
        for status in snap.nodes:
            if status.is_me:
                continue
            member = status.name in view
            alive = status.state in (PeerState.UP, PeerState.LATE)
            if member != alive:
                raise InvariantViolation(
                    f"{node}: {status.name} is {status.state.value} but "
                    f"{'in' if member else 'not in'} the view {view}")
            if member and view.incarnation_of(status.name) != status.incarnation:
                raise InvariantViolation(
                    f"{node}: view {view} has the wrong incarnation of {status.name}")
            links = [link.state for link in status.links]
            expected = _best(links)
            if status.state is not expected:
                raise InvariantViolation(
                    f"{node}: {status.name} is {status.state.value} but its links are "
                    f"{[s.value for s in links]}")
        dc = core.dc
        if dc is not None and dc not in view:
            raise InvariantViolation(f"{node}: DC {dc} is not in its view {view}")
        if core.stable:
            first = view.ordered(sim.config.node_names)[0].node
            if dc != first:
                raise InvariantViolation(
                    f"{node}: stable view {view} but DC {dc}, not its first node {first}")


def _best(states: list[PeerState]) -> PeerState:
    for state in (PeerState.UP, PeerState.LATE, PeerState.DEAD):
        if state in states:
            return state
    return PeerState.UNKNOWN


def default_checkers() -> list[Checker]:
    """The checkers every simulation runs unless told otherwise."""
    return [DetectionTiming(), ViewConsistency()]


def agreement(sim: Simulation) -> tuple[View, NodeName | None] | None:
    """The one stable view and DC every running, unfrozen node holds; None if they differ."""
    found: tuple[View, NodeName | None] | None = None
    for name in sim.config.node_names:
        core = sim.membership(name)
        if core is None or sim.is_paused(name):
            continue
        if not core.stable:
            return None
        mine = (core.view, core.dc)
        if found is None:
            found = mine
        elif mine != found:
            return None
    return found
