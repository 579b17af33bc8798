"""Observations from packet captures (pcap and pcapng), streamed with bounded memory.

What is read, and as which observation protocol (the same parsers as the active probes use them):
- ARP replies and requests: sender MAC of the sender IP -> `mac`
- DHCP client messages (UDP 68 -> 67): the whole BOOTP message -> `dhcp-vendor-class`, and the client MAC -> `mac`
- UDP from the device side of discovery protocols: SADP (37020) -> `sadp`, DHIP (37810) -> `dhip`,
  WS-Discovery (3702) -> `ws-discovery`, SSDP (1900, answers and NOTIFY) -> `ssdp`, mDNS (5353 responses) -> `mdns`,
  SNMP v1/v2c responses (from port 161) -> their decoded values as `snmp-sysdescr`, `snmp-sysobjectid`,
  `snmp-object`, never the packet (it echoes the community, a secret)
- TCP streams reassembled per flow (server to client, bounded): HTTP responses paired with their request line
  -> `http`, RTSP responses -> `rtsp`, TLS Certificate handshake messages (TLS 1.2 and older; TLS 1.3 encrypts
  them) -> `tls-cert`, greetings on FTP/SSH/Telnet/SMTP/SIP ports -> `banner`, first bytes of the Hikvision and
  Dahua private ports -> `hikvision-private` / `dahua-private`.

Memory stays bounded: each flow keeps at most `FLOW_BYTES` per direction, at most `MAX_FLOWS` flows are open
(the oldest are flushed first), and packets are read one at a time from the file.
"""

from __future__ import annotations

import socket
import struct
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import dpkt

from trueorigin.errors import InputError
from trueorigin.model import Observation
from trueorigin.probes import snmp

FLOW_BYTES = 128 * 1024
MAX_FLOWS = 20_000
MAX_SEGMENTS_PER_DIRECTION = 512

UDP_DEVICE_PORTS: dict[int, str] = {
    37020: "sadp",
    37810: "dhip",
    3702: "ws-discovery",
    1900: "ssdp",
    5353: "mdns",
    161: "snmp-sysdescr",
}
HTTP_PORTS = frozenset({80, 81, 88, 8080, 8081, 8088, 8888, 7080, 49152})
RTSP_PORTS = frozenset({554, 8554})
TLS_PORTS = frozenset({443, 8443, 7443, 9443})
BANNER_PORTS = frozenset({21, 22, 23, 25, 2323, 5060})
VENDOR_PORTS: dict[int, str] = {8000: "hikvision-private", 37777: "dahua-private"}
SERVER_PORTS = HTTP_PORTS | RTSP_PORTS | TLS_PORTS | BANNER_PORTS | frozenset(VENDOR_PORTS)


def _ip_text(raw: bytes) -> str:
    family = socket.AF_INET if len(raw) == 4 else socket.AF_INET6
    return socket.inet_ntop(family, raw)


