"""The arbitrator's UDP service: datagrams and the monotonic clock into ``Arbiter``,
its effects out (state file first, then the reply to the sender)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

from vigil.arbiter.lease import Arbiter, LeaseRecord, Persist
from vigil.arbiter.statefile import load_record, save_record
from vigil.wire import Codec

log = logging.getLogger("vigil.arbiter")


def monotonic_ms() -> int:
    return time.monotonic_ns() // 1_000_000


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, arbiter: Arbiter, state_path: Path, clock_ms: Callable[[], int]) -> None:
        self.arbiter = arbiter
        self.state_path = state_path
        self.clock_ms = clock_ms
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        for effect in self.arbiter.receive(data, self.clock_ms()):
            if isinstance(effect, Persist):
                try:
                    save_record(self.state_path, effect.record)
                except OSError as e:
                    # Without the token on disk the grant must not leave.
                    log.error("state file not written path=%s error=%s: reply withheld",
                              self.state_path, e)
                    return
                log.info("%s token=%d", effect.reason, effect.record.token)
            elif self.transport is not None:
                self.transport.sendto(effect.data, addr)


async def serve(host: str, port: int, codec: Codec, state_path: Path, ttl_ms: int, *,
                stop: asyncio.Event, on_ready: Callable[[str, int], None] | None = None,
                clock_ms: Callable[[], int] = monotonic_ms) -> None:
    """Answer lease requests on HOST:PORT until STOP is set.

    The boot count in the state file grows first, so replies of this run never
    look like replies of the last one.
    """
    record = load_record(state_path)
    record = LeaseRecord(record.token, record.holder, record.partition, record.boot + 1)
    save_record(state_path, record)
    arbiter = Arbiter(codec, record, ttl_ms, clock_ms())
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: _Protocol(arbiter, state_path, clock_ms), local_addr=(host, port))
    try:
        bound = transport.get_extra_info("sockname")
        log.info("arbiter listening host=%s port=%d ttl_ms=%d token=%d holder=%s", bound[0],
                 bound[1], ttl_ms, record.token, record.holder or "-")
        if on_ready is not None:
            on_ready(bound[0], bound[1])
        await stop.wait()
    finally:
        transport.close()
