"""Prometheus scrapes real daemons on loopback: what a monitoring user would see and alert on.

Each node serves /metrics on its own loopback address ([metrics] addresses);
the scrape is parsed with prometheus-client's own text parser, as Prometheus
would read it. The resources are examples/native/loopback-3node.toml's.
"""

from __future__ import annotations

import signal
import socket
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from loopback_cluster import LoopbackCluster, config_text, free_tcp_port
from prometheus_client.parser import text_string_to_metric_families

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "native" / "loopback-3node.toml"
TOKEN = "scrape-token-0123456789"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def metrics_cluster(make: Callable[..., LoopbackCluster], *, token: bool) -> LoopbackCluster:
    c = make(3)
    example = EXAMPLE.read_text()
    port = free_tcp_port([c.hosts[n] for n in c.names])
    c.metrics_port = port  # type: ignore[attr-defined]
    addresses = ", ".join(f'{n} = "{c.hosts[n]}:{port}"' for n in c.names)
    extra = f"[metrics]\naddresses = {{ {addresses} }}\n"
    if token:
        token_file = c.dir / "metrics.token"
        token_file.write_text(TOKEN + "\n")
        token_file.chmod(0o600)
        extra += f'token_file = "{token_file}"\n'
    extra += "\n" + example[example.index("[[resource]]"):]
    c.write_config(text=config_text(c.names, c.hosts, c.port, keepalive_ms=c.keepalive_ms,
                                    deadtime_ms=c.deadtime_ms, extra=extra))
    c.start()
    c.wait_until("3 nodes agree", lambda: c.agreed(c.names))
    return c


def fetch(c: LoopbackCluster, node: str, path: str = "/metrics",
          token: str | None = TOKEN) -> tuple[int, str]:
    url = f"http://{c.hosts[node]}:{c.metrics_port}{path}"  # type: ignore[attr-defined]
    req = urllib.request.Request(url)
    if token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=3) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def scrape(c: LoopbackCluster, node: str) -> Samples:
    status, text = fetch(c, node)
    assert status == 200, text
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def test_killed_node_goes_down_in_metrics_with_its_resources_moved_and_garbage_counted(
        make_cluster: Callable[..., LoopbackCluster]) -> None:
    c = metrics_cluster(make_cluster, token=True)
    c.wait_until("vip runs on node1", lambda: value(
        scrape(c, "node2"), "vigil_resource_active", resource="vip", node="node1") == 1)
    before = scrape(c, "node2")
    assert value(before, "vigil_node_up", node="node1") == 1
    assert value(before, "vigil_link_up", node="node1", link="lo") == 1
    assert value(before, "vigil_quorate") == 1
    assert value(before, "vigil_quorum_votes") == 3
    assert value(before, "vigil_dc", node="node1") == 1
    assert value(before, "vigil_resource_state", resource="vip", group="web-group",
                 state="running") == 1
    assert value(before, "vigil_resource_failcount", resource="vip") == 0
    # A gap needs two heartbeats; node2 may have learnt where vip runs from node1's
    # report with one heartbeat heard so far, so wait for the second.
    c.wait_until("node2 measured a gap between node1's heartbeats", lambda: (value(
        scrape(c, "node2"), "vigil_heartbeat_interarrival_seconds_count",
        node="node1", link="lo") or 0) > 0)

    # A datagram that is not vigil's, on node2's heartbeat port.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"GET / HTTP/1.0\r\n\r\n", (c.hosts["node2"], c.port))
    c["node1"].signal(signal.SIGKILL)

    def moved() -> bool:
        now = scrape(c, "node2")
        return (value(now, "vigil_node_up", node="node1") == 0
                and value(now, "vigil_resource_active", resource="vip", node="node1") is None
                and value(now, "vigil_resource_state", resource="vip", group="web-group",
                          state="running") == 1)
    c.wait_until("node1 down and vip running elsewhere, in node2's metrics", moved)
    after = scrape(c, "node2")
    assert value(after, "vigil_node_state", node="node1", state="dead") == 1
    assert value(after, "vigil_link_up", node="node1", link="lo") == 0
    heard = value(after, "vigil_node_last_heard_seconds", node="node1")
    assert heard is not None
    assert heard >= c.deadtime_ms / 1000
    assert value(after, "vigil_dropped_packets_total", reason="garbage") == 1
    assert value(after, "vigil_quorum_votes") == 2
    assert value(after, "vigil_quorate") == 1
    assert value(after, "vigil_dc", node="node2") == 1
    # The DC (node2) planned the failover; one of node2/node3 started vip.
    transitions = value(after, "vigil_transitions_total")
    assert transitions is not None
    assert transitions >= 1
    starts = sum(value(scrape(c, n), "vigil_operation_duration_seconds_count",
                       agent="vigil:dummy", action="start") or 0 for n in ("node2", "node3"))
    assert starts >= 1


def test_metrics_without_the_bearer_token_are_refused_but_health_answers(
        make_cluster: Callable[..., LoopbackCluster]) -> None:
    c = metrics_cluster(make_cluster, token=True)
    status, body = fetch(c, "node1", token=None)
    assert status == 401
    assert "vigil_" not in body
    assert fetch(c, "node1", token="wrong-token")[0] == 401
    assert fetch(c, "node1", "/healthz", token=None) == (200, "ok\n")
    assert fetch(c, "node1", "/nothing-here")[0] == 404
    assert value(scrape(c, "node1"), "vigil_node_up", node="node3") == 1

