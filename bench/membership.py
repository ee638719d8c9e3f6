"""Membership on real daemons over loopback: how fast a crash is noticed, and what a daemon costs.

    .venv/bin/python bench/membership.py [--kills 20] [--footprint-nodes 16] [--window 30]

1. Detection latency. A small cluster (3 nodes by default) with keepalive
   100 ms and deadtime 1 s. Each round waits until all nodes agree, sleeps a
   random part of a keepalive (so the kill lands anywhere in the heartbeat
   cycle), SIGKILLs one node, and measures from the kill to the moment each
   survivor declared it dead. That moment is read from the survivor's own
   monotonic clock (``now - state_since_ms`` in its status), which is the
   same CLOCK_MONOTONIC this script reads, so polling adds no error. The
   victim is restarted between rounds. Target: within deadtime + keepalive.
2. Footprint. 16 daemons (keepalive 100 ms), once they agree and settle: CPU
   as % of one core from /proc/PID/stat (utime + stime) over a window, and
   resident memory (VmRSS). Targets: under 1 % and under 40 MB per daemon.
   For scale, the same window also measures an empty asyncio loop woken as
   often as a daemon really is (its main thread's voluntary context switches
   from /proc/PID/status, node1's, over the first half of the window): on a
   loaded or virtualised machine a wake-up alone can cost 100+ us, which no
   daemon work can get under.
   ``--direct`` starts the daemons without the ``vigil`` command line (its
   imports included), to tell the daemon's own memory from the CLI's.

Prints figures; asserts nothing. Every daemon it started is killed on exit.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from vigil.cli.control_client import request
from vigil.exitcodes import VigilError

VIGIL = Path(sys.executable).with_name("vigil")
CLK_TCK = os.sysconf("SC_CLK_TCK")

#: ``vigil daemon`` without the CLI around it (``--direct``): same options, same code.
DIRECT = """
import sys
from pathlib import Path
from vigil.daemon import DaemonOptions, run_daemon
a = dict(zip(sys.argv[1::2], sys.argv[2::2]))
sys.exit(run_daemon(DaemonOptions(Path(a["--config"]), a["--node"], Path(a["--state-dir"]),
                                  Path(a["--socket"]))))
"""

#: An asyncio loop doing nothing but wake up RATE times a second for SECONDS;
#: prints its CPU use in % of one core.
IDLE_LOOP = """
import asyncio, sys, time
rate, seconds = float(sys.argv[1]), float(sys.argv[2])
async def main():
    loop = asyncio.get_running_loop()
    await asyncio.sleep(0)
    cpu0, t0 = time.process_time(), loop.time()
    n = 0
    while loop.time() - t0 < seconds:
        n += 1
        await asyncio.sleep(max(0.0, t0 + n / rate - loop.time()))
    print((time.process_time() - cpu0) / (loop.time() - t0) * 100)
