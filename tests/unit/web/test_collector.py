"""/metrics rendering: heartbeat gaps fall in the right buckets; states become one-hot series."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from vigil.daemon.arrivals import HeartbeatArrivals, heartbeat_bounds_ms
from vigil.web import MetricsCollector


def samples(collector: MetricsCollector) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    text = generate_latest(registry).decode()
    return {(s.name, frozenset(s.labels.items())): s.value
            for f in text_string_to_metric_families(text) for s in f.samples}


def doc(**fields: Any) -> dict[str, Any]:
    return {"node": "node1", "quorate": True, "dc": "node1",
            "nodes": [{"name": "node2", "state": "dead", "last_heard_ms": 2500,
                       "incarnation": 3, "links": [{"name": "eth0", "state": "dead",
                                                    "last_heard_ms": 2500}]}],
            "drops": {"by_reason": {"garbage": 2, "replayed": 0}}, **fields}


def test_heartbeat_gaps_land_in_keepalive_buckets_with_prometheus_le_semantics() -> None:
    arrivals = HeartbeatArrivals(100)
    assert heartbeat_bounds_ms(100) == (25, 50, 75, 100, 125, 150, 200, 300, 500, 1000)
    for at in (0, 100, 200, 350, 2000):  # gaps 100 (on a bound), 100, 150, 1650
        arrivals.observe("node2", "eth0", at)
    s = samples(MetricsCollector(doc, arrivals))
    bucket = "vigil_heartbeat_interarrival_seconds_bucket"
    labels = {("node", "node2"), ("link", "eth0")}
    assert s[(bucket, frozenset(labels | {("le", "0.075")}))] == 0
    assert s[(bucket, frozenset(labels | {("le", "0.1")}))] == 2
    assert s[(bucket, frozenset(labels | {("le", "0.15")}))] == 3
    assert s[(bucket, frozenset(labels | {("le", "1.0")}))] == 3
    assert s[(bucket, frozenset(labels | {("le", "+Inf")}))] == 4
    assert s[("vigil_heartbeat_interarrival_seconds_sum", frozenset(labels))] == 2.0


def test_a_dead_peer_is_down_with_its_state_and_drops_are_counted_by_reason() -> None:
    s = samples(MetricsCollector(doc))
    assert s[("vigil_node_up", frozenset({("node", "node2")}))] == 0
    assert s[("vigil_node_state", frozenset({("node", "node2"), ("state", "dead")}))] == 1
    assert s[("vigil_node_state", frozenset({("node", "node2"), ("state", "up")}))] == 0
    assert s[("vigil_node_last_heard_seconds", frozenset({("node", "node2")}))] == 2.5
    assert s[("vigil_link_up", frozenset({("node", "node2"), ("link", "eth0")}))] == 0
    assert s[("vigil_dropped_packets_total", frozenset({("reason", "garbage")}))] == 2
    assert s[("vigil_is_dc", frozenset())] == 1


def test_operations_and_fences_are_counted_as_they_finish() -> None:
    collector = MetricsCollector(lambda: doc(resources=[
        {"id": "vip", "group": None, "nodes": ["node1"], "state": "failed", "failcount": 2}]))
    collector.operation_finished("vigil:dummy", "monitor", 0, 7)  # a probe
    collector.operation_finished("vigil:dummy", "start", 0, 40)
    collector.fence_finished(succeeded=False)
    s = samples(collector)
    probe = frozenset({("agent", "vigil:dummy"), ("action", "probe")})
    assert s[("vigil_operation_duration_seconds_count", probe)] == 1
    assert s[("vigil_fence_operations_total", frozenset({("result", "failure")}))] == 1
    assert s[("vigil_resource_state", frozenset(
        {("resource", "vip"), ("group", ""), ("state", "failed")}))] == 1
    assert s[("vigil_resource_failcount", frozenset({("resource", "vip")}))] == 2


def test_the_arbitrators_vote_lease_and_token_are_exported_only_when_configured() -> None:
    assert not [k for k in samples(MetricsCollector(doc)) if k[0].startswith("vigil_arbiter")]
    arbiter = {"backend": "vigil", "holder": "node1", "token": 7, "held_here": True,
               "vote": True, "reachable": True, "lease_expires_in_ms": 1_500,
               "requests": 12, "failures": 2}
    s = samples(MetricsCollector(lambda: doc(arbiter=arbiter)))
    none: frozenset[tuple[str, str]] = frozenset()
    assert {k[0]: v for k, v in s.items() if k[0].startswith("vigil_arbiter") and k[1] == none} \
        == {"vigil_arbiter_vote": 1, "vigil_arbiter_lease_held": 1, "vigil_arbiter_reachable": 1,
            "vigil_arbiter_token": 7, "vigil_arbiter_lease_expires_seconds": 1.5,
            "vigil_arbiter_requests_total": 12, "vigil_arbiter_failures_total": 2}
