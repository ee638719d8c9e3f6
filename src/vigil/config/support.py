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
    if config.watchdog is not None and config.quorum.two_node and len(config.nodes) == 2 \
            and not config.fencing.enabled:
        # Each side of a two-node split keeps quorum alone, so a cut-off node keeps
        # feeding: self-fencing is not assumed there (vigil.coordinator.fencing_rules).
        found.append(NotActedOn(
            "watchdog", None,
            f"{config.watchdog} resets a hung node, but in a two-node cluster a lost node "
            "is not counted as self-fenced: add a fence device"))
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