asyncio.run(main())
"""


class Cluster:
    """N daemons on 127.A.B.1..N, one port, fixed timing; every PID reaped in ``close``."""

    def __init__(self, root: Path, size: int, keepalive_ms: int, deadtime_ms: int,
                 link: str = "ucast") -> None:
        self.root = root
        self.link = link
        # mcast: every daemon in one network namespace of the bench's own, whose
        # loopback carries multicast (the machine's own lo is left as it is).
        self.netns = f"vigil-bench-{os.getpid()}" if link == "mcast" else None
        if self.netns is not None:
            for cmd in (["ip", "netns", "add", self.netns],
                        ["ip", "-n", self.netns, "link", "set", "lo", "up", "multicast", "on"],
                        ["ip", "-n", self.netns, "route", "add", "224.0.0.0/4", "dev", "lo"]):
                subprocess.run(cmd, check=True, capture_output=True)
        root.mkdir(parents=True, exist_ok=True)
        self.names = [f"node{i}" for i in range(1, size + 1)]
        a, b = random.randint(1, 254), random.randint(1, 254)
        self.hosts = {n: f"127.{a}.{b}.{i}" for i, n in enumerate(self.names, start=1)}
        self.port = _free_port(list(self.hosts.values()))
        self.keepalive_ms, self.deadtime_ms = keepalive_ms, deadtime_ms
        self.config = root / "cluster.toml"
        self.config.write_text(self._toml())
        self.config.chmod(0o600)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.all_procs: list[subprocess.Popen[bytes]] = []

    def _toml(self) -> str:
        nodes = "".join(f'[[node]]\nname = "{n}"\n' for n in self.names)
        addresses = ", ".join(f'{n} = "{h}"' for n, h in self.hosts.items())
        link = (f'[[link]]\nname = "lo"\nkind = "ucast"\nport = {self.port}\n'
                f"addresses = {{ {addresses} }}\n") if self.link == "ucast" else (
                f'[[link]]\nname = "lo"\nkind = "mcast"\ninterface = "lo"\n'
                f'group = "239.192.94.1"\nport = {self.port}\nloop = true\n')
        return (
            '[cluster]\nname = "bench"\n'
            f'[timing]\nkeepalive = "{self.keepalive_ms}ms"\n'
            f'warntime = "{self.deadtime_ms // 2}ms"\ndeadtime = "{self.deadtime_ms}ms"\n'
            f'initdead = "{3 * self.deadtime_ms}ms"\n{nodes}'
            f"{link}"
            '[auth]\nactive = 1\n[[auth.key]]\nindex = 1\nmethod = "hmac-sha256"\n'
            'secret = "bench-secret-not-for-production-7a1c"\n'
        )

    def sock(self, name: str) -> Path:
        return self.root / f"{name}.sock"

    def start(self, name: str, direct: bool = False) -> None:
        log = open(self.root / f"{name}.log", "ab")  # noqa: SIM115 - the child keeps it
        argv = [str(VIGIL), "daemon", "--config", str(self.config), "--node", name,
                "--state-dir", str(self.root / "state"), "--socket", str(self.sock(name))]
        if direct:
            argv = [sys.executable, "-c", DIRECT, *argv[2:]]
        if self.netns is not None:  # ip execs the daemon: the PID is still its own
            argv = ["ip", "netns", "exec", self.netns, *argv]
        proc = subprocess.Popen(
            argv,
            stdout=log, stderr=log, stdin=subprocess.DEVNULL,
            env={**os.environ, "NOTIFY_SOCKET": ""})
        log.close()
        self.procs[name] = proc
        self.all_procs.append(proc)

    def status(self, name: str) -> dict[str, Any]:
        doc = request(self.sock(name), "status", 2.0)
        assert isinstance(doc, dict)
        return doc

    def agreed(self, names: list[str]) -> bool:
        try:
            docs = [self.status(n) for n in names]
        except VigilError:
            return False
        return all(sorted(d["view"]["members"]) == sorted(names) and d["view"]["stable"]
                   and d["quorate"] for d in docs)

    def wait(self, what: str, check: Any, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not check():
            if time.monotonic() > deadline:
                raise SystemExit(f"bench: gave up waiting for {what}; logs in {self.root}")
            time.sleep(0.05)

    def close(self) -> None:
        for proc in self.all_procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)
        if self.netns is not None:
            subprocess.run(["ip", "netns", "del", self.netns], check=False,
                           capture_output=True)


def _free_port(hosts: list[str]) -> int:
    for _ in range(100):
        port = random.randint(20_000, 32_000)
        socks: list[socket.socket] = []
        try:
            for host in hosts:
                for p in (port, port + 1):  # the heartbeat and the control port
                    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    socks.append(s)
                    s.bind((host, p))
            return port
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise SystemExit("bench: no free UDP port")


def _declared_dead_at(cluster: Cluster, observer: str, victim: str) -> float | None:
    """CLOCK_MONOTONIC seconds at which OBSERVER declared VICTIM dead, or None yet."""
    before = time.monotonic()
    try:
        doc = cluster.status(observer)
    except VigilError:
        return None
    after = time.monotonic()
    for node in doc["nodes"]:
        if node["name"] == victim and node["state"] == "dead" and not node["left"]:
            # the daemon answered between before and after; its "now" is about the midpoint
            return float((before + after) / 2 - node["state_since_ms"] / 1000)
    return None


def detection(args: argparse.Namespace, root: Path) -> None:
    cluster = Cluster(root / "detect", args.nodes, args.keepalive, args.deadtime)
    print(f"detection: {args.nodes} nodes on {cluster.hosts['node1']}.., keepalive "
          f"{args.keepalive} ms, deadtime {args.deadtime} ms, {args.kills} SIGKILLs, "
          f"seed {args.seed}", flush=True)
    latencies: list[float] = []  # per kill: the slowest survivor, ms
    every: list[float] = []  # per kill and survivor, ms
    try:
        for n in cluster.names:
            cluster.start(n)
        victims = cluster.names[1:]
        for round_no in range(args.kills):
            victim = victims[round_no % len(victims)]
            survivors = [n for n in cluster.names if n != victim]
            cluster.wait("the cluster to agree", lambda: cluster.agreed(cluster.names))
            time.sleep(random.uniform(0, args.keepalive / 1000))
            cluster.procs[victim].send_signal(signal.SIGKILL)
            killed = time.monotonic()
            cluster.procs[victim].wait()
            seen: dict[str, float] = {}
            deadline = killed + 10 * args.deadtime / 1000 + 5
            while len(seen) < len(survivors) and time.monotonic() < deadline:
                for s in survivors:
                    if s not in seen:
                        at = _declared_dead_at(cluster, s, victim)
                        if at is not None:
                            seen[s] = (at - killed) * 1000
                time.sleep(0.02)
            if len(seen) < len(survivors):
                raise SystemExit(f"bench: {victim} not seen dead by every survivor; "
                                 f"logs in {cluster.root}")
            every.extend(seen.values())
            latencies.append(max(seen.values()))
            print(f"  kill {round_no + 1:2d}: {victim} dead after "
                  f"{max(seen.values()):6.0f} ms (slowest of {len(seen)} survivors)", flush=True)
            cluster.start(victim)
    finally:
        cluster.close()
    dt = args.deadtime
    med = statistics.median(latencies)
    print(f"detection latency over {len(latencies)} kills (slowest survivor each):")
    print(f"  median {med:.0f} ms = {med / dt:.3f} x deadtime; "
          f"min {min(latencies):.0f} ms, max {max(latencies):.0f} ms "
          f"= {max(latencies) / dt:.3f} x deadtime")
    print(f"  every survivor: median {statistics.median(every):.0f} ms, "
          f"max {max(every):.0f} ms; target: within deadtime + keepalive = "
          f"{dt + args.keepalive} ms -> "
          f"{'met' if max(latencies) <= dt + args.keepalive else 'MISSED'}")


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)


def _sys_ticks(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[12])


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _wakeups(pid: int) -> int:
    """Times PID's main thread (the event loop) blocked and was woken."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("voluntary_ctxt_switches:"):
            return int(line.split()[1])
    return 0


