"""Reading native vigil.toml files: defaults, durations, keys, the shipped examples."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from vigil.config import (
    INFINITY,
    AgentSpec,
    AuthMethod,
    AutoFailback,
    ClusterConfig,
    ConfigFormat,
    Diagnostics,
    Endpoint,
    LinkKind,
    NodeName,
    load,
)
from vigil.config.native import read_native
from vigil.config.native_fields import format_duration, parse_duration, parse_endpoint
from vigil.config.native_resources import parse_agent
from vigil.config.native_schema import DEFAULT_PORT

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "native"

MINIMAL = """\
[[node]]
name = "a"
[[node]]
name = "b"
[[link]]
kind = "ucast"
addresses = { a = "127.0.0.1", b = "127.0.0.2" }
[auth]
[[auth.key]]
secret = "0123456789abcdef0123456789abcdef"
"""


def write(tmp_path: Path, text: str, name: str = "vigil.toml", mode: int = 0o600) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    os.chmod(path, mode)
    return path


def read(tmp_path: Path, text: str, mode: int = 0o600) -> tuple[ClusterConfig | None, Diagnostics]:
    diags = Diagnostics()
    return read_native(write(tmp_path, text, mode=mode), diags), diags


def read_ok(tmp_path: Path, text: str) -> ClusterConfig:
    config, diags = read(tmp_path, text)
    assert config is not None, "\n".join(d.format() for d in diags.items)
    return config


def test_minimal_file_gets_the_documented_defaults(tmp_path: Path) -> None:
    config = read_ok(tmp_path, MINIMAL)
    t = config.timing
    assert (t.keepalive_ms, t.warntime_ms, t.deadtime_ms, t.initdead_ms) == (200, 1500, 3000, 9000)
    assert config.links[0].port == DEFAULT_PORT == 6940
    assert config.links[0].name == "link0"
    assert config.auth.active == 1
    assert config.auth.signing_key.method is AuthMethod.HMAC_SHA256
    assert config.cluster_name == "vigil"
    assert config.auto_failback is AutoFailback.ON
    assert config.format is ConfigFormat.NATIVE
    assert config.links[0].addresses[NodeName("b")] == Endpoint("127.0.0.2")


@pytest.mark.parametrize(("timing", "expected"), [
    ('keepalive = "100ms"', (100, 750, 1500, 4500)),
    ('keepalive = "1s"', (1000, 7500, 15000, 45000)),
    ('deadtime = "5s"', (200, 2500, 5000, 15000)),
    ('keepalive = 250\ndeadtime = "3s"\nwarntime = 1000\ninitdead = "1m"',
     (250, 1000, 3000, 60000)),
])
def test_unwritten_timers_follow_keepalive_and_deadtime(
        tmp_path: Path, timing: str, expected: tuple[int, int, int, int]) -> None:
    t = read_ok(tmp_path, MINIMAL + f"[timing]\n{timing}\n").timing
    assert (t.keepalive_ms, t.warntime_ms, t.deadtime_ms, t.initdead_ms) == expected


@pytest.mark.parametrize(("written", "ms"), [
    ("200ms", 200), ("2s", 2000), ("1.5s", 1500), ("0.1s", 100), ("5m", 300_000),
    ("1h", 3_600_000), ("0s", 0), (" 30 s ", 30_000), (250, 250), (0, 0),
])
def test_durations_as_strings_with_units_or_integers_of_ms(written: object, ms: int) -> None:
    assert parse_duration(written) == ms


@pytest.mark.parametrize(("written", "why"), [
    ("2", "no unit"), ("1.0005s", "whole number of milliseconds"), ("-1s", "negative"),
    ("2 sec", "bad duration"), (2.0, "no unit"), (True, "expected a duration"), (-3, "negative"),
    ("", "bad duration"),
])
def test_bad_durations_say_why(written: object, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_duration(written)


@pytest.mark.parametrize("ms", [0, 1, 200, 999, 1000, 1500, 60_000, 86_400_000])
def test_written_durations_read_back_exactly(ms: int) -> None:
    assert parse_duration(format_duration(ms)) == ms


@pytest.mark.parametrize(("text", "endpoint"), [
    ("10.0.0.1", Endpoint("10.0.0.1")),
    ("10.0.0.1:7000", Endpoint("10.0.0.1", 7000)),
    ("::1", Endpoint("::1")),
    ("[fe80::1]:6940", Endpoint("fe80::1", 6940)),
    ("db1.example.com:80", Endpoint("db1.example.com", 80)),
])
def test_endpoints_in_every_spelling(text: str, endpoint: Endpoint) -> None:
    assert parse_endpoint(text) == endpoint
    assert parse_endpoint(str(endpoint)) == endpoint


@pytest.mark.parametrize("text", ["10.0.0", "300.1.1.1", "10.0.0.1:0", "10.0.0.1:x",
                                  "[::1", "::g", "-host", "a b"])
def test_bad_endpoints_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="bad"):
        parse_endpoint(text)


@pytest.mark.parametrize(("text", "spec"), [
    ("ocf:heartbeat:IPaddr2", AgentSpec("ocf", "IPaddr2", "heartbeat")),
    ("lsb:apache2", AgentSpec("lsb", "apache2")),
    ("heartbeat:IPaddr", AgentSpec("heartbeat", "IPaddr")),
    ("systemd:nginx.service", AgentSpec("systemd", "nginx.service")),
    ("vigil:dummy", AgentSpec("vigil", "dummy")),
])
def test_agent_specs_read_as_class_provider_type(text: str, spec: AgentSpec) -> None:
    assert parse_agent(text) == spec
    assert str(spec) == text


def test_one_file_says_what_legacy_files_cannot(tmp_path: Path) -> None:
    config = read_ok(tmp_path, MINIMAL + """
