"""What ``/metrics`` shows: the daemon's state, read when Prometheus scrapes.

Rules of this file:
- Gauges come from the status document (``vigil status --json``), built at
  scrape time: the metrics and ``vigil status`` cannot disagree, and nothing
  is counted twice. Counters the document already holds (drops, datagrams
  sent and received) are read from it too.
- Only what needs a record of the past is observed as it happens: heartbeat
  gaps (``HeartbeatArrivals``, fed by the runtime), operation durations (fed
  by the executor's listener), fence results and coordinator events.
- Names follow Prometheus's conventions: ``vigil_`` prefix, base units in the
  name (``_seconds``), ``_total`` on counters; each is documented in
  docs/metrics.md, with example alert rules. Renaming one breaks users' alerts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from typing import Any

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    Metric,
)

from vigil.daemon.arrivals import OPERATION_BOUNDS_MS, Buckets, HeartbeatArrivals

__all__ = ["NODE_STATES", "RESOURCE_STATES", "MetricsCollector"]

#: Every state a node can be in (docs/status.md), each exported as its own series.
NODE_STATES = ("up", "late", "dead", "unknown")
#: Every state a resource can be in (docs/status.md).
RESOURCE_STATES = ("running", "stopped", "failed", "blocked", "starting", "stopping",
                   "probing", "unknown")
_IN_VIEW = frozenset({"up", "late"})

StatusSource = Callable[[], Mapping[str, Any]]


class MetricsCollector:
    """A prometheus-client collector over one daemon (register it in a ``CollectorRegistry``)."""

    def __init__(self, status: StatusSource, arrivals: HeartbeatArrivals | None = None,
                 events: Callable[[], Mapping[str, int]] | None = None,
                 fence_requests: Callable[[], int] | None = None) -> None:
        """STATUS builds the status document; ARRIVALS are the runtime's heartbeat gaps;
        EVENTS gives coordinator events counted by kind (and ``transition``);
        FENCE_REQUESTS how many fences the coordinator asked for."""
        self.status = status
        self.arrivals = arrivals
        self.events = events
        self.fence_requests = fence_requests
        self.operations: Buckets[tuple[str, str]] = Buckets(OPERATION_BOUNDS_MS)
        self.fences: Counter[str] = Counter()

    # -- observed as it happens -----------------------------------------------------

    def operation_finished(self, agent: str, action: str, interval_ms: int,
                           duration_ms: int) -> None:
        """An agent operation ended (any result); a monitor of interval 0 counts as ``probe``."""
        if action in ("monitor", "status") and interval_ms == 0:
            action = "probe"
        self.operations.observe((agent, action), duration_ms)

    def fence_finished(self, succeeded: bool, manual: bool = False) -> None:
        """A fence operation ended: ``success``, ``failure``, or ``manual`` (confirmed by hand)."""
        self.fences["manual" if manual else "success" if succeeded else "failure"] += 1

    # -- read at scrape time ---------------------------------------------------------

    def describe(self) -> Iterable[Metric]:
        return []  # names are known only when collected; nothing to check them against

    def collect(self) -> Iterator[Metric]:
        doc = self.status()
        yield from _identity(doc)
        yield from _membership(doc)
        yield from _arbiter(doc)
        yield from _links(doc)
        if self.arrivals is not None:
            yield _histogram("vigil_heartbeat_interarrival_seconds",
                             "Time between two heartbeats of a peer on a link, as read "
                             "(resolution: half a keepalive)", ["node", "link"],
                             self.arrivals.buckets)
        drops = CounterMetricFamily("vigil_dropped_packets",
                                    "Datagrams and messages refused, by reason", labels=["reason"])
        for reason, n in sorted(doc.get("drops", {}).get("by_reason", {}).items()):
            drops.add_metric([reason], n)
        yield drops
        yield from _resources(doc)
        yield _histogram("vigil_operation_duration_seconds",
                         "Agent operations (start, stop, monitor, probe ...) by agent and action",
                         ["agent", "action"], self.operations)
        yield from self._coordinator(doc)

    def _coordinator(self, doc: Mapping[str, Any]) -> Iterator[Metric]:
        fences = CounterMetricFamily("vigil_fence_operations",
                                     "Fence operations run by this node, by result",
                                     labels=["result"])
        for result in ("success", "failure", "manual"):
            fences.add_metric([result], self.fences[result])
        yield fences
        if self.fence_requests is not None:
            yield CounterMetricFamily("vigil_fence_requests",
                                      "Fences the coordinator on this node asked for",
                                      value=self.fence_requests())
        counted = dict(self.events()) if self.events is not None else {}
        yield CounterMetricFamily("vigil_transitions",
                                  "Transitions with actions planned by this node as DC",
                                  value=counted.pop("transition", 0))
        yield CounterMetricFamily("vigil_split_brain_heals",
                                  "Heals this node as DC found resources active on both sides "
                                  "of (issue 10)", value=counted.get("split-brain", 0))
        events = CounterMetricFamily("vigil_cluster_events",
                                     "Lines of `vigil events` this node logged, by kind",
                                     labels=["kind"])
        for kind, n in sorted(counted.items()):
            events.add_metric([kind], n)
        yield events
        coord = doc.get("coordinator")
        if isinstance(coord, Mapping):
            yield GaugeMetricFamily("vigil_outstanding_actions",
                                    "Actions the DC sent and has not seen confirmed",
                                    value=coord.get("outstanding_actions", 0))
            standby = GaugeMetricFamily("vigil_node_standby", "1 if the node is in standby",
                                        labels=["node"])
            for name in doc.get("view", {}).get("members", []):
                standby.add_metric([name], 1 if name in coord.get("standby", []) else 0)
            yield standby


def _seconds(ms: int | None) -> float | None:
    return None if ms is None else ms / 1000


def _identity(doc: Mapping[str, Any]) -> Iterator[Metric]:
    info = InfoMetricFamily("vigil_build", "The daemon's version, cluster and node")
    info.add_metric([], {"version": str(doc.get("version", "")),
                         "cluster": str(doc.get("cluster", "")),
                         "node": str(doc.get("node", ""))})
    yield info
    yield GaugeMetricFamily("vigil_incarnation", "This node's incarnation (+1 on every start)",
                            value=doc.get("incarnation", 0))
    yield GaugeMetricFamily("vigil_uptime_seconds", "Since this daemon started",
                            value=doc.get("uptime_ms", 0) / 1000)


def _membership(doc: Mapping[str, Any]) -> Iterator[Metric]:
    quorum = doc.get("quorum", {})
    yield GaugeMetricFamily("vigil_quorate", "1 if this node's partition has quorum",
                            value=1 if doc.get("quorate") else 0)
    yield GaugeMetricFamily("vigil_quorum_votes", "Votes present in this node's partition",
                            value=quorum.get("votes", 0))
    yield GaugeMetricFamily("vigil_quorum_votes_needed", "Votes needed for quorum",
                            value=quorum.get("needed", 0))
    yield GaugeMetricFamily("vigil_quorum_expected_votes", "Votes of the whole cluster",
                            value=quorum.get("expected", 0))
    dc = doc.get("dc")
    dc_family = GaugeMetricFamily("vigil_dc", "1 for the DC this node recognises (none: no "
                                  "series)", labels=["node"])
    if dc is not None:
        dc_family.add_metric([dc], 1)
    yield dc_family
    yield GaugeMetricFamily("vigil_is_dc", "1 if this node is the DC",
                            value=1 if dc is not None and dc == doc.get("node") else 0)
    view = doc.get("view", {})
    yield GaugeMetricFamily("vigil_view_members", "Nodes in this node's membership view",
                            value=len(view.get("members", [])))
    yield GaugeMetricFamily("vigil_view_stable", "1 if every member reports the same view",
                            value=1 if view.get("stable") else 0)
    up = GaugeMetricFamily("vigil_node_up", "1 if the node is in the view (up or late), "
                           "else 0", labels=["node"])
    state = GaugeMetricFamily("vigil_node_state", "1 for the node's current state",
                              labels=["node", "state"])
    heard = GaugeMetricFamily("vigil_node_last_heard_seconds",
                              "Since the node's last heartbeat on any link", labels=["node"])
    incarnation = GaugeMetricFamily("vigil_node_incarnation", "Latest incarnation heard",
                                    labels=["node"])
    for node in doc.get("nodes", []):
        name = node["name"]
        up.add_metric([name], 1 if node["state"] in _IN_VIEW else 0)
        for s in NODE_STATES:
            state.add_metric([name, s], 1 if node["state"] == s else 0)
        ago = _seconds(node.get("last_heard_ms"))
        if ago is not None:
            heard.add_metric([name], ago)
        if node.get("incarnation") is not None:
            incarnation.add_metric([name], node["incarnation"])
    yield from (up, state, heard, incarnation)


def _arbiter(doc: Mapping[str, Any]) -> Iterator[Metric]:
    """The arbitrator's section (docs/status.md), when one is configured."""
    a = doc.get("arbiter")
    if not a:
        return
    yield GaugeMetricFamily("vigil_arbiter_vote", "1 if the arbitrator's vote counts here",
                            value=1 if a.get("vote") else 0)
    yield GaugeMetricFamily("vigil_arbiter_lease_held", "1 if this node holds the lease",
                            value=1 if a.get("held_here") else 0)
    yield GaugeMetricFamily("vigil_arbiter_reachable", "1 if the lease service answered "
                            "the last request", value=1 if a.get("reachable") else 0)
    if a.get("token") is not None:
        yield GaugeMetricFamily("vigil_arbiter_token", "The lease's fencing token, as last "
                                "heard", value=a["token"])
    expires = _seconds(a.get("lease_expires_in_ms"))
    if expires is not None:
        yield GaugeMetricFamily("vigil_arbiter_lease_expires_seconds", "Until the holder's "
                                "lease ends unless renewed, as last heard", value=expires)
    yield CounterMetricFamily("vigil_arbiter_requests", "Requests sent to the lease service",
                              value=a.get("requests", 0))
    yield CounterMetricFamily("vigil_arbiter_failures", "Requests the lease service did not "
                              "answer in time", value=a.get("failures", 0))


