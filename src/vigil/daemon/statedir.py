"""The state directory: this node's incarnation number, persisted across starts.

As Heartbeat's ``hb_generation``: every start reads the last incarnation,
adds one and writes it back *before* the first heartbeat leaves, so peers can
tell a restarted node from a delayed packet of its previous life. The write is
atomic (temporary file, fsync, rename, fsync of the directory): a crash at any
moment leaves either the old number or the new one, never a torn file.

Files are named after the node (``NODE.incarnation``, ``NODE.lock``) so that
several daemons started with ``--node`` may share one directory; the lock
refuses a second daemon for the same node and directory.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from vigil.exitcodes import ExitCode, VigilError

DEFAULT_STATE_DIR = Path("/var/lib/vigil")


class StateDir:
    """One node's files in the state directory; ``acquire`` before use."""

    def __init__(self, path: Path, node: str) -> None:
        self.path = path
        self.node = node
        self._lock_fd: int | None = None

    @property
    def incarnation_file(self) -> Path:
        return self.path / f"{self.node}.incarnation"

    @property
    def lock_file(self) -> Path:
        return self.path / f"{self.node}.lock"

    def acquire(self) -> None:
        """Create the directory if needed and lock it for this node, or raise."""
        try:
            self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as e:
            raise VigilError(
                f"cannot use state directory {self.path}: {e.strerror}",
                hint="give a writable directory with --state-dir",
            ) from e
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            os.close(fd)
            raise VigilError(
                f"another vigil daemon for node {self.node} holds {self.lock_file}",
                code=ExitCode.FAILED,
                hint="stop it first, or give this one its own --state-dir",
            ) from e
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd = fd

    def release(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing drops the flock
            self._lock_fd = None

    def read_incarnation(self) -> int:
        """The last incarnation written, 0 when this node never started here."""
        try:
            text = self.incarnation_file.read_text(encoding="ascii")
        except FileNotFoundError:
            return 0
        except (OSError, UnicodeDecodeError) as e:
            raise VigilError(
                f"{self.incarnation_file}: cannot read the incarnation number: {e}",
                hint=_FIX_HINT,
            ) from e
        word = text.strip()
        if not word.isdigit():
            raise VigilError(
                f"{self.incarnation_file}:1: error: not an incarnation number: {word[:40]!r}",
                hint=_FIX_HINT,
            )
        return int(word)

    def next_incarnation(self) -> int:
        """Increment the stored incarnation, durably, and return the new value."""
        value = self.read_incarnation() + 1
        write_atomically(self.incarnation_file, f"{value}\n".encode("ascii"))
        return value


_FIX_HINT = (
    "write a number higher than any incarnation peers have seen into it "
    "(e.g. `date +%s`); deleting it restarts the count at 1"
)


def write_atomically(path: Path, content: bytes) -> None:
    """Replace PATH with CONTENT so that a crash leaves the old or the new file."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        view = memoryview(content)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(dir_fd)  # the rename itself must reach the disk
    finally:
        os.close(dir_fd)
