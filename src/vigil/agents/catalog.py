"""Naming and finding agents: ``class:provider:type`` to something that can run.

Spec text: ``ocf:PROVIDER:TYPE``, ``lsb:NAME``, ``heartbeat:NAME``,
``systemd:UNIT``, ``vigil:NAME`` (built-ins); a bare ``NAME`` is a Heartbeat
``haresources`` token, so ``heartbeat:NAME``. Names are checked before any path
is built from them: ``ocf:..:sh`` or ``heartbeat:../../bin/sh`` name nothing.

Lookup, as Heartbeat and Pacemaker did: ``heartbeat:`` scripts in the configured
resource directories then /etc/init.d (falling back to the built-in for IPaddr,
IPaddr2 and Filesystem when no script is installed); ``lsb:`` in /etc/init.d;
``ocf:`` under ``$OCF_ROOT/resource.d/PROVIDER``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from vigil.agents.base import Agent
from vigil.agents.builtin import builtins, legacy_builtins
from vigil.agents.heartbeat import HeartbeatAgent
from vigil.agents.lsb import LSB_DIR, LsbAgent
from vigil.agents.ocf import OCF_ROOT, OcfAgent
from vigil.agents.systemd import SYSTEMD_RUNTIME, SystemdAgent
from vigil.config import AgentSpec, ClusterConfig

CLASSES = ("ocf", "lsb", "heartbeat", "systemd", "vigil")
_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+@-]*$")
_UNIT_RE = re.compile(r"^[A-Za-z0-9_:.\\@][A-Za-z0-9_:.\\@-]*$")


class AgentNotFoundError(Exception):
    """No agent answers to this spec on this node."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class SpecError(ValueError):
    """The spec text is not ``class:provider:type`` or ``class:type``."""


def _check_name(what: str, name: str, spec: str) -> None:
    if not _NAME_RE.match(name) or name in (".", ".."):
        raise SpecError(f"{spec!r}: {what} {name!r} is not a valid name "
                      "(letters, digits and _ . + @ -, no /)")


def validate_spec(spec: AgentSpec) -> AgentSpec:
    """SPEC itself, once its class is known and its names cannot reach outside their dir."""
    text = str(spec)
    if spec.cls not in CLASSES:
        raise SpecError(f"{text!r}: unknown agent class {spec.cls!r} "
                      f"(use one of {', '.join(CLASSES)})")
    if spec.cls == "ocf":
        if not spec.provider:
            raise SpecError(f"{text!r}: ocf agents need a provider: ocf:PROVIDER:TYPE")
        _check_name("provider", spec.provider, text)
    elif spec.provider is not None:
        raise SpecError(f"{text!r}: only ocf agents have a provider")
    if spec.cls == "systemd":
        if not _UNIT_RE.match(spec.type):
            raise SpecError(f"{text!r}: {spec.type!r} is not a systemd unit name")
    else:
        _check_name("type", spec.type, text)
    return spec


def parse_spec(text: str) -> AgentSpec:
    """``ocf:heartbeat:Dummy`` -> AgentSpec; raises ``SpecError``."""
    parts = text.strip().split(":")
    if len(parts) == 1:
        spec = AgentSpec("heartbeat", parts[0])
    elif parts[0] == "systemd":
        spec = AgentSpec("systemd", ":".join(parts[1:]))
    elif len(parts) == 2:
        spec = AgentSpec(parts[0], parts[1])
    elif len(parts) == 3 and parts[0] == "ocf":
        spec = AgentSpec("ocf", parts[2], parts[1])
    else:
        raise SpecError(f"{text!r} is not class:type or ocf:provider:type")
    return validate_spec(spec)


