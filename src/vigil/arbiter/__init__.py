"""The arbitrator: a lease service for a third machine, its state file, and the client.

Other packages import from here only. ``Arbiter`` is the pure decision maker;
``serve`` runs it on UDP (``vigil arbiter``); the daemon uses ``ArbiterClient``
to acquire, renew and release the cluster's lease and its fencing token.
The etcd backend is not written yet.
"""

from __future__ import annotations

from vigil.arbiter.client import ArbiterClient, ArbiterUnreachableError, Lease
from vigil.arbiter.lease import (
    ACQUIRE,
    ARBITER_NAME,
    GRANTED,
    REFUSED,
    RELEASE,
    RELEASED,
    RENEW,
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
    "REFUSED",
    "RELEASE",
    "RELEASED",
    "RENEW",
    "Arbiter",
    "ArbiterClient",
    "ArbiterUnreachableError",
    "Effect",
    "Lease",
    "LeaseRecord",
    "Persist",
    "Reply",
    "StateFileError",
    "load_record",
    "save_record",
    "serve",
]
