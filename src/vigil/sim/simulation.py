"""A cluster in virtual time: the real ``Membership`` of every node over a faulty network.

Rules of this file:
- Time is an integer count of milliseconds, advanced only by the event queue;
  events at the same millisecond run in the order they were scheduled.
- All randomness comes from one ``random.Random(seed)``: a run prints
  ``SEED=N`` and its options first, and a failure says how to replay it.
- Nodes run the same pure core the daemon runs. Bodies go through
  ``to_body``, JSON and ``from_body`` on every send, so what the sim passes is
  what the wire can carry.
- Faults: crash (the process is gone; restart brings a new incarnation), pause
  (SIGSTOP: nothing sent, received packets wait in the socket buffer, timers
  run late; on resume the buffered packets are read first, then late timers),
  graceful stop (leave), symmetric and one-way partitions, per-link loss,
  delay, duplication and reordering.
- Invariant checkers (``vigil.sim.checks``) watch every step; a violation stops
  the run with the seed.
"""

from __future__ import annotations

import enum
import heapq
import json
import random
from collections.abc import Callable, Collection, Mapping, Sequence
from functools import partial
from typing import Any, Protocol, TypeVar

from vigil.config import ClusterConfig, NodeName
from vigil.membership import (
    Body,
    Effect,
    Event,
    HeartbeatBody,
    HeartbeatReceived,
    LeaveBody,
    LeaveReceived,
    LeaveRequested,
    Membership,
    Send,
    SetTimer,
    Started,
    StopRequested,
    Ticked,
    parse_body,
)
from vigil.sim.checks import Checker, InvariantViolation, default_checkers
from vigil.sim.network import CALM, Cut, LinkConditions, partition_cuts
from vigil.sim.timeline import Fault, TimelineEntry

E = TypeVar("E", bound=Effect)


class SimulationError(AssertionError):
    """An invariant broke; the message says which, when, and how to replay the seed."""

    def __init__(self, message: str, seed: int, at_ms: int) -> None:
        super().__init__(
            f"{message}\n  at {at_ms} ms of simulated time\n"
            f"  replay: SEED={seed} (Simulation(config, seed={seed}, …) with the options "
            f"printed at the start; vigil simulate --seed {seed})")
        self.seed = seed
        self.at_ms = at_ms


class _Node:
    """One simulated machine: its daemon's core, its socket buffer, its timer."""

    __slots__ = ("buffer", "core", "incarnation", "last_body", "name", "paused", "seq",
                 "timer_gen")

    def __init__(self, name: NodeName) -> None:
        self.name = name
        self.core: Membership | None = None  # None: not running
        self.incarnation = 0
        self.paused = False
        self.buffer: list[Event] = []
        self.seq = 0
        self.timer_gen = 0
        self.last_body: tuple[Body, Body] | None = None  # (sent, as parsed)


