"""Passive audit: captures written with real packet bytes (dpkt), nmap XML and asset CSV imports."""

from __future__ import annotations

import json
import socket
import struct
from pathlib import Path

import dpkt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from trueorigin.cli import app
from trueorigin.errors import InputError
from trueorigin.passive.capture import CaptureReader, tls_certificates
from trueorigin.passive.imports import read_asset_csv, read_nmap_xml

RESPONSES = Path(__file__).parent / "data" / "responses"
DATA = Path(__file__).parent / "data" / "passive"
CAMERA_MAC = bytes.fromhex("4447cc37ce81")  # the MAC the SADP fixture reports (Hikvision MA-L 44:47:CC)
CLIENT_MAC = bytes.fromhex("020000000001")


def _ip(src: str, dst: str, payload: dpkt.Packet, proto: int) -> dpkt.ip.IP:
    packet = dpkt.ip.IP(src=socket.inet_aton(src), dst=socket.inet_aton(dst), p=proto, data=payload, ttl=64)
    packet.len = len(bytes(packet))
    return packet


def _eth(src_mac: bytes, ip: dpkt.ip.IP) -> bytes:
    return bytes(dpkt.ethernet.Ethernet(src=src_mac, dst=b"\xff" * 6, type=dpkt.ethernet.ETH_TYPE_IP, data=ip))


def _udp_frame(src: str, sport: int, dst: str, dport: int, payload: bytes, mac: bytes) -> bytes:
    udp = dpkt.udp.UDP(sport=sport, dport=dport, data=payload)
    udp.ulen = len(bytes(udp))
    return _eth(mac, _ip(src, dst, udp, dpkt.ip.IP_PROTO_UDP))


def _tcp_frame(src: str, sport: int, dst: str, dport: int, seq: int, flags: int, payload: bytes, mac: bytes) -> bytes:
    tcp = dpkt.tcp.TCP(sport=sport, dport=dport, seq=seq, flags=flags, data=payload)
    return _eth(mac, _ip(src, dst, tcp, dpkt.ip.IP_PROTO_TCP))


def _write_pcap(path: Path, frames: list[bytes]) -> None:
    with path.open("wb") as handle:
        writer = dpkt.pcap.Writer(handle, linktype=dpkt.pcap.DLT_EN10MB)
        for index, frame in enumerate(frames):
            writer.writepkt(frame, ts=1_700_000_000 + index)


