"""Which node namespaces hold each VIP, sampled every 10 ms, and the log read back.

    chrt -f 20 python -m bench.failover.holders --every-ms 10 --log FILE --vip 192.0.2.50 \\
        node0=NETNS0 node1=NETNS1 ...

The sampler is a process of its own (standard library only) so that neither
the test's threads nor the daemons' load shape its timing, and it runs at a
real-time priority (``chrt``) because it proves a negative ("never two
holders"): a sample it fails to take is a moment it cannot vouch for. It opens
one NETLINK_ROUTE socket inside each node's namespace (``setns`` and back),
then on a fixed grid dumps every namespace's IPv4 addresses (``RTM_GETADDR``,
no process spawned) and writes one line per sample, times from
CLOCK_MONOTONIC in nanoseconds (the clock faults and the client use)::

    START_NS END_NS VIP=NODE,NODE VIP2=

A sample shows the holders as they were at some moment in [START, END] for
each namespace, so a window of two holders longer than ``resolution`` (the
longest END(k+1) - START(k) of the log) cannot fall between samples. The test
asserts that resolution from this log, not the grid it asked for.
"""

from __future__ import annotations

import argparse
import ctypes
import itertools
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

NLMSG = struct.Struct("=LHHLL")     # nlmsghdr: len, type, flags, seq, pid
IFADDRMSG = struct.Struct("=BBBBI")  # family, prefixlen, flags, scope, index
RTATTR = struct.Struct("=HH")        # len, type
RTM_NEWADDR, RTM_GETADDR = 20, 22
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
IFA_ADDRESS, IFA_LOCAL = 1, 2
CLONE_NEWNET = 0x40000000


def _align(n: int) -> int:
    return (n + 3) & ~3


