"""The arbitrator's runner: asks the lease service, hands its vote to membership.

Rules of this file (the decisions are ``vigil.quorum``'s, the same the
simulator uses; this is their shell):
- One task per daemon, started when the configuration has an ``[arbiter]``.
  Every ``renew_every_ms`` (a third of TTL - longest stop - margin, so two
  requests may be lost before the vote's deadline; sooner, half-way to the
  deadline, when an answer left less than that) it sends what
  ``next_ask`` says: the holder renews (registering its current view), the
  first node of a view acquires, every other node only asks whether its
  partition has the vote. A view change needs no request of its own: the
  holder keeps its vote through a split, a member's vote stops counting at
  once (membership), and the first node of a new partition asks within a period.
- The time of the send is read before the request leaves, on the daemon's
  monotonic clock; ``vote_from_answer`` makes the vote count until send +
  remaining - longest stop - margin. The deadline is membership's to keep
  (it wakes up at it), so a hung lease service cannot make a vote outlive it.
- A refusal (another holder, the vote elsewhere) takes the vote away at once;
  no answer changes nothing: the vote runs out at its deadline.
- On a clean stop, after the resources were handed over, the holder gives
  up its own vote, hands the lease to its successor (the first other node of
  its view) and waits one renew period, in which the successor's next request
  learns it holds the lease: it then keeps the vote when the holder's leave
  shrinks its view. Alone, the holder releases the lease instead, so nobody
  waits for it to lapse.
- One log line per change of what the vote is (gained, lost, moved), with the
  reason; an unreachable lease service is logged when it becomes so and again
  when it answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from vigil.arbiter import (
    EtcdBackend,
    LeaseAnswer,
    LeaseBackend,
    LeaseUnreachableError,
    VigilBackend,
)
from vigil.config import (
    LEASE_MARGIN_MS,
    ArbiterBackend,
    ClusterConfig,
    NodeName,
    longest_exclusive_stop,
)
from vigil.daemon.clock import Clock
from vigil.daemon.logsetup import LOGGER_NAME, kv
from vigil.daemon.resources import wire_compression
from vigil.membership import ArbiterVoteChanged, Membership
from vigil.quorum import ArbiterVote, LeaseAsk, next_ask, successor, vote_from_answer
from vigil.wire import Codec

log = logging.getLogger(f"{LOGGER_NAME}.arbiter")


def make_backend(config: ClusterConfig, node: NodeName, incarnation: int,
                 timeout_ms: int) -> LeaseBackend:
    """The backend CONFIG's ``[arbiter]`` names."""
    arbiter = config.arbiter
    if arbiter is None:
        raise ValueError("the configuration has no [arbiter]")
    if arbiter.backend is ArbiterBackend.ETCD:
        return EtcdBackend(arbiter.endpoints, config.cluster_name, node,
                           ttl_ms=arbiter.lease_ttl_ms, timeout_ms=timeout_ms)
    address = arbiter.address
    if address is None or address.port is None:
        raise ValueError("[arbiter] has no address")
    codec = Codec(config.auth, wire_compression(config), config.cluster_name)
    return VigilBackend(address.host, address.port, codec, node, incarnation,
                        timeout_ms=timeout_ms)


