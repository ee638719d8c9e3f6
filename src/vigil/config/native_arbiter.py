"""``[arbiter]`` of a native ``vigil.toml``: the lease service that breaks ties.

Rules of this file: every problem is reported at its line, nothing raises; the
figures that depend on the resources (is the TTL long enough?) are checked
after the whole file is read, in ``arbiter_checks``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from vigil.config.model import Arbiter, ArbiterBackend, SourceRef
from vigil.config.native_fields import Table, parse_endpoint
from vigil.config.native_schema import ARBITER_KEYS, DEFAULT_LEASE_TTL_MS

__all__ = ["read_arbiter"]

ADDRESS_HINT = 'address = "10.0.0.9:6950" (where `vigil arbiter --listen` runs)'
ENDPOINTS_HINT = 'endpoints = ["http://10.0.0.9:2379"] (etcd client URLs)'


def read_arbiter(top: Table) -> Arbiter | None:
    """The ``[arbiter]`` table, or None when there is none (or it is wrong)."""
    t = top.table("arbiter", "[arbiter]", ARBITER_KEYS)
    if t is None:
        return None
    word = t.string("backend", required=True, choices=[b.value for b in ArbiterBackend],
                    hint='backend = "vigil" or "etcd"')
    ttl = t.duration("lease_ttl", DEFAULT_LEASE_TTL_MS, minimum=1)
    raw_address = t.string("address")
    endpoints = t.str_list("endpoints", allow_string=True)
    t.done()
    if word is None:
        return None
    backend = ArbiterBackend(word)
    address = None
    if backend is ArbiterBackend.VIGIL:
        if raw_address is None:
            t.error(None, "[arbiter]: the vigil backend needs an address", ADDRESS_HINT)
            return None
        try:
            address = parse_endpoint(raw_address)
        except ValueError as e:
            t.error("address", f"[arbiter]: {e}", ADDRESS_HINT)
            return None
        if address.port is None:
            t.error("address", f"[arbiter]: address {raw_address!r} has no port",
                    ADDRESS_HINT)
            return None
        if endpoints is not None:
            t.error("endpoints", "[arbiter]: endpoints are for the etcd backend",
                    "give the vigil arbiter's address instead, or backend = \"etcd\"")
            return None
    else:
        if not endpoints:
            t.error(None, "[arbiter]: the etcd backend needs endpoints", ENDPOINTS_HINT)
            return None
        if raw_address is not None:
            t.error("address", "[arbiter]: address is for the vigil backend",
                    "give etcd's client URLs as endpoints instead")
            return None
        for url in endpoints:
            parts = urlsplit(url)
            if parts.scheme != "http" or not parts.hostname or parts.port is None:
                hint = ("TLS to etcd is not supported yet: use http:// on a trusted network"
                        if parts.scheme == "https" else ENDPOINTS_HINT)
                t.error("endpoints", f"[arbiter]: endpoint {url!r} is not http://HOST:PORT",
                        hint)
                return None
    # The source is the line of lease_ttl when written: that is where a too short one is fixed.
    line = t.line("lease_ttl") if t.has("lease_ttl") else t.line()
    return Arbiter(backend, ttl, address, tuple(endpoints or ()), SourceRef(t.reader.file, line))
