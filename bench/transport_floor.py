"""The floor under bench/membership.py's CPU figure: the same UDP traffic, no processing at all.

    python3 bench/transport_floor.py [--nodes 16] [--window 15]

N plain asyncio processes on 127.0.0.1, each sending 300 bytes to every other
one every 100 ms (as a 16-node cluster at keepalive 100 ms does) and reading
its socket on a 50 ms grid, nothing else: what any Python daemon with this
traffic costs on this machine. Prints the mean CPU per process in % of one
core over the window (``/proc/PID/stat``). Asserts nothing; kills what it
started.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

CHILD = r'''
import asyncio, os, socket, sys
i, n, base = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
payload = os.urandom(300)
async def main():
    loop = asyncio.get_running_loop()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", base + i))
    s.setblocking(False)
    dests = [("127.0.0.1", base + j) for j in range(n) if j != i]
    t0, k = loop.time(), 0
    while True:
        k += 1
        await asyncio.sleep(max(0, t0 + k * 0.05 - loop.time()))
        while True:
            try:
                s.recvfrom(65536)
            except BlockingIOError:
                break
        if k % 2 == 0:
            for d in dests:
                s.sendto(payload, d)
asyncio.run(main())
'''


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=16)
    parser.add_argument("--window", type=float, default=15.0, help="seconds")
    parser.add_argument("--base-port", type=int, default=27_000)
    args = parser.parse_args()
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, str(i), str(args.nodes),
                               str(args.base_port)]) for i in range(args.nodes)]
    try:
        time.sleep(3)
        before = {p.pid: _cpu_ticks(p.pid) for p in procs}
        t0 = time.monotonic()
        time.sleep(args.window)
        elapsed = time.monotonic() - t0
        cpu = [(_cpu_ticks(pid) - ticks) / os.sysconf("SC_CLK_TCK") / elapsed * 100
               for pid, ticks in before.items()]
    finally:
        for p in procs:
            p.kill()
            p.wait()
    print(f"transport floor: {args.nodes} processes, 300-byte datagrams to every other one "
          f"every 100 ms, read 20 times a second: {statistics.mean(cpu):.2f} % of one core "
          "per process")


if __name__ == "__main__":
    main()
