"""Naming agents and finding them where Heartbeat, LSB and OCF put them."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.agents import (
    AgentDirs,
    AgentNotFoundError,
    SpecError,
    list_agents,
    parse_spec,
    resolve,
)
from vigil.agents.builtin import IpAddr, LegacyBuiltin
from vigil.agents.heartbeat import HeartbeatAgent
from vigil.agents.lsb import LsbAgent
from vigil.agents.ocf import OcfAgent
from vigil.agents.systemd import SystemdAgent
from vigil.config import AgentSpec


@pytest.mark.parametrize(("text", "spec"), [
    ("ocf:heartbeat:IPaddr2", AgentSpec("ocf", "IPaddr2", "heartbeat")),
    ("lsb:nginx", AgentSpec("lsb", "nginx")),
    ("heartbeat:IPaddr", AgentSpec("heartbeat", "IPaddr")),
    ("httpd", AgentSpec("heartbeat", "httpd")),  # a bare haresources token
    ("systemd:getty@tty1.service", AgentSpec("systemd", "getty@tty1.service")),
    ("vigil:ipaddr", AgentSpec("vigil", "ipaddr")),
])
def test_agent_specs_parse(text: str, spec: AgentSpec) -> None:
    assert parse_spec(text) == spec
    assert str(parse_spec(text)) == (text if ":" in text else f"heartbeat:{text}")


@pytest.mark.parametrize("text", [
    "ocf:Dummy",  # no provider
    "ocf:..:sh", "ocf:heartbeat:../../../bin/sh", "heartbeat:../bin/sh", "lsb:.",
    "lsb:a/b", "nosuchclass:x", "lsb:x:y", "systemd:-H evil", "",
])
def test_specs_that_could_escape_their_directory_are_refused(text: str) -> None:
    with pytest.raises(SpecError):
        parse_spec(text)


def script(path: Path, body: str = "exit 0\n", mode: int = 0o755) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(mode)
    return path


def test_heartbeat_script_found_in_resource_dir_before_init_d(tmp_path: Path) -> None:
    rd, initd = tmp_path / "resource.d", tmp_path / "init.d"
    script(rd / "httpd")
    script(initd / "httpd")
    script(initd / "postfix")
    dirs = AgentDirs(resource_dirs=(rd,), lsb_dir=initd)
    found = resolve(AgentSpec("heartbeat", "httpd"), dirs)
    assert isinstance(found, HeartbeatAgent)
    assert found.path == rd / "httpd"
    found = resolve(AgentSpec("heartbeat", "postfix"), dirs)  # then /etc/init.d
    assert isinstance(found, HeartbeatAgent)
    assert found.path == initd / "postfix"
    assert isinstance(resolve(AgentSpec("lsb", "postfix"), dirs), LsbAgent)


def test_installed_ipaddr_script_wins_over_builtin(tmp_path: Path) -> None:
    dirs = AgentDirs(resource_dirs=(tmp_path,), lsb_dir=tmp_path / "none")
    fallback = resolve(AgentSpec("heartbeat", "IPaddr"), dirs)
    assert isinstance(fallback, LegacyBuiltin)
    assert isinstance(fallback.target, IpAddr)
    script(tmp_path / "IPaddr")
    assert isinstance(resolve(AgentSpec("heartbeat", "IPaddr"), dirs), HeartbeatAgent)


def test_missing_and_non_executable_agents_say_what_to_do(tmp_path: Path) -> None:
    dirs = AgentDirs(resource_dirs=(tmp_path,), lsb_dir=tmp_path, ocf_root=tmp_path / "ocf")
    with pytest.raises(AgentNotFoundError, match="no script httpd"):
        resolve(AgentSpec("heartbeat", "httpd"), dirs)
    script(tmp_path / "ocf" / "resource.d" / "acme" / "Thing", mode=0o644)
    with pytest.raises(AgentNotFoundError) as e:
        resolve(AgentSpec("ocf", "Thing", "acme"), dirs)
    assert e.value.hint is not None
    assert e.value.hint.startswith("chmod +x")
    with pytest.raises(AgentNotFoundError) as e:
        resolve(AgentSpec("vigil", "nosuch"), dirs)
    assert e.value.hint is not None
    assert "ipaddr" in e.value.hint


def test_ocf_and_systemd_resolution(tmp_path: Path) -> None:
    dirs = AgentDirs(ocf_root=tmp_path)
    script(tmp_path / "resource.d" / "acme" / "Thing")
    assert isinstance(resolve(AgentSpec("ocf", "Thing", "acme"), dirs), OcfAgent)
    assert isinstance(resolve(AgentSpec("systemd", "nginx"), dirs), SystemdAgent)


def test_list_names_builtins_scripts_and_ocf_agents(tmp_path: Path) -> None:
    rd, initd, ocf = tmp_path / "rd", tmp_path / "initd", tmp_path / "ocf"
    script(rd / "Remac1")
    script(rd / "Filesystem")
    script(initd / "nginx")
    script(ocf / "resource.d" / "acme" / "Thing")
    names = [str(s) for s, _ in list_agents(AgentDirs((rd,), ocf, initd))]
    for expected in ("vigil:ipaddr", "vigil:macaddr", "vigil:filesystem", "vigil:dummy",
                     "heartbeat:Remac1", "heartbeat:Filesystem", "heartbeat:IPaddr",
                     "lsb:nginx", "ocf:acme:Thing"):
        assert expected in names
    assert names.count("heartbeat:Filesystem") == 1  # the script, not also the built-in
