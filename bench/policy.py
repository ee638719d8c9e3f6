#!/usr/bin/env python3
"""How long the policy engine takes to re-place a large cluster after a node failure.

10,000 resources in groups of 1-5 members, each group preferring one of 32
nodes (haresources' first column), everything running where it prefers; then
one node fails and ``vigil.policy.schedule`` re-places its groups. Prints the
median of several runs (target: under 1 s).

With ``--crm-simulate`` the same cluster is written as a Pacemaker CIB
(ocf:pacemaker:Dummy primitives in the same groups, the same location scores,
the failed node offline, start-up probes off) and ``crm_simulate -R`` runs on
it in the same invocation, capped at ``--cap`` seconds; the ratio is printed.

    .venv/bin/python bench/policy.py [--crm-simulate] [--cap 300]
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from xml.sax.saxutils import quoteattr

from vigil.config import (
    AgentSpec,
    Auth,
    AuthKey,
    AuthMethod,
    ClusterConfig,
    Group,
    GroupId,
    Node,
    NodeName,
    Resource,
    ResourceId,
    Timing,
)
from vigil.policy import ActionKind, ClusterState, ResourceState, schedule


def build_config(n_resources: int, n_nodes: int, seed: int) -> ClusterConfig:
    rng = random.Random(seed)
    nodes = tuple(Node(NodeName(f"node{i:02d}")) for i in range(n_nodes))
    resources: list[Resource] = []
    groups: list[Group] = []
    while len(resources) < n_resources:
        size = min(rng.randint(1, 5), n_resources - len(resources))
        members = []
        for _ in range(size):
            rid = ResourceId(f"r{len(resources)}")
            resources.append(Resource(id=rid, agent=AgentSpec("ocf", "Dummy", "pacemaker")))
            members.append(rid)
        index = len(groups)
        groups.append(Group(
            id=GroupId(f"g{index}"),
            resources=tuple(members),
            preferred_node=nodes[index % n_nodes].name,
        ))
    return ClusterConfig(
        nodes=nodes,
        links=(),
        timing=Timing(1000, 5000, 10_000, 30_000),
        auth=Auth(1, {1: AuthKey(1, AuthMethod.HMAC_SHA256, b"bench")}),
        resources=tuple(resources),
        groups=tuple(groups),
    )


def running_where_preferred(
    config: ClusterConfig,
) -> dict[NodeName, dict[ResourceId, ResourceState]]:
    reports: dict[NodeName, dict[ResourceId, ResourceState]] = {n: {} for n in config.node_names}
    for group in config.groups:
        assert group.preferred_node is not None
        for rid in group.resources:
            reports[group.preferred_node][rid] = ResourceState.RUNNING
    return reports


def failed_state(config: ClusterConfig, failed: NodeName) -> ClusterState:
    return ClusterState(
        config=config,
        online=frozenset(n for n in config.node_names if n != failed),
        reports=running_where_preferred(config),
    )


def time_vigil(
    config: ClusterConfig, failed: NodeName, runs: int
) -> tuple[list[float], float, str]:
    started = time.perf_counter()
    state = failed_state(config, failed)
    build_s = time.perf_counter() - started
    times = []
    summary = ""
    for _ in range(runs):
        started = time.perf_counter()
        transition = schedule(state)
        times.append(time.perf_counter() - started)
        starts = sum(1 for a in transition.actions if a.kind is ActionKind.START)
        stops = sum(1 for a in transition.actions if a.kind is ActionKind.STOP)
        summary = f"{starts} starts, {stops} stops, {len(transition.actions)} actions"
    return times, build_s, summary


# --- Pacemaker's side: the same cluster as a CIB ------------------------------------------

#: The digest Pacemaker records for an operation of a resource without parameters
#: (without it, crm_simulate restarts every resource "due to resource definition change").
EMPTY_PARAMS_DIGEST = "f2317cad3d54cec5d7d7aa7d0bf35cf8"

def write_cib(config: ClusterConfig, failed: NodeName, path: Path) -> None:
    node_id = {name: i + 1 for i, name in enumerate(config.node_names)}
    reports = running_where_preferred(config)
    out = [
        '<cib crm_feature_set="3.16.2" validate-with="pacemaker-3.9" epoch="1" '
        'num_updates="0" admin_epoch="0" have-quorum="1" dc-uuid="1">',
        "<configuration><crm_config><cluster_property_set id=\"opts\">",
        '<nvpair id="o1" name="stonith-enabled" value="false"/>',
        '<nvpair id="o2" name="enable-startup-probes" value="false"/>',
        '<nvpair id="o3" name="no-quorum-policy" value="stop"/>',
        "</cluster_property_set></crm_config><nodes>",
    ]
    out += [f'<node id="{node_id[n]}" uname="{n}"/>' for n in config.node_names]
    out.append("</nodes><resources>")
    for group in config.groups:
        out.append(f"<group id={quoteattr(group.id)}>")
        out += [f'<primitive id="{rid}" class="ocf" provider="pacemaker" type="Dummy"/>'
                for rid in group.resources]
        out.append("</group>")
    out.append("</resources><constraints>")
    for group in config.groups:
        out.append(f'<rsc_location id="loc-{group.id}" rsc="{group.id}" '
                   f'node="{group.preferred_node}" score="100"/>')
    out.append("</constraints></configuration><status>")
    for name in config.node_names:
        i = node_id[name]
        if name == failed:
            out.append(f'<node_state id="{i}" uname="{name}" in_ccm="false" crmd="offline" '
                       'join="down" expected="down">')
        else:
            out.append(f'<node_state id="{i}" uname="{name}" in_ccm="true" crmd="online" '
                       'join="member" expected="member">')
        out.append(f'<lrm id="{i}"><lrm_resources>')
        for call, rid in enumerate(reports[name], start=1):
            out.append(
                f'<lrm_resource id="{rid}" class="ocf" provider="pacemaker" type="Dummy">'
                f'<lrm_rsc_op id="{rid}_last_0" operation_key="{rid}_start_0" operation="start" '
                'crm-debug-origin="bench" crm_feature_set="3.16.2" '
                f'transition-key="{call}:0:0:bench" transition-magic="0:0;{call}:0:0:bench" '
                f'call-id="{call}" rc-code="0" op-status="0" interval="0" '
                f'on_node="{name}" op-digest="{EMPTY_PARAMS_DIGEST}"/></lrm_resource>')
        out.append("</lrm_resources></lrm></node_state>")
    out.append("</status></cib>")
    path.write_text("\n".join(out))


def time_crm_simulate(cib: Path, cap_s: float) -> tuple[float | None, str]:
    exe = shutil.which("crm_simulate")
    if exe is None:
        return None, "crm_simulate not found (apt-get install pacemaker-cli-utils)"
    started = time.perf_counter()
    try:
        done = subprocess.run([exe, "-x", str(cib), "-R"], capture_output=True,
                              text=True, timeout=cap_s, check=False)
    except subprocess.TimeoutExpired:
        return None, f"> {cap_s:.0f} s (capped)"
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        return None, f"failed (exit {done.returncode}): {done.stderr.strip()[:300]}"
    summary = done.stdout.partition("Transition Summary:")[2]
    starts = sum(1 for line in summary.splitlines() if line.strip().startswith("* Start"))
    moves = sum(1 for line in summary.splitlines() if line.strip().startswith("* Move"))
    rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return elapsed, (f"{elapsed:.2f} s; {starts} starts, {moves} moves; "
                     f"peak RSS {rss_mb:.0f} MB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--nodes", type=int, default=32)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--crm-simulate", action="store_true",
                        help="also time Pacemaker's crm_simulate -R on the equivalent CIB")
    parser.add_argument("--cap", type=float, default=300.0, help="crm_simulate time cap, seconds")
    parser.add_argument("--keep-cib", type=Path, help="write the generated CIB here")
    args = parser.parse_args(argv)

    config = build_config(args.resources, args.nodes, args.seed)
    failed = config.node_names[min(5, args.nodes - 1)]
    print(f"policy bench: {len(config.resources)} resources in {len(config.groups)} groups "
          f"(1-5 members) on {args.nodes} nodes; {failed} fails (seed {args.seed})")
    times, build_s, summary = time_vigil(config, failed, args.runs)
    median = statistics.median(times)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  vigil schedule: median {median:.3f} s (min {min(times):.3f}, max {max(times):.3f}, "
          f"{args.runs} runs); {summary}")
    print(f"  building the ClusterState (validation): {build_s:.3f} s; peak RSS {rss_mb:.0f} MB")
    print(f"  target under 1 s: {'met' if median < 1.0 else 'MISSED'}")

    if args.crm_simulate or args.keep_cib:
        with tempfile.TemporaryDirectory() as tmp:
            cib = args.keep_cib or Path(tmp) / "cib.xml"
            write_cib(config, failed, cib)
            if args.crm_simulate:
                seconds, text = time_crm_simulate(cib, args.cap)
                print(f"  crm_simulate -R (start-up probes off, same cluster): {text}")
                if seconds is not None:
                    print(f"  ratio: vigil is {seconds / median:.0f}x faster")
                else:
                    print(f"  ratio: vigil is > {args.cap / median:.0f}x faster" if "capped" in text
                          else "  ratio: n/a")
    return 0


if __name__ == "__main__":
    sys.exit(main())