def footprint(args: argparse.Namespace, root: Path) -> None:
    cluster = Cluster(root / "footprint", args.footprint_nodes, args.keepalive,
                      args.deadtime, args.link)
    print(f"footprint: {args.footprint_nodes} daemons on one {args.link} link, "
          f"keepalive {args.keepalive} ms, "
          f"window {args.window} s after {args.settle} s to settle", flush=True)
    try:
        for n in cluster.names:
            cluster.start(n, direct=args.direct)
        cluster.wait("all daemons to agree", lambda: cluster.agreed(cluster.names), 120)
        time.sleep(args.settle)
        pids = {n: p.pid for n, p in cluster.procs.items()}
        t0 = time.monotonic()
        ticks0 = {n: _cpu_ticks(pid) for n, pid in pids.items()}
        sys0 = {n: _sys_ticks(pid) for n, pid in pids.items()}
        wakes0 = {n: _wakeups(pid) for n, pid in pids.items()}
        time.sleep(args.window / 2)
        # The daemons' real wake-up rate over the first half of the window: then an
        # empty loop at that rate runs through the second half, for scale.
        half = time.monotonic() - t0
        wakes = {n: (_wakeups(pid) - wakes0[n]) / half for n, pid in pids.items()}
        rate = statistics.median(wakes.values())
        idle = subprocess.run([sys.executable, "-c", IDLE_LOOP, str(rate),
                               str(args.window / 2)], capture_output=True, text=True,
                              check=True)
        elapsed = time.monotonic() - t0
        cpu = {n: (_cpu_ticks(pid) - ticks0[n]) / CLK_TCK / elapsed * 100
               for n, pid in pids.items()}
        rss = {n: _rss_kib(pid) / 1024 for n, pid in pids.items()}
        kernel = {n: (_sys_ticks(pid) - sys0[n]) / CLK_TCK / elapsed * 100
                  for n, pid in pids.items()}
        still = cluster.agreed(cluster.names)
        doc = cluster.status("node1")
    finally:
        cluster.close()
    print(f"  CPU per daemon: mean {statistics.mean(cpu.values()):.2f} %, "
          f"max {max(cpu.values()):.2f} % of one core (target < 1 %); of which in the "
          f"kernel (stime): mean {statistics.mean(kernel.values()):.2f} %")
    print(f"  wake-ups per daemon: median {rate:.1f}/s, max {max(wakes.values()):.1f}/s "
          "(voluntary context switches of the loop thread)")
    print(f"  for scale: an empty asyncio loop woken {rate:.0f} times a second (as a "
          f"daemon is) used {float(idle.stdout):.2f} % here at the same time")
    how = "started without the CLI (--direct)" if args.direct else "started as vigil daemon"
    print(f"  RSS per daemon: mean {statistics.mean(rss.values()):.1f} MB, "
          f"max {max(rss.values()):.1f} MB (target < 40 MB; {how})")
    sent = sum(link["sent"] for link in doc["links"])
    print(f"  node1 sent {sent} datagrams, dropped {doc['drops']['total']}; "
          f"all {args.footprint_nodes} still agreed at the end: {still}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--nodes", type=int, default=3, help="cluster size for detection")
    parser.add_argument("--footprint-nodes", type=int, default=16)
    parser.add_argument("--keepalive", type=int, default=100, help="ms")
    parser.add_argument("--deadtime", type=int, default=1000, help="ms")
    parser.add_argument("--window", type=float, default=30.0, help="CPU window, seconds")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds before measuring")
    parser.add_argument("--seed", type=int, default=random.randrange(1 << 32))
    parser.add_argument("--skip-detection", action="store_true")
    parser.add_argument("--skip-footprint", action="store_true")
    parser.add_argument("--link", choices=("ucast", "mcast"), default="ucast",
                        help="footprint: ucast (each heartbeat sent to 15 peers) or "
                        "mcast (sent once; needs root: a network namespace of its own)")
    parser.add_argument("--direct", action="store_true",
                        help="footprint: start daemons without the vigil CLI's imports")
    args = parser.parse_args()
    random.seed(args.seed)
    print(f"SEED={args.seed} {' '.join(sys.argv)}", flush=True)
    with tempfile.TemporaryDirectory(prefix="vigil-bench-") as tmp:
        if not args.skip_detection:
            detection(args, Path(tmp))
        if not args.skip_footprint:
            footprint(args, Path(tmp))


if __name__ == "__main__":
    main()
