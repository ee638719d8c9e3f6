"""Telling the link who holds an address now: gratuitous ARP and unsolicited NA.

Frames are built here as bytes (pure, tested byte for byte) and sent on a raw
``AF_PACKET`` socket (ARP) or an ICMPv6 raw socket (neighbour advertisements;
the kernel fills in the checksum, as RFC 3542 requires for ICMPv6).

Why both ARP forms: a request with sender IP = target IP (RFC 5227's
announcement) and a reply whose target hardware address equals the sender's;
Linux treats either as gratuitous (``arp_is_garp``) and overrides an existing
neighbour entry even inside its ``locktime``, and some other stacks only
listen to one of the two. A reply to the broadcast hardware address, as old
``send_arp`` sent, is *not* gratuitous to Linux and is ignored within locktime.
"""

from __future__ import annotations

import contextlib
import enum
import ipaddress
import select
import socket
import struct
import time
from dataclasses import dataclass

ETH_P_ARP = 0x0806
ETH_P_IP = 0x0800
ARP_REQUEST = 1
ARP_REPLY = 2
BROADCAST_MAC = b"\xff" * 6
ZERO_MAC = b"\x00" * 6
ICMPV6_NEIGHBOR_ADVERT = 136
NA_FLAG_OVERRIDE = 0x20000000
ALL_NODES = "ff02::1"
_MIN_FRAME = 60  # Ethernet minimum without FCS; short frames are padded


class ArpMode(enum.Enum):
    REQUEST = "request"
    REPLY = "reply"
    BOTH = "both"


def mac_bytes(text: str) -> bytes:
    """``02:00:00:00:00:0a`` -> 6 bytes; raises ValueError."""
    parts = text.strip().split(":")
    hexdigits = set("0123456789abcdefABCDEF")
    if len(parts) != 6 or not all(len(p) in (1, 2) and set(p) <= hexdigits for p in parts):
        raise ValueError(f"{text!r} is not a MAC address (write 02:00:5e:00:01:0a)")
    return bytes(int(p, 16) for p in parts)


def mac_text(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def arp_frame(op: int, sender_mac: bytes, sender_ip: ipaddress.IPv4Address,
              target_mac: bytes, target_ip: ipaddress.IPv4Address,
              *, eth_dst: bytes = BROADCAST_MAC) -> bytes:
    """An Ethernet frame carrying one ARP message for IPv4."""
    eth = eth_dst + sender_mac + struct.pack("!H", ETH_P_ARP)
    arp = struct.pack("!HHBBH6s4s6s4s", 1, ETH_P_IP, 6, 4, op, sender_mac,
                      sender_ip.packed, target_mac, target_ip.packed)
    frame = eth + arp
    return frame + b"\x00" * (_MIN_FRAME - len(frame))


def gratuitous_arp_frames(mac: bytes, ip: ipaddress.IPv4Address, mode: ArpMode) -> list[bytes]:
    """One announcement round: the request form, the reply form, or both."""
    frames = []
    if mode in (ArpMode.REQUEST, ArpMode.BOTH):
        frames.append(arp_frame(ARP_REQUEST, mac, ip, ZERO_MAC, ip))
    if mode in (ArpMode.REPLY, ArpMode.BOTH):
        frames.append(arp_frame(ARP_REPLY, mac, ip, mac, ip))
    return frames


def arp_probe_frame(mac: bytes, ip: ipaddress.IPv4Address) -> bytes:
    """RFC 5227 probe: "who has IP?" from sender 0.0.0.0, so no cache learns from it."""
    return arp_frame(ARP_REQUEST, mac, ipaddress.IPv4Address(0), ZERO_MAC, ip)


@dataclass(frozen=True, slots=True)
class ArpMessage:
    op: int
    sender_mac: bytes
    sender_ip: ipaddress.IPv4Address
    target_mac: bytes
    target_ip: ipaddress.IPv4Address


def parse_arp(frame: bytes) -> ArpMessage | None:
    """The ARP message in an Ethernet frame, or None when it is not IPv4-over-Ethernet ARP."""
    if len(frame) < 42 or frame[12:14] != struct.pack("!H", ETH_P_ARP):
        return None
    htype, ptype, hlen, plen, op, sha, spa, tha, tpa = struct.unpack(
        "!HHBBH6s4s6s4s", frame[14:42])
    if (htype, ptype, hlen, plen) != (1, ETH_P_IP, 6, 4):
        return None
    return ArpMessage(op, sha, ipaddress.IPv4Address(spa), tha, ipaddress.IPv4Address(tpa))


def neighbor_advert(mac: bytes, ip: ipaddress.IPv6Address) -> bytes:
    """Unsolicited NA (RFC 4861 7.2.6): override set, solicited clear, our MAC attached."""
    header = struct.pack("!BBHI", ICMPV6_NEIGHBOR_ADVERT, 0, 0, NA_FLAG_OVERRIDE)
    option = struct.pack("!BB6s", 2, 1, mac)  # target link-layer address, 8 bytes
    return header + ip.packed + option


class Announcer:
    """An open socket and the frames that announce one address on one link.

    Opened (blocking, possibly inside a namespace) in a worker thread; sending
    is non-blocking and may then happen from the event loop.
    """

    def __init__(self, sock: socket.socket, frames: list[bytes],
                 dest: tuple[str, int, int, int] | None = None) -> None:
        self.sock = sock
        self.frames = frames
        self.dest = dest
        sock.setblocking(False)

    def send_round(self) -> int:
        sent = 0
        for frame in self.frames:
            with contextlib.suppress(BlockingIOError, InterruptedError):
                if self.dest is None:
                    self.sock.send(frame)
                else:
                    self.sock.sendto(frame, self.dest)
                sent += 1
        return sent

    def close(self) -> None:
        self.sock.close()


def open_arp_socket(nic: str) -> socket.socket:
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP))
    try:
        sock.bind((nic, ETH_P_ARP))
    except OSError:
        sock.close()
        raise
    return sock


def arp_announcer(nic: str, mac: bytes, ip: ipaddress.IPv4Address, mode: ArpMode) -> Announcer:
    return Announcer(open_arp_socket(nic), gratuitous_arp_frames(mac, ip, mode))


def na_announcer(ifindex: int, mac: bytes, ip: ipaddress.IPv6Address) -> Announcer:
    sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    try:
        # Receivers drop neighbour discovery that did not come with hop limit 255.
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, ifindex)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, 0)
        sock.bind((str(ip), 0, 0, ifindex))
    except OSError:
        sock.close()
        raise
    return Announcer(sock, [neighbor_advert(mac, ip)], (ALL_NODES, 0, 0, ifindex))


def find_other_holder(nic: str, mac: bytes, ip: ipaddress.IPv4Address,
                      window_s: float) -> bytes | None:
    """Probe for IP by ARP and listen WINDOW_S: the MAC of another host holding it, or None.

    Blocking: run it in a worker thread (inside the right namespace).
    """
    sock = open_arp_socket(nic)
    try:
        sock.send(arp_probe_frame(mac, ip))
        deadline = time.monotonic() + window_s
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([sock], [], [], left)
            if not ready:
                break
            msg = parse_arp(sock.recv(2048))
            # Anyone else speaking for IP: a reply to our probe, or its own announcement.
            if msg is not None and msg.sender_ip == ip and msg.sender_mac != mac:
                return msg.sender_mac
        return None
    finally:
        sock.close()