def _http_flow(server: str, client: str, request: bytes, response: bytes, reorder: bool) -> list[bytes]:
    """A whole TCP connection whose server answer is cut in three segments (optionally out of order)."""
    syn, ack, psh, fin = dpkt.tcp.TH_SYN, dpkt.tcp.TH_ACK, dpkt.tcp.TH_PUSH, dpkt.tcp.TH_FIN
    c_isn, s_isn = 1000, 5000
    third = max(1, len(response) // 3)
    parts = [response[:third], response[third : 2 * third], response[2 * third :]]
    offsets = [0, third, 2 * third]
    server_segments = [
        _tcp_frame(server, 80, client, 40000, s_isn + 1 + off, ack | psh, part, CAMERA_MAC)
        for off, part in zip(offsets, parts, strict=True)
    ]
    if reorder:
        server_segments = [server_segments[2], server_segments[0], server_segments[1]]
    return [
        _tcp_frame(client, 40000, server, 80, c_isn, syn, b"", CLIENT_MAC),
        _tcp_frame(server, 80, client, 40000, s_isn, syn | ack, b"", CAMERA_MAC),
        _tcp_frame(client, 40000, server, 80, c_isn + 1, ack | psh, request, CLIENT_MAC),
        *server_segments,
        _tcp_frame(server, 80, client, 40000, s_isn + 1 + len(response), fin | ack, b"", CAMERA_MAC),
    ]


@pytest.fixture
def camera_capture(tmp_path: Path) -> Path:
    sadp = (RESPONSES / "sadp" / "ds-2cd2320d-i.xml").read_bytes()
    http = (RESPONSES / "http" / "hikvision-isapi-deviceinfo-401.txt").read_bytes()
    arp = dpkt.arp.ARP(
        sha=CAMERA_MAC, spa=socket.inet_aton("198.18.0.20"), tha=b"\x00" * 6, tpa=socket.inet_aton("198.18.0.1")
    )
    arp_frame = bytes(
        dpkt.ethernet.Ethernet(src=CAMERA_MAC, dst=b"\xff" * 6, type=dpkt.ethernet.ETH_TYPE_ARP, data=arp)
    )
    frames = [
        arp_frame,
        _udp_frame("198.18.0.20", 37020, "239.255.255.250", 37020, sadp, CAMERA_MAC),
        *_http_flow(
            "198.18.0.20", "198.18.0.1", b"GET /ISAPI/System/deviceInfo HTTP/1.1\r\nHost: x\r\n\r\n", http, True
        ),
    ]
    path = tmp_path / "camera.pcap"
    _write_pcap(path, frames)
    return path


def test_capture_gives_arp_mac_sadp_and_reassembled_http(camera_capture: Path) -> None:
    observations = list(CaptureReader(camera_capture).observations())
    by_protocol = {(o.protocol, o.transport): o for o in observations}
    assert by_protocol[("mac", "arp")].data == b"44:47:cc:37:ce:81"
    assert by_protocol[("sadp", "udp")].data == (RESPONSES / "sadp" / "ds-2cd2320d-i.xml").read_bytes()
    http = by_protocol[("http", "tcp")]
    assert http.data == (RESPONSES / "http" / "hikvision-isapi-deviceinfo-401.txt").read_bytes()
    assert http.request == "GET /ISAPI/System/deviceInfo"
    assert {o.host for o in observations} == {"198.18.0.20"}


def test_gap_in_stream_is_not_filled(tmp_path: Path) -> None:
    http = (RESPONSES / "http" / "hikvision-isapi-deviceinfo-401.txt").read_bytes()
    frames = _http_flow("198.18.0.30", "198.18.0.1", b"GET / HTTP/1.1\r\n\r\n", http, False)
    del frames[4]  # lose the middle segment of the answer
    path = tmp_path / "gap.pcap"
    _write_pcap(path, frames)
    [obs] = [o for o in CaptureReader(path).observations() if o.protocol == "http"]
    assert http.startswith(obs.data) and len(obs.data) < len(http)


def test_passive_cli_identifies_hikvision_from_capture(camera_capture: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'store.db'}"
    result = CliRunner().invoke(app, ["passive", str(camera_capture), "--json", "--db", db])
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 1, result.output
    host = lines[0]
    assert host["host"] == "198.18.0.20"
    assert host["vendor"] == "Hikvision"
    assert host["covered"] == "yes"
    assert host["mac"] == "44:47:cc:37:ce:81"
    assert result.exit_code == 1  # covered equipment found
    assert any(step.get("protocol") == "sadp" for step in host["evidence"])


def test_not_a_capture_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.pcap"
    path.write_text("hello")
    result = CliRunner().invoke(app, ["passive", str(path)])
    assert result.exit_code == 2
    assert "not a pcap" in result.output


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=2048))
def test_random_capture_bodies_never_crash(tmp_path: Path, body: bytes) -> None:
    path = tmp_path / "fuzz.pcap"
    header = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    path.write_bytes(header + body)
    try:
        for _ in CaptureReader(path).observations():
            pass
    except InputError:
        pass


@given(stream=st.binary(max_size=4096))
def test_tls_certificate_extraction_is_bounded(stream: bytes) -> None:
    certs = tls_certificates(stream)
    assert len(certs) <= 1
    assert all(len(c) <= len(stream) for c in certs)


def test_nmap_xml_import(tmp_path: Path) -> None:
    observations = list(read_nmap_xml(DATA / "nmap-hikvision.xml"))
    protocols = sorted(o.protocol for o in observations)
    assert protocols.count("nmap-service") >= 2
    assert "mac" in protocols
    result = CliRunner().invoke(app, ["import", str(DATA / "nmap-hikvision.xml"), "--json", "--no-store"])
    hosts = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    camera = next(h for h in hosts if h["host"] == "198.18.1.10")
    assert camera["vendor"] == "Hikvision", camera


def test_nmap_xml_with_entities_is_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.xml"
    bomb.write_text('<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xx">]><nmaprun>&x;</nmaprun>')
    with pytest.raises(InputError):
        list(read_nmap_xml(bomb))


def test_asset_csv_import(tmp_path: Path) -> None:
    observations = list(read_asset_csv(DATA / "assets.csv"))
    assert {o.host for o in observations} == {"198.18.2.10", "198.18.2.11", "198.18.2.12"}
    result = CliRunner().invoke(app, ["import", str(DATA / "assets.csv"), "--json", "--no-store"])
    hosts = {h["host"]: h for h in (json.loads(x) for x in result.stdout.splitlines() if x.startswith("{"))}
    assert hosts["198.18.2.10"]["vendor"] == "Dahua"
    assert hosts["198.18.2.10"]["brand"] == "Amcrest"
    assert hosts["198.18.2.12"]["covered"] == "no"


def test_asset_csv_without_ip_column_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("name,model\ncam,DS-2CD2143G0-I\n")
    result = CliRunner().invoke(app, ["import", str(path), "--format", "csv"])
    assert result.exit_code == 2
    assert "'ip' column" in result.output


def test_nmap_observations_carry_the_time_nmap_saw_the_host() -> None:
    """The verdict holds on the day of the scan (audit.observed_on), not the day of the import."""
    observations = list(read_nmap_xml(DATA / "nmap-hikvision.xml"))
    assert observations and {o.time for o in observations} == {1763942460.0}  # the host's endtime
