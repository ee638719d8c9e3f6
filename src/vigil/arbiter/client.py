"""The daemon's side of the arbitrator: acquire, renew and release the cluster lease.

Each request is retried with a fresh sequence number until a reply answering
one of its sends arrives or the timeout passes. ``remaining_ms`` is what the
arbitrator said minus the time since the first send: the holder must assume its
lease ends no later than the arbitrator thinks it does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

from vigil.arbiter.lease import (
    ACQUIRE,
    GRANTED,
    QUERY,
    RELEASE,
    RELEASED,
    RENEW,
    STATE,
    TRANSFER,
)
from vigil.config import NodeName
from vigil.wire import Body, Codec, Dropped, Sequencer


class ArbiterUnreachableError(Exception):
    """No answer from the arbitrator within the timeout."""


@dataclass(frozen=True, slots=True)
class Lease:
    """The arbitrator's answer. ``granted``: this node holds the lease (or, for a
    release, gave it up); ``token`` is the lease's current fencing token."""

    granted: bool
    token: int
    holder: NodeName | None
    remaining_ms: int
    ttl_ms: int
    vote: bool
    reason: str
    #: What the arbitrator said was left when it answered (``remaining_ms`` before the
    #: time since the first send was taken off): counted from the send, it never
    #: runs past the lease, which the arbitrator counts from a later arrival.
    said_remaining_ms: int = 0


class _Replies(asyncio.DatagramProtocol):
    def __init__(self, codec: Codec) -> None:
        self.codec = codec
        self.waiting: dict[tuple[int, int], asyncio.Future[tuple[str, Body]]] = {}

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        env = self.codec.decode(data)
        if isinstance(env, Dropped):
            return
        re, inc = env.body.get("re"), env.body.get("re_incarnation")
        if not isinstance(re, int) or not isinstance(inc, int):
            return
        future = self.waiting.get((inc, re))
        if future is not None and not future.done():
            future.set_result((env.kind, env.body))


class ArbiterClient:
    """Talks to the arbitrator at HOST:PORT as NODE in INCARNATION (which must grow
    across restarts of the caller: the arbitrator refuses replayed requests)."""

    def __init__(self, host: str, port: int, codec: Codec, node: NodeName, incarnation: int, *,
                 timeout_ms: int = 2000, resend_ms: int = 300) -> None:
        self.address = (host, port)
        self.codec = codec
        self.timeout_ms = timeout_ms
        self.resend_ms = resend_ms
        self._seq = Sequencer(codec, node, incarnation)
        self._transport: asyncio.DatagramTransport | None = None
        self._replies = _Replies(codec)

    async def acquire(self, partition: Sequence[NodeName] = ()) -> Lease:
        """Take the lease (or extend it, when already ours); PARTITION gets the vote."""
        return await self._request(ACQUIRE, {"partition": list(partition)}, GRANTED)

    async def query(self, partition: Sequence[NodeName]) -> Lease:
        """The lease's state; ``vote``: whether PARTITION (the caller's view) has the vote."""
        return await self._request(QUERY, {"partition": list(partition)}, STATE)

    async def renew(self, token: int) -> Lease:
        return await self._request(RENEW, {"token": token}, GRANTED)

    async def release(self, token: int) -> Lease:
        return await self._request(RELEASE, {"token": token}, RELEASED)

    async def transfer(self, token: int, to: NodeName) -> Lease:
        """Hand the lease (held with TOKEN) to TO, of this node's partition."""
        return await self._request(TRANSFER, {"token": token, "to": to}, GRANTED)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    async def _request(self, kind: str, body: Body, success: str) -> Lease:
        if self._transport is None:
            loop = asyncio.get_running_loop()
            transport, _ = await loop.create_datagram_endpoint(
                lambda: self._replies, remote_addr=self.address)
            self._transport = transport
        started = time.monotonic()
        answer: asyncio.Future[tuple[str, Body]] = asyncio.get_running_loop().create_future()
        keys: list[tuple[int, int]] = []
        try:
            deadline = started + self.timeout_ms / 1000
            while not answer.done():
                key = (self._seq.incarnation, self._seq.next_seq)
                self._replies.waiting[key] = answer
                keys.append(key)
                self._transport.sendto(self._seq.encode(kind, body))
                wait = min(self.resend_ms / 1000, deadline - time.monotonic())
                if wait <= 0:
                    break
                await asyncio.wait({answer}, timeout=wait)
            if not answer.done():
                raise ArbiterUnreachableError(f"no answer from the arbiter at {self.address[0]}:"
                                         f"{self.address[1]} within {self.timeout_ms} ms")
        finally:
            for key in keys:
                self._replies.waiting.pop(key, None)
        reply_kind, reply = answer.result()
        elapsed = round((time.monotonic() - started) * 1000)
        return _lease(reply_kind == success, reply, elapsed)


def _lease(granted: bool, body: Body, elapsed_ms: int) -> Lease:
    def num(key: str) -> int:
        value = body.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    holder = body.get("holder")
    return Lease(granted, num("token"), NodeName(holder) if isinstance(holder, str) else None,
                 max(0, num("remaining_ms") - elapsed_ms), num("ttl_ms"),
                 body.get("vote") is True, str(body.get("reason", "")),
                 num("remaining_ms"))
