"""Faults done to a ClusterLan: partitions at the bridge, packet loss, paused daemons.

Partitions and loss are nftables rules in the switch namespace (bridge family,
forward hook), so they act on frames between ports and never on the node's
own stack: a cut between two nodes drops exactly the frames from one node's
port to the other's (``iifname . oifname`` in a set), and every node's path to
the client stays whole, as when the heartbeat path between two racks fails but
both still face the users.

Loss is done here too, not with ``tc qdisc ... netem``: the test kernel has no
``sch_netem`` ("Specified qdisc kind is unknown") and cannot load modules. A
``numgen random mod 100 < N drop`` rule on the frames leaving a node's eth0
(entering its bridge port) is netem's ``loss N%`` on that eth0's egress.

    table bridge vigil_faults
      set cut { type ifname . ifname }          # (from port, to port) pairs dropped
      chain faults { hook forward; iifname . oifname @cut drop;
                     iifname "pNODE" jump loss_NODE ... }
      chain loss_NODE { numgen random mod 100 < N drop }   # empty: no loss

``forget_neighbour``/``pin_neighbour`` set a node's ARP entry for a peer, to
reproduce the neighbour states a long cut leaves behind. ``cut``, ``heal``,
``loss``, ``pause`` and ``resume`` return the CLOCK_MONOTONIC time at which
the fault took effect (after ``nft`` returned), the clock the client and the
holder sampler stamp their logs with.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterable
from typing import Protocol

TABLE = "vigil_faults"


class Lan(Protocol):
    """What the faults need of a ClusterLan (or any bridge of namespaces built alike)."""

    names: list[str]
    ns: dict[str, str]
    daemons: dict[str, subprocess.Popen[bytes]]


def nft(lan: Lan, script: str) -> None:
    """Run an nft script in the switch namespace; a failure raises with nft's words."""
    done = subprocess.run(["ip", "netns", "exec", lan.ns["sw"], "nft", "-f", "-"],
                          input=script, capture_output=True, text=True, timeout=10,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(f"nft failed: {done.stderr.strip()}\n{script}")


def install(lan: Lan) -> None:
    """The table, empty set and empty loss chains (idempotent: ``add`` of what exists
    is a no-op in nft)."""
    lines = [f"add table bridge {TABLE}",
             f"add set bridge {TABLE} cut {{ type ifname . ifname; }}"]
    lines += [f"add chain bridge {TABLE} loss_{n}" for n in lan.names]
    lines += [f"add chain bridge {TABLE} faults {{ type filter hook forward priority 0; "
              "policy accept; }",
              f"flush chain bridge {TABLE} faults",
              f"add rule bridge {TABLE} faults iifname . oifname @cut drop"]
    lines += [f'add rule bridge {TABLE} faults iifname "p{n}" jump loss_{n}' for n in lan.names]
    nft(lan, "\n".join(lines) + "\n")


def _sides(side: str | Iterable[str]) -> list[str]:
    return [side] if isinstance(side, str) else list(side)


def _pairs(side_a: str | Iterable[str], side_b: str | Iterable[str]) -> str:
    a, b = _sides(side_a), _sides(side_b)
    if set(a) & set(b):
        raise ValueError(f"a node cannot be on both sides of a cut: {sorted(set(a) & set(b))}")
    pairs = [f'"p{x}" . "p{y}"' for x, y in itertools.chain(
        itertools.product(a, b), itertools.product(b, a))]
    return ", ".join(pairs)


def cut(lan: Lan, side_a: str | Iterable[str], side_b: str | Iterable[str]) -> float:
    """No frame between any node of SIDE_A and any of SIDE_B, both ways, from now on."""
    install(lan)
    nft(lan, f"add element bridge {TABLE} cut {{ {_pairs(side_a, side_b)} }}\n")
    return time.monotonic()


def heal(lan: Lan, side_a: str | Iterable[str], side_b: str | Iterable[str]) -> float:
    """Undo ``cut`` of the same sides."""
    nft(lan, f"delete element bridge {TABLE} cut {{ {_pairs(side_a, side_b)} }}\n")
    return time.monotonic()


def heal_all(lan: Lan) -> float:
    """Every cut undone (the loss rules stay)."""
    install(lan)
    nft(lan, f"flush set bridge {TABLE} cut\n")
    return time.monotonic()


def loss(lan: Lan, node: str, percent: int) -> float:
    """PERCENT of the frames NODE sends are dropped (netem ``loss`` on its eth0); 0 ends it."""
    if not 0 <= percent <= 100:
        raise ValueError(f"loss must be 0..100 %, not {percent}")
    install(lan)
    script = f"flush chain bridge {TABLE} loss_{node}\n"
    if percent:
        script += f"add rule bridge {TABLE} loss_{node} numgen random mod 100 < {percent} drop\n"
    nft(lan, script)
    return time.monotonic()


def ruleset(lan: Lan) -> str:
    """The fault table as nft lists it (for a failure's diagnosis)."""
    done = subprocess.run(["ip", "netns", "exec", lan.ns["sw"], "nft", "list", "table",
                           "bridge", TABLE], capture_output=True, text=True, timeout=10,
                          check=False)
    return done.stdout or done.stderr


def _ip(*args: str) -> str:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10,
                          check=True)
    return done.stdout


def forget_neighbour(lan: Lan, node: str, address: str) -> None:
    """NODE's kernel forgets ADDRESS's MAC: its next packet there waits for ARP (during a cut,
    for the retransmit timer: the state a long partition leaves a node in)."""
    _ip("-n", lan.ns[node], "neigh", "del", address, "dev", "eth0")


def pin_neighbour(lan: Lan, node: str, address: str, peer: str) -> None:
    """NODE's kernel holds ADDRESS as PEER's MAC, REACHABLE (as a node whose entry was
    confirmed within the last 15-45 s keeps it through a short cut, sending without ARP)."""
    doc = json.loads(_ip("-n", lan.ns[peer], "-j", "link", "show", "eth0"))
    _ip("-n", lan.ns[node], "neigh", "replace", address, "lladdr", doc[0]["address"],
        "dev", "eth0", "nud", "reachable")


def pause(lan: Lan, node: str) -> float:
    """SIGSTOP of NODE's daemon only (its services and agents keep running): a hung daemon."""
    os.kill(lan.daemons[node].pid, signal.SIGSTOP)
    return time.monotonic()


def resume(lan: Lan, node: str) -> float:
    with contextlib.suppress(ProcessLookupError):
        os.kill(lan.daemons[node].pid, signal.SIGCONT)
    return time.monotonic()


__all__ = ["cut", "forget_neighbour", "heal", "heal_all", "install", "loss", "pause",
           "pin_neighbour", "resume", "ruleset"]