[[resource]]
id = "vip"
agent = "ocf:heartbeat:IPaddr2"
params = { ip = "10.0.0.5", cidr_netmask = 24, unique_clone_address = false }
op = [{ name = "monitor", interval = "10s", timeout = "20s" }, { name = "start" }]
stickiness = "INFINITY"
migration_threshold = 3
failure_timeout = "1m"
target_role = "stopped"
[[group]]
id = "g"
resources = ["vip"]
locations = { a = 100, b = "-INFINITY" }
[quorum]
two_node = true
wait_for_all = true
no_quorum_policy = "freeze"
[[fence_device]]
name = "ipmi"
agent = "fence_ipmilan"
nodes = ["a"]
host_map = { a = "1" }
delay = "5s"
""")
    vip = config.resource("vip")
    assert vip.params == {"ip": "10.0.0.5", "cidr_netmask": "24", "unique_clone_address": "false"}
    assert [(o.name, o.interval_ms, o.timeout_ms) for o in vip.operations] == [
        ("monitor", 10_000, 20_000), ("start", 0, 20_000)]
    assert (vip.stickiness, vip.migration_threshold, vip.failure_timeout_ms) == (
        INFINITY, 3, 60_000)
    assert config.groups[0].locations == {"a": 100, "b": -INFINITY}
    assert config.quorum.two_node
    assert config.quorum.wait_for_all
    device = config.fencing.devices[0]
    assert (device.nodes, device.host_map, device.delay_ms, device.timeout_ms) == (
        ("a",), {"a": "1"}, 5000, 60_000)


def test_key_file_is_read_without_its_trailing_newline(tmp_path: Path) -> None:
    key = write(tmp_path, "s3cret-from-a-file\n", name="authkey")
    text = MINIMAL.replace('secret = "0123456789abcdef0123456789abcdef"', 'key_file = "authkey"')
    # The TOML holds no secret itself, so it may be readable by others.
    config, diags = read(tmp_path, text, mode=0o644)
    assert config is not None, [d.format() for d in diags.items]
    assert config.auth.signing_key.secret == b"s3cret-from-a-file"
    assert key in config.sources


def test_world_readable_key_file_is_refused_with_chmod_hint(tmp_path: Path) -> None:
    key = write(tmp_path, "s3cret-from-a-file\n", name="authkey", mode=0o640)
    text = MINIMAL.replace('secret = "0123456789abcdef0123456789abcdef"', 'key_file = "authkey"')
    config, diags = read(tmp_path, text)
    assert config is None
    [error] = [d for d in diags.items if d.is_error]
    assert error.file == key
    assert error.hint == f"chmod 600 {key}"


def test_missing_key_file_is_an_error_at_its_line(tmp_path: Path) -> None:
    text = MINIMAL.replace('secret = "0123456789abcdef0123456789abcdef"', 'key_file = "nokey"')
    config, diags = read(tmp_path, text)
    assert config is None
    [error] = [d for d in diags.items if d.is_error]
    assert error.line == 10
    assert "does not exist" in error.message


def test_binary_secret_in_base64(tmp_path: Path) -> None:
    text = MINIMAL.replace('secret = "0123456789abcdef0123456789abcdef"',
                           'secret_base64 = "AP8BAgMEBQYHCAkKCwwNDg8Q"')
    assert read_ok(tmp_path, text).auth.signing_key.secret == bytes([0, 255, *range(1, 17)])


def test_several_keys_need_indexes_and_the_active_one(tmp_path: Path) -> None:
    text = MINIMAL.replace('[auth]\n[[auth.key]]\nsecret = "0123456789abcdef0123456789abcdef"\n',
                           '[auth]\nactive = 2\n[[auth.key]]\nindex = 1\nmethod = "sha1"\n'
                           'secret = "old-key-old-key-old"\n[[auth.key]]\nindex = 2\n'
                           'secret = "new-key-new-key-new"\n')
    auth = read_ok(tmp_path, text).auth
    assert sorted(auth.keys) == [1, 2]
    assert auth.signing_key.secret == b"new-key-new-key-new"
    assert auth.keys[1].method is AuthMethod.SHA1


def test_partial_addresses_on_a_link_are_a_warning_not_an_error(tmp_path: Path) -> None:
    text = MINIMAL.replace('addresses = { a = "127.0.0.1", b = "127.0.0.2" }',
                           'addresses = { a = "127.0.0.1" }\npeers = ["10.0.0.9:7000"]')
    config, diags = read(tmp_path, text)
    assert config is not None
    assert config.links[0].peers == (Endpoint("10.0.0.9", 7000),)
    assert any("no address for b" in d.message and not d.is_error for d in diags.items)


def test_mcast_and_bcast_links(tmp_path: Path) -> None:
    text = MINIMAL + """
