"""What a peer's runner does: start a two-node cluster holding the VIP on n1, then
stop or switch over on command. The crash is the same for every peer (topology).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path

from ..matrix import Fault, Profile
from ..topology import VIP, Lan


class PeerNotReadyError(Exception):
    """The peer cannot do this yet (vigil before its failover lands): not an error,
    its rows say "not ready" with this message. With ``fault_only`` only the rows
    of the fault being tried; otherwise every row of the peer."""

    def __init__(self, message: str, fault_only: bool = False) -> None:
        super().__init__(message)
        self.fault_only = fault_only


class StartError(Exception):
    """The cluster did not come up as it should: this trial fails, its logs are kept."""


def wait_for(check: Callable[[], bool], timeout_s: float, what: str,
             every_s: float = 0.05) -> None:
    """Poll CHECK until true; StartError naming WHAT after TIMEOUT_S."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise StartError(f"{what}: not within {timeout_s:.0f} s")
        time.sleep(every_s)


def log_has(path: Path, text: str) -> bool:
    try:
        return text in path.read_text(errors="replace")
    except FileNotFoundError:
        return False


def command_output(argv: list[str]) -> str:
    if shutil.which(argv[0]) is None and not Path(argv[0]).exists():
        return ""
    done = subprocess.run(argv, capture_output=True, text=True, timeout=15, check=False)
    return (done.stdout + done.stderr).strip()


def vip_on_n1_only(lan: Lan) -> bool:
    return lan.holders(VIP) == ["n1"]


class Peer(ABC):
    """One cluster product under test."""

    name: str

    @abstractmethod
    def missing(self) -> str | None:
        """Why it cannot run on this machine (not installed), or None."""

    @abstractmethod
    def version(self) -> str: ...

    def unsupported(self, fault: Fault, profile: Profile) -> str | None:
        """Why this peer has no such fault or timing ("—" in the table), or None."""
        return None

    def check(self, fault: Fault) -> None:  # noqa: B027 (most peers can do every fault)
        """Raise PeerNotReadyError if FAULT cannot be done yet (called before the trial)."""

    @abstractmethod
    def start(self, lan: Lan, profile: Profile, workdir: Path) -> None:
        """Start n1 and n2; return once n1 holds the VIP and n2 stands by."""

    @abstractmethod
    def stop(self, lan: Lan, node: str) -> None:
        """Stop NODE's daemon as an administrator would (SIGTERM); return at once."""

    def switchover(self, lan: Lan, node: str) -> None:
        """Move everything away from NODE as an administrator would; return at once."""
        raise PeerNotReadyError(f"{self.name} has no planned switchover", fault_only=True)