class Simulation:
    """A cluster of CONFIG's nodes, each running ``Membership``, driven in virtual time."""

    def __init__(
        self,
        config: ClusterConfig,
        seed: int,
        *,
        links: LinkConditions | Mapping[str, LinkConditions] = CALM,
        start_at: Mapping[str, int | None] | None = None,
        config_digest: str = "sim",
        checkers: Sequence[Checker] | None = None,
        record_traffic: bool = False,
        echo: Callable[[str], None] | None = print,
    ) -> None:
        """Build the cluster. Nodes start at 0 ms unless START_AT says otherwise
        (None: not started; ``start()`` or ``restart()`` it later).

        ``record_traffic``: also keep every Send and SetTimer in the timeline.
        ``echo``: where the ``SEED=`` line goes (None: nowhere).
        """
        self.config = config
        self.seed = seed
        self.rng = random.Random(seed)
        self.now_ms = 0
        self.digest = config_digest
        self.timeline: list[TimelineEntry] = []
        self._record_traffic = record_traffic
        self._links = [link.name for link in config.links]
        self._conditions = {name: self._conditions_for(links, name) for name in self._links}
        self._cuts: dict[int, Cut] = {}
        self._blocked: set[tuple[NodeName, NodeName, str]] = set()
        self._queue: list[tuple[int, int, Callable[[], None]]] = []
        self._order = 0
        self._nodes = {name: _Node(name) for name in config.node_names}
        self.checkers = list(checkers) if checkers is not None else default_checkers()
        starts: dict[NodeName, int | None] = dict.fromkeys(config.node_names, 0)
        for name, at in (start_at or {}).items():
            starts[self._node(name).name] = at
        for name, at in starts.items():
            if at is not None:
                self.start(name, at)
        if echo is not None:
            echo(self.banner(starts))

    # -- options and state --------------------------------------------------

    def banner(self, starts: Mapping[NodeName, int | None] | None = None) -> str:
        """``SEED=N`` and every option of this run, on one line."""
        t = self.config.timing
        parts = [
            f"SEED={self.seed}",
            f"nodes={','.join(self.config.node_names)}",
            f"keepalive={t.keepalive_ms}ms warntime={t.warntime_ms}ms "
            f"deadtime={t.deadtime_ms}ms initdead={t.initdead_ms}ms",
        ]
        parts += [f"link {name}[{cond}]" for name, cond in self._conditions.items()]
        if starts and any(at != 0 for at in starts.values()):
            parts.append("start=" + ",".join(f"{n}@{at}" for n, at in starts.items()))
        return " ".join(parts)

    def membership(self, node: str) -> Membership | None:
        """The running core of NODE (None while it is down)."""
        return self._node(node).core

    def is_running(self, node: str) -> bool:
        return self._node(node).core is not None

    def is_paused(self, node: str) -> bool:
        return self._node(node).paused

    def incarnation(self, node: str) -> int:
        return self._node(node).incarnation

    def conditions(self, link: str) -> LinkConditions:
        return self._conditions[link]

    # -- faults and actions, scheduled at a time ----------------------------

    def start(self, node: str, at: int) -> None:
        """Start NODE's daemon at AT (a new incarnation if it ran before)."""
        self._at(at, lambda: self._boot(self._node(node), "start"))

    def restart(self, node: str, at: int) -> None:
        """Start NODE again at AT with the next incarnation (it must be down by then)."""
        self._at(at, lambda: self._boot(self._node(node), "restart"))

    def crash(self, node: str, at: int) -> None:
        """NODE's machine dies at AT: no more sends, receives or timers."""
        self._at(at, lambda: self._crash(self._node(node)))

    def stop(self, node: str, at: int, why: str = "stopped by SIGTERM") -> None:
        """NODE's daemon stops cleanly at AT: it says it leaves, then exits."""
        self._at(at, lambda: self._stop(self._node(node), why))

    def pause(self, node: str, at: int, until: int) -> None:
        """NODE is frozen (SIGSTOP) from AT until UNTIL."""
        if until < at:
            raise ValueError(f"pause ends ({until}) before it starts ({at})")
        self._at(at, lambda: self._pause(self._node(node)))
        self._at(until, lambda: self._resume(self._node(node)))

    def partition(self, groups: Sequence[Collection[str]], at: int, until: int | None = None,
                  links: Collection[str] | None = None) -> None:
        """Split the cluster into GROUPS (both ways) from AT until UNTIL (None: until healed)."""
        cuts = partition_cuts(groups, self.config.node_names, links)
        where = "" if links is None else f" on {','.join(sorted(links))}"
        what = " | ".join(",".join(sorted(c.sources)) for c in _sides(cuts))
        self._cut_window(cuts, f"partition {what}{where}", at, until)

    def cut(self, source: str, target: str, at: int, until: int | None = None,
            links: Collection[str] | None = None) -> None:
        """Drop what SOURCE sends to TARGET (one way) from AT until UNTIL."""
        self._node(source)
        self._node(target)
        cut = Cut(frozenset({NodeName(source)}), frozenset({NodeName(target)}),
                  frozenset(links) if links is not None else None)
        where = "" if links is None else f" on {','.join(sorted(links))}"
        self._cut_window([cut], f"one-way cut {source} -> {target}{where}", at, until)

    def heal(self, at: int) -> None:
        """Remove every cut at AT."""
        def apply() -> None:
            self._cuts.clear()
            self._rebuild_blocked()
            self._fault(None, "heal: every partition and cut removed")
        self._at(at, apply)

    def set_conditions(self, conditions: LinkConditions, at: int,
                       links: Collection[str] | None = None) -> None:
        """From AT, LINKS (None: all) behave as CONDITIONS."""
        names = list(links) if links is not None else list(self._links)
        for name in names:
            if name not in self._conditions:
                raise ValueError(f"no link {name!r} in the configuration")

        def apply() -> None:
            for name in names:
                self._conditions[name] = conditions
            self._fault(None, f"links {','.join(names)} now {conditions}")
        self._at(at, apply)

    def call_at(self, at: int, action: Callable[[], None]) -> None:
        """Run ACTION at AT (for scenario steps and probes)."""
        self._at(at, action)

    # -- running --------------------------------------------------------------

    def run_until(self, end_ms: int) -> None:
        """Process every event up to and including END_MS; then run the end checks."""
        if end_ms < self.now_ms:
            raise ValueError(f"cannot run back to {end_ms} ms from {self.now_ms} ms")
        queue = self._queue
        try:
            while queue and queue[0][0] <= end_ms:
                at, _, action = heapq.heappop(queue)
                self.now_ms = at
                action()
            self.now_ms = end_ms
            for checker in self.checkers:
                checker.finished(self, end_ms)
        except InvariantViolation as violation:
            raise SimulationError(str(violation), self.seed, self.now_ms) from violation

    # -- internals --------------------------------------------------------------

    def _node(self, name: str) -> _Node:
        try:
            return self._nodes[NodeName(name)]
        except KeyError:
            raise ValueError(f"no node {name!r} in the configuration") from None

    @staticmethod
    def _conditions_for(links: LinkConditions | Mapping[str, LinkConditions],
                        name: str) -> LinkConditions:
        if isinstance(links, LinkConditions):
            return links
        return links.get(name, CALM)

    def _at(self, at: int, action: Callable[[], None]) -> None:
        if at < self.now_ms:
            raise ValueError(f"cannot schedule at {at} ms: it is already {self.now_ms} ms")
        self._order += 1
        heapq.heappush(self._queue, (at, self._order, action))

    def _fault(self, node: NodeName | None, description: str) -> None:
        self.timeline.append(TimelineEntry(self.now_ms, node, Fault(description)))

    def _cut_window(self, cuts: list[Cut], what: str, at: int, until: int | None) -> None:
        keys: list[int] = []

        def begin() -> None:
            for cut in cuts:
                self._order += 1
                self._cuts[self._order] = cut
                keys.append(self._order)
            self._rebuild_blocked()
            self._fault(None, what + ("" if until is None else f" until {until} ms"))

        def end() -> None:
            for key in keys:
                self._cuts.pop(key, None)
            self._rebuild_blocked()
            self._fault(None, f"end of {what}")

        self._at(at, begin)
        if until is not None:
            if until < at:
                raise ValueError(f"cut ends ({until}) before it starts ({at})")
            self._at(until, end)

    def _rebuild_blocked(self) -> None:
        self._blocked = set()
        for cut in self._cuts.values():
            self._blocked |= cut.blocks(self._links)

    def _boot(self, node: _Node, how: str) -> None:
        if node.core is not None:
            raise ValueError(f"cannot {how} {node.name} at {self.now_ms} ms: it is running")
        node.incarnation += 1
        node.seq = 0
        node.paused = False
        node.buffer.clear()
        node.core = Membership(self.config, node.name, node.incarnation, self.digest)
        self._fault(node.name, f"{how} {node.name} (incarnation {node.incarnation})")
        for checker in self.checkers:
            checker.node_started(self, node.name, self.now_ms)
        self._step(node, Started())

    def _crash(self, node: _Node) -> None:
        node.core = None
        node.paused = False
        node.buffer.clear()
        node.timer_gen += 1
        self._fault(node.name, f"crash {node.name}")

    def _stop(self, node: _Node, why: str) -> None:
        if node.core is None:
            return
        self._fault(node.name, f"stop {node.name} ({why})")
        self._step(node, StopRequested(why))
        self._step(node, LeaveRequested(why))
        node.core = None
        node.timer_gen += 1

    def _pause(self, node: _Node) -> None:
        if node.core is None:
            return
        node.paused = True
        self._fault(node.name, f"pause {node.name} (SIGSTOP)")
        for checker in self.checkers:
            checker.node_paused(self, node.name, self.now_ms)

    def _resume(self, node: _Node) -> None:
        if node.core is None or not node.paused:
            return
        node.paused = False
        self._fault(node.name, f"resume {node.name} (SIGCONT), {len(node.buffer)} "
                               "packets waiting")
        for checker in self.checkers:
            checker.node_resumed(self, node.name, self.now_ms)
        waiting, node.buffer = node.buffer, []
        for event in waiting:
            self._deliver(node, event)
        core = node.core
        if core is not None:
            deadline = core.next_deadline()
            if deadline is not None and deadline <= self.now_ms:
                self._step(node, Ticked())

    def _deliver(self, node: _Node, event: Event) -> None:
        if node.core is None:
            return
        if node.paused:
            node.buffer.append(event)
            return
        for checker in self.checkers:
            checker.delivered(self, node.name, event, self.now_ms)
        self._step(node, event)

    def _fire(self, node: _Node, generation: int) -> None:
        if node.core is None or generation != node.timer_gen:
            return
        if node.paused:
            return  # run late, on resume
        self._step(node, Ticked())

    def _step(self, node: _Node, event: Event) -> None:
        core = node.core
        assert core is not None
        now = self.now_ms
        effects = core.step(event, now)
        record = self._record_traffic
        for effect in effects:
            if isinstance(effect, Send):
                self._send(node, effect)
                if not record:
                    continue
            elif isinstance(effect, SetTimer):
                node.timer_gen += 1
                generation = node.timer_gen
                self._at(max(effect.at_ms, now), partial(self._fire, node, generation))
                if not record:
                    continue
            self.timeline.append(TimelineEntry(now, node.name, effect))
        for checker in self.checkers:
            checker.stepped(self, node.name, effects, now)

    def _send(self, node: _Node, send: Send) -> None:
        node.last_body = wire_round_trip(node.name, send.kind, send.body, node.last_body,
                                         parse_body)
        body = node.last_body[1]
        node.seq += 1
        sender, incarnation, seq = node.name, node.incarnation, node.seq
        rng = self.rng
        for link in self._links:
            conditions = self._conditions[link]
            event: Event
            if isinstance(body, HeartbeatBody):
                event = HeartbeatReceived(sender, incarnation, seq, link, body)
            else:
                assert isinstance(body, LeaveBody)
                event = LeaveReceived(sender, incarnation, link, body)
            for target in self._nodes.values():
                if target is node or (sender, target.name, link) in self._blocked:
                    continue
                for delay in conditions.arrivals(rng):
                    self._at(self.now_ms + delay, partial(self._deliver, target, event))

    def effects_of(self, kind: type[E], node: str | None = None
                   ) -> list[tuple[int, NodeName, E]]:
        """Every recorded effect of type KIND (of NODE only, if given), with time and node."""
        found: list[tuple[int, NodeName, E]] = []
        for entry in self.timeline:
            item = entry.item
            if (entry.node is not None and isinstance(item, kind)
                    and (node is None or entry.node == node)):
                found.append((entry.at_ms, entry.node, item))
        return found


def _sides(cuts: list[Cut]) -> list[Cut]:
    seen: set[frozenset[NodeName]] = set()
    sides = []
    for cut in cuts:
        if cut.sources not in seen:
            seen.add(cut.sources)
            sides.append(cut)
    return sides


W = TypeVar("W", bound="_WireBody")


class _WireBody(Protocol):
    def to_body(self) -> Mapping[str, object]: ...


def wire_round_trip(who: str, kind: enum.Enum, body: W, last: tuple[W, W] | None,
                    parse: Callable[[Any, Mapping[str, object]], Any]) -> tuple[W, W]:
    """(BODY, what a receiver parses of it): what the wire carries is a JSON-compatible
    mapping, so every distinct body makes the round trip and must come back equal
    (``InvariantViolation`` otherwise). A repeat of LAST's body (the steady state)
    reuses its result, as the trip is deterministic."""
    if last is not None and last[0] == body:
        return last
    back = parse(kind, json.loads(json.dumps(body.to_body())))
    if back != body:
        raise InvariantViolation(
            f"{who}: {kind.value} body does not survive to_body/from_body: "
            f"{body!r} came back as {back!r}")
    return body, back

