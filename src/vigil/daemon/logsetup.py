"""Where the daemon's log lines go, as ``logfile``, ``debugfile`` and ``logfacility`` say.

As Heartbeat: ``logfile`` gets every message but debug ones, ``debugfile``
gets everything, ``logfacility`` sends the same as ``logfile`` to syslog.
Standard error always gets the log too (``vigil daemon`` runs in the
foreground; under systemd that is the journal).

One event per line: a short sentence then ``key=value`` fields, built with
``kv`` so that every line can be grepped and split the same way::

    log.warning(kv("peer dead", node="node2", link="eth1", last_heard_ms=3012))
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import time
from pathlib import Path
from typing import TextIO

from vigil.config import Logging

LOGGER_NAME = "vigil"
_LEVEL_WORDS = {"WARNING": "WARN", "CRITICAL": "CRIT"}


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
    """``2024-05-01T12:00:00.123 node1 vigil[42]: WARN: peer dead node=node2``."""

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
            return head + msg
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(record.created))
        return f"{stamp}.{int(record.msecs):03d} {head}{msg}"


class LogSetup:
    """The handlers the daemon installed; ``apply`` again on reload replaces them."""

    def __init__(self, node: str, stream: TextIO | None = None) -> None:
        self.node = node
        self._stream: TextIO = stream if stream is not None else sys.stderr
        self._handlers: list[logging.Handler] = []
        self.logger = logging.getLogger(LOGGER_NAME)

    def apply(self, cfg: Logging) -> list[str]:
        """Install handlers for CFG; return problems (a file or syslog that failed)."""
        problems: list[str] = []
        handlers: list[logging.Handler] = []
        stderr = logging.StreamHandler(self._stream)
        stderr.setLevel(logging.DEBUG if cfg.debug > 0 else logging.INFO)
        stderr.setFormatter(_LineFormatter(self.node, with_time=True))
        handlers.append(stderr)
        for path, level in ((cfg.logfile, logging.INFO), (cfg.debugfile, logging.DEBUG)):
            if path is None:
                continue
            try:
                handlers.append(_file_handler(path, level, self.node))
            except OSError as e:
                problems.append(kv("cannot open log file", file=path, error=e.strerror))
        if cfg.logfacility:
            handler, problem = _syslog_handler(cfg.logfacility, self.node)
            if handler is not None:
                handlers.append(handler)
            if problem:
                problems.append(problem)
        wants_debug = cfg.debug > 0 or cfg.debugfile is not None
        for old in self._handlers:
            self.logger.removeHandler(old)
            old.close()
        for new in handlers:
            self.logger.addHandler(new)
        self._handlers = handlers
        self.logger.setLevel(logging.DEBUG if wants_debug else logging.INFO)
        self.logger.propagate = False
        return problems

    def close(self) -> None:
        for old in self._handlers:
            self.logger.removeHandler(old)
            old.close()
        self._handlers = []


def _file_handler(path: Path, level: int, node: str) -> logging.Handler:
    path.parent.mkdir(parents=True, exist_ok=True)
    # WatchedFileHandler reopens the file after logrotate moved it, as Heartbeat's
    # logd did on SIGHUP; no copytruncate needed.
    handler = logging.handlers.WatchedFileHandler(path, encoding="utf-8")
    os.chmod(path, 0o640)
    handler.setLevel(level)
    handler.setFormatter(_LineFormatter(node, with_time=True))
    return handler


def _syslog_handler(facility: str, node: str) -> tuple[logging.Handler | None, str | None]:
    code = logging.handlers.SysLogHandler.facility_names.get(facility.lower())
    if code is None:
        return None, kv("unknown syslog facility, not logging to syslog", facility=facility)
    if not os.path.exists("/dev/log"):
        return None, kv("no syslog socket, not logging to syslog", socket="/dev/log")
    try:
        handler = logging.handlers.SysLogHandler(address="/dev/log", facility=code)
    except OSError as e:
        return None, kv("cannot connect to syslog", socket="/dev/log", error=e.strerror)
    handler.setLevel(logging.INFO)
    handler.setFormatter(_LineFormatter(node, with_time=False))
    return handler, None
