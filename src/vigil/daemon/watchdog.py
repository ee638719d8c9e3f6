"""The hardware (or softdog) watchdog: opened at start, fed while healthy, closed with 'V'.

Linux's watchdog API (Documentation/watchdog/watchdog-api.rst): opening
/dev/watchdog arms it; any write feeds it; if nobody writes within its timeout
the machine resets. Writing the magic character 'V' just before close disarms
it (unless the driver was built with nowayout), so a clean shutdown does not
reset the node. Heartbeat fed it from its main loop; so do we, but only while
``vigil.coordinator.WatchdogGuard`` says this node is healthy, so that a hung daemon, or one
that lost quorum and could not stop its resources, resets itself.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
import struct
from pathlib import Path

MAGIC_CLOSE = b"V"
FEED = b"\0"
#: ``_IOWR('W', 6, int)``: set the timeout in seconds (the driver may round it).
WDIOC_SETTIMEOUT = 0xC0045706


class WatchdogError(OSError):
    """The watchdog device could not be opened or written."""


class Watchdog:
    """One open watchdog device. ``open`` arms it; ``feed`` keeps the node alive;
    ``close_cleanly`` disarms it; ``close`` leaves it armed (the node will reset)."""

    def __init__(self) -> None:
        self.path: Path | None = None
        self._fd: int | None = None
        self.feeds = 0

    @property
    def is_open(self) -> bool:
        return self._fd is not None

    def open(self, device: Path, timeout_s: int | None = None) -> None:
        """Open (and so arm) DEVICE; on a real watchdog set its timeout when given."""
        if self._fd is not None:
            raise WatchdogError(f"watchdog {self.path} is already open")
        try:
            fd = os.open(device, os.O_WRONLY | os.O_CLOEXEC)
        except OSError as e:
            raise WatchdogError(e.errno, f"cannot open watchdog {device}: {e.strerror} "
                                "(is softdog or a hardware watchdog driver loaded?)") from e
        self._fd, self.path = fd, device
        if timeout_s is not None and stat.S_ISCHR(os.fstat(fd).st_mode):
            try:
                fcntl.ioctl(fd, WDIOC_SETTIMEOUT, struct.pack("i", timeout_s))
            except OSError as e:
                self.close()
                raise WatchdogError(e.errno, f"watchdog {device} refused a timeout of "
                                    f"{timeout_s} s: {e.strerror}") from e

    def feed(self) -> None:
        """Tell the watchdog this node is alive."""
        self._write(FEED)
        self.feeds += 1

    def close_cleanly(self) -> None:
        """Disarm and close: write the magic 'V', then close (clean shutdown only)."""
        if self._fd is None:
            return
        try:
            self._write(MAGIC_CLOSE)
        finally:
            self.close()

    def close(self) -> None:
        """Close without disarming: the watchdog will reset the node at its timeout."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                os.close(fd)

    def _write(self, data: bytes) -> None:
        if self._fd is None:
            raise WatchdogError("the watchdog is not open")
        try:
            os.write(self._fd, data)
        except OSError as e:
            raise WatchdogError(e.errno, f"cannot write watchdog {self.path}: "
                                f"{e.strerror}") from e
