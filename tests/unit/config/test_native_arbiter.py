"""``[arbiter]``: read, refused at its line when its lease cannot cover the stops, and the
two-node warning when nothing breaks a split's tie."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.config import (
    Arbiter,
    ArbiterBackend,
    Endpoint,
    Severity,
    load,
    longest_exclusive_stop,
)

BASE = """\
[cluster]
name = "pair"

[timing]
keepalive = "100ms"
deadtime = "1s"

[[node]]
name = "node1"

[[node]]
name = "node2"

[[link]]
name = "ring0"
kind = "ucast"
addresses = { node1 = "127.0.0.1", node2 = "127.0.0.2" }

[auth]
[[auth.key]]
secret = "0123456789abcdef0123456789abcdef"

[[resource]]
id = "vip"
agent = "vigil:dummy"
op = [{ name = "stop", timeout = "4s" }]

[[resource]]
id = "app"
agent = "vigil:dummy"
op = [{ name = "stop", timeout = "6s" }]

[[resource]]
id = "cache"
agent = "vigil:dummy"
exclusive = false
op = [{ name = "stop", timeout = "40s" }]

[[group]]
id = "web"
resources = ["vip", "app", "cache"]
"""
ARBITER_LINE = BASE.count("\n") + 1  # the first line of the appended table


def write(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "vigil.toml"
    path.write_text(BASE + extra)
    path.chmod(0o600)
    return path


def messages(tmp_path: Path, extra: str, severity: Severity) -> list[tuple[int | None, str]]:
    result = load(write(tmp_path, extra))
    return [(d.line, d.message) for d in result.diagnostics if d.severity is severity]


def test_vigil_and_etcd_arbiters_are_read_with_their_ttl(tmp_path: Path) -> None:
    result = load(write(tmp_path, '[arbiter]\nbackend = "vigil"\naddress = "10.0.0.9:6950"\n'
                                  'lease_ttl = "11s"\n'))
    assert result.config is not None
    assert result.config.arbiter == Arbiter(ArbiterBackend.VIGIL, 11_000,
                                            Endpoint("10.0.0.9", 6950))
    result = load(write(tmp_path, '[arbiter]\nbackend = "etcd"\nlease_ttl = "12s"\n'
                                  'endpoints = ["http://10.0.0.9:2379", "http://10.0.0.8:2379"]\n'))
    assert result.config is not None
    assert result.config.arbiter == Arbiter(ArbiterBackend.ETCD, 12_000, None, (
        "http://10.0.0.9:2379", "http://10.0.0.8:2379"))


def test_the_longest_stop_is_a_groups_exclusive_members_in_a_row(tmp_path: Path) -> None:
    result = load(write(tmp_path, ""))
    assert result.config is not None
    # vip 4 s + app 6 s; cache is not exclusive: two copies of it harm nobody.
    assert longest_exclusive_stop(result.config) == (10_000, "group web's stops")


def test_lease_ttl_not_longer_than_the_stops_plus_margin_is_refused_at_its_line(
        tmp_path: Path) -> None:
    extra = '[arbiter]\nbackend = "vigil"\naddress = "10.0.0.9:6950"\nlease_ttl = "10500ms"\n'
    result = load(write(tmp_path, extra))
    assert result.config is None
    [error] = [d for d in result.diagnostics if d.is_error]
    assert error.line == ARBITER_LINE + 3
    assert error.message == (
        "[arbiter]: lease_ttl 10500 ms is not longer than group web's stops (10000 ms) plus "
        "the 500 ms margin: a lease holder cut off from the arbitrator could still be "
        "stopping it when the lease is granted to the other side")
    assert error.hint == "raise lease_ttl to at least 11s, or lower the stop timeouts of group web"
    # One millisecond more is enough.
    assert load(write(tmp_path, extra.replace("10500ms", "10501ms"))).ok


def test_the_default_ttl_must_also_cover_the_stops(tmp_path: Path) -> None:
    extra = ('[arbiter]\nbackend = "vigil"\naddress = "10.0.0.9:6950"\n'
             '[[resource]]\nid = "db"\nagent = "vigil:dummy"\n'
             'op = [{ name = "stop", timeout = "30s" }]\n')
    [(line, message)] = messages(tmp_path, extra, Severity.ERROR)
    assert line == ARBITER_LINE  # no lease_ttl written: the table's line
    assert message.startswith("[arbiter]: lease_ttl 30000 ms is not longer than resource db's")


@pytest.mark.parametrize(("extra", "line", "says"), [
    ('[arbiter]\nbackend = "vigil"\n', 0, "the vigil backend needs an address"),
    ('[arbiter]\nbackend = "vigil"\naddress = "10.0.0.9"\n', 2, "has no port"),
    ('[arbiter]\nbackend = "etcd"\nlease_ttl = "10s"\n', 0, "the etcd backend needs endpoints"),
    ('[arbiter]\nbackend = "etcd"\nendpoints = ["https://e:2379"]\n', 2, "is not http://"),
    ('[arbiter]\nbackend = "etcd"\nendpoints = ["http://e:2379"]\nlease_ttl = "11500ms"\n',
     3, "etcd grants leases in whole seconds"),
    ('[arbiter]\nbackend = "zookeeper"\n', 1, "backend = 'zookeeper' is not one of"),
    ('[arbiter]\nbackend = "vigil"\naddress = "10.0.0.9:1"\nttl = "10s"\n', 3,
     "unknown key 'ttl'"),
])
def test_a_wrong_arbiter_table_is_refused_at_its_line(tmp_path: Path, extra: str, line: int,
                                                      says: str) -> None:
    errors = messages(tmp_path, extra, Severity.ERROR)
    assert any(at == ARBITER_LINE + line and says in message for at, message in errors), errors


def test_two_nodes_without_fencing_or_arbiter_are_warned_about(tmp_path: Path) -> None:
    warnings = messages(tmp_path, "", Severity.WARNING)
    assert [m for _, m in warnings if "split brain" in m] == [
        "a two-node cluster with neither fencing nor an arbitrator: when the link between the "
        "nodes fails, each side believes the other dead and both may run the same resources "
        "(split brain)"]
    warnings = messages(tmp_path, '[arbiter]\nbackend = "vigil"\naddress = "10.0.0.9:6950"\n'
                                  'lease_ttl = "11s"\n', Severity.WARNING)
    assert [m for _, m in warnings if "split brain" in m] == []
