"""The lease services a daemon can use, behind one interface.

Grouped by the guarantee each method gives (as Patroni's DCS class):
- ``acquire(partition)``: take the lease, or renew it when already held, and
  register PARTITION as the one the vote goes to; the answer says who holds
  it now, its fencing token, and how much of the holder's lease was left when
  the service answered: counted from the moment the request was sent, that
  never runs past the lease (the service counts it from a later arrival).
- ``query(partition)``: change nothing; say whether PARTITION has the vote.
- ``release(token)``: give the lease up now (a clean stop with nobody to
  hand it to).
- ``transfer(token, to)``: hand it to TO, a node of the holder's partition,
  with a new token (a clean stop: the successor keeps the vote through the
  holder's leave). The caller must have stopped counting its own vote first.
Every method raises ``LeaseUnreachableError`` when the service does not
answer in time; nothing else escapes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Protocol

from vigil.arbiter.client import ArbiterClient, ArbiterUnreachableError, Lease
from vigil.config import NodeName
from vigil.wire import Codec


@dataclass(frozen=True, slots=True)
class LeaseAnswer:
    """What a lease service said. ``remaining_ms``: what was left of the holder's lease
    when the service answered (the caller counts it from its send)."""

    holder: NodeName | None
    token: int
    remaining_ms: int
    vote: bool
    reason: str


class LeaseUnreachableError(Exception):
    """The lease service did not answer in time."""


class LeaseBackend(Protocol):
    """One lease service (``vigil arbiter`` or etcd), as the daemon's runner uses it."""

    @property
    def name(self) -> str: ...

    @property
    def where(self) -> str: ...

    async def acquire(self, partition: Sequence[NodeName]) -> LeaseAnswer: ...

    async def query(self, partition: Sequence[NodeName]) -> LeaseAnswer: ...

    async def release(self, token: int) -> None: ...

    async def transfer(self, token: int, to: NodeName) -> LeaseAnswer: ...

    async def close(self) -> None: ...


class VigilBackend:
    """``vigil arbiter`` over UDP (``ArbiterClient``), signed with the cluster's key."""

    def __init__(self, host: str, port: int, codec: Codec, node: NodeName, incarnation: int,
                 *, timeout_ms: int) -> None:
        self.where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        self.client = ArbiterClient(host, port, codec, node, incarnation,
                                    timeout_ms=timeout_ms, resend_ms=max(50, timeout_ms // 4))

    @property
    def name(self) -> str:
        return "vigil"

    async def acquire(self, partition: Sequence[NodeName]) -> LeaseAnswer:
        return await self._ask(self.client.acquire(partition))

    async def query(self, partition: Sequence[NodeName]) -> LeaseAnswer:
        return await self._ask(self.client.query(partition))

    async def release(self, token: int) -> None:
        await self._ask(self.client.release(token))

    async def transfer(self, token: int, to: NodeName) -> LeaseAnswer:
        return await self._ask(self.client.transfer(token, to))

    async def close(self) -> None:
        self.client.close()

    @staticmethod
    async def _ask(request: Awaitable[Lease]) -> LeaseAnswer:
        try:
            lease = await request
        except (ArbiterUnreachableError, OSError) as e:
            raise LeaseUnreachableError(str(e)) from e
        return LeaseAnswer(lease.holder, lease.token, lease.said_remaining_ms, lease.vote,
                           lease.reason)


__all__ = ["LeaseAnswer", "LeaseBackend", "LeaseUnreachableError", "VigilBackend"]
