"""Which devices fence a node, in which levels, with which options and delay: pure rules."""

from __future__ import annotations

import random

import pytest

from vigil.config import FenceDevice, NodeName
from vigil.fencing import (
    FenceAction,
    Level,
    TopologyError,
    agent_options,
    can_fence,
    delay_for,
    levels_for,
    plug_for,
)
from vigil.fencing.topology import ParameterError, parse_list_output

N1, N2, N3 = NodeName("node1"), NodeName("node2"), NodeName("node3")


def dev(name: str, **kw: object) -> FenceDevice:
    return FenceDevice(name, "fence_dummy", **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("device", "node", "listed", "expected"), [
    # no static list: every node but the one running it
    (dev("any"), N2, None, True),
    (dev("any"), N1, None, False),
    # static nodes list (Pacemaker static-list)
    (dev("ipmi2", nodes=(N2,)), N2, None, True),
    (dev("ipmi2", nodes=(N2,)), N3, None, False),
    # host_map counts as a static list
    (dev("pdu", host_map={N3: "outlet7"}), N3, None, True),
    (dev("pdu", host_map={N3: "outlet7"}), N2, None, False),
    # dynamic list: the plug must be among what `list` printed
    (dev("virsh"), N2, frozenset({"node2", "node3"}), True),
    (dev("virsh"), N2, frozenset({"node3"}), False),
    # a static list overrides whatever list said
    (dev("ipmi2", nodes=(N2,)), N2, frozenset(), True),
], ids=lambda v: str(v) if isinstance(v, bool) else None)
def test_which_devices_can_fence_a_node(device: FenceDevice, node: NodeName,
                                        listed: frozenset[str] | None, expected: bool) -> None:
    assert can_fence(device, node, N1, listed) is expected


def test_host_map_names_the_plug_and_unmapped_nodes_use_their_name() -> None:
    d = dev("pdu", host_map={N2: "port-2"})
    assert plug_for(d, N2) == "port-2"
    assert plug_for(d, N3) == "node3"


def test_without_topology_each_capable_device_is_a_level_in_config_order() -> None:
    devices = [dev("ipmi3", nodes=(N3,)), dev("pdu"), dev("ipmi2", nodes=(N2,))]
    assert levels_for(N2, devices, N1) == (Level(1, ("pdu",)), Level(2, ("ipmi2",)))


def test_explicit_topology_is_used_as_written_for_its_nodes_only() -> None:
    devices = [dev("ipmi"), dev("psu-a"), dev("psu-b")]
    topo = {N2: [["ipmi"], ["psu-a", "psu-b"]]}
    assert levels_for(N2, devices, N1, topology=topo) == (
        Level(1, ("ipmi",)), Level(2, ("psu-a", "psu-b")))
    assert len(levels_for(N3, devices, N1, topology=topo)) == 3


def test_topology_naming_a_missing_device_is_refused() -> None:
    with pytest.raises(TopologyError, match="psu-c"):
        levels_for(N2, [dev("psu-a")], N1, topology={N2: [["psu-a", "psu-c"]]})


def test_agent_gets_params_then_action_and_plug_so_params_cannot_redirect_it() -> None:
    d = dev("ipmi", params={"ip": "10.0.0.9", "action": "on", "plug": "elsewhere"},
            host_map={N2: "bmc2"})
    text = agent_options(d, FenceAction.OFF, plug_for(d, N2)).decode()
    assert text == "ip=10.0.0.9\naction=off\nplug=bmc2\n"


def test_monitor_and_list_name_no_plug() -> None:
    assert agent_options(dev("x"), FenceAction.MONITOR, "node2") == b"action=monitor\n"
    assert agent_options(dev("x"), FenceAction.LIST, "node2") == b"action=list\n"


def test_a_param_with_a_newline_cannot_smuggle_an_option_line() -> None:
    with pytest.raises(ParameterError, match="password"):
        agent_options(dev("x", params={"password": "pw\naction=on"}), FenceAction.OFF, "n")


def test_delay_is_static_plus_a_draw_from_the_given_rng() -> None:
    d = dev("x", delay_ms=5000, random_delay_ms=3000)
    draws = [delay_for(d, random.Random(7)) for _ in range(3)]
    expected = 5000 + random.Random(7).randint(0, 3000)
    assert draws == [expected] * 3
    spread = {delay_for(d, random.Random(seed)) for seed in range(50)}
    assert min(spread) >= 5000
    assert max(spread) <= 8000
    assert len(spread) > 10
    assert delay_for(dev("y", delay_ms=250), random.Random(1)) == 250


def test_list_output_gives_plugs_and_aliases_and_skips_log_lines() -> None:
    out = "vm1,node1\nvm2\n2024-01-01 12:00:00 WARNING: something\n\n"
    assert parse_list_output(out) == frozenset({"vm1", "node1", "vm2"})
