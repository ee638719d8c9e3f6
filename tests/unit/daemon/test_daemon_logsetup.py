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
