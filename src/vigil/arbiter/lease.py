"""The arbitrator's decisions: one lease per cluster, its TTL, its fencing token. Pure.

Rules of this file:
- Requests arrive as signed datagrams (the cluster's ``Codec``, the same
  envelope as heartbeats) with the time in ``now_ms``; the answer is a tuple of
  effects: ``Persist`` (write before anything else) then ``Reply``. Nothing
  here reads a clock or touches a socket.
- One holder at a time. A lease lasts ``ttl_ms`` from its last grant or
  renewal; after that anyone may acquire it.
- Every grant to a new holder (or to the old one after its lease lapsed) takes
  a new fencing token, one above every token ever handed out. The token is
  persisted before the grant is sent, so a restarted arbitrator never hands out
  a smaller one, and a stale holder's token is refused everywhere.
- After a restart the persisted holder keeps its lease for a full TTL from the
  restart: the arbitrator cannot know when it last renewed, so it assumes just now.
- Renew and release must name the current token; a smaller one is stale.
- A datagram seen before (same sender, incarnation, sequence number) is
  dropped without an answer, as is anything unsigned or for another cluster.
- The vote (the qdevice role) goes to the holder's partition, and only to it:
  to the holder, and to a node that names, in its request, exactly the
  partition the holder registered (its view: a node of a partition that split
  off names another one). The holder's acquire while it holds the lease
  renews it and registers the partition it names now.
- A transfer (``lease-transfer``, the holder's clean stop) hands the lease to
  another node of the holder's partition with a new token and a full TTL;
  the partition it registers is the old one without the sender. The sender
  must have given up its own vote first (its daemon does so before asking).
- A query (``lease-query``) changes nothing: it answers with the lease's state
  and whether the sender's partition has the vote.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from vigil.config import NodeName
from vigil.wire import Codec, Dropped, Envelope, ReplayWindow, Sequencer

ACQUIRE, RENEW, RELEASE = "lease-acquire", "lease-renew", "lease-release"
GRANTED, REFUSED, RELEASED = "lease-granted", "lease-refused", "lease-released"
QUERY, STATE, TRANSFER = "lease-query", "lease-state", "lease-transfer"
ARBITER_NAME = NodeName("arbiter")
#: Clients whose replay windows are kept; past that, new senders are not answered.
MAX_CLIENTS = 256


@dataclass(frozen=True, slots=True)
class LeaseRecord:
    """What survives a restart: the highest token, its holder, the holder's partition,
    and how many times the arbitrator started (its incarnation on the wire)."""

    token: int = 0
    holder: NodeName | None = None
    partition: tuple[NodeName, ...] = ()
    boot: int = 0


@dataclass(frozen=True, slots=True)
class Persist:
    """Write RECORD durably before sending any reply that follows."""

    record: LeaseRecord
    reason: str


@dataclass(frozen=True, slots=True)
class Reply:
    """Send DATA back to whoever sent the request."""

    data: bytes
    reason: str


Effect = Persist | Reply


@dataclass(slots=True)
class _Lease:
    record: LeaseRecord
    expires_ms: int | None  # None: nobody holds it
    windows: dict[NodeName, ReplayWindow] = field(default_factory=dict)


class Arbiter:
    """The lease for one cluster, as of RECORD loaded at NOW_MS (a start or restart)."""

    def __init__(self, codec: Codec, record: LeaseRecord, ttl_ms: int, now_ms: int, *,
                 max_clients: int = MAX_CLIENTS) -> None:
        if ttl_ms < 1:
            raise ValueError("lease TTL must be at least 1 ms")
        self.ttl_ms = ttl_ms
        self.max_clients = max_clients
        self._seq = Sequencer(codec, ARBITER_NAME, record.boot)
        self._codec = codec
        self._lease = _Lease(record, now_ms + ttl_ms if record.holder is not None else None)
        self.dropped = 0

    @property
    def record(self) -> LeaseRecord:
        return self._lease.record

    def holder(self, now_ms: int) -> NodeName | None:
        """Who holds the lease at NOW_MS, if anyone."""
        lease = self._lease
        if lease.expires_ms is None or now_ms >= lease.expires_ms:
            return None
        return lease.record.holder

    def remaining_ms(self, now_ms: int) -> int:
        if self.holder(now_ms) is None or self._lease.expires_ms is None:
            return 0
        return self._lease.expires_ms - now_ms

    def votes_for(self, node: NodeName, now_ms: int,
                  partition: Sequence[NodeName] | None = None) -> bool:
        """True when NODE is the holder, or names (PARTITION) exactly the partition
        the holder registered: the one partition the arbitrator's vote counts for."""
        holder = self.holder(now_ms)
        if holder is None:
            return False
        if node == holder:
            return True
        record = self._lease.record.partition
        return node in record and partition is not None and set(partition) == set(record)

    # -- requests ------------------------------------------------------------

    def receive(self, data: bytes, now_ms: int) -> tuple[Effect, ...]:
        """The effects of one datagram received at NOW_MS."""
        env = self._codec.decode(data)
        if isinstance(env, Dropped) or not self._fresh(env):
            self.dropped += 1
            return ()
        partition = env.body.get("partition", [])
        names = (tuple(NodeName(p) for p in partition if isinstance(p, str))
                 if isinstance(partition, list) else ())
        if env.kind == ACQUIRE:
            return self.acquire(env, names, now_ms)
        if env.kind == QUERY:
            holder = self.holder(now_ms)
            return (self._reply(env, STATE, now_ms, f"{holder} holds the lease" if holder
                                else "nobody holds the lease", names),)
        token = env.body.get("token")
        if not isinstance(token, int) or isinstance(token, bool):
            return (self._reply(env, REFUSED, now_ms, "request carries no token"),)
        if env.kind == RENEW:
            return self.renew(env, token, now_ms)
        if env.kind == RELEASE:
            return self.release(env, token, now_ms)
        if env.kind == TRANSFER:
            to = env.body.get("to")
            if not isinstance(to, str):
                return (self._reply(env, REFUSED, now_ms, "transfer names no node"),)
            return self.transfer(env, token, NodeName(to), now_ms)
        return (self._reply(env, REFUSED, now_ms, f"unknown request {env.kind!r}"),)

    def acquire(self, env: Envelope, partition: Sequence[NodeName],
                now_ms: int) -> tuple[Effect, ...]:
        lease, node = self._lease, env.sender
        holder = self.holder(now_ms)
        if holder == node:
            lease.expires_ms = now_ms + self.ttl_ms
            previous = lease.record
            if set(partition) != set(previous.partition):
                lease.record = LeaseRecord(previous.token, node, tuple(partition), previous.boot)
            return (self._reply(env, GRANTED, now_ms, f"{node} already holds the lease"),)
        if holder is not None:
            return (self._reply(env, REFUSED, now_ms, f"{holder} holds the lease", partition),)
        previous = lease.record
        lease.record = LeaseRecord(previous.token + 1, node, tuple(partition), previous.boot)
        lease.expires_ms = now_ms + self.ttl_ms
        why = (f"lease granted to {node} with token {lease.record.token}"
               + (f" ({previous.holder}'s lease lapsed)" if previous.holder else ""))
        return (Persist(lease.record, why), self._reply(env, GRANTED, now_ms, why))

    def renew(self, env: Envelope, token: int, now_ms: int) -> tuple[Effect, ...]:
        refused = self._check_token(env.sender, token, now_ms)
        if refused:
            return (self._reply(env, REFUSED, now_ms, refused),)
        self._lease.expires_ms = now_ms + self.ttl_ms
        return (self._reply(env, GRANTED, now_ms, f"lease renewed for {env.sender}"),)

    def release(self, env: Envelope, token: int, now_ms: int) -> tuple[Effect, ...]:
        refused = self._check_token(env.sender, token, now_ms)
        if refused:
            return (self._reply(env, REFUSED, now_ms, refused),)
        lease = self._lease
        lease.record = LeaseRecord(lease.record.token, None, (), lease.record.boot)
        lease.expires_ms = None
        why = f"{env.sender} released the lease"
        return (Persist(lease.record, why), self._reply(env, RELEASED, now_ms, why))

    def transfer(self, env: Envelope, token: int, to: NodeName,
                 now_ms: int) -> tuple[Effect, ...]:
        refused = self._check_token(env.sender, token, now_ms)
        lease = self._lease
        if not refused and (to == env.sender or to not in lease.record.partition):
            refused = f"{to} is not another node of {env.sender}'s partition"
        if refused:
            return (self._reply(env, REFUSED, now_ms, refused),)
        previous = lease.record
        partition = tuple(n for n in previous.partition if n != env.sender)
        lease.record = LeaseRecord(previous.token + 1, to, partition, previous.boot)
        lease.expires_ms = now_ms + self.ttl_ms
        why = f"{env.sender} handed the lease to {to} with token {lease.record.token}"
        return (Persist(lease.record, why), self._reply(env, GRANTED, now_ms, why))

    # -- helpers -------------------------------------------------------------

    def _check_token(self, node: NodeName, token: int, now_ms: int) -> str:
        """Why NODE may not act with TOKEN now ('' when it may)."""
        current = self._lease.record.token
        if token < current:
            return f"stale token {token}: the lease is at token {current}"
        if token > current:
            return f"token {token} was never handed out (the lease is at {current})"
        if self._lease.record.holder != node:
            return f"{node} does not hold the lease"
        if self.holder(now_ms) is None:
            return f"{node}'s lease expired; acquire it again for a new token"
        return ""

    def _fresh(self, env: Envelope) -> bool:
        """Record (incarnation, seq) of ENV; False for a replay or one client too many."""
        windows = self._lease.windows
        window = windows.get(env.sender)
        if window is None:
            if len(windows) >= self.max_clients:
                return False
            window = windows[env.sender] = ReplayWindow()
        return window.accept(env.incarnation, env.seq) is None

    def _reply(self, env: Envelope, kind: str, now_ms: int, reason: str,
               partition: Sequence[NodeName] | None = None) -> Reply:
        holder = self.holder(now_ms)
        body = {
            "re": env.seq, "re_incarnation": env.incarnation, "holder": holder,
            "token": self._lease.record.token, "remaining_ms": self.remaining_ms(now_ms),
            "ttl_ms": self.ttl_ms, "vote": self.votes_for(env.sender, now_ms, partition),
            "reason": reason,
        }
        return Reply(self._seq.encode(kind, body), reason)
