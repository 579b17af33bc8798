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

Memory stays bounded (trueorigin.limits): each flow keeps at most `FLOW_BYTES` of the server's answer and
`REQUEST_BYTES` of the client's requests, at most `MAX_FLOWS` flows are open and their buffers hold at most
`MAX_BUFFERED_BYTES` together (the oldest flows are finished first), and packets are read one at a time, each
record checked against `MAX_RECORD_BYTES` before it is read.

A damaged capture (a record length no capture can hold, a record cut short, a block that does not parse) is
read up to the damage; `CaptureReader.damage` then says where reading stopped and how much was read, and the
audit is reported as damaged, never as clean.
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
from trueorigin.limits import (
    FLOW_BYTES,
    MAX_BUFFERED_BYTES,
    MAX_FLOWS,
    MAX_PACKET_BYTES,
    MAX_RECORD_BYTES,
    REQUEST_BYTES,
)
from trueorigin.model import Observation
from trueorigin.probes import snmp
from trueorigin.probes.vendorports import PORT_PROTOCOLS

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
VENDOR_PORTS: dict[int, str] = PORT_PROTOCOLS  # the probes' own map: one place for the vendor SDK ports
SERVER_PORTS = HTTP_PORTS | RTSP_PORTS | TLS_PORTS | BANNER_PORTS | frozenset(VENDOR_PORTS)


def _ip_text(raw: bytes) -> str:
    family = socket.AF_INET if len(raw) == 4 else socket.AF_INET6
    return socket.inet_ntop(family, raw)