def _links(doc: Mapping[str, Any]) -> Iterator[Metric]:
    up = GaugeMetricFamily("vigil_link_up", "1 if the node is heard on the link, else 0",
                           labels=["node", "link"])
    heard = GaugeMetricFamily("vigil_link_last_heard_seconds",
                              "Since the node's last heartbeat on the link",
                              labels=["node", "link"])
    for node in doc.get("nodes", []):
        for link in node.get("links", []):
            labels = [node["name"], link["name"]]
            up.add_metric(labels, 1 if link["state"] in _IN_VIEW else 0)
            ago = _seconds(link.get("last_heard_ms"))
            if ago is not None:
                heard.add_metric(labels, ago)
    yield from (up, heard)
    sent = CounterMetricFamily("vigil_link_sent_datagrams",
                               "Datagrams the kernel accepted on this node's link",
                               labels=["link"])
    send_errors = CounterMetricFamily("vigil_link_send_errors", "Datagrams refused by the kernel",
                                      labels=["link"])
    received = CounterMetricFamily("vigil_link_received_datagrams",
                                   "Datagrams read on this node's link, valid or not",
                                   labels=["link"])
    is_open = GaugeMetricFamily("vigil_link_open", "1 if this node's link socket is open",
                                labels=["link"])
    for link in doc.get("links", []):
        sent.add_metric([link["name"]], link.get("sent", 0))
        send_errors.add_metric([link["name"]], link.get("send_errors", 0))
        received.add_metric([link["name"]], link.get("received", 0))
        is_open.add_metric([link["name"]], 1 if link.get("state") == "open" else 0)
    yield from (sent, send_errors, received, is_open)


