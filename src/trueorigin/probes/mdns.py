"""mDNS / DNS-SD: a unicast DNS-SD query to the target's UDP 5353 and the DNS message it answers.

Sends: one DNS query (random ID, PTR questions for `_services._dns-sd._udp.local` and service types cameras,
recorders and printers commonly announce) unicast to the target's port 5353 from an ephemeral port; a responder
answers such "legacy unicast" queries directly to the sender (RFC 6762 §6.7).
Reads: PTR, SRV, TXT, A and AAAA records -> service types, instance and host names, TXT key/values.

Parser: RFC 1035 §4.1 message format with §4.1.4 name compression, read loop-safe (a bounded number of pointer
jumps, names at most 255 bytes) and bounded (at most MAX_RECORDS records, each inside the message).
Specifications: RFC 1035, RFC 6762 (mDNS), RFC 6763 (DNS-SD, TXT key=value rules).

Safe: read-only queries; nothing is announced or registered.
"""

from __future__ import annotations

import ipaddress
import random
import struct
from dataclasses import dataclass

from trueorigin.model import Observation, Parsed, Status, Target, normalize_mac
from trueorigin.probes.base import ProbeContext, udp_answers_from_target

# Field keys this module's parsers emit (besides the shared `device.*` keys): the field vocabulary that
# fingerprint rules may use is the union of every module's declaration (tests/test_field_vocabulary.py).
FIELDS: tuple[str, ...] = (
    "mdns.names",
    "mdns.services",
    "mdns.hostname",
    "mdns.a",
    "mdns.instances",
)
FIELD_FAMILIES: tuple[str, ...] = ("mdns.txt.",)  # open-ended next component


PROTOCOL = "mdns"
MDNS_PORT = 5353
MULTICAST_GROUP = "224.0.0.251"
MULTICAST_PORT = 5353
UDP_PORTS = (MDNS_PORT,)

META_QUERY = "_services._dns-sd._udp.local"
# Service types worth asking a camera/NVR/printer about. Which vendors announce which is not verified per
# vendor here; _axis-video._tcp is Axis's own (seen in Axis integrations), the others are generic.
QUERIED_SERVICES = (
    META_QUERY,
    "_http._tcp.local",
    "_https._tcp.local",
    "_rtsp._tcp.local",
    "_axis-video._tcp.local",
    "_psia._tcp.local",
    "_onvif._tcp.local",
    "_device-info._tcp.local",
    "_workstation._tcp.local",
    "_ipp._tcp.local",
    "_printer._tcp.local",
)

TYPE_A, TYPE_PTR, TYPE_TXT, TYPE_AAAA, TYPE_SRV = 1, 12, 16, 28, 33
CLASS_IN = 1
UNICAST_RESPONSE_BIT = 0x8000  # "QU" in a question's class (RFC 6762 §5.4)
HEADER = struct.Struct("!HHHHHH")

MAX_RECORDS = 256
MAX_POINTER_JUMPS = 64
MAX_NAME_BYTES = 255
MAX_VALUES = 128
MAX_VALUE_CHARS = 1024

TXT_DEVICE_KEYS = {
    "device.manufacturer": ("manufacturer", "mf", "vendor", "usb_mfg"),
    "device.model": ("model", "md", "mdl", "usb_mdl", "product"),
    "device.serial": ("serial", "serialnumber", "sn"),
    "device.firmware": ("firmware", "fw", "fwversion", "fwver"),
}
TXT_MAC_KEYS = ("macaddress", "mac", "hwaddr")


class MalformedMessage(ValueError):
    """The DNS message is cut short, loops, or breaks a length rule."""


@dataclass(frozen=True, slots=True)
class Record:
    name: str
    rtype: int
    data: bytes
    data_offset: int  # rdata position in the message, needed to expand compressed names inside it


