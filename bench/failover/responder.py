"""The service on each node: answers every UDP question with the node's name.

    python responder.py NAME PORT

It listens on every address, so it answers on the virtual IP exactly while the
node holds it, and replies from the address the question was sent to
(IP_PKTINFO), as a real service on a VIP does. A question is ``SEQ SENT_NS``; the
answer is ``NAME SEQ SENT_NS``. Standard library only: it runs inside a node's
network namespace with whatever Python is there.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import sys

IP_PKTINFO = 8  # <linux/in.h>; Python's socket module does not export it
#: struct in_pktinfo { int ipi_ifindex; struct in_addr ipi_spec_dst; struct in_addr ipi_addr; }
PKTINFO = struct.Struct("=i4s4s")


def serve(name: str, port: int) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
    sock.bind(("0.0.0.0", port))
    prefix = name.encode() + b" "
    print("ready", flush=True)
    while True:
        data, ancillary, _flags, peer = sock.recvmsg(256, socket.CMSG_SPACE(PKTINFO.size))
        control = []
        for level, kind, payload in ancillary:
            if level == socket.IPPROTO_IP and kind == IP_PKTINFO:
                _index, _spec, destination = PKTINFO.unpack(payload[:PKTINFO.size])
                # Answer from the address asked (the VIP), not the interface's primary one.
                control = [(socket.IPPROTO_IP, IP_PKTINFO,
                            PKTINFO.pack(0, destination, bytes(4)))]
        # OSError: the address just went away; the client asks again in 10 ms.
        with contextlib.suppress(OSError):
            sock.sendmsg([prefix + data], control, 0, peer)


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]))