def _resources(doc: Mapping[str, Any]) -> Iterator[Metric]:
    state = GaugeMetricFamily("vigil_resource_state", "1 for the resource's current state",
                              labels=["resource", "group", "state"])
    active = GaugeMetricFamily("vigil_resource_active",
                               "1 for each node where the resource is active (more than one "
                               "series: a split brain or a move under way)",
                               labels=["resource", "node"])
    failcount = GaugeMetricFamily("vigil_resource_failcount",
                                  "Highest failure count of the resource on any node",
                                  labels=["resource"])
    for r in doc.get("resources", []):
        group = r.get("group") or ""
        for s in RESOURCE_STATES:
            state.add_metric([r["id"], group, s], 1 if r["state"] == s else 0)
        for node in r.get("nodes", []):
            active.add_metric([r["id"], node], 1)
        failcount.add_metric([r["id"]], r.get("failcount", 0))
    yield from (state, active, failcount)
    warnings = doc.get("warnings")
    if warnings is not None:
        yield GaugeMetricFamily("vigil_warnings", "Warnings `vigil status` shows",
                                value=len(warnings))


def _histogram(name: str, doc: str, labels: list[str],
               buckets: Buckets[Any]) -> HistogramMetricFamily:
    family = HistogramMetricFamily(name, doc, labels=labels)
    for series in buckets.series():
        cumulative: list[tuple[str, float]] = []
        total = 0
        for bound, n in zip((*series.bounds_ms, None), series.counts, strict=True):
            total += n
            cumulative.append(("+Inf" if bound is None else repr(bound / 1000), total))
        key: Hashable = series.key
        values = list(key) if isinstance(key, tuple) else [str(key)]
        family.add_metric([str(v) for v in values], cumulative, series.sum_ms / 1000)
    return family
