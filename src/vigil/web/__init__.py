"""What people look at: Prometheus ``/metrics`` (and, later, the dashboard).

``MetricsCollector`` reads a daemon's state at scrape time; ``serve_metrics``
serves it over HTTP as ``[metrics]`` says (docs/metrics.md).
"""

from __future__ import annotations

from vigil.web.collector import MetricsCollector
from vigil.web.metrics import MetricsServer, read_token, serve_metrics

__all__ = ["MetricsCollector", "MetricsServer", "read_token", "serve_metrics"]
