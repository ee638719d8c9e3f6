"""vigil's exit codes: one documented list for every command (see ``vigil --help``).

An agent's own exit code is passed through by ``vigil agent exec``; these are
vigil's own.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    OK = 0
    FAILED = 1  # the operation failed, or the input is invalid
    USAGE = 2  # wrong command-line use
    NOT_FOUND = 3  # no such node, resource, agent or file
    NO_QUORUM = 4  # the cluster (or this partition) has no quorum
    UNSAFE = 5  # refused as unsafe without --force
    NOT_RUNNING = 6  # no daemon answers on the control socket
    TIMEOUT = 124  # as timeout(1): an operation ran past its timeout


class VigilError(Exception):
    """An error for a person: a message, a hint, and the exit code to leave with."""

    def __init__(self, message: str, code: ExitCode = ExitCode.FAILED, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.hint = hint