def _mac_text(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


@dataclass
class _Direction:
    """One direction of a TCP flow: segments buffered by sequence number, reassembled in order on flush."""

    isn: int | None = None
    segments: dict[int, bytes] = field(default_factory=dict)
    size: int = 0

    def add(self, seq: int, payload: bytes, syn: bool) -> None:
        if syn:
            self.isn = (seq + 1) & 0xFFFFFFFF
        if not payload or self.size >= FLOW_BYTES or len(self.segments) >= MAX_SEGMENTS_PER_DIRECTION:
            return
        if self.isn is None:  # capture started mid-flow: take the first data segment as the start
            self.isn = seq
        offset = (seq - self.isn) & 0xFFFFFFFF
        if offset >= FLOW_BYTES:
            return
        if offset not in self.segments:
            self.segments[offset] = payload[: FLOW_BYTES - offset]
            self.size += len(self.segments[offset])

    def stream(self) -> bytes:
        """Contiguous bytes from the start; a gap ends the stream (we never invent missing bytes)."""
        out = bytearray()
        for offset in sorted(self.segments):
            chunk = self.segments[offset]
            if offset > len(out):
                break
            out += chunk[len(out) - offset :]
        return bytes(out[:FLOW_BYTES])


@dataclass
class _Flow:
    server: str
    server_port: int
    client: str
    to_server: _Direction = field(default_factory=_Direction)
    to_client: _Direction = field(default_factory=_Direction)
    time: float = 0.0


FlowKey = tuple[str, int, str, int]  # server, server port, client, client port


class CaptureReader:
    """Turns a capture file into observations, one packet at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.flows: OrderedDict[FlowKey, _Flow] = OrderedDict()
        self.packets = 0
        self.skipped = 0

    def observations(self) -> Iterator[Observation]:
        try:
            handle = self.path.open("rb")
        except OSError as exc:
            raise InputError(f"cannot open capture {self.path}: {exc.strerror or exc}") from exc
        with handle:
            reader, linktype = _open_reader(handle, self.path)
            for timestamp, frame in _until_truncated(reader):
                self.packets += 1
                try:
                    yield from self._packet(float(timestamp), frame, linktype)
                except (dpkt.dpkt.UnpackError, struct.error, ValueError, IndexError):
                    self.skipped += 1
        yield from self._flush_all()

    # -- link and network layers -------------------------------------------------------------------
    def _packet(self, ts: float, frame: bytes, linktype: int) -> Iterator[Observation]:
        ip: dpkt.ip.IP | dpkt.ip6.IP6 | None = None
        src_mac: bytes | None = None
        if linktype == dpkt.pcap.DLT_EN10MB:
            eth = dpkt.ethernet.Ethernet(frame)
            src_mac = eth.src
            payload = eth.data
            if isinstance(payload, dpkt.arp.ARP):
                yield from self._arp(ts, payload)
                return
            if isinstance(payload, dpkt.ip.IP | dpkt.ip6.IP6):
                ip = payload
        elif linktype == dpkt.pcap.DLT_LINUX_SLL:
            sll = dpkt.sll.SLL(frame)
            if isinstance(sll.data, dpkt.ip.IP | dpkt.ip6.IP6):
                ip = sll.data
        elif linktype in (dpkt.pcap.DLT_RAW, 101, 228):
            ip = dpkt.ip.IP(frame) if frame[:1] and frame[0] >> 4 == 4 else dpkt.ip6.IP6(frame)
        elif linktype == dpkt.pcap.DLT_NULL or linktype == dpkt.pcap.DLT_LOOP:
            version = frame[4] >> 4 if len(frame) > 4 else 0
            ip = dpkt.ip.IP(frame[4:]) if version == 4 else dpkt.ip6.IP6(frame[4:]) if version == 6 else None
        if ip is None:
            return
        src, dst = _ip_text(ip.src), _ip_text(ip.dst)
        transport = ip.data
        if isinstance(transport, dpkt.udp.UDP):
            yield from self._udp(ts, src, dst, transport, src_mac)
        elif isinstance(transport, dpkt.tcp.TCP):
            yield from self._tcp(ts, src, dst, transport)

    def _arp(self, ts: float, arp: dpkt.arp.ARP) -> Iterator[Observation]:
        if arp.pro != 0x0800 or len(arp.spa) != 4 or arp.spa == b"\x00\x00\x00\x00":
            return
        yield Observation(
            host=_ip_text(arp.spa), protocol="mac", data=_mac_text(arp.sha).encode(), transport="arp", time=ts
        )

    # -- UDP ---------------------------------------------------------------------------------------
    def _udp(self, ts: float, src: str, dst: str, udp: dpkt.udp.UDP, src_mac: bytes | None) -> Iterator[Observation]:
        data = bytes(udp.data)
        if not data:
            return
        if udp.sport == 68 and udp.dport == 67:
            yield from self._dhcp(ts, data)
            return
        protocol = UDP_DEVICE_PORTS.get(udp.sport)
        if protocol is None:
            return
        if protocol == snmp.SYSDESCR:
            # the answer echoes the community (a secret): keep the decoded values only, as active scans do
            try:
                values = snmp.observations_from_response(data, src, udp.sport, ts)
            except snmp.BerError:
                values = []  # not a v1/v2c response (a v3 message, a request): nothing to read, nothing to keep
            yield from values
            return
        if protocol == "ssdp" and data[:8].upper().startswith(b"M-SEARCH"):
            return  # a client's search, not a device's answer
        if protocol == "mdns" and (len(data) < 3 or not data[2] & 0x80):
            return  # a query, not a response
        yield Observation(host=src, protocol=protocol, data=data, port=udp.sport, transport="udp", time=ts)
        if src_mac and any(src_mac) and protocol in ("sadp", "dhip", "ws-discovery", "ssdp", "mdns"):
            # link-local discovery answers come straight from the device, so the frame's source MAC is its own
            yield Observation(host=src, protocol="mac", data=_mac_text(src_mac).encode(), transport="udp", time=ts)

    def _dhcp(self, ts: float, data: bytes) -> Iterator[Observation]:
        try:
            msg = dpkt.dhcp.DHCP(data)
        except (dpkt.dpkt.UnpackError, struct.error, ValueError):
            return
        address = msg.ciaddr
        for code, value in msg.opts:
            if code == dpkt.dhcp.DHCP_OPT_REQ_IP and len(value) == 4:
                address = struct.unpack("!I", value)[0]
        if not address:
            return  # no address yet (DISCOVER): nothing to attach the facts to
        host = socket.inet_ntoa(struct.pack("!I", address))
        yield Observation(host=host, protocol="dhcp-vendor-class", data=data, port=68, transport="udp", time=ts)
        yield Observation(host=host, protocol="mac", data=_mac_text(msg.chaddr[:6]).encode(), transport="dhcp", time=ts)

    # -- TCP ---------------------------------------------------------------------------------------
    def _tcp(self, ts: float, src: str, dst: str, tcp: dpkt.tcp.TCP) -> Iterator[Observation]:
        syn = bool(tcp.flags & dpkt.tcp.TH_SYN)
        if tcp.sport in SERVER_PORTS and tcp.dport not in SERVER_PORTS:
            key: FlowKey = (src, tcp.sport, dst, tcp.dport)
            from_server = True
        elif tcp.dport in SERVER_PORTS:
            key = (dst, tcp.dport, src, tcp.sport)
            from_server = False
        else:
            return
        flow = self.flows.get(key)
        if flow is None:
            flow = _Flow(server=key[0], server_port=key[1], client=key[2], time=ts)
            self.flows[key] = flow
            if len(self.flows) > MAX_FLOWS:
                _, oldest = self.flows.popitem(last=False)
                yield from _flow_observations(oldest)
        direction = flow.to_client if from_server else flow.to_server
        direction.add(tcp.seq, bytes(tcp.data), syn)
        if tcp.flags & (dpkt.tcp.TH_FIN | dpkt.tcp.TH_RST) and from_server:
            del self.flows[key]
            yield from _flow_observations(flow)

    def _flush_all(self) -> Iterator[Observation]:
        while self.flows:
            _, flow = self.flows.popitem(last=False)
            yield from _flow_observations(flow)


def _until_truncated(reader: Iterator[tuple[float, bytes]]) -> Iterator[tuple[float, bytes]]:
    """Packets until the file ends or is cut short (a capture stopped mid-write is still useful)."""
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except (dpkt.dpkt.NeedData, dpkt.dpkt.UnpackError, struct.error, ValueError):
            return


def _open_reader(handle: BinaryIO, path: Path) -> tuple[Iterator[tuple[float, bytes]], int]:
    magic = handle.read(4)
    handle.seek(0)
    try:
        if magic == b"\x0a\x0d\x0d\x0a":
            ng = dpkt.pcapng.Reader(handle)
            return iter(ng), int(ng.datalink())
        if magic in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d"):
            pc = dpkt.pcap.Reader(handle)
            return iter(pc), int(pc.datalink())
    except (ValueError, dpkt.dpkt.NeedData, dpkt.dpkt.UnpackError, struct.error) as exc:
        raise InputError(f"{path} is not a readable pcap/pcapng capture: {exc}") from exc
    raise InputError(f"{path} is not a pcap or pcapng capture (magic bytes {magic.hex() or 'missing'})")


def _flow_observations(flow: _Flow) -> Iterator[Observation]:
    answer = flow.to_client.stream()
    if not answer:
        return
    port = flow.server_port
    host = flow.server
    request_bytes = flow.to_server.stream()
    common = {"host": host, "port": port, "time": flow.time}
    if answer.startswith(b"HTTP/"):
        for request, response in _pair_http(request_bytes, answer):
            yield Observation(protocol="http", data=response, request=request, **common)  # type: ignore[arg-type]
    elif answer.startswith(b"RTSP/"):
        request_line = request_bytes.split(b"\r\n", 1)[0].decode("latin-1")[:200] or None
        yield Observation(protocol="rtsp", data=answer, request=request_line, **common)  # type: ignore[arg-type]
    elif answer[:1] == b"\x16":
        for cert in tls_certificates(answer):
            yield Observation(protocol="tls-cert", data=cert, **common)  # type: ignore[arg-type]
    elif port in VENDOR_PORTS:
        yield Observation(protocol=VENDOR_PORTS[port], data=answer[:1024], **common)  # type: ignore[arg-type]
    elif port in BANNER_PORTS:
        yield Observation(protocol="banner", data=answer[:1024], **common)  # type: ignore[arg-type]


def _pair_http(requests: bytes, responses: bytes) -> Iterator[tuple[str | None, bytes]]:
    """Split keep-alive streams into (request line, whole response) pairs, by Content-Length where given."""
    request_lines = [
        line.decode("latin-1")[:300]
        for line in requests.split(b"\r\n")
        if line[:8].split(b" ", 1)[0] in (b"GET", b"POST", b"HEAD", b"PUT", b"OPTIONS")
    ]
    rest = responses
    index = 0
    while rest.startswith(b"HTTP/") and index < 64:
        head_end = rest.find(b"\r\n\r\n")
        if head_end < 0:
            yield _request_at(request_lines, index), rest
            return
        length = _content_length(rest[:head_end])
        if length is None:  # no length: the rest of the stream is this response
            yield _request_at(request_lines, index), rest
            return
        end = head_end + 4 + length
        yield _request_at(request_lines, index), rest[:end]
        rest = rest[end:]
        index += 1


def _request_at(lines: list[str], index: int) -> str | None:
    if index >= len(lines):
        return None
    parts = lines[index].split(" ")
    return " ".join(parts[:2])  # "GET /path", without the protocol version


def _content_length(head: bytes) -> int | None:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            try:
                return max(0, int(value.strip()))
            except ValueError:
                return None
    return None


def tls_certificates(stream: bytes) -> list[bytes]:
    """DER certificates of the first Certificate handshake message in a server's TLS byte stream."""
    handshake = bytearray()
    offset = 0
    while offset + 5 <= len(stream) and len(handshake) < FLOW_BYTES:
        content_type = stream[offset]
        length = int.from_bytes(stream[offset + 3 : offset + 5], "big")
        body = stream[offset + 5 : offset + 5 + length]
        offset += 5 + length
        if content_type == 22:
            handshake += body
        elif content_type in (20, 21, 23):  # ChangeCipherSpec / alert / data: handshake in clear is over
            break
    position = 0
    while position + 4 <= len(handshake):
        msg_type = handshake[position]
        msg_len = int.from_bytes(handshake[position + 1 : position + 4], "big")
        msg = bytes(handshake[position + 4 : position + 4 + msg_len])
        position += 4 + msg_len
        if msg_type != 11:
            continue
        certs: list[bytes] = []
        cursor = 3  # skip the certificate_list length
        while cursor + 3 <= len(msg) and len(certs) < 8:
            cert_len = int.from_bytes(msg[cursor : cursor + 3], "big")
            cert = msg[cursor + 3 : cursor + 3 + cert_len]
            if len(cert) != cert_len:
                break
            certs.append(cert)
            cursor += 3 + cert_len
        return certs[:1]  # the leaf is what identifies the device
    return []


def read_capture(path: Path) -> Iterator[Observation]:
    """Stream the observations of one capture file."""
    return CaptureReader(path).observations()
