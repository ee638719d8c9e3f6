"""haresources read as Heartbeat's ResourceManager read it: one group per line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from vigil.config import AgentSpec, ClusterConfig, LoadResult, Severity, load

Writer = Callable[..., Path]
HACF = "logfacility daemon\nbcast eth1\nnode alpha\nnode beta\nauto_failback on\n"


def loaded(legacy_dir: Writer, haresources: str) -> tuple[ClusterConfig, LoadResult]:
    result = load(legacy_dir(HACF, haresources))
    assert result.config is not None, [d.format() for d in result.diagnostics]
    return result.config, result


def warnings(result: LoadResult) -> list[str]:
    return [d.format() for d in result.diagnostics if d.severity is Severity.WARNING]


def test_each_line_is_a_group_preferring_its_first_column(legacy_dir: Writer) -> None:
    config, _ = loaded(legacy_dir, "alpha 10.0.0.5 Filesystem::/dev/sdb1::/data::ext4\n"
                                   "BETA IPaddr2::10.0.0.6/24/eth0\n")
    first, second = config.groups
    assert first.id == "group_IPaddr_10_0_0_5"
    assert first.resources == ("IPaddr_10_0_0_5", "Filesystem_data")
    assert (first.preferred_node, dict(first.locations)) == ("alpha", {"alpha": 100})
    assert (second.id, second.preferred_node) == ("group_IPaddr2_10_0_0_6", "beta")


def test_a_bare_address_means_ipaddr_and_double_colons_separate_arguments(
        legacy_dir: Writer) -> None:
    config, _ = loaded(legacy_dir, "alpha 192.168.60.200/24/eth0/ "
                                   "Filesystem::/dev/sdb5::/webdata::ext3\n")
    ip, fs = config.resources
    assert (ip.agent, ip.args) == (AgentSpec("heartbeat", "IPaddr"), ("192.168.60.200/24/eth0/",))
    assert (fs.agent, fs.args) == (AgentSpec("heartbeat", "Filesystem"),
                                   ("/dev/sdb5", "/webdata", "ext3"))


@pytest.mark.parametrize(("written", "rid"), [
    ("10.0.0.5", "IPaddr_10_0_0_5"),
    ("IPaddr::10.0.0.5/24", "IPaddr_10_0_0_5"),
    ("IPaddr2::10.0.0.6/24/eth0:1/10.0.0.255", "IPaddr2_10_0_0_6"),
    ("Filesystem::/dev/sdb5::/srv/www::ext3", "Filesystem_srv_www"),
    ("drbddisk::r0", "drbddisk_r0"),
    ("httpd", "httpd"),
])
def test_resource_ids_are_readable_and_stable(legacy_dir: Writer, written: str, rid: str) -> None:
    config, _ = loaded(legacy_dir, f"alpha {written}\n")
    assert [r.id for r in config.resources] == [rid]


def test_resources_whose_names_clash_get_numbered_in_file_order(legacy_dir: Writer) -> None:
    config, _ = loaded(legacy_dir, "alpha apache::/etc/a.conf\nbeta apache::/etc/a-conf\n")
    assert [r.id for r in config.resources] == ["apache_etc_a_conf", "apache_etc_a_conf_2"]


def test_backslash_continues_a_group_on_the_next_line(legacy_dir: Writer) -> None:
    config, _ = loaded(legacy_dir, "alpha 10.0.0.5 \\\n   httpd   # the web server\\\n"
                                   "beta 10.0.0.6\n")
    assert [g.resources for g in config.groups] == [("IPaddr_10_0_0_5", "httpd"),
                                                    ("IPaddr_10_0_0_6",)]
    assert config.resource("httpd").source is not None
    assert config.resource("httpd").source.line == 2


def test_blanks_after_the_backslash_still_continue_but_warn(legacy_dir: Writer) -> None:
    config, result = loaded(legacy_dir, "alpha 10.0.0.5 \\  \n  10.0.0.6\n")
    assert len(config.groups) == 1
    assert any("blanks after the continuation backslash" in w for w in warnings(result))


def test_comments_and_blank_lines_make_no_groups(legacy_dir: Writer) -> None:
    config, _ = loaded(legacy_dir, "# alpha 10.0.0.1\n\n   \nalpha 10.0.0.5 # httpd\n")
    assert [r.id for r in config.resources] == ["IPaddr_10_0_0_5"]


def test_missing_script_is_a_warning_naming_it_once(legacy_dir: Writer) -> None:
    config, result = loaded(legacy_dir, "alpha no_such_script\nbeta no_such_script::x\n")
    assert len(config.resources) == 2
    named = [w for w in warnings(result) if "no_such_script is not installed" in w]
    assert len(named) == 1
    assert named[0].startswith(f"{config.sources[0].parent}/haresources:1: warning:")


def test_script_in_the_directorys_resource_d_is_found(legacy_dir: Writer) -> None:
    root = legacy_dir(HACF, "alpha myscript\n")
    (root / "resource.d").mkdir()
    script = root / "resource.d" / "myscript"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o755)
    result = load(root)
    assert result.ok
    assert [w for w in warnings(result) if "split brain" not in w] == []
    assert result.config is not None
    assert result.config.resource_dirs[0] == (root / "resource.d").absolute()


def test_script_that_is_not_executable_warns_with_chmod(legacy_dir: Writer) -> None:
    root = legacy_dir(HACF, "alpha myscript\n")
    (root / "resource.d").mkdir()
    (root / "resource.d" / "myscript").write_text("#!/bin/sh\n")
    (root / "resource.d" / "myscript").chmod(0o644)  # no x bit: not even root may run it
    result = load(root)
    assert any("chmod 755" in (d.hint or "") for d in result.diagnostics)


def test_empty_haresources_runs_no_resources(legacy_dir: Writer) -> None:
    config, _ = loaded(legacy_dir, "")
    assert (config.resources, config.groups) == ((), ())


def test_crm_on_without_haresources_warns_that_resources_were_in_the_cib(
        legacy_dir: Writer) -> None:
    result = load(legacy_dir(HACF + "crm yes\n", None))
    assert result.ok
    assert any("there is no haresources" in d.message for d in result.diagnostics)
