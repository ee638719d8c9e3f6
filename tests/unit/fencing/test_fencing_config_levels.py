"""The fencer takes its levels and per-target delays from the configuration.

``Fencer.from_config`` walks ``[[fencing.level]]`` as Pacemaker's fenced walks
its fencing-topology: level by level, every device of a level must succeed.
The agents here answer through a recording runner (the agent protocol itself
is tested with real programs in test_fencing_agents.py).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import replace

import pytest

from cluster_configs import cluster
from vigil.agents import ProgramOutcome
from vigil.config import FenceDevice, FenceLevel, Fencing, NodeName
from vigil.fencing import FenceAction, Fencer, Level

N1, N2, N3 = NodeName("node1"), NodeName("node2"), NodeName("node3")


class Agents:
    """Answers each run with the exit code configured for its device (``dev=`` on stdin)."""

    def __init__(self, codes: Mapping[str, int]) -> None:
        self.codes = codes
        self.runs: list[tuple[str, str]] = []  # (device, action)

    async def __call__(self, argv: tuple[str, ...], env: Mapping[str, str], timeout_ms: int,
                       *, kill_grace_ms: int = 0, stdin: bytes | None = None) -> ProgramOutcome:
        opts = dict(line.split("=", 1) for line in (stdin or b"").decode().splitlines())
        self.runs.append((opts["dev"], opts["action"]))
        return ProgramOutcome(self.codes.get(opts["dev"], 0), "", 1)


def device(name: str, **kw: object) -> FenceDevice:
    return FenceDevice(name, "/bin/true", {"dev": name}, **kw)  # type: ignore[arg-type]


LEVELS = (FenceLevel(N1, 2, ("pdu-a", "pdu-b")), FenceLevel(N1, 1, ("ipmi1",)))
OUTLETS = {N1: "1", N2: "2", N3: "3"}
DEVICES = (device("ipmi1", nodes=(N1,)), device("pdu-a", host_map=OUTLETS),
           device("pdu-b", host_map=OUTLETS))


def fencer(codes: Mapping[str, int], **kw: object) -> tuple[Fencer, Agents]:
    config = replace(cluster(3), fencing=Fencing(DEVICES, levels=LEVELS))
    agents = Agents(codes)
    return Fencer.from_config(config, N2, runner=agents, **kw), agents  # type: ignore[arg-type]


async def test_a_failing_first_level_falls_back_to_the_configured_second_level() -> None:
    f, agents = fencer({"ipmi1": 1})
    result = await f.fence(N1, "left without goodbye")
    assert result.succeeded
    assert result.devices == ("pdu-a", "pdu-b")
    # reboot through two power supplies: both off, then both on (as Pacemaker)
    assert agents.runs == [("ipmi1", "reboot"), ("pdu-a", "off"), ("pdu-b", "off"),
                           ("pdu-a", "on"), ("pdu-b", "on")]
    assert result.summary.startswith("node1 fenced (reboot) by level 2: pdu-a, pdu-b")


async def test_a_level_of_two_devices_fails_when_one_of_them_does() -> None:
    f, agents = fencer({"ipmi1": 1, "pdu-b": 1})
    result = await f.fence(N1, "stop failed")
    assert not result.succeeded
    assert agents.runs == [("ipmi1", "reboot"), ("pdu-a", "off"), ("pdu-b", "off")]
    assert result.summary == ("every fencing level failed for node1: level 1 failed at ipmi1 "
                              "(failed); level 2 failed at pdu-b (failed)")


async def test_a_node_without_levels_is_fenced_by_each_capable_device_in_turn() -> None:
    f, agents = fencer({"pdu-a": 1})
    result = await f.fence(N3, "stale incarnation", FenceAction.OFF)
    assert result.succeeded
    assert agents.runs == [("pdu-a", "off"), ("pdu-b", "off")]


@pytest.mark.parametrize(("target", "waited_s"), [(N1, 5.0), (N3, 0.0)])
async def test_per_target_delay_is_waited_only_before_fencing_that_node(
        target: NodeName, waited_s: float) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    config = replace(cluster(3), fencing=Fencing((device("pdu", delay_by_node={N1: 5000}),)))
    f = Fencer(config.fencing.devices, N2, runner=Agents({}), sleep=sleep,
               rng=random.Random(1))
    assert (await f.fence(target, "lost")).succeeded
    assert slept == ([waited_s] if waited_s else [])


def test_the_daemons_fencing_runner_walks_the_configured_levels() -> None:
    from vigil.daemon.fencing_runner import FencingRunner

    config = replace(cluster(3), fencing=Fencing(DEVICES, levels=LEVELS))
    runner = FencingRunner(config, N2, lambda _event: None)
    assert runner.fencer.topology == {N1: (Level(1, ("ipmi1",)), Level(2, ("pdu-a", "pdu-b")))}