def _mac_text(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


@dataclass
class _Direction:
    """One direction of a TCP flow: segments buffered by sequence number, reassembled in order on flush."""

    limit: int = FLOW_BYTES
    isn: int | None = None
    segments: dict[int, bytes] = field(default_factory=dict)
    size: int = 0

    def add(self, seq: int, payload: bytes, syn: bool) -> int:
        """Buffer one segment; returns the bytes newly held (for the reader's overall budget)."""
        if syn:
            self.isn = (seq + 1) & 0xFFFFFFFF
        if not payload or self.size >= self.limit or len(self.segments) >= MAX_SEGMENTS_PER_DIRECTION:
            return 0
        if self.isn is None:  # capture started mid-flow: take the first data segment as the start
            self.isn = seq
        offset = (seq - self.isn) & 0xFFFFFFFF
        if offset >= self.limit or offset in self.segments:
            return 0
        self.segments[offset] = payload[: self.limit - offset]
        self.size += len(self.segments[offset])
        return len(self.segments[offset])

    def stream(self) -> bytes:
        """Contiguous bytes from the start; a gap ends the stream (we never invent missing bytes)."""
        out = bytearray()
        for offset in sorted(self.segments):
            chunk = self.segments[offset]
            if offset > len(out):
                break
            out += chunk[len(out) - offset :]
        return bytes(out[: self.limit])


@dataclass
class _Flow:
    server: str
    server_port: int
    client: str
    to_server: _Direction = field(default_factory=lambda: _Direction(limit=REQUEST_BYTES))
    to_client: _Direction = field(default_factory=_Direction)
    time: float = 0.0

    @property
    def size(self) -> int:
        return self.to_server.size + self.to_client.size


FlowKey = tuple[str, int, str, int]  # server, server port, client, client port


class CaptureReader:
    """Turns a capture file into observations, one packet at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.flows: OrderedDict[FlowKey, _Flow] = OrderedDict()
        self.buffered = 0  # bytes held by all open flows
        self.packets = 0
        self.skipped = 0
        self.size = 0  # bytes in the file
        self.read_to = 0  # byte offset just after the last whole record read
        self.damage: str | None = None  # why and where reading stopped early, if it did

    def observations(self) -> Iterator[Observation]:
        try:
            handle = self.path.open("rb")
            self.size = self.path.stat().st_size
        except OSError as exc:
            raise InputError(f"cannot open capture {self.path}: {exc.strerror or exc}") from exc
        with handle:
            guarded = _GuardedFile(handle)
            reader, linktype = _open_reader(guarded, self.path)
            while True:
                try:
                    timestamp, frame = next(reader)
                except StopIteration:
                    break
                except _Damaged as exc:
                    self.damage = str(exc)
                    break
                except (dpkt.dpkt.NeedData, dpkt.dpkt.UnpackError, struct.error, ValueError) as exc:
                    self.damage = f"a record does not parse ({type(exc).__name__})"
                    break
                self.read_to = guarded.position
                self.packets += 1
                try:
                    yield from self._packet(float(timestamp), frame, linktype)
                except (dpkt.dpkt.UnpackError, struct.error, ValueError, IndexError):
                    self.skipped += 1
        yield from self._flush_all()

    def damage_report(self) -> str | None:
        """One line for the user: what was damaged, where reading stopped and how much was read."""
        if self.damage is None:
            return None
        share = f" ({100 * self.read_to / self.size:.1f} %)" if self.size else ""
        return (
            f"{self.path}: damaged capture: {self.damage}; read {self.packets} packets, "
            f"{self.read_to} of {self.size} bytes{share}; stopped at byte {self.read_to}"
        )

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
                yield from self._finish_oldest()
        direction = flow.to_client if from_server else flow.to_server
        self.buffered += direction.add(tcp.seq, bytes(tcp.data), syn)
        if tcp.flags & (dpkt.tcp.TH_FIN | dpkt.tcp.TH_RST) and from_server:
            del self.flows[key]
            self.buffered -= flow.size
            yield from _flow_observations(flow)
        while self.buffered > MAX_BUFFERED_BYTES and self.flows:
            yield from self._finish_oldest()

    def _finish_oldest(self) -> Iterator[Observation]:
        _, oldest = self.flows.popitem(last=False)
        self.buffered -= oldest.size
        yield from _flow_observations(oldest)

    def _flush_all(self) -> Iterator[Observation]:
        while self.flows:
            yield from self._finish_oldest()


class _Damaged(Exception):
    """The capture file is damaged at the current position (raised by _GuardedFile and the pcap reader)."""


class _GuardedFile:
    """The capture file as the record readers see it: no read larger than a record can be, no silent short read.

    dpkt reads a record's body with `read(length)` for whatever length the record claims, so a corrupted length
    would allocate gigabytes, or swallow the rest of the file as one packet. Here such a length is damage.
    """

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.position = 0

    def read(self, size: int = -1) -> bytes:
        if size < 0 or size > MAX_RECORD_BYTES:
            raise _Damaged(f"a record at byte {self.position} claims {size} bytes, more than any capture record")
        data = self.handle.read(size)
        if 0 < len(data) < size:
            raise _Damaged(f"the record at byte {self.position} is cut short ({len(data)} of {size} bytes)")
        self.position += len(data)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        self.position = self.handle.seek(offset, whence)
        return self.position

    def tell(self) -> int:
        return self.position


_PCAP_MAGIC = {  # magic -> (struct byte order, fractions of a second per unit)
    b"\xd4\xc3\xb2\xa1": ("<", 1_000_000),
    b"\xa1\xb2\xc3\xd4": (">", 1_000_000),
    b"\x4d\x3c\xb2\xa1": ("<", 1_000_000_000),
    b"\xa1\xb2\x3c\x4d": (">", 1_000_000_000),
}


def _pcap_records(guarded: _GuardedFile, order: str, divisor: int) -> Iterator[tuple[float, bytes]]:
    """Classic pcap records, each header checked before its body is read."""
    limit = MAX_PACKET_BYTES
    while True:
        start = guarded.position
        header = guarded.read(16)
        if not header:
            return
        seconds, fraction, caplen, _ = struct.unpack(order + "IIII", header)
        if caplen > limit:
            raise _Damaged(f"the record at byte {start} claims {caplen} captured bytes (at most {limit} are possible)")
        if fraction > divisor:  # (== divisor: a writer that rounded .9999997 up; harmless)
            raise _Damaged(f"the record at byte {start} has an impossible timestamp (misaligned or corrupted)")
        frame = guarded.read(caplen) if caplen else b""
        if len(frame) < caplen:
            raise _Damaged(f"the record at byte {start} is cut short")
        yield seconds + fraction / divisor, frame


def _open_reader(guarded: _GuardedFile, path: Path) -> tuple[Iterator[tuple[float, bytes]], int]:
    magic = guarded.handle.read(4)
    guarded.seek(0)
    try:
        if magic == b"\x0a\x0d\x0d\x0a":
            ng = dpkt.pcapng.Reader(guarded)
            return iter(ng), int(ng.datalink())
        if magic in _PCAP_MAGIC:
            order, divisor = _PCAP_MAGIC[magic]
            header = guarded.read(24)
            if len(header) < 24:
                raise InputError(f"{path} is not a readable pcap capture: the file header is cut short")
            linktype = struct.unpack(order + "I", header[20:24])[0] & 0x0FFFFFFF  # upper bits: FCS length
            return _pcap_records(guarded, order, divisor), linktype
    except _Damaged as exc:
        raise InputError(f"{path} is not a readable pcap/pcapng capture: {exc}") from exc
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
