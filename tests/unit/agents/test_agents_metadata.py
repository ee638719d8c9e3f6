"""Agent self-descriptions: OCF meta-data XML, durations, and built-in declarations."""

from __future__ import annotations

import pytest

from vigil.agents import (
    ParameterError,
    builtins,
    metadata_xml,
    parse_duration_ms,
    parse_ocf_metadata,
)
from vigil.agents.builtin.declare import Param, check_params
from vigil.agents.metadata import DEFAULT_TIMEOUT_MS, MetadataError

META = """\
ocf-shellfuncs: some noise on stderr
<?xml version="1.0"?>
<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">
<resource-agent name="Thing" version="1.2">
<version>1.0</version>
<longdesc lang="en">A thing
 that does things.</longdesc>
<shortdesc lang="en">Thing</shortdesc>
<parameters>
<parameter name="ip" unique="1" required="1">
<shortdesc lang="en">Address</shortdesc>
<content type="string" />
</parameter>
<parameter name="count" required="0">
<content type="integer" default="5" />
</parameter>
</parameters>
<actions>
<action name="start" timeout="90s" />
<action name="stop" timeout="2min" />
<action name="monitor" timeout="15" interval="10s" depth="0" />
<action name="validate-all" timeout="500ms" />
<action name="meta-data" timeout="oops" />
</actions>
</resource-agent>
"""


def test_ocf_meta_data_gives_parameters_and_default_timeouts() -> None:
    meta = parse_ocf_metadata(META)
    assert meta.name == "Thing"
    assert meta.shortdesc == "Thing"
    assert meta.longdesc == "A thing that does things."
    ip, count = meta.parameters
    assert (ip.name, ip.required, ip.unique, ip.shortdesc) == ("ip", True, True, "Address")
    assert (count.name, count.type, count.default, count.required) == \
        ("count", "integer", "5", False)
    assert meta.default_timeout_ms("start") == 90_000
    assert meta.default_timeout_ms("stop") == 120_000
    assert meta.default_timeout_ms("monitor") == 15_000
    assert meta.default_timeout_ms("status") == 15_000  # status falls back to monitor
    assert meta.default_timeout_ms("validate-all") == 500
    assert meta.default_timeout_ms("meta-data") == DEFAULT_TIMEOUT_MS  # unreadable value
    assert meta.default_timeout_ms("reload") == DEFAULT_TIMEOUT_MS
    assert meta.has_action("validate-all")


@pytest.mark.parametrize(("text", "ms"), [
    ("20", 20_000), ("20s", 20_000), ("100ms", 100), ("1m", 60_000), ("2min", 120_000),
    ("1.5s", 1500), ("1h", 3_600_000), (" 5 s ", 5000),
])
def test_durations(text: str, ms: int) -> None:
    assert parse_duration_ms(text) == ms


@pytest.mark.parametrize("text", ["", "s", "5 parsecs", "-1s", "1e3"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration_ms(text)


@pytest.mark.parametrize("text", ["", "not xml", "<other/>", "<resource-agent"])
def test_meta_data_that_is_not_an_agent_description_is_an_error(text: str) -> None:
    with pytest.raises(MetadataError):
        parse_ocf_metadata(text)


@pytest.mark.parametrize("name", sorted(builtins()))
def test_builtin_declaration_survives_being_written_as_meta_data(name: str) -> None:
    declared = builtins()[name].declaration()
    reread = parse_ocf_metadata(metadata_xml(declared))
    assert [(p.name, p.required, p.default) for p in reread.parameters] == \
        [(p.name, p.required, p.default) for p in declared.parameters]
    assert [(a.name, a.timeout_ms) for a in reread.actions] == \
        [(a.name, a.timeout_ms) for a in declared.actions]


DECL = (Param("ip", "address", required=True), Param("count", "n", default="5",
                                                     type="integer"),
        Param("on", "flag", default="true", type="boolean"))


def test_builtin_parameters_are_checked_and_defaulted() -> None:
    assert check_params("vigil:x", DECL, {"ip": "1.2.3.4"}) == \
        {"ip": "1.2.3.4", "count": "5", "on": "true"}


@pytest.mark.parametrize(("given", "words"), [
    ({}, "needs parameter ip"),
    ({"ip": "x", "cuont": "3"}, "no parameter 'cuont'"),
    ({"ip": "x", "count": "three"}, "not a whole number"),
    ({"ip": "x", "on": "maybe"}, "not true or false"),
])
def test_wrong_builtin_parameters_are_refused_by_name(given: dict[str, str], words: str) -> None:
    with pytest.raises(ParameterError, match=words):
        check_params("vigil:x", DECL, given)
