"""The arbitrator on etcd: the cluster's lease as an etcd lease and one key.

Rules of this file:
- Client: etcd3gw (OpenStack's client for etcd's JSON gateway, ``/v3/``),
  which speaks to the etcd 3.4 of Debian 12 and needs no gRPC stack. Its calls
  block, so each runs in a worker thread (``asyncio.to_thread``); each has
  the runner's timeout, and any failure to answer is ``LeaseUnreachableError``.
- The lease: ``/vigil/<cluster>/arbiter`` holding ``{"holder", "partition"}``,
  attached to an etcd lease of ``lease_ttl`` (whole seconds). Taking it is a
  put-if-absent transaction (compare create_revision = 0). The fencing token
  is the key's mod revision, the revision of its last write (a grant, a new
  partition registered, a transfer): etcd revisions only grow, so every new
  holder's token is larger than every earlier one, across etcd restarts.
- Renewing is a keepalive of the etcd lease, then a transaction that checks
  the key is as we last wrote it (mod revision = token) and registers the
  current partition when it changed. A keepalive that finds the lease gone
  (TTL -1) means the lease lapsed: try to take it afresh, with a new token.
- A transfer writes the successor's name under the same etcd lease; the
  successor, finding itself named, keeps that etcd lease alive from then on
  (any client may keep any lease alive).
- The time left is what etcd said (whole seconds): the caller counts it from
  its own send, earlier than etcd's receipt of the keepalive or grant.
- The vote: to the holder, and to a node that names exactly the partition the
  holder registered (as ``vigil.arbiter.lease``).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit

from vigil.arbiter.backend import LeaseAnswer, LeaseUnreachableError
from vigil.config import NodeName

T = TypeVar("T")


def lease_key(cluster: str) -> str:
    return f"/vigil/{cluster}/arbiter"


class EtcdBackend:
    """The lease of CLUSTER on the etcd at ENDPOINTS (``http://host:port``), as NODE."""

    def __init__(self, endpoints: Sequence[str], cluster: str, node: NodeName, *, ttl_ms: int,
                 timeout_ms: int) -> None:
        if not endpoints:
            raise ValueError("etcd needs at least one endpoint")
        self.endpoints = tuple(endpoints)
        self.node = node
        self.key = lease_key(cluster)
        self.ttl_s = max(1, ttl_ms // 1000)
        self.timeout_s = timeout_ms / 1000
        self.token = 0  # our key's create revision while we hold it
        self.lease_id: int | None = None
        self.partition: tuple[NodeName, ...] = ()
        self._clients: list[Any] = []
        self._current = 0  # the endpoint that answered last
        self._in_use: Any = None
        # One exchange at a time: a cancelled caller's thread may still be running.
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return "etcd"

    @property
    def where(self) -> str:
        return ",".join(self.endpoints)

    # -- the interface --------------------------------------------------------------

    async def acquire(self, partition: Sequence[NodeName]) -> LeaseAnswer:
        return await self._call(lambda: self._acquire(tuple(sorted(partition))))

    async def query(self, partition: Sequence[NodeName]) -> LeaseAnswer:
        return await self._call(lambda: self._query(tuple(sorted(partition))))

    async def release(self, token: int) -> None:
        await self._call(lambda: self._release(token))

    async def close(self) -> None:
        for client in self._clients:
            client.session.close()

    # -- in a worker thread ------------------------------------------------------------

    async def _call(self, work: Callable[[], T]) -> T:
        # Every HTTP request has the timeout; the vote's deadline is membership's,
        # so a slow answer costs liveness only.
        return await asyncio.to_thread(self._failover, work)

    def _failover(self, work: Callable[[], T]) -> T:
        """WORK against the endpoint that answered last, then the others in order."""
        with self._lock:
            return self._try_each(work)

    def _try_each(self, work: Callable[[], T]) -> T:
        from etcd3gw.exceptions import Etcd3Exception

        if not self._clients:
            self._clients = [self._client(url) for url in self.endpoints]
        errors: list[str] = []
        for i in range(len(self._clients)):
            index = (self._current + i) % len(self._clients)
            self._in_use = self._clients[index]
            try:
                result = work()
            except (Etcd3Exception, OSError, ValueError, KeyError) as e:
                errors.append(f"{self.endpoints[index]}: {type(e).__name__} {e}".strip())
                continue
            self._current = index
            return result
        raise LeaseUnreachableError("; ".join(errors))

    def _client(self, url: str) -> Any:
        from etcd3gw.client import Etcd3Client

        parts = urlsplit(url)
        # /v3/ is etcd 3.4's gateway path: no discovery round trip.
        return Etcd3Client(host=parts.hostname or "localhost", port=parts.port or 2379,
                           protocol=parts.scheme or "http", timeout=self.timeout_s,
                           api_path="/v3/")

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        client = self._in_use
        answer = client.post(client.get_url(path), data=json.dumps(body))
        return answer if isinstance(answer, dict) else {}

    def _acquire(self, partition: tuple[NodeName, ...]) -> LeaseAnswer:
        if self.lease_id is not None:
            ttl = int(self._post("/lease/keepalive", {"ID": self.lease_id})
                      .get("result", {}).get("TTL", -1))
            if ttl > 0:
                answer = self._still_ours(partition, ttl)
                if answer is not None:
                    return answer
            self.lease_id, self.token = None, 0  # lapsed: take it afresh, new token
        grant = self._post("/lease/grant", {"TTL": self.ttl_s, "ID": 0})
        lease_id, ttl = int(grant["ID"]), int(grant.get("TTL", self.ttl_s))
        value = json.dumps({"holder": self.node, "partition": list(partition)})
        txn = self._post("/kv/txn", {
            "compare": [{"key": _b64(self.key), "result": "EQUAL", "target": "CREATE",
                         "create_revision": 0}],
            "success": [{"request_put": {"key": _b64(self.key), "value": _b64(value),
                                         "lease": lease_id}}],
            "failure": [{"request_range": {"key": _b64(self.key)}}],
        })
        if txn.get("succeeded"):
            self.lease_id, self.partition = lease_id, partition
            self.token = int(txn["header"]["revision"])  # = the key's mod revision
            return LeaseAnswer(self.node, self.token, ttl * 1000, True,
                               f"lease granted to {self.node} with token {self.token}")
        self._post("/lease/revoke", {"ID": lease_id})  # ours was not needed
        return self._other(txn["responses"][0]["response_range"], partition)

    def _still_ours(self, partition: tuple[NodeName, ...], ttl: int) -> LeaseAnswer | None:
        """After a keepalive: our key still there (register PARTITION if it changed)?"""
        put = []
        if partition != self.partition:
            value = json.dumps({"holder": self.node, "partition": list(partition)})
            put = [{"request_put": {"key": _b64(self.key), "value": _b64(value),
                                    "lease": self.lease_id}}]
        txn = self._post("/kv/txn", {
            "compare": [{"key": _b64(self.key), "result": "EQUAL", "target": "MOD",
                         "mod_revision": self.token}],
            "success": put, "failure": [],
        })
        if not txn.get("succeeded"):
            return None
        if put:
            self.token = int(txn["header"]["revision"])
        self.partition = partition
        return LeaseAnswer(self.node, self.token, ttl * 1000, True,
                           f"lease renewed for {self.node}")

    def _query(self, partition: tuple[NodeName, ...]) -> LeaseAnswer:
        found = self._post("/kv/range", {"key": _b64(self.key)})
        return self._other(found, partition)

    def _other(self, found: dict[str, Any], partition: tuple[NodeName, ...]) -> LeaseAnswer:
        """The lease as a range answer FOUND shows it, seen by a node of PARTITION."""
        kvs = found.get("kvs") or []
        if not kvs:
            return LeaseAnswer(None, 0, 0, False, "nobody holds the lease")
        kv = kvs[0]
        record = json.loads(_unb64(kv.get("value", "")) or "{}")
        holder = record.get("holder")
        registered = sorted(record.get("partition", []))
        token = int(kv.get("mod_revision", 0))
        if holder == self.node and kv.get("lease") and self.lease_id is None:
            # Handed to us (a transfer): keep its etcd lease alive from now on,
            # starting now (a full TTL, not what is left of the last keepalive).
            self.lease_id, self.token = int(kv["lease"]), token
            self.partition = tuple(NodeName(n) for n in registered)
            ttl = int(self._post("/lease/keepalive", {"ID": self.lease_id})
                      .get("result", {}).get("TTL", -1))
            if ttl > 0:
                return LeaseAnswer(self.node, token, ttl * 1000, True,
                                   f"{self.node} holds the lease with token {token}")
        vote = holder == self.node or (self.node in registered and registered == list(partition))
        left = 0
        if vote and kv.get("lease"):
            # Whole seconds, rounded down by etcd: never more than is left.
            ttl = int(self._post("/lease/timetolive", {"ID": int(kv["lease"])}).get("TTL", -1))
            left = ttl * 1000 if ttl > 0 else 0
        name = NodeName(holder) if isinstance(holder, str) else None
        return LeaseAnswer(name, token, left, vote and left > 0,
                           f"{holder} holds the lease with token {token}")

    async def transfer(self, token: int, to: NodeName) -> LeaseAnswer:
        return await self._call(lambda: self._transfer(token, to))

    def _transfer(self, token: int, to: NodeName) -> LeaseAnswer:
        if self.lease_id is None or token != self.token or to not in self.partition:
            return LeaseAnswer(None, self.token, 0, False, f"cannot hand the lease to {to}")
        ttl = int(self._post("/lease/keepalive", {"ID": self.lease_id})
                  .get("result", {}).get("TTL", -1))  # a full TTL for the successor
        partition = [n for n in self.partition if n != self.node]
        value = json.dumps({"holder": to, "partition": partition})
        txn = self._post("/kv/txn", {
            "compare": [{"key": _b64(self.key), "result": "EQUAL", "target": "MOD",
                         "mod_revision": self.token}],
            "success": [{"request_put": {"key": _b64(self.key), "value": _b64(value),
                                         "lease": self.lease_id}}],
            "failure": [],
        })
        if not txn.get("succeeded") or ttl <= 0:
            return LeaseAnswer(None, self.token, 0, False, "the lease was no longer ours")
        new = int(txn["header"]["revision"])
        self.lease_id, self.token, self.partition = None, 0, ()
        return LeaseAnswer(to, new, ttl * 1000, False,
                           f"{self.node} handed the lease to {to} with token {new}")

    def _release(self, token: int) -> None:
        if self.lease_id is not None and token == self.token:
            self._post("/lease/revoke", {"ID": self.lease_id})
        self.lease_id, self.token, self.partition = None, 0, ()


def _b64(text: str) -> str:
    import base64

    return base64.b64encode(text.encode()).decode()


def _unb64(text: str) -> str:
    import base64

    return base64.b64decode(text).decode() if text else ""


__all__ = ["EtcdBackend", "lease_key"]