def netlink_in(ns: str) -> socket.socket:
    """A NETLINK_ROUTE socket living in network namespace NS (this thread goes back after)."""
    libc = ctypes.CDLL(None, use_errno=True)
    with open("/proc/thread-self/ns/net", "rb") as home, open(f"/run/netns/{ns}", "rb") as there:
        if libc.setns(there.fileno(), CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {ns}")
        try:
            sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
        finally:
            if libc.setns(home.fileno(), CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back")
    sock.bind((0, 0))
    return sock


def ipv4_addresses(sock: socket.socket, seq: int) -> set[str]:
    """Every IPv4 address of the socket's namespace (one RTM_GETADDR dump)."""
    body = IFADDRMSG.pack(socket.AF_INET, 0, 0, 0, 0)
    sock.send(NLMSG.pack(NLMSG.size + len(body), RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP,
                         seq, 0) + body)
    found: set[str] = set()
    while True:
        data = sock.recv(65536)
        offset = 0
        while offset + NLMSG.size <= len(data):
            length, kind, _flags, got_seq, _pid = NLMSG.unpack_from(data, offset)
            if length < NLMSG.size:
                return found
            if got_seq == seq:
                if kind == NLMSG_DONE:
                    return found
                if kind == NLMSG_ERROR:
                    raise OSError("netlink error in the address dump")
                if kind == RTM_NEWADDR:
                    found |= _addresses(data[offset + NLMSG.size + IFADDRMSG.size:
                                             offset + length])
            offset += _align(length)


def _addresses(attrs: bytes) -> set[str]:
    out: set[str] = set()
    offset = 0
    while offset + RTATTR.size <= len(attrs):
        length, kind = RTATTR.unpack_from(attrs, offset)
        if length < RTATTR.size:
            break
        if kind in (IFA_ADDRESS, IFA_LOCAL) and length - RTATTR.size == 4:
            out.add(socket.inet_ntoa(attrs[offset + RTATTR.size:offset + 8]))
        offset += _align(length)
    return out


def sample_forever(nodes: dict[str, str], vips: list[str], every_ns: int, log: Path) -> None:
    socks = {node: netlink_in(ns) for node, ns in nodes.items()}
    running = True

    def stop(_signum: int, _frame: object) -> None:
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    seq = 0
    with log.open("w", buffering=1) as out:
        tick = time.monotonic_ns()
        while running:
            start = time.monotonic_ns()
            held: dict[str, list[str]] = {vip: [] for vip in vips}
            for node, sock in socks.items():
                seq += 1
                here = ipv4_addresses(sock, seq)
                for vip in vips:
                    if vip in here:
                        held[vip].append(node)
            end = time.monotonic_ns()
            out.write(f"{start} {end} " + " ".join(f"{v}={','.join(n)}" for v, n in held.items())
                      + "\n")
            tick += every_ns
            now = time.monotonic_ns()
            tick = max(tick, now)  # late: sample at once, no burst to catch up
            time.sleep((tick - now) / 1e9)


# -- reading the log ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sample:
    start: float  # seconds, CLOCK_MONOTONIC
    end: float
    holders: dict[str, frozenset[str]]


@dataclass
class HolderLog:
    """The sampler's log as read so far."""

    path: Path
    samples: list[Sample] = field(default_factory=list)
    _offset: int = 0
    _partial: str = ""

    def poll(self) -> HolderLog:
        try:
            with self.path.open("rb") as f:
                f.seek(self._offset)
                data = f.read()
        except FileNotFoundError:
            return self
        self._offset += len(data)
        lines = (self._partial + data.decode(errors="replace")).split("\n")
        self._partial = lines.pop()
        for line in lines:
            words = line.split()
            if len(words) < 2:
                continue
            held = {}
            for word in words[2:]:
                vip, _, nodes = word.partition("=")
                held[vip] = frozenset(n for n in nodes.split(",") if n)
            self.samples.append(Sample(int(words[0]) / 1e9, int(words[1]) / 1e9, held))
        return self

    def between(self, since: float, until: float) -> list[Sample]:
        return [s for s in self.samples if since <= s.start and s.end <= until]

    def resolution(self, since: float, until: float) -> float:
        """The longest time in [SINCE, UNTIL] not vouched for: max END(k+1) - START(k)
        (and from SINCE to the first sample's end, from the last start to UNTIL)."""
        return max(self.blind_spots(since, until))

    def blind_spots(self, since: float, until: float) -> list[float]:
        """Every stretch of [SINCE, UNTIL] between two samples (END(k+1) - START(k)),
        and the two ends; the whole window when no sample fell in it."""
        window = self.between(since, until)
        if not window:
            return [until - since]
        edges = [window[0].end - since, until - window[-1].start]
        edges += [b.end - a.start for a, b in itertools.pairwise(window)]
        return edges

    def holders_at(self, vip: str, moment: float) -> frozenset[str] | None:
        """The holders of the last sample that began at or before MOMENT."""
        found = None
        for s in self.samples:
            if s.start > moment:
                break
            found = s.holders.get(vip, frozenset())
        return found

    def multi_holder_s(self, vip: str, since: float, until: float) -> float:
        """Seconds in [SINCE, UNTIL] with two or more holders: from the start of a sample
        showing them to the start of the next sample showing one or none."""
        total, began = 0.0, None
        for s in self.between(since, until):
            many = len(s.holders.get(vip, frozenset())) > 1
            if many and began is None:
                began = s.start
            elif not many and began is not None:
                total += s.start - began
                began = None
        if began is not None:
            total += until - began
        return total

    def samples_with_many(self, vip: str, since: float, until: float) -> list[Sample]:
        return [s for s in self.between(since, until) if len(s.holders.get(vip, ())) > 1]

    def settled_on_one(self, vip: str, since: float, until: float) -> tuple[float, str] | None:
        """The end of the first sample from which on, up to UNTIL, exactly one node (always
        the same) holds VIP; and that node. None if that never happens."""
        found: tuple[float, str] | None = None
        for s in self.between(since, until):
            held = s.holders.get(vip, frozenset())
            if len(held) == 1 and (found is None or found[1] in held):
                if found is None:
                    found = (s.end, next(iter(held)))
            else:
                found = None
        return found


def start(nodes: dict[str, str], vips: list[str], log: Path,
          every_ms: float = 10.0) -> subprocess.Popen[bytes]:
    """The sampler for NODES (node -> netns) and VIPS, at a real-time priority where
    ``chrt`` allows it; returns once it has written its first sample."""
    argv = [sys.executable, __file__, "--every-ms", str(every_ms), "--log", str(log),
            *(f"--vip={v}" for v in vips), *(f"{n}={ns}" for n, ns in nodes.items())]
    chrt = shutil.which("chrt")
    if chrt is not None and os.geteuid() == 0:
        argv = [chrt, "--fifo", "20", *argv]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while not (log.exists() and log.stat().st_size > 0):
        if proc.poll() is not None:
            why = proc.stderr.read().decode() if proc.stderr else ""
            raise RuntimeError(f"holder sampler exited: {why}")
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("holder sampler wrote nothing within 10 s")
        time.sleep(0.01)
    return proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
    if proc.stderr is not None:
        proc.stderr.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every-ms", type=float, default=10.0)
    parser.add_argument("--log", required=True, type=Path)
    parser.add_argument("--vip", action="append", required=True)
    parser.add_argument("nodes", nargs="+", help="NODE=NETNS")
    args = parser.parse_args(argv)
    nodes = dict(word.split("=", 1) for word in args.nodes)
    sample_forever(nodes, args.vip, int(args.every_ms * 1e6), args.log)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