def query_payload(services: tuple[str, ...] = QUERIED_SERVICES, query_id: int | None = None) -> bytes:
    """A DNS query with one PTR question per service type, each asking for a unicast answer (QU)."""
    header = HEADER.pack(random.randint(1, 0xFFFF) if query_id is None else query_id, 0, len(services), 0, 0, 0)
    questions = b"".join(
        _encode_name(name) + struct.pack("!HH", TYPE_PTR, CLASS_IN | UNICAST_RESPONSE_BIT) for name in services
    )
    return header + questions


def probe_payload() -> bytes:
    return query_payload()


def _encode_name(name: str) -> bytes:
    encoded = b""
    for label in name.strip(".").split("."):
        raw = label.encode("utf-8")
        encoded += bytes([len(raw)]) + raw
    return encoded + b"\x00"


def read_name(message: bytes, offset: int) -> tuple[str, int]:
    """Expand the (possibly compressed) name at `offset`; returns (name, offset just after it in place)."""
    labels: list[str] = []
    position = offset
    end: int | None = None
    jumps = 0
    length_so_far = 0
    while True:
        if position >= len(message):
            raise MalformedMessage("name runs past the end of the message")
        length = message[position]
        if length & 0xC0 == 0xC0:
            if position + 1 >= len(message):
                raise MalformedMessage("truncated compression pointer")
            if end is None:
                end = position + 2
            jumps += 1
            if jumps > MAX_POINTER_JUMPS:
                raise MalformedMessage("compression pointer loop")
            position = ((length & 0x3F) << 8) | message[position + 1]
            continue
        if length & 0xC0:
            raise MalformedMessage("reserved label type")
        if length == 0:
            return ".".join(labels), end if end is not None else position + 1
        label = message[position + 1 : position + 1 + length]
        if len(label) < length:
            raise MalformedMessage("label runs past the end of the message")
        length_so_far += length + 1
        if length_so_far > MAX_NAME_BYTES:
            raise MalformedMessage("name longer than 255 bytes")
        labels.append(label.decode("utf-8", errors="replace"))
        position += 1 + length


def read_records(message: bytes) -> tuple[int, list[Record], str | None]:
    """(flags, answer/authority/additional records, why reading stopped early or None).

    Stops cleanly at the first malformed record and keeps the records before it.
    """
    if len(message) < HEADER.size:
        raise MalformedMessage("shorter than a DNS header")
    _, flags, questions, answers, authorities, additionals = HEADER.unpack_from(message)
    offset = HEADER.size
    for _ in range(min(questions, MAX_RECORDS)):
        _, offset = read_name(message, offset)
        offset += 4
    records: list[Record] = []
    for _ in range(min(answers + authorities + additionals, MAX_RECORDS)):
        try:
            name, offset = read_name(message, offset)
        except MalformedMessage as error:
            return flags, records, str(error)
        if offset + 10 > len(message):
            return flags, records, "record header runs past the end of the message"
        rtype, _, _, data_length = struct.unpack_from("!HHIH", message, offset)
        offset += 10
        if offset + data_length > len(message):
            return flags, records, "record data runs past the end of the message"
        records.append(Record(name, rtype, message[offset : offset + data_length], offset))
        offset += data_length
    return flags, records, None


