"""The replicated administrator settings: what each command does, versions, cleanups."""

from __future__ import annotations

import pytest
from coord_factory import config

from vigil.config import NodeName, ResourceId
from vigil.coordinator import (
    MAX_CLEANUPS,
    AdminCommand,
    AdminError,
    AdminSettings,
    CommandKind,
    Version,
)
from vigil.coordinator.admin import newest

CFG = config(groups={"web": ("node1", ["vip", "app"]), "db": ("node2", ["db"])})
N1, N2, N3 = NodeName("node1"), NodeName("node2"), NodeName("node3")


def apply(settings: AdminSettings, *commands: AdminCommand) -> AdminSettings:
    for i, command in enumerate(commands, start=1):
        settings = settings.apply(CFG, command, N1, N2, (1, i))
    return settings


@pytest.mark.parametrize(("commands", "standby", "moves"), [
    ([AdminCommand(CommandKind.STANDBY, N2)], {N2}, {}),
    ([AdminCommand(CommandKind.STANDBY, N2), AdminCommand(CommandKind.ONLINE, N2)], set(), {}),
    ([AdminCommand(CommandKind.ONLINE, N3)], set(), {}),
    ([AdminCommand(CommandKind.MOVE, N3, "web")], set(), {"web": N3}),
    # A move of a member replaces the group's move: a group runs on one node.
    ([AdminCommand(CommandKind.MOVE, N3, "web"), AdminCommand(CommandKind.MOVE, N2, "app")],
     set(), {"app": N2}),
    ([AdminCommand(CommandKind.MOVE, N3, "vip"), AdminCommand(CommandKind.UNMOVE, None, "web")],
     set(), {}),
    ([AdminCommand(CommandKind.MOVE, N3, "web"), AdminCommand(CommandKind.MOVE, N1, "db")],
     set(), {"web": N3, "db": N1}),
])
def test_each_command_changes_the_settings_as_its_name_says(
        commands: list[AdminCommand], standby: set[str], moves: dict[str, str]) -> None:
    settings = apply(AdminSettings(), *commands)
    assert (set(settings.standby), dict(settings.moves)) == (standby, moves)
    assert settings.version == Version(len(commands), "node1")
    assert settings.accepted(N2, (1, len(commands)))
    assert not settings.accepted(N2, (1, len(commands) + 1))
    assert not settings.accepted(N3, (1, 1))


def test_cleanup_of_a_group_marks_every_member_at_the_commands_version() -> None:
    settings = apply(AdminSettings(), AdminCommand(CommandKind.STANDBY, N3),
                     AdminCommand(CommandKind.CLEANUP, None, "web"))
    assert dict(settings.cleanups) == {"vip": 2, "app": 2}
    assert settings.cleanup_since(1) == (frozenset({"vip", "app"}), False)
    assert settings.cleanup_since(2) == (frozenset(), False)


def test_only_the_newest_cleanups_are_kept_and_the_floor_says_what_was_dropped() -> None:
    cfg = config(groups={f"g{i}": (None, [f"r{i}"]) for i in range(MAX_CLEANUPS + 6)})
    settings = AdminSettings()
    for i in range(MAX_CLEANUPS + 6):
        settings = settings.apply(cfg, AdminCommand(CommandKind.CLEANUP, None, f"r{i}"),
                                  N1, N1, (1, i + 1))
    assert len(settings.cleanups) == MAX_CLEANUPS
    assert ResourceId("r0") not in settings.cleanups
    assert settings.cleanup_floor == 6
    # A node that last saw version 3 cannot know what 4..6 cleaned up.
    assert settings.cleanup_since(3)[1] is True
    assert settings.cleanup_since(6)[1] is False


def test_a_repeated_request_is_remembered_as_applied_and_older_ones_stay_applied() -> None:
    settings = AdminSettings().apply(CFG, AdminCommand(CommandKind.STANDBY, N2), N1, N3, (4, 2))
    assert settings.accepted(N3, (4, 2))
    assert settings.accepted(N3, (4, 1))
    assert settings.accepted(N3, (3, 9))  # an earlier incarnation's requests
    assert not settings.accepted(N3, (5, 1))  # after a restart of node3


@pytest.mark.parametrize(("a", "b", "winner"), [
    (Version(3, "node1"), Version(4, "node1"), "b"),
    (Version(4, "node3"), Version(4, "node1"), "a"),  # same counter: the writer's name decides
    (Version(4, "node1"), Version(4, "node1"), "a"),
])
def test_the_higher_version_wins_so_partitions_agree_after_a_heal(
        a: Version, b: Version, winner: str) -> None:
    sa, sb = AdminSettings(version=a), AdminSettings(version=b, standby=frozenset({N2}))
    assert newest(sa, sb) is (sa if winner == "a" else sb)
    assert newest(sb, sa).version == max(a, b)


@pytest.mark.parametrize(("command", "message", "hint"), [
    (AdminCommand(CommandKind.STANDBY, NodeName("nodeX")), "no node 'nodeX' in the configuration",
     "configured nodes: node1, node2, node3"),
    (AdminCommand(CommandKind.UNMOVE, None, "mail"),
     "no resource or group 'mail' in the configuration", "known: web, db, vip, app"),
])
def test_a_command_naming_what_is_not_configured_changes_nothing(
        command: AdminCommand, message: str, hint: str) -> None:
    before = AdminSettings()
    with pytest.raises(AdminError) as raised:
        before.apply(CFG, command, N1, N2, (1, 1))
    assert (raised.value.message, raised.value.hint) == (message, hint)


@pytest.mark.parametrize(("kind", "node", "target", "error"), [
    (CommandKind.STANDBY, None, None, "standby needs node"),
    (CommandKind.MOVE, NodeName("node1"), None, "move needs resource or group"),
    (CommandKind.CLEANUP, NodeName("node1"), "db", "cleanup takes no node"),
    (CommandKind.ONLINE, NodeName("node1"), "db", "online takes no resource or group"),
])
def test_a_command_without_the_words_it_needs_cannot_be_made(
        kind: CommandKind, node: NodeName | None, target: str | None, error: str) -> None:
    with pytest.raises(AdminError, match=error):
        AdminCommand(kind, node, target)