[[link]]
name = "hb"
kind = "mcast"
interface = "eth1"
group = "239.0.0.1"
ttl = 2
loop = true
[[link]]
name = "bc"
kind = "bcast"
interface = "eth2"
port = 694
"""
    links = read_ok(tmp_path, text).links
    assert [(lk.name, lk.kind) for lk in links] == [
        ("link0", LinkKind.UCAST), ("hb", LinkKind.MCAST), ("bc", LinkKind.BCAST)]
    assert (links[1].group, links[1].ttl, links[1].loop) == ("239.0.0.1", 2, True)
    assert links[2].port == 694


def test_auto_failback_may_be_written_as_a_boolean(tmp_path: Path) -> None:
    config = read_ok(tmp_path, '[cluster]\nauto_failback = false\n' + MINIMAL)
    assert config.auto_failback is AutoFailback.OFF
    assert config.stickiness == INFINITY


def test_errors_carry_the_line_of_a_multiline_array_element(tmp_path: Path) -> None:
    text = MINIMAL + '[[resource]]\nid = "r"\nagent = "vigil:dummy"\n' \
        '[[group]]\nid = "g"\nresources = [\n  "r",\n  "zz",\n]\n'
    config, diags = read(tmp_path, text)
    assert config is None
    [error] = [d for d in diags.items if d.is_error]
    assert error.line == text.splitlines().index('  "zz",') + 1


def test_a_multiline_string_holding_a_table_header_does_not_confuse_lines(tmp_path: Path) -> None:
    text = MINIMAL + '[[resource]]\nid = "r"\nagent = "vigil:dummy"\n' \
        'args = ["""\n[[group]]\nid = "fake"\n"""]\n[[group]]\nid = "g"\nresources = ["r", "q"]\n'
    _config, diags = read(tmp_path, text)
    [error] = [d for d in diags.items if d.is_error]
    assert error.line == len(text.splitlines())


@pytest.mark.parametrize("name", ["vigil.toml", "loopback-3node.toml"])
def test_shipped_native_examples_pass_config_check(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    shutil.copy(EXAMPLES / name, path)
    os.chmod(path, 0o600)  # git keeps no mode bits: as the README says, copy with 0600
    result = load(path)
    assert result.ok, [d.format() for d in result.diagnostics]


def test_loopback_example_runs_three_nodes_on_one_port_of_127_0_0_x(tmp_path: Path) -> None:
    path = tmp_path / "loopback.toml"
    shutil.copy(EXAMPLES / "loopback-3node.toml", path)
    os.chmod(path, 0o600)
    config = load(path).config
    assert config is not None
    [link] = config.links
    assert link.kind is LinkKind.UCAST
    assert {str(ep) for ep in link.addresses.values()} == {"127.0.0.1", "127.0.0.2", "127.0.0.3"}
    assert set(link.addresses) == set(config.node_names)
    assert len(config.nodes) == 3
    assert {r.agent for r in config.resources} == {AgentSpec("vigil", "dummy")}
    assert config.timing.deadtime_ms <= 1000


DOCS = Path(__file__).resolve().parents[3] / "docs" / "configuration.md"


def test_documented_complete_example_is_valid(tmp_path: Path) -> None:
    doc = DOCS.read_text(encoding="utf-8")
    example = doc.split("```toml\n", 1)[1].split("```", 1)[0]
    key = write(tmp_path, "a-key-from-openssl-rand-hex-32\n", name="authkey")
    example = example.replace('"/etc/vigil/authkey"', f'"{key}"')
    path = write(tmp_path, example)
    result = load(path)
    assert result.ok, [d.format() for d in result.diagnostics]


def test_every_key_of_the_format_is_documented() -> None:
    from vigil.config import native_schema

    doc = DOCS.read_text(encoding="utf-8")
    keys = {k for name in dir(native_schema) if name.endswith("_KEYS")
            for k in getattr(native_schema, name)}
    undocumented = sorted(k for k in keys if f"`{k}`" not in doc and f"`ping.{k}`" not in doc
                          and f"`respawn.{k}`" not in doc and f"`apiauth.{k}`" not in doc
                          and f"`[{k}]`" not in doc and f"`[[{k}]]`" not in doc
                          and f"`[auth] {k}`" not in doc and f"`[[auth.{k}]]`" not in doc)
    assert not undocumented
