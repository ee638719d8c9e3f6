"""What a 16-node cluster costs per node: vigil against Heartbeat, same LAN, same run.

    sudo .venv/bin/python bench/footprint_peers.py [--nodes 16] [--window 30] [--runs 3]

N network namespaces on one bridge (``eth0`` 10.77.0.I/24 each), keepalive
100 ms, warntime 500 ms, deadtime 1 s, initdead 3 s, every node broadcasting
its heartbeats on ``eth0`` (Heartbeat's ``bcast eth0``; vigil's ``kind =
"bcast"``), no resources. The two run one after the other on a fresh LAN each,
alternating, --runs times. For each: once every node is up (vigil: all agree
on the view; Heartbeat: node 1's log has every link up) and 5 s settled, the
CPU of each node over the window (utime + stime of every process in its
namespace: Heartbeat is a master control process plus a reader and a writer
per medium) and its resident memory (summed the same way). Prints per-run
means and the median ratio vigil / Heartbeat.

Heartbeat 3.0.6 (Debian's package) wants per node its own host name,
``/etc/ha.d``, ``/run`` and ``/var/lib/heartbeat``: each node runs in a mount
and UTS namespace of its own (as bench/failover/peers/heartbeat.py), its
``crm off``, an empty ``haresources``. Needs root, iproute2 and the heartbeat
package (``bench/failover/prereqs.sh`` installs it). Asserts nothing; kills
what it started and deletes its namespaces.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from vigil.cli.control_client import request
from vigil.exitcodes import VigilError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from failover.peers.base import StartError, wait_for
from failover.peers.heartbeat import DAEMON as HEARTBEAT
from failover.peers.heartbeat import HA_D, RUN_DIRS
from failover.peers.heartbeat import LIB as HB_LIB
from membership import CLK_TCK, VIGIL, _cpu_ticks, _rss_kib

KEEPALIVE, WARNTIME, DEADTIME, INITDEAD = 100, 500, 1000, 3000


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=15)


class Lan:
    """N node namespaces on one bridge; ``destroy`` kills what runs there and deletes them."""

    def __init__(self, nodes: int) -> None:
        tag = f"vfp{os.getpid() % 100000}"
        self.sw = f"{tag}-sw"
        self.names = [f"node{i}" for i in range(1, nodes + 1)]
        self.ns = {n: f"{tag}-{n}" for n in self.names}
        ip("netns", "add", self.sw)
        ip("-n", self.sw, "link", "add", "br0", "type", "bridge")
        ip("-n", self.sw, "link", "set", "br0", "up")
        for i, n in enumerate(self.names, start=1):
            ns = self.ns[n]
            ip("netns", "add", ns)
            ip("-n", self.sw, "link", "add", f"p{i}", "type", "veth", "peer", "name", "eth0",
               "netns", ns)
            ip("-n", self.sw, "link", "set", f"p{i}", "master", "br0", "up")
            ip("-n", ns, "link", "set", "lo", "up")
            ip("-n", ns, "addr", "add", f"10.77.0.{i}/24", "brd", "+", "dev", "eth0")
            ip("-n", ns, "link", "set", "eth0", "up")

    def pids(self, node: str) -> list[int]:
        out = subprocess.run(["ip", "netns", "pids", self.ns[node]], capture_output=True,
                             text=True, check=False).stdout
        return [int(w) for w in out.split()]

    def destroy(self) -> None:
        for n in self.names:
            for pid in self.pids(n):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
        for ns in [*self.ns.values(), self.sw]:
            subprocess.run(["ip", "netns", "del", ns], check=False, capture_output=True)


def measure(lan: Lan, window_s: float) -> tuple[list[float], list[float]]:
    """Per node: CPU in % of one core over WINDOW_S, and resident MB, over all its processes."""
    pids = {n: lan.pids(n) for n in lan.names}
    t0 = time.monotonic()
    before = {n: sum(_cpu_ticks(p) for p in ps) for n, ps in pids.items()}
    time.sleep(window_s)
    elapsed = time.monotonic() - t0
    cpu = [(sum(_cpu_ticks(p) for p in pids[n]) - before[n]) / CLK_TCK / elapsed * 100
           for n in lan.names]
    rss = [sum(_rss_kib(p) for p in pids[n]) / 1024 for n in lan.names]
    return cpu, rss


@contextlib.contextmanager
def vigil_cluster(lan: Lan, work: Path) -> Iterator[None]:
    nodes = "".join(f'[[node]]\nname = "{n}"\n' for n in lan.names)
    config = work / "cluster.toml"
    config.write_text(
        '[cluster]\nname = "bench"\n'
        f'[timing]\nkeepalive = "{KEEPALIVE}ms"\nwarntime = "{WARNTIME}ms"\n'
        f'deadtime = "{DEADTIME}ms"\ninitdead = "{INITDEAD}ms"\n{nodes}'
        '[[link]]\nname = "eth0"\nkind = "bcast"\ninterface = "eth0"\nport = 6940\n'
        '[auth]\nactive = 1\n[[auth.key]]\nindex = 1\nmethod = "hmac-sha256"\n'
        'secret = "bench-secret-not-for-production-7a1c"\n')
    config.chmod(0o600)
    procs = []
    for n in lan.names:
        with (work / f"{n}.log").open("ab") as log:
            procs.append(subprocess.Popen(
                ["ip", "netns", "exec", lan.ns[n], str(VIGIL), "daemon", "--config", str(config),
                 "--node", n, "--state-dir", str(work / "state"), "--socket",
                 str(work / f"{n}.sock")],
                stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                env={**os.environ, "NOTIFY_SOCKET": ""}))

    def agreed() -> bool:
        try:
            docs = [request(work / f"{n}.sock", "status", 2.0) for n in lan.names]
        except VigilError:
            return False
        return all(isinstance(d, dict) and len(d["view"]["members"]) == len(lan.names)
                   and d["view"]["stable"] for d in docs)

    try:
        wait_for(agreed, 60, f"vigil: all {len(lan.names)} nodes to agree (logs in {work})")
        yield
    finally:
        for p in procs:
            p.kill()
            p.wait(10)


@contextlib.contextmanager
def heartbeat_cluster(lan: Lan, work: Path) -> Iterator[None]:
    procs = []
    for n in lan.names:
        d = work / n
        shutil.copytree(HA_D, d / "etc", symlinks=True)
        shutil.copytree(HB_LIB, d / "lib", symlinks=True, ignore=shutil.ignore_patterns(
            "hb_uuid", "hb_generation", "hostcache", "delhostcache"))
        for sub in RUN_DIRS:  # as Heartbeat's tmpfiles.d sets /run up
            (d / "run" / sub).mkdir(parents=True, exist_ok=True)
            if sub != "resource-agents":
                shutil.chown(d / "run" / sub, "hacluster", "haclient")
        (d / "etc" / "ha.cf").write_text("\n".join([
            f"logfile {d / 'ha-log'}", "use_logd no",
            f"keepalive {KEEPALIVE}ms", f"warntime {WARNTIME}ms", f"deadtime {DEADTIME}ms",
            f"initdead {INITDEAD}ms", "udpport 694", "bcast eth0", "auto_failback off",
            "crm off", *(f"node {m}" for m in lan.names)]) + "\n")
        (d / "etc" / "haresources").write_text("")
        keys = d / "etc" / "authkeys"
        keys.write_text("auth 1\n1 sha1 vigil-bench-footprint\n")
        keys.chmod(0o600)
        script = (f"mount --bind {d}/etc {HA_D} && mount --bind {d}/run /run && "
                  f"mount --bind {d}/lib {HB_LIB} && hostname {n} && exec {HEARTBEAT} -f")
        with (d / "heartbeat.out").open("ab") as out:
            procs.append(subprocess.Popen(
                ["ip", "netns", "exec", lan.ns[n], "unshare", "--mount", "--uts",
                 "--propagation", "private", "sh", "-c", script],
                stdout=out, stderr=out, stdin=subprocess.DEVNULL))
    first = work / lan.names[0] / "ha-log"

    def all_up() -> bool:
        text = first.read_text(errors="replace") if first.exists() else ""
        return all(f"Link {m}:eth0 up" in text for m in lan.names[1:])

    try:
        wait_for(all_up, 120, f"heartbeat: {lan.names[0]} to hear every node (log {first})")
        yield
    finally:
        for p in procs:
            with contextlib.suppress(ProcessLookupError):
                p.send_signal(signal.SIGKILL)


def run_one(peer: str, nodes: int, window_s: float, settle_s: float) -> tuple[float, float]:
    lan = Lan(nodes)
    work = Path(tempfile.mkdtemp(prefix=f"vigil-fp-{peer}-"))
    try:
        cluster = vigil_cluster if peer == "vigil" else heartbeat_cluster
        with cluster(lan, work):
            time.sleep(settle_s)
            cpu, rss = measure(lan, window_s)
    finally:
        lan.destroy()
    shutil.rmtree(work, ignore_errors=True)  # kept when the run failed
    print(f"  {peer:9s} CPU per node: mean {statistics.mean(cpu):.2f} %, max {max(cpu):.2f} %; "
          f"RSS per node: mean {statistics.mean(rss):.1f} MB "
          f"(load {os.getloadavg()[0]:.2f})", flush=True)
    return statistics.mean(cpu), statistics.mean(rss)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=16)
    parser.add_argument("--window", type=float, default=30.0, help="seconds")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("bench: needs root (network, mount and UTS namespaces)")
    if not HEARTBEAT.exists():
        raise SystemExit(f"bench: {HEARTBEAT} missing: run bench/failover/prereqs.sh")
    print(f"footprint: {args.nodes} nodes, bcast on one bridge, keepalive {KEEPALIVE} ms, "
          f"window {args.window} s, {args.runs} runs each, alternating", flush=True)
    results: dict[str, list[tuple[float, float]]] = {"vigil": [], "heartbeat": []}
    for _ in range(args.runs):
        for peer in ("vigil", "heartbeat"):
            try:
                results[peer].append(run_one(peer, args.nodes, args.window, args.settle))
            except StartError as e:
                raise SystemExit(f"bench: {e}") from None
    v = statistics.median(c for c, _ in results["vigil"])
    h = statistics.median(c for c, _ in results["heartbeat"])
    vm = statistics.median(m for _, m in results["vigil"])
    hm = statistics.median(m for _, m in results["heartbeat"])
    print(f"median CPU per node: vigil {v:.2f} %, Heartbeat {h:.2f} % -> ratio {v / h:.2f}; "
          f"RSS: vigil {vm:.1f} MB, Heartbeat {hm:.1f} MB -> ratio {vm / hm:.2f}")


if __name__ == "__main__":
    main()
