"""Checks on ha.cf as a whole, made once every line is read (Heartbeat's ``init_config``).

- ``no nodes defined`` is an error; a ping node is not a cluster node; a
  ``stonith_host`` line naming no node of the cluster is never used.
- ``check_logd_usage``: with no logfile, debugfile or logfacility Heartbeat
  logged through logd (vigil does not: a warning), and refused to start when
  use_logd was off as well.
- With haresources managing resources (crm off): ``auto_failback legacy``, set
  or by default, was deprecated (Heartbeat warned), and autojoin conflicted with
  it (``r1_style_valid``: an error).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from vigil.config.diagnostics import Diagnostics
from vigil.config.model import AutoFailback, Logging, Node, PingNode

__all__ = ["check_logging", "check_members", "check_resource_mode"]


def check_members(path: Path, nodes: Sequence[Node], ping_nodes: Sequence[PingNode],
                  stonith_hosts: Sequence[tuple[str, int]], diags: Diagnostics) -> None:
    """Nodes exist; ping nodes are not nodes; stonith_host names a node (or *)."""
    names = {n.name for n in nodes}
    if not names:
        diags.error(path, None, "no `node` lines: a cluster needs its members listed "
                    "(Heartbeat: no nodes defined)",
                    "add `node NAME` for every member, NAME as `uname -n` prints it there")
    for ping in ping_nodes:
        if ping.name.lower() in names:
            diags.error(path, ping.source.line if ping.source else None,
                        f"ping node {ping.name} is also a cluster node",
                        "ping nodes are routers or servers outside the cluster")
    for host, line in stonith_hosts:
        if names and host != "*" and host not in names:
            diags.warning(path, line, f"stonith_host {host} is not a node of this cluster; "
                          "Heartbeat would never use this line",
                          "name a node from the node lines, or * for any node")


def check_logging(path: Path, logging: Logging, use_logd: tuple[bool, int] | None,
                  diags: Diagnostics) -> None:
    """Somewhere to log; USE_LOGD is (value, line) when use_logd was given."""
    if logging.logfile or logging.debugfile or logging.logfacility:
        return
    if use_logd is not None and not use_logd[0]:
        diags.error(path, use_logd[1], "no logfile, debugfile or logfacility, and use_logd is "
                    "off: nothing would be logged (Heartbeat refused this)",
                    "add `logfacility daemon` or `logfile /var/log/ha-log`")
    else:
        diags.warning(path, None, "no logfile, debugfile or logfacility: Heartbeat logged "
                      "through its logging daemon, which vigil does not use",
                      "add `logfacility daemon` (syslog) or `logfile /var/log/ha-log`")


def check_resource_mode(path: Path, crm: str, auto_failback: tuple[AutoFailback, int | None],
                        autojoin: tuple[str, int | None], diags: Diagnostics) -> None:
    """With crm off: legacy failback warned, autojoin refused (values with their lines)."""
    if crm != "no":
        return
    if auto_failback[0] is AutoFailback.LEGACY:
        diags.warning(path, auto_failback[1],
                      "auto_failback legacy (Heartbeat's default when it is not set) is "
                      "deprecated; Heartbeat warned about it too",
                      "add `auto_failback on` (resources go back to their preferred node) "
                      "or `auto_failback off` (they stay)")
    if autojoin[0] != "none":
        diags.error(path, autojoin[1], f"autojoin {autojoin[0]} conflicts with haresources "
                    "resource management (Heartbeat refused it too)",
                    "remove autojoin and list every node with `node`")
