"""The daemon's arbitrator runner against a scripted lease service, in virtual time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pytest
from virtual_loop import VirtualLoop

from cluster_configs import cluster, timing
from vigil.arbiter import LeaseAnswer, LeaseUnreachableError
from vigil.config import (
    AgentSpec,
    Arbiter,
    ArbiterBackend,
    ClusterConfig,
    Endpoint,
    NodeName,
    Operation,
    Resource,
    ResourceId,
)
from vigil.daemon.arbiter_runner import ArbiterRunner
from vigil.daemon.clock import Clock
from vigil.membership import (
    ArbiterVoteChanged,
    HeartbeatBody,
    HeartbeatReceived,
    Membership,
    Started,
    View,
    ViewMember,
)
from vigil.quorum import ArbiterVote

N1, N2 = NodeName("node1"), NodeName("node2")
#: TTL 2 s, the one resource stops within 1 s: a vote lasts send + 2000 - 1000 - 500.
CONFIG: ClusterConfig = replace(
    cluster(2, timing=timing(100, 1000)),
    resources=(Resource(ResourceId("db"), AgentSpec("vigil", "dummy"),
                        operations=(Operation("stop", 0, 1_000),)),),
    arbiter=Arbiter(ArbiterBackend.VIGIL, 2_000, Endpoint("192.0.2.9", 6950)))


class ScriptedService:
    """Answers each request after ROUND_TRIP_MS of virtual time, as scripted."""

    name = "vigil"
    where = "192.0.2.9:6950"

    def __init__(self, loop: VirtualLoop, answers: list[LeaseAnswer | None]) -> None:
        self.loop = loop
        self.answers = answers
        self.asked: list[tuple[str, tuple[str, ...]]] = []
        self.released: list[int] = []
        self.transferred: list[tuple[int, str]] = []

    async def _answer(self, kind: str, partition: Sequence[NodeName]) -> LeaseAnswer:
        self.asked.append((kind, tuple(partition)))
        self.loop.advance(200)  # the round trip
        answer = self.answers.pop(0)
        if answer is None:
            raise LeaseUnreachableError("no answer within 166 ms")
        return answer

    async def acquire(self, partition: Sequence[NodeName]) -> LeaseAnswer:
        return await self._answer("acquire", partition)

    async def query(self, partition: Sequence[NodeName]) -> LeaseAnswer:
        return await self._answer("query", partition)

    async def release(self, token: int) -> None:
        self.released.append(token)

    async def transfer(self, token: int, to: NodeName) -> LeaseAnswer:
        self.transferred.append((token, to))
        return LeaseAnswer(to, token + 1, 2_000, False, f"handed to {to}")

    async def close(self) -> None:
        pass


def runner(answers: list[LeaseAnswer | None], me: str = "node1"
           ) -> tuple[ArbiterRunner, ScriptedService, list[ArbiterVote | None], VirtualLoop]:
    loop = VirtualLoop(100.0)
    membership = Membership(CONFIG, me, 1, "d")
    membership.step(Started(), 0)
    fed: list[ArbiterVote | None] = []
    service = ScriptedService(loop, answers)

    def feed(event: ArbiterVoteChanged) -> None:
        fed.append(event.vote)

    r = ArbiterRunner(CONFIG, NodeName(me), Clock(loop),  # type: ignore[arg-type]
                      membership=lambda: membership, feed=feed, backend=service)
    return r, service, fed, loop


GRANTED = LeaseAnswer(N1, 7, 2_000, True, "lease granted to node1 with token 7")


async def test_the_vote_counts_from_the_send_not_the_answer() -> None:
    r, service, fed, loop = runner([GRANTED])
    loop.advance(1_000)  # the daemon has run 1 s when it asks
    await r.ask_once()
    # Sent at 1000, answered at 1200: the vote lasts until 1000 + 2000 - 1000 - 500.
    assert fed == [ArbiterVote(True, frozenset({N1}), 1_500, 7,
                               "node1 holds the lease with token 7")]
    assert service.asked == [("acquire", ("node1",))]
    assert r.renew_every_ms == 166  # (2000 - 1000 - 500) / 3: two losses before the deadline


async def test_no_answer_leaves_the_vote_to_run_out_at_its_deadline() -> None:
    r, _, fed, _ = runner([GRANTED, None])
    await r.ask_once()
    await r.ask_once()  # the holder renews: unreachable
    assert len(fed) == 1  # nothing new fed: membership drops it at its deadline
    doc = r.status_doc()
    assert (doc["reachable"], doc["failures"], doc["held_here"]) == (False, 1, True)
    assert doc["last_error"] == "no answer within 166 ms"


async def test_a_refusal_takes_the_vote_away_at_once() -> None:
    other = LeaseAnswer(N2, 8, 2_000, False, "node2 holds the lease")
    r, service, fed, _ = runner([GRANTED, other])
    await r.ask_once()
    await r.ask_once()
    assert fed[-1] is None
    assert service.asked[1] == ("acquire", ("node1",))  # it tried to renew
    assert r.status_doc()["holder"] == "node2"


async def test_a_node_not_first_in_its_view_only_asks() -> None:
    # node2 alone in its view is the first of it: it acquires; with node1 it would ask.
    r, service, fed, _ = runner([LeaseAnswer(N1, 7, 2_000, False, "node1 holds the lease")],
                                me="node2")
    await r.ask_once()
    assert service.asked == [("acquire", ("node2",))]
    assert fed == []  # no vote before, none now: nothing to tell membership


async def test_a_clean_stop_releases_a_held_lease_when_alone() -> None:
    r, service, _, _ = runner([GRANTED])
    await r.ask_once()
    await r.stop(release=True)
    assert (service.released, service.transferred) == ([7], [])


async def test_a_clean_stop_gives_up_the_vote_then_hands_the_lease_to_the_successor(
        monkeypatch: pytest.MonkeyPatch) -> None:
    r, service, fed, _ = runner([GRANTED, GRANTED])  # the second: the re-registration
    await r.ask_once()
    r.membership().step(HeartbeatReceived(N2, 1, 1, "eth0", HeartbeatBody(
        View.of([ViewMember(N1, 1), ViewMember(N2, 1)]), None, True, "d")), 200)
    assert r.membership().view.nodes == {N1, N2}
    waited: list[float] = []

    async def sleep(seconds: float) -> None:
        waited.append(seconds)
    monkeypatch.setattr("vigil.daemon.arbiter_runner.asyncio.sleep", sleep)
    await r.stop(release=True)
    assert fed[-1] is None  # before the transfer: two nodes never count it at once
    assert service.asked[-1] == ("acquire", ("node1", "node2"))  # the view registered
    assert (service.transferred, service.released) == ([(7, "node2")], [])
    assert waited == [(166 + 100) / 1000]  # one renew period: node2 asks meanwhile
