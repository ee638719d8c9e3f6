"""A real `vigil arbiter` on loopback and clients racing for the cluster lease."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from vigil.arbiter import ArbiterClient, Lease
from vigil.config import Auth, AuthKey, AuthMethod, Compression, NodeName
from vigil.wire import Codec

pytestmark = pytest.mark.timeout(60)

TTL_MS = 1200
KEY = b"integration-arbiter-key"


class ArbiterProcess:
    """`vigil arbiter` as a child process; ``start`` waits for its listening line."""

    def __init__(self, root: Path) -> None:
        self.keys = root / "authkeys"
        self.keys.write_text(f"auth 1\n1 sha1 {KEY.decode()}\n")
        self.keys.chmod(0o600)
        self.state = root / "arbiter.state"
        self.proc: asyncio.subprocess.Process | None = None
        self.port = 0

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "vigil.cli.main", "arbiter", "--listen",
            f"127.0.0.1:{self.port}", "--key-file", str(self.keys), "--cluster", "prod",
            "--state-file", str(self.state), "--ttl-ms", str(TTL_MS),
            stderr=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL)
        assert self.proc.stderr is not None
        while True:
            line = (await asyncio.wait_for(self.proc.stderr.readline(), 15)).decode()
            assert line, "arbiter exited before listening"
            found = re.search(r"arbiter listening on 127\.0\.0\.1:(\d+)", line)
            if found:
                self.port = int(found.group(1))
                return

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                assert await asyncio.wait_for(self.proc.wait(), 10) == 0
            finally:
                if self.proc.returncode is None:
                    self.proc.kill()
                    await self.proc.wait()

    def client(self, node: str, incarnation: int = 1) -> ArbiterClient:
        auth = Auth(1, {1: AuthKey(1, AuthMethod.SHA1, KEY)})
        return ArbiterClient("127.0.0.1", self.port, Codec(auth, Compression(), "prod"),
                             NodeName(node), incarnation, timeout_ms=3000)


@pytest.fixture
async def arbiter(tmp_path: Path) -> AsyncIterator[ArbiterProcess]:
    proc = ArbiterProcess(tmp_path)
    await proc.start()
    try:
        yield proc
    finally:
        await proc.stop()


async def until_granted(attempt: Callable[[], Coroutine[Any, Any, Lease]],
                        refusals: list[Lease]) -> Lease:
    """Ask until granted, keeping every refusal; bounded."""
    for _ in range(100):
        lease = await attempt()
        if lease.granted:
            return lease
        refusals.append(lease)
        await asyncio.sleep(0.05)
    raise AssertionError("never granted")


async def test_two_nodes_racing_for_the_lease_exactly_one_wins_and_the_loser_waits_out_the_ttl(
        arbiter: ArbiterProcess) -> None:
    alpha, beta = arbiter.client("alpha"), arbiter.client("beta")
    try:
        first = await asyncio.gather(alpha.acquire([NodeName("alpha")]),
                                     beta.acquire([NodeName("beta")]))
        assert sorted(lease.granted for lease in first) == [False, True]
        winner_lease = next(lease for lease in first if lease.granted)
        winner, loser = (alpha, beta) if first[0].granted else (beta, alpha)
        assert winner_lease.vote
        refusals: list[Lease] = []
        taken = await until_granted(loser.acquire, refusals)
        # Every refusal named the winner and time left on its lease: the loser got
        # the lease only once the winner's TTL ran out, with a larger token.
        assert refusals
        assert {r.holder for r in refusals} == {winner_lease.holder}
        assert not any(r.vote for r in refusals)
        # the client takes the round trip off what the arbiter said, so only the
        # early refusals are sure to show time left
        assert max(r.remaining_ms for r in refusals) > 0
        assert taken.token > winner_lease.token
        stale = await winner.renew(winner_lease.token)
        assert not stale.granted
        assert "stale token" in stale.reason
    finally:
        alpha.close()
        beta.close()


async def test_holder_renewing_keeps_the_lease_and_release_hands_it_on(
        arbiter: ArbiterProcess) -> None:
    alpha, beta = arbiter.client("alpha"), arbiter.client("beta")
    try:
        held = await alpha.acquire()
        for _ in range(4):  # renewing every quarter TTL, for one TTL and more
            await asyncio.sleep(TTL_MS / 4000)
            renewed = await alpha.renew(held.token)
            assert renewed.granted
            assert not (await beta.acquire()).granted
        assert (await alpha.release(held.token)).granted
        after = await beta.acquire()
        assert after.granted
        assert after.token == held.token + 1
    finally:
        alpha.close()
        beta.close()


async def test_restarted_arbiter_never_hands_out_a_smaller_token(
        arbiter: ArbiterProcess) -> None:
    alpha = arbiter.client("alpha")
    before = await alpha.acquire()
    alpha.close()
    await arbiter.stop()
    await arbiter.start()  # same port, same state file
    alpha, beta = arbiter.client("alpha", incarnation=2), arbiter.client("beta")
    try:
        assert not (await beta.acquire()).granted  # alpha keeps its lease over the restart
        assert (await alpha.renew(before.token)).granted
        taken = await until_granted(beta.acquire, [])
        assert taken.token > before.token
    finally:
        alpha.close()
        beta.close()
