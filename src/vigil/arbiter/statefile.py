"""The arbitrator's state file: the highest fencing token, its holder, the boot count.

Written atomically (temporary file, fsync, rename, fsync of the directory)
before any reply that depends on it leaves, so no crash can make the token
go back.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from vigil.arbiter.lease import LeaseRecord
from vigil.config import NodeName


class StateFileError(Exception):
    """The state file exists but cannot be trusted: refuse to start rather than
    risk handing out a token that was already used."""


def load_record(path: Path) -> LeaseRecord:
    """The record in PATH; an empty one when PATH does not exist yet."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return LeaseRecord()
    try:
        data = json.loads(text)
        token, boot = data["token"], data.get("boot", 0)
        holder = data.get("holder")
        partition = data.get("partition", [])
        if not (isinstance(token, int) and isinstance(boot, int) and token >= 0
                and (holder is None or isinstance(holder, str))
                and isinstance(partition, list)
                and all(isinstance(p, str) for p in partition)):
            raise ValueError("wrong field types")
    except (ValueError, KeyError, TypeError) as e:
        raise StateFileError(f"{path}: not an arbiter state file ({e})") from e
    return LeaseRecord(token, NodeName(holder) if holder else None,
                       tuple(NodeName(p) for p in partition), boot)


def save_record(path: Path, record: LeaseRecord) -> None:
    """Write RECORD to PATH durably."""
    body = json.dumps({"token": record.token, "holder": record.holder,
                       "partition": list(record.partition), "boot": record.boot})
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, body.encode() + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
