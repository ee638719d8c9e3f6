"""After a heal, let unicast heartbeats out at once: drop the kernel's failed neighbour entries.

Rules of this file:
- Why: during a partition this node's kernel keeps trying to resolve the
  peer's address for the heartbeats it still sends (ARP or NDP). The entry
  ends INCOMPLETE or FAILED, and the kernel asks again only once a second
  (``retrans_time_ms``). The peer's entry for us may still be REACHABLE, so
  after the heal we hear it at once while our heartbeats wait for the next
  retransmit: both sides keep their copies up to a second longer (found by
  tests/netns/test_netns_partition.py). Dropping the broken entry when the
  peer is heard again makes the next datagram resolve the address at once.
- Only INCOMPLETE and FAILED entries of the link's unicast destinations are
  dropped (``ip neigh flush to ADDR nud incomplete nud failed``); a working
  entry is never touched. ``ip`` is iproute2's, a dependency of vigil.
- Best effort: without CAP_NET_ADMIN (a test daemon on loopback, where no
  address is resolved anyway) or without ``ip``, nothing happens and the
  kernel's own retry stands. Never raises.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from vigil.config import Link, LinkKind, NodeName
from vigil.daemon.logsetup import LOGGER_NAME, kv

log = logging.getLogger(f"{LOGGER_NAME}.neighbours")

IP = "ip"
TIMEOUT_S = 2.0


def unicast_destinations(link: Link, node: NodeName) -> tuple[str, ...]:
    """The addresses this node sends NODE's heartbeats to on LINK, if it is unicast.

    NODE's own entry in ``addresses`` when the configuration has one; else every
    ``peers`` address (Heartbeat's ``ucast`` lines do not say whose they are).
    """
    if link.kind is not LinkKind.UCAST:
        return ()
    own = link.addresses.get(node)
    if own is not None:
        return (own.host,)
    return tuple(dict.fromkeys(ep.host for ep in link.peers))


async def forget_failed(addresses: Iterable[str]) -> bool:
    """Drop the INCOMPLETE or FAILED neighbour entries for ADDRESSES; True if ``ip`` did."""
    done = True
    for addr in addresses:
        argv = [IP, "neigh", "flush", "to", addr, "nud", "incomplete", "nud", "failed"]
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE)
        except OSError as e:
            log.debug(kv("neighbour entry not flushed", address=addr, error=e))
            return False
        try:
            _, err = await asyncio.wait_for(proc.communicate(), TIMEOUT_S)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            log.debug(kv("neighbour entry not flushed", address=addr, error="ip hung"))
            return False
        if proc.returncode != 0:
            done = False
            log.debug(kv("neighbour entry not flushed", address=addr, rc=proc.returncode,
                         error=err.decode(errors="replace").strip()))
    return done
