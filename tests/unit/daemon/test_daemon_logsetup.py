"""Log lines go where ha.cf says, one greppable event per line."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

from vigil.config import Logging
from vigil.daemon.logsetup import LOGGER_NAME, LogSetup, kv


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"node": "node2", "link": "eth1", "last_heard_ms": 3012},
         "peer dead node=node2 link=eth1 last_heard_ms=3012"),
        ({"error": "no such file"}, 'peer dead error="no such file"'),
        ({"detail": 'say "hi"'}, 'peer dead detail="say \\"hi\\""'),
        ({"a": None, "b": True, "c": ""}, 'peer dead a=- b=yes c=""'),
        ({"x": "a=b"}, 'peer dead x="a=b"'),
        ({"x": "two\nlines"}, 'peer dead x="two\\nlines"'),
    ],
)
def test_fields_are_quoted_so_every_line_splits_the_same_way(
    fields: dict[str, object], expected: str
) -> None:
    assert kv("peer dead", **fields) == expected


def test_logfile_gets_all_but_debug_and_debugfile_gets_everything(tmp_path: Path) -> None:
    stderr = io.StringIO()
    setup = LogSetup("node1", stderr)
    problems = setup.apply(Logging(logfile=tmp_path / "ha-log", debugfile=tmp_path / "ha-debug"))
    log = logging.getLogger(f"{LOGGER_NAME}.membership")
    try:
        assert problems == []
        log.debug(kv("heartbeat sent", seq=1))
        log.warning(kv("peer late", node="node2", last_heard_ms=1200))
    finally:
        setup.close()
    logfile = (tmp_path / "ha-log").read_text()
    debugfile = (tmp_path / "ha-debug").read_text()
    assert "heartbeat sent" not in logfile
    assert "node1 vigil[" in logfile
    assert "]: WARN: peer late node=node2 last_heard_ms=1200" in logfile
    assert "DEBUG: heartbeat sent seq=1" in debugfile
    assert "peer late" in debugfile
    assert "heartbeat sent" not in stderr.getvalue()
    assert "peer late" in stderr.getvalue()
    assert len(logfile.splitlines()) == 1


def test_unwritable_logfile_is_reported_and_logging_goes_on(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    stderr = io.StringIO()
    setup = LogSetup("node1", stderr)
    try:
        problems = setup.apply(Logging(logfile=blocker / "sub" / "ha-log", logfacility="nonsense"))
        logging.getLogger(LOGGER_NAME).info("still logging")
    finally:
        setup.close()
    assert any("cannot open log file" in p for p in problems)
    assert any("unknown syslog facility" in p for p in problems)
    assert "still logging" in stderr.getvalue()


def test_reload_moves_the_logfile_without_duplicating_lines(tmp_path: Path) -> None:
    setup = LogSetup("node1", io.StringIO())
    log = logging.getLogger(LOGGER_NAME)
    try:
        setup.apply(Logging(logfile=tmp_path / "one"))
        log.info("first")
        setup.apply(Logging(logfile=tmp_path / "two"))
        log.info("second")
    finally:
        setup.close()
    assert "second" not in (tmp_path / "one").read_text()
    assert (tmp_path / "two").read_text().count("second") == 1


def test_logrotate_by_rename_reopens_the_logfile_one_line_per_event(tmp_path: Path) -> None:
    logfile = tmp_path / "ha-log"
    setup = LogSetup("node1", io.StringIO())
    log = logging.getLogger(f"{LOGGER_NAME}.membership")
    try:
        assert setup.apply(Logging(logfile=logfile)) == []
        log.info(kv("peer dead", node="node2", reason="silent for\ndeadtime"))
        log.info(kv("view changed", members="node1"))
        logfile.rename(tmp_path / "ha-log.1")  # logrotate's default (create) mode
        log.info(kv("peer up", node="node2"))
        assert logfile.stat().st_mode & 0o777 == 0o640
    finally:
        setup.close()
    rotated = (tmp_path / "ha-log.1").read_text().splitlines()
    fresh = logfile.read_text().splitlines()
    assert [line.split(": INFO: ")[1] for line in rotated] == [
        'peer dead node=node2 reason="silent for\\ndeadtime"', "view changed members=node1"]
    assert [line.split(": INFO: ")[1] for line in fresh] == ["peer up node=node2"]


def test_sighup_reopen_creates_the_moved_logfile_at_once(tmp_path: Path) -> None:
    logfile = tmp_path / "ha-log"
    setup = LogSetup("node1", io.StringIO())
    try:
        setup.apply(Logging(logfile=logfile))
        logging.getLogger(LOGGER_NAME).info("before")
        logfile.rename(tmp_path / "ha-log.1")
        setup.reopen()  # what the daemon does on SIGHUP (logrotate's postrotate)
        assert logfile.read_text() == ""  # exists again, empty
        logging.getLogger(LOGGER_NAME).info("after")
    finally:
        setup.close()
    assert logfile.read_text().count("after") == 1
    assert "after" not in (tmp_path / "ha-log.1").read_text()


@pytest.mark.parametrize(
    ("debug", "shown"),
    [
        (0, ["info"]),
        (1, ["debug", "info"]),
        (3, ["detail", "debug", "info"]),  # Heartbeat's DEBUGDETAILS
        (4, ["packet", "detail", "debug", "info"]),  # Heartbeat's DEBUGPKT
    ],
)
def test_debug_level_shows_what_heartbeats_debug_level_showed(
    debug: int, shown: list[str]
) -> None:
    from vigil.daemon.logsetup import DETAIL, PACKET

    stderr = io.StringIO()
    setup = LogSetup("node1", stderr)
    log = logging.getLogger(LOGGER_NAME)
    try:
        setup.apply(Logging(debug=debug))
        log.log(PACKET, "packet")
        log.log(DETAIL, "detail")
        log.debug("debug")
        log.info("info")
    finally:
        setup.close()
    assert [line.rsplit(": ", 1)[1] for line in stderr.getvalue().splitlines()] == shown


def test_logfacility_sends_one_datagram_per_event_to_the_syslog_socket(tmp_path: Path) -> None:
    import os
    import socket

    path = tmp_path / "log"  # stands in for /dev/log
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(path))
    server.settimeout(2.0)
    setup = LogSetup("node1", io.StringIO(), syslog_socket=path)
    try:
        assert setup.apply(Logging(logfacility="local0")) == []
        logging.getLogger(LOGGER_NAME).warning(kv("peer dead", node="node2"))
        logging.getLogger(LOGGER_NAME).debug("not at debug 0")
        logging.getLogger(LOGGER_NAME).info(kv("view changed", members="node1"))
        first, second = server.recv(4096), server.recv(4096)
    finally:
        setup.close()
        server.close()
    pid = os.getpid()
    # <PRI> = facility local0 (16) * 8 + severity (warning 4, info 6)
    assert first == f"<132>vigil[{pid}]: WARN: peer dead node=node2\x00".encode()
    assert second == f"<134>vigil[{pid}]: INFO: view changed members=node1\x00".encode()


def test_missing_syslog_socket_is_reported_not_fatal(tmp_path: Path) -> None:
    setup = LogSetup("node1", io.StringIO(), syslog_socket=tmp_path / "no-log")
    try:
        problems = setup.apply(Logging(logfacility="daemon"))
    finally:
        setup.close()
    assert problems == [f"no syslog socket, not logging to syslog socket={tmp_path}/no-log"]
