"""Who may use the control socket: root, and the users and groups ``apiauth`` names.

As Heartbeat's ``apiauth CLIENT uid=... gid=...`` let named users talk to its
API, an ``apiauth`` entry here lets those users and members of those groups use
the control socket (every command: Heartbeat's API clients could act too).
Without ``apiauth`` the socket is mode 0600 and only its owner (root) gets in.
With it, the socket is mode 0666 and every connection is checked against the
peer's credentials (SO_PEERCRED, which the kernel fills in: a client cannot lie
about it), and refused with a clear answer when not allowed.
"""

from __future__ import annotations

import grp
import os
import pwd
import socket
import struct
from dataclasses import dataclass
from pathlib import Path

from vigil.config import ApiAuth

_UCRED = struct.Struct("3i")  # pid, uid, gid


@dataclass(frozen=True, slots=True)
class Peer:
    """A connected client, as the kernel saw it connect."""

    pid: int
    uid: int
    gid: int
    groups: frozenset[int]


@dataclass(frozen=True, slots=True)
class ApiAccess:
    """The uids and gids allowed besides root; ``problems`` names unknown users/groups."""

    uids: frozenset[int]
    gids: frozenset[int]
    problems: tuple[str, ...] = ()

    @property
    def open_to_others(self) -> bool:
        return bool(self.uids or self.gids)

    @property
    def socket_mode(self) -> int:
        return 0o666 if self.open_to_others else 0o600

    @classmethod
    def from_config(cls, entries: tuple[ApiAuth, ...]) -> ApiAccess:
        uids: set[int] = set()
        gids: set[int] = set()
        problems: list[str] = []
        for entry in entries:
            for name in entry.uids:
                try:
                    uids.add(int(name) if name.isdigit() else pwd.getpwnam(name).pw_uid)
                except KeyError:
                    problems.append(f"apiauth {entry.client}: no user {name!r} on this node")
            for name in entry.gids:
                try:
                    gids.add(int(name) if name.isdigit() else grp.getgrnam(name).gr_gid)
                except KeyError:
                    problems.append(f"apiauth {entry.client}: no group {name!r} on this node")
        return cls(frozenset(uids), frozenset(gids), tuple(problems))

    def allows(self, peer: Peer) -> bool:
        if peer.uid in (0, os.geteuid()) or peer.uid in self.uids:
            return True
        return bool(({peer.gid} | peer.groups) & self.gids)


def peer_of(sock: socket.socket) -> Peer:
    """The credentials of the process at the other end of a Unix stream socket."""
    pid, uid, gid = _UCRED.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                  _UCRED.size))
    return Peer(pid, uid, gid, _groups(pid))


def _groups(pid: int) -> frozenset[int]:
    """The peer's supplementary groups, from /proc (empty when it is already gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Groups:"):
                return frozenset(int(g) for g in line.split()[1:])
    except (OSError, ValueError):
        pass
    return frozenset()
