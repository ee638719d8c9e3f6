"""The arbitrator: a lease service for a third machine, its state file, and the client.

Other packages import from here only. ``Arbiter`` is the pure decision maker;
``serve`` runs it on UDP (``vigil arbiter``); the daemon uses ``ArbiterClient``
to acquire, renew and release the cluster's lease and its fencing token.
``VigilBackend`` and ``EtcdBackend`` put the two lease services behind one
interface (``LeaseBackend``) for the daemon's arbitrator runner.
"""

from __future__ import annotations

from vigil.arbiter.backend import LeaseAnswer, LeaseBackend, LeaseUnreachableError, VigilBackend
from vigil.arbiter.client import ArbiterClient, ArbiterUnreachableError, Lease
from vigil.arbiter.etcd import EtcdBackend, lease_key
from vigil.arbiter.lease import (
    ACQUIRE,
    ARBITER_NAME,
    GRANTED,
    QUERY,
    REFUSED,
    RELEASE,
    RELEASED,
    RENEW,
    STATE,
    TRANSFER,
    Arbiter,
    Effect,
    LeaseRecord,
    Persist,
    Reply,
)
from vigil.arbiter.server import serve
from vigil.arbiter.statefile import StateFileError, load_record, save_record

__all__ = [
    "ACQUIRE",
    "ARBITER_NAME",
    "GRANTED",
    "QUERY",
    "REFUSED",
    "RELEASE",
    "RELEASED",
    "RENEW",
    "STATE",
    "TRANSFER",
    "Arbiter",
    "ArbiterClient",
    "ArbiterUnreachableError",
    "Effect",
    "EtcdBackend",
    "Lease",
    "LeaseAnswer",
    "LeaseBackend",
    "LeaseRecord",
    "LeaseUnreachableError",
    "Persist",
    "Reply",
    "StateFileError",
    "VigilBackend",
    "lease_key",
    "load_record",
    "save_record",
    "serve",
]
