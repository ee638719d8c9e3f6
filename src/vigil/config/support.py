"""Settings vigil reads and validates but does not act on yet.

Rules of this file: a configuration may say more than this build of vigil
does; each such setting is reported by ``config check`` as a warning that names
it and says what will not happen, never silently ignored (the issue tracker
has the work). When a feature lands, its row goes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vigil.config.diagnostics import Diagnostics
from vigil.config.model import ClusterConfig, SourceRef


@dataclass(frozen=True, slots=True)
class NotActedOn:
    """A setting present in CONFIG that this build does not act on."""

    setting: str
    source: SourceRef | None
    consequence: str


def not_acted_on(config: ClusterConfig) -> tuple[NotActedOn, ...]:
    """Every setting of CONFIG this build reads but does not act on, in file order."""
    found: list[NotActedOn] = []
    for ping in config.connectivity.ping_nodes:
        found.append(NotActedOn(
            "ping_group" if ping.is_group else "ping", ping.source,
            f"ping node {ping.name} is pinged and shown by `vigil status`, but resources "
            "do not move yet when a node loses the network"))
    for auth in config.apiauth:
        found.append(NotActedOn(
            "apiauth", auth.source,
            f"the control API is root-only (socket mode 0600); {auth.client}'s "
            "uid/gid are not granted access yet"))
    if config.watchdog is not None:
        found.append(NotActedOn(
            "watchdog", None,
            f"{config.watchdog} is not opened or fed yet: a hung node is not reset"))
    for device in config.fencing.devices:
        found.append(NotActedOn(
            "fence_device", device.source,
            f"fence device {device.name} is not used yet: lost nodes are not fenced"))
    return tuple(found)


def report_not_acted_on(config: ClusterConfig, diags: Diagnostics) -> None:
    """Warn, at its line, about every setting CONFIG has that this build ignores."""
    fallback = config.sources[0] if config.sources else Path("<config>")
    for item in not_acted_on(config):
        file = item.source.file if item.source else fallback
        line = item.source.line if item.source else None
        diags.warning(file, line, f"`{item.setting}` is read but not acted on yet: "
                      f"{item.consequence}",
                      "keep it for when vigil acts on it, or remove it to silence this warning")
