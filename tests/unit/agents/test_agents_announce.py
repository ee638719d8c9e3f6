"""Gratuitous ARP, ARP probe and neighbour advertisement frames, byte for byte."""

from __future__ import annotations

import ipaddress
import struct

import pytest

from vigil.agents import ParameterError
from vigil.agents.builtin.announce import (
    ARP_REPLY,
    ARP_REQUEST,
    BROADCAST_MAC,
    ZERO_MAC,
    ArpMode,
    arp_probe_frame,
    gratuitous_arp_frames,
    mac_bytes,
    mac_text,
    neighbor_advert,
    parse_arp,
)
from vigil.agents.builtin.ipaddr import parse_vip

MAC = mac_bytes("02:00:00:00:00:0b")
VIP = ipaddress.IPv4Address("192.0.2.50")


def test_gratuitous_arp_request_form_has_sender_ip_equal_to_target_ip() -> None:
    (frame,) = gratuitous_arp_frames(MAC, VIP, ArpMode.REQUEST)
    assert frame[:6] == BROADCAST_MAC
    assert frame[6:12] == MAC
    assert frame[12:14] == b"\x08\x06"
    assert len(frame) == 60
    msg = parse_arp(frame)
    assert msg is not None
    assert (msg.op, msg.sender_mac, msg.sender_ip, msg.target_mac, msg.target_ip) == \
        (ARP_REQUEST, MAC, VIP, ZERO_MAC, VIP)


def test_gratuitous_arp_reply_form_targets_its_own_mac_so_linux_accepts_it() -> None:
    request, reply = gratuitous_arp_frames(MAC, VIP, ArpMode.BOTH)
    msg = parse_arp(reply)
    assert msg is not None
    # Linux's arp_is_garp: a reply is gratuitous only if target MAC == sender MAC.
    assert (msg.op, msg.target_mac, msg.sender_ip, msg.target_ip) == (ARP_REPLY, MAC, VIP, VIP)
    assert parse_arp(request) is not None
    assert len(gratuitous_arp_frames(MAC, VIP, ArpMode.REPLY)) == 1


def test_arp_probe_comes_from_zero_address_so_no_cache_learns_from_it() -> None:
    msg = parse_arp(arp_probe_frame(MAC, VIP))
    assert msg is not None
    assert msg.sender_ip == ipaddress.IPv4Address("0.0.0.0")
    assert msg.target_ip == VIP


def test_non_arp_frames_are_ignored() -> None:
    assert parse_arp(b"\xff" * 12 + b"\x08\x00" + b"\x00" * 46) is None
    assert parse_arp(b"short") is None


def test_unsolicited_neighbour_advertisement_layout() -> None:
    ip6 = ipaddress.IPv6Address("2001:db8::50")
    na = neighbor_advert(MAC, ip6)
    kind, code, _checksum, flags = struct.unpack("!BBHI", na[:8])
    assert (kind, code) == (136, 0)
    assert flags == 0x20000000  # override, not solicited, not router
    assert na[8:24] == ip6.packed
    assert na[24:] == b"\x02\x01" + MAC  # target link-layer address option


@pytest.mark.parametrize("text", ["02:00:00:00:00", "zz:00:00:00:00:00", "0200.0000.000b", ""])
def test_bad_macs_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="MAC"):
        mac_bytes(text)


def test_mac_round_trip() -> None:
    assert mac_text(mac_bytes("2:0:0:0:0:B")) == "02:00:00:00:00:0b"


BASE = {"arp_count": "5", "arp_interval_ms": "200", "arp_mode": "both", "probe_ms": "200"}


@pytest.mark.parametrize(("params", "prefix", "nic", "label"), [
    ({"ip": "10.0.0.5"}, None, None, None),
    ({"ip": "10.0.0.5", "cidr_netmask": "255.255.255.0"}, 24, None, None),
    ({"ip": "2001:db8::5", "cidr_netmask": "64"}, 64, None, None),
    ({"ip": "10.0.0.5", "nic": "eth0:1"}, None, "eth0", "eth0:1"),  # Heartbeat's alias form
])
def test_vip_parameters(params: dict[str, str], prefix: int | None, nic: str | None,
                        label: str | None) -> None:
    vip = parse_vip({**BASE, **params})
    assert (vip.prefix, vip.nic, vip.label) == (prefix, nic, label)


@pytest.mark.parametrize("params", [
    {"ip": "10.0.0.5;rm -rf /"}, {"ip": "10.0.0.256"}, {"ip": "eth0"},
    {"ip": "10.0.0.5", "cidr_netmask": "33"}, {"ip": "10.0.0.5", "cidr_netmask": "255.0.255.0"},
    {"ip": "10.0.0.5", "nic": "eth0 up; reboot"}, {"ip": "10.0.0.5", "arp_mode": "loud"},
    {"ip": "10.0.0.5", "broadcast": "everyone"},
])
def test_vip_parameters_that_are_not_addresses_are_refused(params: dict[str, str]) -> None:
    with pytest.raises(ParameterError):
        parse_vip({**BASE, **params})