class ArbiterRunner:
    """Node ME's side of the arbitrator (see the module)."""

    def __init__(self, config: ClusterConfig, me: NodeName, clock: Clock, *,
                 membership: Callable[[], Membership],
                 feed: Callable[[ArbiterVoteChanged], None],
                 backend: LeaseBackend | None = None, incarnation: int = 0) -> None:
        arbiter = config.arbiter
        if arbiter is None:
            raise ValueError("the configuration has no [arbiter]")
        self.config = config
        self.me = me
        self.clock = clock
        self.membership = membership
        self.feed = feed
        self.ttl_ms = arbiter.lease_ttl_ms
        self.stop_ms, self.stop_what = longest_exclusive_stop(config)
        budget = self.ttl_ms - self.stop_ms - LEASE_MARGIN_MS
        self.renew_every_ms = max(50, budget // 3)
        self.backend = backend if backend is not None else make_backend(
            config, me, incarnation, self.renew_every_ms)
        self.vote: ArbiterVote | None = None
        self.last: LeaseAnswer | None = None
        self.last_answer_ms: int | None = None
        self.last_error: str | None = None
        self.requests = 0
        self.failures = 0
        self._task: asyncio.Task[None] | None = None
        self._short_logged = False

    # -- life -------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())
        log.info(kv("arbitrator in use", backend=self.backend.name, at=self.backend.where,
                    ttl_ms=self.ttl_ms, longest_stop_ms=self.stop_ms,
                    renew_every_ms=self.renew_every_ms))

    async def stop(self, release: bool = True) -> None:
        """Stop asking; when RELEASE (a clean stop, nothing runs here) the holder hands
        the lease to its successor, or releases it when there is none."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        vote = self.vote
        if release and vote is not None and vote.holder:
            view = self.membership().view.nodes
            to = successor(self.me, view, self.config.node_names)
            try:
                if to is None:
                    await self.backend.release(vote.token)
                    log.info(kv("lease released", token=vote.token, reason="clean stop"))
                else:
                    await self._hand_over(vote, sorted(view), to)
            except LeaseUnreachableError as e:
                log.warning(kv("lease not handed over: it lapses after its TTL", error=e))
        await self.backend.close()

    async def _hand_over(self, vote: ArbiterVote, view: list[NodeName], to: NodeName) -> None:
        # Our vote first: two nodes must never count it at once.
        self.vote = None
        self.feed(ArbiterVoteChanged(None))
        # Register the view as it is now (the successor must be in the partition),
        # then hand the lease over.
        renewed = await self.backend.acquire(view)
        token = renewed.token if renewed.holder == self.me else vote.token
        answer = await self.backend.transfer(token, to)
        if answer.holder != to:
            log.warning(kv("lease not handed over: it lapses after its TTL", to=to,
                           reason=answer.reason))
            return
        log.info(kv("lease handed over", to=to, token=answer.token, reason=answer.reason))
        # The successor learns it at its next request, before our leave.
        await asyncio.sleep((self.renew_every_ms + 100) / 1000)

    # -- the loop -----------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            sent = self.clock.now_ms()
            try:
                await self.ask_once()
            except Exception:  # a bug here must not end the asking: the vote would lapse
                log.exception(kv("arbitrator request failed"))
            now = self.clock.now_ms()
            wait = sent + self.renew_every_ms - now
            if self.vote is not None:
                # An answer that left less than the usual budget (a lease taken over
                # with what was left of it): ask again well before its deadline.
                wait = min(wait, (self.vote.until_ms - now) // 2)
            if wait > 0:
                await asyncio.sleep(wait / 1000)

    async def ask_once(self) -> None:
        """One request and what its answer means for the vote."""
        m = self.membership()
        ask = next_ask(self.me, m.view.nodes, self.config.node_names, self.vote)
        sent = self.clock.now_ms()
        self.requests += 1
        try:
            answer = await (self.backend.acquire(sorted(ask.partition)) if ask.acquire
                            else self.backend.query(sorted(ask.partition)))
        except LeaseUnreachableError as e:
            self.failures += 1
            if self.last_error is None:
                log.warning(kv("arbitrator unreachable", at=self.backend.where, error=e,
                               vote_until_ms=self.vote.until_ms if self.vote else None))
            self.last_error = str(e)
            return
        if self.last_error is not None:
            log.info(kv("arbitrator answers again", at=self.backend.where))
        self.last_error = None
        self.last, self.last_answer_ms = answer, self.clock.now_ms()
        self._take(ask, sent, answer)

    def _take(self, ask: LeaseAsk, sent: int, answer: LeaseAnswer) -> None:
        new = vote_from_answer(self.me, ask, sent, holder=answer.holder, vote=answer.vote,
                               token=answer.token, remaining_ms=answer.remaining_ms,
                               stop_ms=self.stop_ms)
        if new is None and answer.vote and answer.holder is not None \
                and not self._short_logged:
            self._short_logged = True
            log.error(kv("the arbitrator's vote cannot count: its lease is too short for the "
                         "stops", remaining_ms=answer.remaining_ms, longest_stop_ms=self.stop_ms,
                         margin_ms=LEASE_MARGIN_MS, hint="run `vigil arbiter --ttl-ms` with the "
                         "configuration's lease_ttl"))
        old = self.vote
        self.vote = new
        if new != old:
            self.feed(ArbiterVoteChanged(new))
        was = (old.holder, old.token) if old else None
        now = (new.holder, new.token) if new else None
        if was != now:
            why = new.reason if new is not None else (answer.reason or "no vote")
            log.info(kv("arbitrator vote " + ("held" if new else "not held"),
                        holder=answer.holder, token=answer.token,
                        partition=",".join(sorted(ask.partition)), reason=why))

    # -- what status shows ------------------------------------------------------------

    def status_doc(self) -> dict[str, Any]:
        """The ``arbiter`` section of the status document (docs/status.md)."""
        now = self.clock.now_ms()
        last, vote = self.last, self.vote
        expires = None
        if last is not None and last.holder is not None and self.last_answer_ms is not None:
            expires = max(0, last.remaining_ms - (now - self.last_answer_ms))
        counted = False
        with contextlib.suppress(Exception):
            counted = self.membership().quorum.arbiter_vote
        return {
            "backend": self.backend.name,
            "address": self.backend.where,
            "lease_ttl_ms": self.ttl_ms,
            "longest_stop_ms": self.stop_ms,
            "renew_every_ms": self.renew_every_ms,
            "holder": last.holder if last is not None else None,
            "token": last.token if last is not None else None,
            "lease_expires_in_ms": expires,
            "held_here": vote is not None and vote.holder,
            "vote": counted,
            "vote_deadline_in_ms": max(0, vote.until_ms - now) if vote is not None else None,
            "last_answer_ms": None if self.last_answer_ms is None else now - self.last_answer_ms,
            "reachable": self.last_error is None and self.last is not None,
            "last_error": self.last_error,
            "requests": self.requests,
            "failures": self.failures,
        }


__all__ = ["ArbiterRunner", "make_backend"]
