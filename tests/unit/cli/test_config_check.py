"""`vigil config check` on Heartbeat directories: what an administrator sees.

Malformed inputs are one table: each row is one broken file in an otherwise
valid directory, and must give exit 1 and an error naming the right FILE:LINE
with a hint. The shipped examples must pass, ``--json`` must be a document a
script can rely on, and directives vigil does not act on must be named.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from vigil.cli.main import cli

BASE_HACF = [
    "logfacility daemon",  # 1
    "keepalive 1",  # 2
    "deadtime 10",  # 3
    "udpport 694",  # 4
    "bcast eth1",  # 5
    "ucast eth0 10.0.0.2",  # 6
    "auto_failback on",  # 7
    "node alpha",  # 8
    "node beta",  # 9
]
BASE = {
    "ha.cf": "\n".join(BASE_HACF) + "\n",
    "haresources": "alpha 10.0.0.100/24/eth0 Filesystem::/dev/sdb1::/data::ext4\n",
    "authkeys": "auth 1\n1 sha1 s3cret-key\n",
}


def hacf(*extra: str) -> str:
    """The base ha.cf with EXTRA lines after it: the first one is line 10."""
    return "\n".join([*BASE_HACF, *extra]) + "\n"


def without(*prefixes: str) -> str:
    """The base ha.cf without the lines starting with PREFIXES."""
    return "".join(line + "\n" for line in BASE_HACF if not line.startswith(prefixes))


@dataclass(frozen=True)
class Bad:
    id: str
    file: str
    text: str | bytes | None  # None: the file is missing
    where: str  # "FILE:LINE", or "FILE" for a problem with the whole file
    says: str
    mode: int = 0o600


BAD = [
    # ha.cf: times
    Bad("time-with-s-suffix", "ha.cf", hacf("warntime 5s"), "ha.cf:10",
        "warntime '5s' is not a time"),
    Bad("time-not-a-number", "ha.cf", hacf("initdead soon"), "ha.cf:10",
        "initdead 'soon' is not a time"),
    Bad("time-unit-after-a-space", "ha.cf", hacf("keepalive 500 ms"), "ha.cf:10",
        "Heartbeat read two values here"),
    Bad("keepalive-zero", "ha.cf", hacf("keepalive 0"), "ha.cf:10", "it must be above zero"),
    Bad("warntime-zero", "ha.cf", hacf("warntime 0ms"), "ha.cf:10", "it must be above zero"),
    Bad("deadtime-not-twice-keepalive", "ha.cf", hacf("keepalive 5"), "ha.cf:3",
        "is not more than twice keepalive"),
    Bad("initdead-below-deadtime", "ha.cf", hacf("initdead 5"), "ha.cf:10",
        "initdead (5000 ms) is shorter than deadtime"),
    Bad("deadping-too-small", "ha.cf", hacf("deadping 1"), "ha.cf:10",
        "deadping (1000 ms) is not more than twice keepalive"),
    # ha.cf: directives
    Bad("unknown-directive", "ha.cf", hacf("keepalvie 2"), "ha.cf:10",
        "unknown directive 'keepalvie'"),
    Bad("directive-with-equals", "ha.cf", hacf("deadtime=30"), "ha.cf:10",
        "unknown directive 'deadtime=30'"),
    Bad("directive-without-value", "ha.cf", hacf("node"), "ha.cf:10", "node needs a value"),
    Bad("bad-auto-failback", "ha.cf", hacf("auto_failback sometimes"), "ha.cf:10",
        "auto_failback 'sometimes' is not on, off or legacy"),
    Bad("bad-udpport", "ha.cf", hacf("udpport 0"), "ha.cf:10", "udpport '0' is not a UDP port"),
    Bad("bad-logfacility", "ha.cf", hacf("logfacility local9"), "ha.cf:10",
        "logfacility 'local9' is not a syslog facility"),
    Bad("crm-nonsense", "ha.cf", hacf("crm perhaps"), "ha.cf:10", "crm 'perhaps' is not on"),
    Bad("crm-twice", "ha.cf", hacf("crm no", "pacemaker no"), "ha.cf:11", "given again"),
    Bad("watchdog-twice", "ha.cf", hacf("watchdog /dev/watchdog", "watchdog /dev/watchdog1"),
        "ha.cf:11", "watchdog given twice"),
    Bad("baud-twice", "ha.cf", hacf("baud 19200", "baud 9600"), "ha.cf:11", "baud given twice"),
    Bad("unsupported-with-bad-value", "ha.cf", hacf("hbgenmethod random"), "ha.cf:10",
        "hbgenmethod 'random' is not one of file, time"),
    Bad("apiauth-without-ids", "ha.cf", hacf("apiauth ipfail"), "ha.cf:10",
        "apiauth ipfail names no uid and no gid"),
    Bad("respawn-relative-program", "ha.cf", hacf("respawn hacluster ipfail"), "ha.cf:10",
        "is not a full path name"),
    Bad("use-logd-off-and-no-log", "ha.cf", without("logfacility") + "use_logd off\n", "ha.cf:9",
        "use_logd is off"),
    Bad("autojoin-with-haresources", "ha.cf", hacf("autojoin any"), "ha.cf:10",
        "autojoin any conflicts with haresources"),
    # ha.cf: nodes
    Bad("no-node-lines", "ha.cf", without("node"), "ha.cf", "no `node` lines"),
    Bad("duplicate-node", "ha.cf", hacf("node Alpha"), "ha.cf:10", "node alpha is declared twice"),
    Bad("bad-node-name", "ha.cf", hacf("node gam/ma"), "ha.cf:10", "node name 'gam/ma'"),
    Bad("ping-node-bad-address", "ha.cf", hacf("ping 10.0.0.999"), "ha.cf:10",
        "ping node '10.0.0.999' is not a valid IPv4 address"),
    Bad("ping-group-without-addresses", "ha.cf", hacf("ping_group routers"), "ha.cf:10",
        "ping_group needs a name and at least one address"),
    # ha.cf: media
    Bad("no-media", "ha.cf", without("bcast", "ucast"), "ha.cf", "no bcast, ucast or mcast line"),
    Bad("only-serial-media", "ha.cf", without("bcast", "ucast") + "serial /dev/ttyS0\n", "ha.cf",
        "serial is not supported"),
    Bad("truncated-ucast", "ha.cf", hacf("ucast eth1"), "ha.cf:10",
        "ucast needs an interface and the peer's address"),
    Bad("ucast-bad-peer", "ha.cf", hacf("ucast eth0 10.0.0.256"), "ha.cf:10",
        "ucast peer '10.0.0.256' is not a valid IPv4 address"),
    Bad("truncated-mcast", "ha.cf", hacf("mcast eth1 239.192.0.1"), "ha.cf:10",
        "mcast is missing its port"),
    Bad("mcast-ttl-zero", "ha.cf", hacf("mcast eth1 239.192.0.1 694 0 0"), "ha.cf:10",
        "mcast ttl '0' is not 1 to 255"),
    Bad("mcast-ttl-too-big", "ha.cf", hacf("mcast eth1 239.192.0.1 694 300 0"), "ha.cf:10",
        "mcast ttl '300'"),
    Bad("mcast-port-too-big", "ha.cf", hacf("mcast eth1 239.192.0.1 70000 1 0"), "ha.cf:10",
        "mcast port '70000' is not a UDP port"),
    Bad("mcast-group-not-multicast", "ha.cf", hacf("mcast eth1 10.1.1.1 694 1 0"), "ha.cf:10",
        "mcast group '10.1.1.1' is not an IPv4 multicast address"),
    Bad("mcast-loop-not-0-or-1", "ha.cf", hacf("mcast eth1 239.192.0.1 694 1 yes"), "ha.cf:10",
        "mcast loop 'yes' is not 0 or 1"),
    Bad("interface-name-too-long", "ha.cf", hacf("bcast averyveryverylongname0"), "ha.cf:10",
        "bcast interface 'averyveryverylongname0'"),
    Bad("bcast-twice", "ha.cf", hacf("bcast eth1"), "ha.cf:10", "bcast eth1 is given twice"),
    # files that are not text, empty or missing
    Bad("hacf-binary-garbage", "ha.cf", b"node alpha\n\x7fELF\x02\x01\x01\x00\x00\x00\x00\n",
        "ha.cf:2", "binary data"),
    Bad("haresources-undecodable-bytes", "haresources",
        b"alpha 10.0.0.100 \xff\xfe\xc3\x28 httpd\n", "haresources:1", "is not UTF-8 text"),
    Bad("hacf-control-characters", "ha.cf", hacf("keepalive 1\x1b[2J"), "ha.cf:10",
        "control character 0x1b"),
    Bad("empty-hacf", "ha.cf", "", "ha.cf", "no `node` lines"),
    Bad("empty-authkeys", "authkeys", "", "authkeys", "no `auth N` line"),
    Bad("missing-hacf", "ha.cf", None, "ha.cf", "no ha.cf file"),
    Bad("missing-haresources", "haresources", None, "haresources", "no haresources file"),
    Bad("missing-authkeys", "authkeys", None, "authkeys", "no authkeys file"),
    # haresources
    Bad("node-not-in-hacf", "haresources", "alpha httpd\ngamma 10.0.0.7\n", "haresources:2",
        "node gamma is not declared in ha.cf"),
    Bad("node-without-resources", "haresources", "alpha 10.0.0.100\nbeta\n", "haresources:2",
        "beta is followed by no resources"),
    Bad("bad-ip", "haresources", "alpha 10.0.0.300/24\n", "haresources:1",
        "address '10.0.0.300' is not an IPv4 address"),
    Bad("shell-injection-in-ipaddr", "haresources", "alpha IPaddr::10.0.0.5;rm -rf /\n",
        "haresources:1", "address '10.0.0.5;rm' is not an IPv4 address"),
    Bad("bad-netmask", "haresources", "alpha IPaddr2::10.0.0.5/33/eth0\n", "haresources:1",
        "netmask '33'"),
    Bad("ipaddr-two-arguments", "haresources", "alpha IPaddr::10.0.0.5::eth0\n", "haresources:1",
        "IPaddr takes exactly one argument, not 2"),
    Bad("filesystem-relative-mount", "haresources", "alpha Filesystem::/dev/sdb1::data\n",
        "haresources:1", "mount point 'data' is not an absolute path"),
    Bad("empty-argument", "haresources", "alpha Filesystem::/dev/sdb1::::/data\n",
        "haresources:1", "an empty argument"),
    Bad("script-name-with-slash", "haresources", "alpha ../../bin/sh\n", "haresources:1",
        "is not a resource script name"),
    Bad("same-resource-twice", "haresources", "alpha 10.0.0.5 httpd\nbeta 10.0.0.5\n",
        "haresources:2", "resource 10.0.0.5 is given twice (first at line 1)"),
    Bad("bad-ip-on-continuation-line", "haresources", "alpha httpd \\\n  10.0.0.300\n",
        "haresources:2", "address '10.0.0.300'"),
    Bad("truncated-continuation", "haresources", "alpha httpd \\\n", "haresources:1",
        "continues past the end of the file"),
    # authkeys
    Bad("world-readable-authkeys", "authkeys", BASE["authkeys"], "authkeys",
        "readable by group or others", mode=0o644),
    Bad("group-readable-authkeys", "authkeys", BASE["authkeys"], "authkeys",
        "readable by group or others", mode=0o640),
    Bad("auth-index-missing", "authkeys", "auth 2\n1 sha1 s3cret\n", "authkeys:1",
        "auth 2 names a key that is not in the file"),
    Bad("auth-index-out-of-range", "authkeys", "auth 16\n16 sha1 s3cret\n", "authkeys:1",
        "keys are numbered 0 to 15"),
    Bad("auth-not-a-number", "authkeys", "auth one\n1 sha1 s3cret\n", "authkeys:1",
        "invalid auth line"),
    Bad("sha1-without-key", "authkeys", "auth 1\n1 sha1\n", "authkeys:2", "sha1 needs a key"),
    Bad("md5-without-key", "authkeys", "auth 1\n1 md5   \n", "authkeys:2", "md5 needs a key"),
    Bad("crc-with-key", "authkeys", "auth 1\n1 crc s3cret\n", "authkeys:2", "crc takes no key"),
    Bad("unknown-auth-method", "authkeys", "auth 1\n1 sha256 s3cret\n", "authkeys:2",
        "unknown method 'sha256'"),
    Bad("garbage-key-line", "authkeys", "auth 1\nsha1 s3cret\n", "authkeys:2",
        "is neither `auth N` nor `N METHOD KEY`"),
]


def write_config(root: Path, changed: str | None = None, text: str | bytes | None = "",
                 mode: int = 0o600) -> Path:
    """The base directory with CHANGED replaced by TEXT (None: left out)."""
    root.mkdir(exist_ok=True)
    for name, content in BASE.items():
        data = text if name == changed else content
        if data is None:
            continue
        path = root / name
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data)
    if (root / "authkeys").exists():
        (root / "authkeys").chmod(mode if changed == "authkeys" else 0o600)
    return root


def check(*args: str) -> Result:
    return CliRunner().invoke(cli, ["config", "check", *args])


def errors_of(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ": error: " in line]


def test_the_base_directory_of_the_table_is_valid(tmp_path: Path) -> None:
    result = check(str(write_config(tmp_path / "etc")))
    assert result.exit_code == 0, result.stderr
    # Two nodes, no fencing: the split-brain warning is the only line.
    assert [line for line in result.stderr.splitlines()
            if "split brain" not in line and "hint: configure a fence device" not in line] == []


@pytest.mark.parametrize("bad", BAD, ids=[b.id for b in BAD])
def test_malformed_input_exits_1_naming_file_and_line(tmp_path: Path, bad: Bad) -> None:
    root = write_config(tmp_path / "etc", bad.file, bad.text, bad.mode)
    result = check(str(root))
    assert result.exit_code == 1, result.stderr + result.stdout
    errors = errors_of(result.stderr)
    prefix = f"{root}/{bad.where}: error: "
    assert any(e.startswith(prefix) and bad.says in e for e in errors), (
        f"wanted {prefix}...{bad.says}... in:\n{result.stderr}")
    assert result.stderr.rstrip().endswith("invalid, " + (
        "1 error" if len(errors) == 1 else f"{len(errors)} errors"))


@pytest.mark.parametrize("bad", BAD, ids=[b.id for b in BAD])
def test_every_error_carries_a_one_line_hint(tmp_path: Path, bad: Bad) -> None:
    root = write_config(tmp_path / "etc", bad.file, bad.text, bad.mode)
    lines = [*check(str(root)).stderr.splitlines(), ""]
    for line, after in itertools.pairwise(lines):
        if ": error: " in line or ": warning: " in line:
            assert after.startswith("  hint: "), line
            assert after.strip() != "hint:", line


def test_the_table_holds_at_least_thirty_malformed_inputs() -> None:
    assert len(BAD) >= 30
    assert len({b.id for b in BAD}) == len(BAD)


def test_world_readable_authkeys_is_refused_with_chmod_hint(tmp_path: Path) -> None:
    root = write_config(tmp_path / "etc", "authkeys", BASE["authkeys"], 0o644)
    stderr = check(str(root)).stderr
    assert f"hint: chmod 600 {root}/authkeys" in stderr
    assert "600 recommended" in stderr  # Heartbeat's own reason


def test_unknown_directive_hints_the_directive_it_is_close_to(tmp_path: Path) -> None:
    root = write_config(tmp_path / "etc", "ha.cf", hacf("auto_failbak on"))
    assert "hint: did you mean `auto_failback`?" in check(str(root)).stderr


EXAMPLES = ["heartbeat-3node/node0", "heartbeat-3node/node1", "heartbeat-3node/node2",
            "heartbeat-2node"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_shipped_example_passes(example_config: Callable[[str], Path], name: str) -> None:
    result = check(str(example_config(name)))
    assert result.exit_code == 0, result.stderr
    assert errors_of(result.stderr) == []
    assert ": valid (legacy Heartbeat files)" in result.stdout


@pytest.mark.parametrize("name", EXAMPLES)
def test_json_output_is_a_document_with_valid_diagnostics_and_summary(
        example_config: Callable[[str], Path], name: str) -> None:
    result = check("--json", str(example_config(name)))
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["valid"] is True
    assert {"file", "line", "severity", "message", "hint"} <= set(doc["diagnostics"][0])
    assert doc["summary"]["format"] == "legacy"
    assert doc["summary"]["groups"]


def test_json_output_of_an_invalid_directory_says_why_and_has_no_summary(tmp_path: Path) -> None:
    root = write_config(tmp_path / "etc", "haresources", "gamma 10.0.0.7\n")
    result = check("--json", str(root))
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["valid"] is False
    assert "summary" not in doc
    [error] = [d for d in doc["diagnostics"] if d["severity"] == "error"]
    assert (error["file"], error["line"]) == (f"{root}/haresources", 1)
    assert error["hint"]


UNSUPPORTED = [
    ("serial /dev/ttyS0", "serial"),
    ("baud 19200", "baud"),
    ("hopfudge 1", "hopfudge"),
    ("realtime on", "realtime"),
    ("rtprio 50", "rtprio"),
    ("hbgenmethod time", "hbgenmethod"),
    ("uuidfrom nodename", "uuidfrom"),
    ("msgfmt netstring", "msgfmt"),
    ("use_logd yes", "use_logd"),
    ("conn_logd_time 60", "conn_logd_time"),
    ("coredumps true", "coredumps"),
    ("memreserve 6500", "memreserve"),
    ("traditional_compression no", "traditional_compression"),
    ("max_rexmit_delay 250", "max_rexmit_delay"),
    ("record_config_changes on", "record_config_changes"),
    ("env LANG=C", "env"),
    ("ucast6 eth0 fe80::1", "ucast6"),
    ("stonith baytech /etc/ha.d/conf/stonith.baytech", "stonith"),
    ("stonith_host * baytech 10.0.0.3 login secret", "stonith_host"),
]


@pytest.mark.parametrize(("line", "directive"), UNSUPPORTED, ids=[d for _, d in UNSUPPORTED])
def test_directive_vigil_does_not_act_on_is_a_warning_naming_it(
        tmp_path: Path, line: str, directive: str) -> None:
    root = write_config(tmp_path / "etc", "ha.cf", hacf(line))
    result = check(str(root))
    assert result.exit_code == 0, result.stderr
    assert f"{root}/ha.cf:10: warning: `{directive}`" in result.stderr
    assert f"not acted on: {directive}" in result.stdout
