"""The client: asks the virtual IP every 10 ms and logs every question and answer.

    python prober.py --target 192.0.2.50 --port 7795 --interval-ms 10 --log FILE

One unconnected UDP socket (so an answer from any address is seen, and the
kernel's ARP cache is the only thing deciding which node a question reaches:
it is never flushed). Log lines, times from CLOCK_MONOTONIC in nanoseconds,
the clock the harness stamps faults with (network namespaces share it):

    S SEQ SENT_NS                        a question sent
    R SEQ SENT_NS RECEIVED_NS NAME ADDR  an answer from node NAME, from ADDR

Questions go out on a fixed 10 ms grid; one that could not be sent on time
(the machine stalled) is skipped, not sent late in a burst. Standard library
only: it runs inside the client namespace. Stops on SIGTERM.
"""

from __future__ import annotations

import argparse
import select
import signal
import socket
import sys
import time


def probe(target: str, port: int, interval_ns: int, log_path: str) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setblocking(False)
    running = True

    def stop(_signum: int, _frame: object) -> None:
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with open(log_path, "w", buffering=1) as log:
        seq = 0
        next_ns = time.monotonic_ns()
        while running:
            now = time.monotonic_ns()
            if now >= next_ns:
                seq += 1
                try:
                    sock.sendto(f"{seq} {now}".encode(), (target, port))
                    log.write(f"S {seq} {now}\n")
                except OSError:
                    # EHOSTUNREACH after failed ARP resolution: a lost question.
                    log.write(f"S {seq} {now}\n")
                missed = (now - next_ns) // interval_ns
                next_ns += (missed + 1) * interval_ns
            timeout = max(0.0, (next_ns - time.monotonic_ns()) / 1e9)
            try:
                readable, _, _ = select.select([sock], [], [], timeout)
            except InterruptedError:
                continue
            while readable:
                try:
                    data, (addr, _port) = sock.recvfrom(256)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    continue  # an ICMP error queued on the socket (port unreachable)
                received = time.monotonic_ns()
                parts = data.decode(errors="replace").split()
                if len(parts) == 3:
                    name, answered_seq, sent = parts
                    log.write(f"R {answered_seq} {sent} {received} {name} {addr}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--interval-ms", type=float, default=10.0)
    parser.add_argument("--log", required=True)
    args = parser.parse_args(argv)
    probe(args.target, args.port, int(args.interval_ms * 1_000_000), args.log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
