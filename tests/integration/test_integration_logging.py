"""The log file through a failover: every event once, at info, a sentence then key=value.

Three daemons on loopback share one `logfile` (each line names its node, as
Heartbeat's did), with examples/native/loopback-3node.toml's groups; node1,
running web-group, is killed with SIGKILL and node2 takes the group over.
"""

from __future__ import annotations

import re
import signal
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from loopback_cluster import LoopbackCluster, config_text

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "native" / "loopback-3node.toml"
LINE = re.compile(r"^\S+ (?P<node>\S+) vigil\[\d+\]: (?P<level>[A-Z]+): (?P<text>.*)$")


@pytest.fixture
def logged(make_cluster: Callable[..., LoopbackCluster]) -> tuple[LoopbackCluster, Path]:
    c = make_cluster(3)
    logfile = c.dir / "ha-log"
    example = EXAMPLE.read_text()
    text = config_text(c.names, c.hosts, c.port, keepalive_ms=c.keepalive_ms,
                       deadtime_ms=c.deadtime_ms,
                       extra=f'[logging]\nlogfile = "{logfile}"\n\n'
                       + example[example.index("[[resource]]"):])
    c.write_config(text=text.replace('name = "itest"', 'name = "itest"\nauto_failback = "on"'))
    c.start()
    c.wait_until("3 nodes agree", lambda: c.agreed(c.names))
    c.wait_until("web-group on node1", lambda: where(c) == {"vip": "node1", "web": "node1",
                                                            "db": "node2"})
    return c, logfile


def where(c: LoopbackCluster) -> dict[str, str | None]:
    return {r["id"]: r["node"] if r["state"] == "running" else None
            for r in c["node3"].status()["resources"]}


def lines_of(logfile: Path, node: str, after: int = 0) -> list[tuple[str, str]]:
    """(level, text) of NODE's lines, from line AFTER of the file on."""
    out = []
    for raw in logfile.read_text().splitlines()[after:]:
        m = LINE.match(raw)
        assert m is not None, f"not a log line: {raw!r}"
        if m["node"] == node:
            out.append((m["level"], m["text"]))
    return out


def one(lines: list[tuple[str, str]], pattern: str) -> tuple[str, str]:
    found = [(lvl, t) for lvl, t in lines if re.search(pattern, t)]
    assert len(found) == 1, f"{pattern!r}: {len(found)} lines\n" + \
        "\n".join(f"{lvl}: {t}" for lvl, t in lines)
    return found[0]


def test_failover_logs_each_membership_quorum_decision_operation_and_fence_line_once(
        logged: tuple[LoopbackCluster, Path]) -> None:
    c, logfile = logged
    before = len(logfile.read_text().splitlines())
    c["node1"].signal(signal.SIGKILL)
    c.wait_until("web-group on node2", lambda: where(c) == {"vip": "node2", "web": "node2",
                                                            "db": "node2"})
    c.wait_until("node2's last start logged", lambda: any(
        "operation ok resource=web action=start" in t for _, t in lines_of(logfile, "node2")))
    for node in ("node2", "node3"):
        lines = lines_of(logfile, node, before)
        # membership: the peer, the view, the DC; quorum: votes 3 -> 2, still quorate
        assert one(lines, r"^peer dead node=node1 .*cause=deadtime")[0] == "WARN"
        assert one(lines, r"^view changed members=node2/1,node3/1 stable=yes")[0] == "INFO"
        assert one(lines, r"^DC changed dc=node2 ")[0] == "INFO"
        assert one(lines, r"^quorum votes=2 needed=2 expected=3 .*reason=")[0] == "INFO"
        assert not [t for lvl, t in lines if "kind=quorum" in t and lvl != "DEBUG"]
        # nothing said twice
        said = Counter(t for lvl, t in lines if lvl != "DEBUG")
        assert [t for t, n in said.items() if n > 1] == []
    dc = lines_of(logfile, "node2", before)
    # the DC's placement decisions, each with its reason
    for rid in ("vip", "web"):
        level, text = one(dc, rf"^Start {rid} on node2: .*kind=decision resource={rid}$")
        assert level == "INFO"
        assert "preferred node node1 is offline" in text
    # each operation once, with rc and duration
    for rid in ("vip", "web"):
        level, text = one(dc, rf"^operation ok resource={rid} action=start ")
        assert level == "INFO"
        assert re.search(r" rc=0 .*duration_ms=\d+ ", text), text
    # the fence decision (none configured: counted as stopped after deadtime)
    level, text = one(dc, r"^node1 left the view while running vip, web: .*kind=fence")
    assert level == "INFO"
    assert one(dc, r"^transition \d+: 2 action\(s\)")[0] == "INFO"
