"""ha.cf stonith lines mapped onto fence devices where an agent does the same job."""

from __future__ import annotations

import pytest

from vigil.config import FenceDevice, LegacyStonith, NodeName
from vigil.fencing import Manual, Mapped, Unmapped, devices_from_legacy, map_stonith

NODES = (NodeName("alpha"), NodeName("beta"))


def line(*words: str, directive: str = "stonith_host") -> LegacyStonith:
    return LegacyStonith(directive, words)


@pytest.mark.parametrize(("words", "expected"), [
    (("alpha", "external/ipmi", "beta", "10.0.0.12", "admin", "s3cret", "lanplus"),
     Mapped(FenceDevice("ipmi-beta", "fence_ipmilan",
                        {"ip": "10.0.0.12", "username": "admin", "password": "s3cret",
                         "lanplus": "1"}, (NodeName("beta"),)),
            "Heartbeat ran it only from alpha; vigil runs it from any node but the one "
            "it fences")),
    (("*", "external/ipmi", "BETA", "10.0.0.12", "admin", "s3cret"),
     Mapped(FenceDevice("ipmi-beta", "fence_ipmilan",
                        {"ip": "10.0.0.12", "username": "admin", "password": "s3cret"},
                        (NodeName("beta"),)))),
    (("*", "apcmaster", "10.0.0.3", "apc", "pw"),
     Mapped(FenceDevice("fence_apc-10.0.0.3", "fence_apc",
                        {"ip": "10.0.0.3", "username": "apc", "password": "pw"}),
            "outlets are found with the agent's list action, named after the nodes")),
    (("*", "wti_nps", "10.0.0.4", "pw"),
     Mapped(FenceDevice("fence_wti-10.0.0.4", "fence_wti", {"ip": "10.0.0.4", "password": "pw"}),
            "outlets are found with the agent's list action, named after the nodes")),
    (("*", "meatware", "beta"), Manual((NodeName("beta"),))),
    (("*", "meatware"), Manual(NODES)),
])
def test_stonith_host_with_an_equivalent_becomes_a_device(words: tuple[str, ...],
                                                          expected: object) -> None:
    assert map_stonith(line(*words), NODES) == expected


@pytest.mark.parametrize(("words", "directive", "says"), [
    (("*", "null", "alpha", "beta"), "stonith_host", "test plugin that fences nothing"),
    (("*", "ssh", "alpha beta"), "stonith_host", "test plugin"),
    (("*", "external/ssh", "beta"), "stonith_host", "test plugin"),
    (("*", "baytech", "10.0.0.3", "login", "pw"), "stonith_host", "baytech plugin"),
    (("*", "external/ipmi", "gamma", "10.0.0.1", "u", "p"), "stonith_host",
     "gamma, which is not a node"),
    (("*", "external/ipmi", "beta", "10.0.0.1"), "stonith_host", "needs hostname ipaddr"),
    (("baytech", "/etc/ha.d/conf/stonith.baytech"), "stonith", "configuration file"),
])
def test_stonith_without_an_equivalent_is_reported_with_the_reason(
        words: tuple[str, ...], directive: str, says: str) -> None:
    mapped = map_stonith(line(*words, directive=directive), NODES)
    assert isinstance(mapped, Unmapped)
    assert says in mapped.reason


def test_two_nodes_fencing_each_other_get_two_uniquely_named_devices() -> None:
    lines = [line("alpha", "external/ipmi", "beta", "10.0.0.12", "u", "p"),
             line("beta", "external/ipmi", "alpha", "10.0.0.11", "u", "p"),
             line("*", "external/ipmi", "beta", "10.0.0.99", "u", "p"),
             line("*", "null", "alpha")]
    devices, report = devices_from_legacy(lines, NODES)
    assert [d.name for d in devices] == ["ipmi-beta", "ipmi-alpha", "ipmi-beta-2"]
    assert [type(m).__name__ for _, m in report] == ["Mapped", "Mapped", "Mapped", "Unmapped"]
