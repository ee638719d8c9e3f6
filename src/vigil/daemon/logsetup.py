"""Where the daemon's log lines go, as ``logfile``, ``debugfile`` and ``logfacility`` say.

As Heartbeat: ``logfile`` gets every message but debug ones, ``debugfile``
gets everything, ``logfacility`` sends the same as ``logfile`` to syslog.
Standard error always gets the log too (``vigil daemon`` runs in the
foreground; under systemd that is the journal).

One event per line: a short sentence then ``key=value`` fields, built with
``kv`` so that every line can be grepped and split the same way::

    log.warning(kv("peer dead", node="node2", link="eth1", last_heard_ms=3012))

``debug N`` as Heartbeat's ``include/clplumbing/cl_log.h``: 0 no debug lines,
1 debug lines (``ANYDEBUG``), 2 and 3 details (``DEBUGDETAILS``, at level
``DETAIL``), 4 and more every packet (``DEBUGPKT``, at level ``PACKET``). A
``debugfile`` without ``debug`` still gets debug lines (level 1).

Files work with logrotate either way: moved away (the default ``create``
mode) they are reopened at the next line, as ``WatchedFileHandler``; and
``reopen()`` (the daemon calls it on SIGHUP, logrotate's ``postrotate``)
reopens them at once. No ``copytruncate`` needed.
"""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
import sys
import time
from pathlib import Path
from typing import TextIO

from vigil.config import Logging

LOGGER_NAME = "vigil"
#: Heartbeat's DEBUGDETAILS (debug 2-3) and DEBUGPKT (debug 4+), below logging.DEBUG.
DETAIL = logging.DEBUG - 1
PACKET = logging.DEBUG - 2
logging.addLevelName(DETAIL, "DETAIL")
logging.addLevelName(PACKET, "PACKET")
_LEVEL_WORDS = {"WARNING": "WARN", "CRITICAL": "CRIT", "DETAIL": "DEBUG", "PACKET": "DEBUG"}
#: Where syslog listens; a test puts its own socket there.
SYSLOG_SOCKET = Path("/dev/log")


def level_for_debug(debug: int) -> int:
    """The lowest level logged at ``debug DEBUG`` (Heartbeat's thresholds, see above)."""
    if debug >= 4:
        return PACKET
    if debug >= 2:
        return DETAIL
    return logging.DEBUG if debug >= 1 else logging.INFO


def kv(sentence: str, **fields: object) -> str:
    """``sentence k=v k2=v2``: values with spaces, quotes or ``=`` are quoted."""
    parts = [sentence]
    for key, value in fields.items():
        parts.append(f"{key}={_quote(value)}")
    return " ".join(parts)


def _quote(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    if text == "" or any(c in text for c in ' "=\t\n'):
        escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    return text


class _LineFormatter(logging.Formatter):
    """``2024-05-01T12:00:00.123 node1 vigil[42]: WARN: peer dead node=node2``.

    To syslog without time and node (``vigil[42]: WARN: ...``): syslog stamps
    both itself and reads ``vigil[42]`` as the tag.
    """

    def __init__(self, node: str, with_time: bool) -> None:
        super().__init__()
        self.node = node
        self.with_time = with_time

    def format(self, record: logging.LogRecord) -> str:
        level = _LEVEL_WORDS.get(record.levelname, record.levelname)
        msg = record.getMessage().replace("\n", "\\n")
        if record.exc_info:
            msg += " exception=" + _quote(self.formatException(record.exc_info))
        head = f"{self.node} vigil[{record.process}]: {level}: "
        if not self.with_time:
            return f"vigil[{record.process}]: {level}: {msg}"
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(record.created))
        return f"{stamp}.{int(record.msecs):03d} {head}{msg}"


class LogSetup:
    """The handlers the daemon installed; ``apply`` again on reload replaces them."""

    def __init__(self, node: str, stream: TextIO | None = None,
                 syslog_socket: Path = SYSLOG_SOCKET) -> None:
        self.node = node
        self.syslog_socket = syslog_socket
        self._stream: TextIO = stream if stream is not None else sys.stderr
        self._handlers: list[logging.Handler] = []
        self.logger = logging.getLogger(LOGGER_NAME)

    def apply(self, cfg: Logging) -> list[str]:
        """Install handlers for CFG; return problems (a file or syslog that failed)."""
        problems: list[str] = []
        handlers: list[logging.Handler] = []
        stderr = logging.StreamHandler(self._stream)
        lowest = level_for_debug(max(cfg.debug, 1 if cfg.debugfile is not None else 0))
        stderr.setLevel(level_for_debug(cfg.debug))
        stderr.setFormatter(_LineFormatter(self.node, with_time=True))
        handlers.append(stderr)
        for path, level in ((cfg.logfile, logging.INFO), (cfg.debugfile, lowest)):
            if path is None:
                continue
            try:
                handlers.append(_file_handler(path, level, self.node))
            except OSError as e:
                problems.append(kv("cannot open log file", file=path, error=e.strerror))
        if cfg.logfacility:
            handler, problem = _syslog_handler(cfg.logfacility, self.node, self.syslog_socket)
            if handler is not None:
                handlers.append(handler)
            if problem:
                problems.append(problem)
        for old in self._handlers:
            self.logger.removeHandler(old)
            old.close()
        for new in handlers:
            self.logger.addHandler(new)
        self._handlers = handlers
        self.logger.setLevel(lowest)
        self.logger.propagate = False
        return problems

    def reopen(self) -> None:
        """Reopen every log file now (SIGHUP, after logrotate moved them)."""
        for handler in self._handlers:
            if isinstance(handler, _LogFile):
                handler.reopen()

    def close(self) -> None:
        for old in self._handlers:
            self.logger.removeHandler(old)
            old.close()
        self._handlers = []


class _LogFile(logging.handlers.WatchedFileHandler):
    """A log file reopened when moved away (checked at each line) or on ``reopen()``."""

    def _open(self) -> io.TextIOWrapper:
        stream = super()._open()
        os.chmod(self.baseFilename, 0o640)  # a new file after rotation: not world-readable
        return stream

    def reopen(self) -> None:
        with self.lock:  # type: ignore[union-attr]  # always set by Handler.__init__
            if self.stream is not None:
                self.stream.flush()
                self.stream.close()
            self.stream = self._open()
            self._statstream()


def _file_handler(path: Path, level: int, node: str) -> logging.Handler:
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = _LogFile(path, encoding="utf-8")
    handler.setLevel(level)
    handler.setFormatter(_LineFormatter(node, with_time=True))
    return handler


def _syslog_handler(facility: str, node: str,
                    socket: Path) -> tuple[logging.Handler | None, str | None]:
    code = logging.handlers.SysLogHandler.facility_names.get(facility.lower())
    if code is None:
        return None, kv("unknown syslog facility, not logging to syslog", facility=facility)
    if not socket.exists():
        return None, kv("no syslog socket, not logging to syslog", socket=socket)
    try:
        # A datagram per line; the handler reconnects by itself when syslog restarts.
        handler = logging.handlers.SysLogHandler(address=str(socket), facility=code)
    except OSError as e:
        return None, kv("cannot connect to syslog", socket=socket, error=e.strerror)
    handler.setLevel(logging.INFO)
    handler.setFormatter(_LineFormatter(node, with_time=False))
    return handler, None
