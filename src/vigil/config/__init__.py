"""Configuration: legacy Heartbeat files or native TOML, read into one typed model.

Other packages import from here only: ``load`` (or ``load_or_raise``), the model
types, and the diagnostics.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vigil.config.authkeys import read_authkeys
from vigil.config.diagnostics import ConfigError, Diagnostic, Diagnostics, Severity
from vigil.config.model import (
    INFINITY,
    LEASE_MARGIN_MS,
    AgentSpec,
    ApiAuth,
    Arbiter,
    ArbiterBackend,
    Auth,
    AuthKey,
    AuthMethod,
    AutoFailback,
    ClusterConfig,
    Compression,
    ConfigFormat,
    Connectivity,
    Endpoint,
    FenceDevice,
    FenceLevel,
    Fencing,
    Group,
    GroupId,
    LegacyStonith,
    Link,
    LinkKind,
    Logging,
    Metrics,
    Node,
    NodeName,
    NoQuorumPolicy,
    Operation,
    PasswordHash,
    PingNode,
    Quorum,
    Resource,
    ResourceId,
    Respawn,
    SourceRef,
    TargetRole,
    Timing,
    Web,
    WebRole,
    WebUser,
)

__all__ = [
    "INFINITY",
    "LEASE_MARGIN_MS",
    "AgentSpec",
    "ApiAuth",
    "Arbiter",
    "ArbiterBackend",
    "Auth",
    "AuthKey",
    "AuthMethod",
    "AutoFailback",
    "ClusterConfig",
    "Compression",
    "ConfigError",
    "ConfigFormat",
    "Connectivity",
    "Diagnostic",
    "Diagnostics",
    "Endpoint",
    "FenceDevice",
    "FenceLevel",
    "Fencing",
    "Group",
    "GroupId",
    "LegacyStonith",
    "Link",
    "LinkKind",
    "LoadResult",
    "Logging",
    "Metrics",
    "NoQuorumPolicy",
    "Node",
    "NodeName",
    "Operation",
    "PasswordHash",
    "PingNode",
    "Quorum",
    "Resource",
    "ResourceId",
    "Respawn",
    "Severity",
    "SourceRef",
    "TargetRole",
    "Timing",
    "Web",
    "WebRole",
    "WebUser",
    "load",
    "load_or_raise",
    "longest_exclusive_stop",
    "read_authkeys",
]


@dataclass(frozen=True, slots=True)
class LoadResult:
    """The model (None when there were errors) and every problem found."""

    config: ClusterConfig | None
    diagnostics: tuple[Diagnostic, ...]

    @property
    def ok(self) -> bool:
        return self.config is not None and not any(d.is_error for d in self.diagnostics)


def longest_exclusive_stop(config: ClusterConfig) -> tuple[int, str]:
    """The longest time stopping exclusive resources can take (ms), and what takes it."""
    from vigil.config.arbiter_checks import longest_exclusive_stop as longest

    return longest(config)


def load(path: Path) -> LoadResult:
    """Read PATH: a directory of legacy files (or its ``ha.cf``), or a ``.toml`` file."""
    from vigil.config import legacy, native

    diags = Diagnostics()
    config: ClusterConfig | None
    if path.is_dir():
        config = legacy.read_legacy(path, diags)
    elif path.name == "ha.cf":
        config = legacy.read_legacy(path.parent, diags)
    elif path.suffix == ".toml":
        config = native.read_native(path, diags)
    elif not path.exists():
        diags.error(path, None, "no such file or directory",
                    "give a directory holding ha.cf, haresources and authkeys, or a .toml file")
        config = None
    else:
        diags.error(path, None, "not a configuration vigil knows",
                    "give a directory holding ha.cf, haresources and authkeys, or a .toml file")
        config = None
    if diags.has_errors:
        config = None
    elif config is not None:
        from vigil.config.arbiter_checks import check_split_brain_safety
        from vigil.config.partition_checks import check_minority_stop_timing
        from vigil.config.support import report_not_acted_on

        check_minority_stop_timing(config, diags)
        check_split_brain_safety(config, diags)
        report_not_acted_on(config, diags)
        if any(d.is_error for d in diags.items):  # a lease TTL the stops do not fit in
            config = None
    return LoadResult(config, diags.freeze())


def load_or_raise(path: Path) -> ClusterConfig:
    """``load``, raising ``ConfigError`` unless the configuration is usable."""
    result = load(path)
    if result.config is None:
        raise ConfigError(result.diagnostics)
    return result.config