def parse_mdns(data: bytes, request: str | None = None) -> Parsed:
    """A DNS message -> mdns.names/services/hostname/instances/txt.* and device.* from TXT keys."""
    try:
        flags, records, problem = read_records(data)
    except MalformedMessage as error:
        return Parsed.unparseable(PROTOCOL, str(error))
    if (flags >> 11) & 0xF:
        return Parsed.unparseable(PROTOCOL, "not a standard query/response (opcode != 0)")
    if not records:
        return Parsed.unparseable(PROTOCOL, f"no resource records ({problem})" if problem else "no resource records")
    names: list[str] = []
    services: list[str] = []
    instances: list[str] = []
    hostnames: list[str] = []
    ipv4: list[str] = []
    ipv6: list[str] = []
    txt: dict[str, str] = {}
    for record in records:
        _add(names, record.name)
        service = None if record.name.lower() == META_QUERY else _service_type(record.name)
        if service:
            _add(services, service)
        try:
            if record.rtype == TYPE_PTR:
                target, _ = read_name(data, record.data_offset)
                _add(names, target)
                target_service = _service_type(target)
                if record.name.lower() == META_QUERY:
                    _add(services, target)
                elif target_service and target != target_service:
                    _add(instances, target[: -len(target_service) - 1])
                if target_service:
                    _add(services, target_service)
            elif record.rtype == TYPE_SRV and len(record.data) >= 7:
                target, _ = read_name(data, record.data_offset + 6)
                _add(hostnames, target)
                _add(names, target)
                if service and record.name != service:
                    _add(instances, record.name[: -len(service) - 1])
            elif record.rtype == TYPE_TXT:
                _read_txt(record.data, txt)
            elif record.rtype == TYPE_A and len(record.data) == 4:
                _add(ipv4, str(ipaddress.IPv4Address(record.data)))
                _add(hostnames, record.name)
            elif record.rtype == TYPE_AAAA and len(record.data) == 16:
                _add(ipv6, str(ipaddress.IPv6Address(record.data)))
                _add(hostnames, record.name)
        except MalformedMessage:
            continue  # one bad rdata does not spoil the other records
    fields: dict[str, str] = {}
    for key, values in (
        ("mdns.names", names),
        ("mdns.services", services),
        ("mdns.instances", instances),
        ("mdns.a", ipv4),
        ("mdns.aaaa", ipv6),
    ):
        if values:
            fields[key] = "\n".join(values)
    if hostnames:
        fields["mdns.hostname"] = hostnames[0]
    for key, value in txt.items():
        fields[f"mdns.txt.{key}"] = value
    _add_device_keys(fields, txt, instances)
    return Parsed(PROTOCOL, fields)


def _add(values: list[str], value: str) -> None:
    if value and value not in values and len(values) < MAX_VALUES:
        values.append(value[:MAX_VALUE_CHARS])


def _service_type(name: str) -> str | None:
    """`AXIS M1065 - ACCC8E._axis-video._tcp.local` -> `_axis-video._tcp.local` (RFC 6763 §7)."""
    labels = name.split(".")
    for index in range(len(labels) - 1):
        if labels[index].startswith("_") and labels[index + 1].lower() in ("_tcp", "_udp"):
            return ".".join(labels[index:])
    return None


def _read_txt(rdata: bytes, txt: dict[str, str]) -> None:
    position = 0
    while position < len(rdata) and len(txt) < MAX_VALUES:
        length = rdata[position]
        entry = rdata[position + 1 : position + 1 + length].decode("utf-8", errors="replace")
        position += 1 + length
        key, _, value = entry.partition("=")
        key = key.strip().lower()
        # RFC 6763 §6.4: printable ASCII keys; the first occurrence of a key wins
        if key and key.isascii() and key.isprintable() and " " not in key and key not in txt:
            txt[key] = value[:MAX_VALUE_CHARS]


def _add_device_keys(fields: dict[str, str], txt: dict[str, str], instances: list[str]) -> None:
    for device_key, txt_keys in TXT_DEVICE_KEYS.items():
        value = next((txt[key].strip() for key in txt_keys if txt.get(key, "").strip()), None)
        if value:
            fields[device_key] = value
    for key in TXT_MAC_KEYS:
        mac = normalize_mac(txt.get(key, ""))
        if mac:
            fields["device.mac"] = mac
            break
    if instances:
        fields["device.name"] = instances[0]


PARSERS = {PROTOCOL: parse_mdns}


async def probe(target: Target, ctx: ProbeContext) -> list[Observation]:
    """One unicast DNS-SD query to the target's 5353; every DNS message it sends back is kept."""
    observations = []
    for data in await udp_answers_from_target(target.address, MDNS_PORT, probe_payload(), ctx):
        observations.append(
            Observation(
                host=target.address,
                protocol=PROTOCOL,
                data=data,
                port=MDNS_PORT,
                request="PTR " + " ".join(QUERIED_SERVICES),
                transport="udp",
                status=Status.OK if parse_mdns(data).ok else Status.PROTOCOL_ERROR,
            )
        )
    return observations
