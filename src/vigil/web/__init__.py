"""What people look at: the dashboard and Prometheus ``/metrics``.

``MetricsCollector`` reads a daemon's state at scrape time; ``serve_metrics``
serves it over HTTP as ``[metrics]`` says (docs/metrics.md). ``serve_dashboard``
starts the web dashboard as ``[web]`` says (docs/web.md).
"""

from __future__ import annotations

from vigil.web.collector import MetricsCollector
from vigil.web.dashboard import serve_dashboard
from vigil.web.metrics import MetricsServer, read_token, serve_metrics

__all__ = ["MetricsCollector", "MetricsServer", "read_token", "serve_dashboard",
           "serve_metrics"]
