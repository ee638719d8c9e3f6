"""``python -m bench.failover``: the failover benchmark's command line.

    sudo .venv/bin/python -m bench.failover [--runs 5] [--peers vigil,keepalived,heartbeat]
        [--faults crash,stop,switchover,partition] [--profiles 100ms/300ms,1s/3s] [--seed N]
        [--json] [--keep] [--no-install]

Trials go round the table (every row and peer once, then again), so the
machine's load, which other people share, falls on every peer alike. Progress
goes to standard error; the tables to standard output (with --json the JSON
document goes there instead, and the tables to standard error). Every
namespace and process is removed, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .matrix import Fault, Profile, Row, parse_profile, select_rows
from .partition import PartitionFigures, run_partition_trial
from .peers import PEERS, Peer, PeerNotReadyError, StartError
from .report import Cell, Status, as_json, notes, partition_table, table
from .topology import destroy_all, interrupts_deferred, ip
from .trial import TrialError, run_trial

HERE = Path(__file__).resolve().parent


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.failover",
        description="Service outage on failover: vigil against keepalived and Heartbeat "
        "in network namespaces (root).")
    parser.add_argument("--runs", type=int, default=5, help="trials per cell (default 5)")
    parser.add_argument("--peers", default=",".join(PEERS),
                        help=f"comma-separated, of {', '.join(PEERS)} (default: all)")
    parser.add_argument("--faults", default=",".join(f.value for f in Fault),
                        help="comma-separated, of crash, stop, switchover, partition "
                        "(default: all)")
    parser.add_argument("--profiles", default=None, metavar="KA/DT,...",
                        help="run every fault at these keepalive/deadtime profiles for every "
                        "peer (e.g. 100ms/300ms,1s/3s) instead of PRODUCT.md's table")
    parser.add_argument("--seed", type=int, default=None, help="for the fault delays")
    parser.add_argument("--json", action="store_true",
                        help="print the figures as JSON (the tables then go to stderr)")
    parser.add_argument("--keep", action="store_true", help="keep every trial's logs")
    parser.add_argument("--no-install", action="store_true",
                        help="do not apt-get install missing peers (prereqs.sh)")
    args = parser.parse_args(argv)
    try:
        args.peer_names = tuple(_choices(args.peers, tuple(PEERS), "peer"))
        args.fault_list = tuple(Fault(f) for f in _choices(
            args.faults, tuple(f.value for f in Fault), "fault"))
        args.profile_list = None if args.profiles is None else tuple(
            parse_profile(p) for p in args.profiles.split(","))
    except ValueError as e:
        parser.error(str(e))
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def _choices(text: str, known: tuple[str, ...], what: str) -> list[str]:
    chosen = [w.strip() for w in text.split(",") if w.strip()]
    for word in chosen:
        if word not in known:
            raise ValueError(f"unknown {what} {word!r}: use {', '.join(known)}")
    return chosen


def install_missing(peers: dict[str, Peer], allowed: bool) -> None:
    if not any(p.missing() for p in peers.values()) or not allowed:
        return
    say("some peers are missing: running bench/failover/prereqs.sh (--no-install to skip)")
    subprocess.run(["bash", str(HERE / "prereqs.sh")], check=False)


def header(peers: dict[str, Peer], seed: int, argv: list[str]) -> dict[str, Any]:
    load = os.getloadavg()
    return {
        "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": " ".join(shlex.quote(a) for a in argv),
        "seed": seed,
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in load],
        "versions": {name: (p.version() if p.missing() is None else "not installed")
                     for name, p in peers.items()},
    }


def plan(rows: tuple[Row, ...], peers: dict[str, Peer]
         ) -> dict[tuple[str, Fault, Profile], Cell]:
    cells = {}
    for row in rows:
        for name in row.peers:
            cell = Cell(name, row.fault, row.profile)
            missing = peers[name].missing()
            why = peers[name].unsupported(row.fault, row.profile)
            if missing:
                cell.status, cell.note = Status.MISSING, missing
            elif why:
                cell.status, cell.note = Status.UNSUPPORTED, why
            cells[(name, row.fault, row.profile)] = cell
    return cells


def warn_stale() -> None:
    """Namespaces left by a harness that was killed outright (SIGKILL): named, not removed."""
    stale = []
    for line in ip("netns", "list", check=False).splitlines():
        match = re.match(r"^(vbf(\d+)t\d+-\w+)", line)
        if match and not Path(f"/proc/{match.group(2)}").exists():
            stale.append(match.group(1))
    if stale:
        say(f"note: {len(stale)} namespaces of an earlier, killed run remain; remove them with: "
            f"for n in {' '.join(stale)}; do ip netns pids $n | xargs -r kill -9; "
            "ip netns del $n; done")


def run(args: argparse.Namespace, argv: list[str]) -> int:
    peers = {name: PEERS[name]() for name in args.peer_names}
    install_missing(peers, not args.no_install)
    rows = select_rows(args.peer_names, args.fault_list, args.profile_list, tuple(PEERS))
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    rng = random.Random(seed)
    head = header(peers, seed, argv)
    say(f"bench/failover: seed={seed} load average {head['load_average_at_start']} "
        f"on {head['cpus']} CPUs; {', '.join(head['versions'].values())}")
    warn_stale()
    cells = plan(rows, peers)
    todo = [(r, row, name) for r in range(args.runs) for row in rows for name in row.peers]
    workroot = Path(tempfile.mkdtemp(prefix="vigil-bench-failover-"))
    failed_any = False
    began = time.monotonic()
    try:
        for index, (_run, row, name) in enumerate(todo, 1):
            cell = cells[(name, row.fault, row.profile)]
            if cell.settled:
                continue
            what = f"{name:<10} {row.fault.value:<10} {row.profile.label:<11}"
            workdir = workroot / f"{index:03d}-{name}-{row.fault.value}-{row.profile.label}" \
                .replace("/", "_")
            try:
                if row.fault is Fault.PARTITION:
                    p = run_partition_trial(peers[name], row.profile, rng=rng, workdir=workdir,
                                            tag=f"vbf{os.getpid()}t{index}")
                    _record_partition(cell, p)
                    say(f"[{index}/{len(todo)}] {what} two holders {p.two_holders_ms:7.0f} ms  "
                        f"one holder {_opt(p.one_holder_ms)}  client {_opt(p.client_ms)}  "
                        f"lost {p.lost:4d}  final {p.final or 'none'}  (cut after "
                        f"{p.delay_ms:.0f} ms; sampler resolution {p.resolution_ms:.1f} ms)")
                    continue
                result = run_trial(peers[name], row.fault, row.profile, rng=rng,
                                   workdir=workdir, tag=f"vbf{os.getpid()}t{index}")
            except PeerNotReadyError as e:
                _not_ready(cells, name, row, str(e), e.fault_only)
                say(f"[{index}/{len(todo)}] {what} not ready: {e}")
                continue
            except (TrialError, StartError) as e:
                failed_any = True
                cell.failures.append(str(e))
                say(f"[{index}/{len(todo)}] {what} FAILED: {e} (logs: {workdir})")
                continue
            o = result.outage
            cell.outages_ms.append(o.outage_ms)
            cell.silences_ms.append(o.silence_ms)
            cell.lost.append(o.lost)
            say(f"[{index}/{len(todo)}] {what} outage {o.outage_ms:7.1f} ms  "
                f"silence {o.silence_ms:7.1f} ms  lost {o.lost:4d}  "
                f"(fault after {result.delay_ms:.0f} ms)")
    finally:
        with interrupts_deferred():
            destroy_all()
        if args.keep or failed_any:
            say(f"logs kept in {workroot}")
        else:
            shutil.rmtree(workroot, ignore_errors=True)
    head["duration_s"] = round(time.monotonic() - began, 1)
    head["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    # With --json the tables go to standard error, so one run gives both.
    out = sys.stderr if args.json else sys.stdout
    names = tuple(n for n in PEERS if n in args.peer_names)
    what = ("Failover outage, fault to first answer from the other node, median (min–max)"
            if any(r.fault is not Fault.PARTITION for r in rows) else "Partitions")
    print(f"{what} of {args.runs} runs; {head['started']}, load average "
          f"{' '.join(map(str, head['load_average_at_start']))} at start on "
          f"{head['cpus']} CPUs, {head['duration_s']:.0f} s.", file=out)
    print(f"Command: {head['command']}", file=out)
    print(f"Versions: {'; '.join(head['versions'].values())}. keepalived's advert_int is the "
          "keepalive; its dead time is 3 adverts.\n", file=out)
    outage_rows = tuple(r for r in rows if r.fault is not Fault.PARTITION)
    if outage_rows:
        print(table(rows, cells, names), file=out)
        print("\nNo answer at all (last answer from anyone to the first from the new node), ms:\n",
              file=out)
        print(table(rows, cells, names, values="silences_ms"), file=out)
    if len(outage_rows) < len(rows):
        print(f"\n{'' if not outage_rows else chr(10)}Partition: the path between the nodes cut "
              "for 8 s with both alive, then healed; from the holder sampler (every 10 ms) and "
              "the client; median (min–max):\n", file=out)
        print(partition_table(rows, cells, names), file=out)
    lines = notes(cells)
    if lines:
        print("\nNotes:", file=out)
        for line in lines:
            print(f"- {line}", file=out)
    if args.json:
        print(json.dumps(as_json(rows, cells, head), indent=2))
    return 0


def _opt(ms: float | None) -> str:
    return "  never" if ms is None else f"{ms:7.0f} ms"


def _record_partition(cell: Cell, p: PartitionFigures) -> None:
    cell.partition.setdefault("two_holders_ms", []).append(p.two_holders_ms)
    cell.partition.setdefault("lost", []).append(float(p.lost))
    if p.one_holder_ms is None or p.client_ms is None:
        cell.unsettled += 1
    if p.one_holder_ms is not None:
        cell.partition.setdefault("one_holder_ms", []).append(p.one_holder_ms)
    if p.client_ms is not None:
        cell.partition.setdefault("client_ms", []).append(p.client_ms)


def _not_ready(cells: dict[tuple[str, Fault, Profile], Cell], name: str, row: Row,
               why: str, fault_only: bool) -> None:
    """A peer not ready to start at all settles all its cells; one not ready for a
    fault (no switchover command yet) only that fault's."""
    for (peer, fault, _profile), cell in cells.items():
        if peer == name and (not fault_only or fault is row.fault) and not cell.settled:
            cell.status, cell.note = Status.NOT_READY, why


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    full = [sys.executable, "-m", "bench.failover", *(sys.argv[1:] if argv is None else argv)]
    args = parse_args(argv)
    # Ctrl-C, SIGTERM and SIGHUP all unwind through the clean-up (SIGINT explicitly:
    # a shell starting us in the background would have set it to be ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)
    if os.geteuid() != 0:
        say("bench/failover needs root: it creates network namespaces and mounts")
        return 2
    try:
        return run(args, full)
    except KeyboardInterrupt:
        say("interrupted: namespaces and processes removed")
        return 130
