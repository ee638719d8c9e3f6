"""Resource agents: how to start, stop and watch one resource, for every agent class.

Classes: ``ocf:PROVIDER:TYPE``, ``lsb:NAME``, ``heartbeat:NAME`` (resource.d),
``systemd:UNIT`` and the built-ins ``vigil:ipaddr|macaddr|filesystem|dummy``.
External agents are planned here (argv and environment, never a shell) and
interpreted here (exit code and output to OCF codes); ``vigil.executor`` runs
them. Built-ins run in Python. Other packages import from here only.
"""

from __future__ import annotations

from vigil.agents.background import BackgroundTasks
from vigil.agents.base import (
    ACTION_RE,
    Agent,
    AgentContext,
    AgentReply,
    AgentUnavailableError,
    BuiltinAgent,
    Invocation,
    OperationRequest,
    ParameterError,
    ProgramOutcome,
    ProgramRunner,
    ScriptAgent,
)
from vigil.agents.builtin import builtins, metadata_xml
from vigil.agents.catalog import (
    CLASSES,
    AgentDirs,
    AgentNotFoundError,
    SpecError,
    list_agents,
    parse_spec,
    resolve,
    validate_spec,
)
from vigil.agents.codes import RUNNING_CODES, OcfRc, describe_rc
from vigil.agents.metadata import (
    DEFAULT_TIMEOUT_MS,
    ActionInfo,
    AgentMetadata,
    MetadataError,
    ParameterInfo,
    parse_duration_ms,
    parse_ocf_metadata,
)
from vigil.agents.systemd import systemd_running

__all__ = [
    "ACTION_RE",
    "CLASSES",
    "DEFAULT_TIMEOUT_MS",
    "RUNNING_CODES",
    "ActionInfo",
    "Agent",
    "AgentContext",
    "AgentDirs",
    "AgentMetadata",
    "AgentNotFoundError",
    "AgentReply",
    "AgentUnavailableError",
    "BackgroundTasks",
    "BuiltinAgent",
    "Invocation",
    "MetadataError",
    "OcfRc",
    "OperationRequest",
    "ParameterError",
    "ParameterInfo",
    "ProgramOutcome",
    "ProgramRunner",
    "ScriptAgent",
    "SpecError",
    "builtins",
    "describe_rc",
    "list_agents",
    "metadata_xml",
    "parse_duration_ms",
    "parse_ocf_metadata",
    "parse_spec",
    "resolve",
    "systemd_running",
    "validate_spec",
]