@dataclass(frozen=True, slots=True)
class AgentDirs:
    """Where this node's agents live."""

    resource_dirs: tuple[Path, ...] = (Path("/etc/ha.d/resource.d"), LSB_DIR)
    ocf_root: Path = OCF_ROOT
    lsb_dir: Path = LSB_DIR
    systemctl: str = "systemctl"
    systemd_runtime: Path = SYSTEMD_RUNTIME  # exists iff systemd runs this machine

    @classmethod
    def from_config(cls, config: ClusterConfig) -> AgentDirs:
        return cls(resource_dirs=config.resource_dirs)

    @property
    def heartbeat_dirs(self) -> tuple[Path, ...]:
        """The configured resource directories, then /etc/init.d, as Heartbeat searched."""
        dirs = list(self.resource_dirs)
        if self.lsb_dir not in dirs:
            dirs.append(self.lsb_dir)
        return tuple(dirs)


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def resolve(spec: AgentSpec, dirs: AgentDirs | None = None) -> Agent:
    """The agent SPEC names on this node; raises ``AgentNotFoundError`` or ``SpecError``."""
    dirs = dirs or AgentDirs()
    validate_spec(spec)
    if spec.cls == "vigil":
        found = builtins().get(spec.type)
        if found is None:
            raise AgentNotFoundError(f"no built-in agent {spec.type!r}",
                                f"built-ins are: {', '.join(sorted(builtins()))}")
        return found
    if spec.cls == "systemd":
        return SystemdAgent(spec, dirs.systemctl, dirs.systemd_runtime)
    if spec.cls == "ocf":
        assert spec.provider is not None
        path = dirs.ocf_root / "resource.d" / spec.provider / spec.type
        if _executable(path):
            return OcfAgent(spec, path, dirs.ocf_root)
        raise AgentNotFoundError(f"{spec}: {path} is not an installed agent",
                            _missing_hint(path, "is the resource-agents package installed?"))
    if spec.cls == "lsb":
        path = dirs.lsb_dir / spec.type
        if _executable(path):
            return LsbAgent(spec, path)
        raise AgentNotFoundError(f"{spec}: no init script {path}", _missing_hint(path, None))
    for d in dirs.heartbeat_dirs:
        if _executable(d / spec.type):
            return HeartbeatAgent(spec, d / spec.type)
    legacy = legacy_builtins().get(spec.type)
    if legacy is not None:
        return legacy
    where = ", ".join(str(d) for d in dirs.heartbeat_dirs)
    raise AgentNotFoundError(f"{spec}: no script {spec.type} in {where}",
                        "install the script there and make it executable")


def _missing_hint(path: Path, otherwise: str | None) -> str | None:
    if path.is_file():
        return f"chmod +x {path}"
    return otherwise


def list_agents(dirs: AgentDirs | None = None) -> list[tuple[AgentSpec, str]]:
    """Every agent this node can run, with a word on where it comes from."""
    dirs = dirs or AgentDirs()
    out: list[tuple[AgentSpec, str]] = [
        (b.spec, "built-in") for _, b in sorted(builtins().items())]
    scripts: set[str] = set()
    for d in dirs.resource_dirs:
        if d == dirs.lsb_dir:
            continue
        for path in _scripts(d):
            scripts.add(path.name)
            out.append((AgentSpec("heartbeat", path.name), str(path)))
    for name, legacy in sorted(legacy_builtins().items()):
        if name not in scripts and not _executable(dirs.lsb_dir / name):
            out.append((legacy.spec, f"built-in {legacy.target.spec}"))
    for path in _scripts(dirs.lsb_dir):
        out.append((AgentSpec("lsb", path.name), str(path)))
    providers = dirs.ocf_root / "resource.d"
    if providers.is_dir():
        for prov in sorted(p for p in providers.iterdir() if p.is_dir()):
            for path in _scripts(prov):
                out.append((AgentSpec("ocf", path.name, prov.name), str(path)))
    return out


def _scripts(d: Path) -> list[Path]:
    if not d.is_dir():
        return []
    return sorted(p for p in d.iterdir()
                  if _executable(p) and _NAME_RE.match(p.name) and not p.name.startswith("."))
