"""Dahua discovery: DHIP JSON over UDP 37810, and the older binary answer on UDP 5050.

Sends, unicast to the target only:
- UDP 37810: a DHIP frame carrying `{"method": "DHDiscover.search", "params": {"mac": "", "uni": 1}}`,
  the search Dahua's ConfigTool multicasts to 239.255.255.251:37810;
- UDP 5050: the 32-byte binary search of the older protocol.
Reads: the `client.notifyDevInfo` answer (params.deviceInfo: DeviceType, SerialNo, Vendor, Version, MachineName,
IPv4Address, Mac ...) and the binary answer (device type, IPv4 address, MAC, "key:value" lines with SerialNo).

DHIP frame (32-byte header, integers little-endian): uint32 header size 0x20, magic "DHIP", 8 bytes session
(zero), uint32 body length, uint32 0, uint32 body length, uint32 0; then the JSON body.
Binary answer: a 0x78-byte header (byte 0 = 0xb3, byte 2 = length of part 2, uint16 LE at 0x14 = length of
part 3, 16-byte device type at 0x28, IPv4 address in network order at 0x38), part 2 = the MAC as 17 characters
optionally followed by the device type, part 3 = "Key:Value" lines separated by CRLF.

No official specification is published. Sources (seen 2026-11-24): julienblitte/UniversalScanner
UniversalScanner/Dahua2.cs + Dahua2.selftest (DHIP) and Dahua1.cs + Dahua1.selftest (binary); Rapid7's Lorex
discovery helper (DHIP framing, DHDiscover.search); the "DVR DHCPDiscover" amplification write-up (a real
IPC-HDW5421S answer). See tests/data/responses/dhip/*.source.yaml.

Safe: read-only searches. No login, no configuration method (DHDiscover.setConfig etc.) is ever sent.
"""

from __future__ import annotations

import asyncio
import json
import struct
from collections.abc import Iterator
from typing import Any

from trueorigin.model import Observation, Parsed, Status, Target, normalize_mac
from trueorigin.probes.base import ProbeContext, udp_answers_from_target

# Field keys this module's parsers emit (besides the shared `device.*` keys): the field vocabulary that
# fingerprint rules may use is the union of every module's declaration (tests/test_field_vocabulary.py).
FIELDS: tuple[str, ...] = (
    "dhip.method",
    "dhip.form",
)
FIELD_FAMILIES: tuple[str, ...] = ("dhip.",)  # open-ended next component


PROTOCOL = "dhip"
DHIP_PORT = 37810
BINARY_PORT = 5050
MULTICAST_GROUP = "239.255.255.251"
MULTICAST_PORT = 37810
UDP_PORTS = (DHIP_PORT, BINARY_PORT)

DHIP_MAGIC = b"DHIP"
DHIP_HEADER = struct.Struct("<I4s8sIIII")  # header size, magic, session, body length, 0, body length, 0
BINARY_ANSWER_MAGIC = 0xB3
BINARY_HEADER_SIZE = 0x78

MAX_BODY_BYTES = 64 * 1024
MAX_FIELDS = 256
MAX_DEPTH = 8
MAX_VALUE_CHARS = 1024

# Dahua OEM firmware reports these instead of a brand; they say nothing about who sells the device.
PLACEHOLDER_VENDORS = frozenset({"", "general", "private", "oem", "none", "null"})
SEARCH_METHODS = frozenset({"DHDiscover.search"})
# DeviceClass "IPC" is seen in real answers; the other class names follow Dahua product lines (unverified)
DEVICE_CLASS_KINDS = {"IPC": "camera", "SD": "ptz", "NVR": "nvr", "DVR": "dvr", "XVR": "xvr", "HCVR": "xvr"}


def search_request_json() -> bytes:
    """The DHDiscover.search body (readable form of what `probe_payload` frames)."""
    body = {"method": "DHDiscover.search", "params": {"mac": "", "uni": 1}}
    return json.dumps(body, separators=(",", ":")).encode("utf-8") + b"\n"


def frame_dhip(body: bytes) -> bytes:
    return DHIP_HEADER.pack(DHIP_HEADER.size, DHIP_MAGIC, bytes(8), len(body), 0, len(body), 0) + body


def probe_payload() -> bytes:
    """The DHIP DHDiscover.search datagram for UDP 37810 (unicast here; multicast when the scanner asks)."""
    return frame_dhip(search_request_json())


def binary_probe_payload() -> bytes:
    """The 32-byte binary search for UDP 5050, as UniversalScanner's Dahua1.cs sends it.

    Byte 0 is the request magic 0xa3 (answers carry 0xb3); bytes 1 and 3 are 0x01 and byte 0x10 is 0x02
    (a protocol version, per UniversalScanner) - their exact meaning is not publicly documented.
    """
    header = bytearray(32)
    header[0] = 0xA3
    header[1] = 0x01
    header[3] = 0x01
    header[0x10] = 0x02
    return bytes(header)


def parse_dhip(data: bytes, request: str | None = None) -> Parsed:
    """Either form of Dahua discovery answer -> `dhip.*` and `device.*` fields."""
    if data[:1] == bytes([BINARY_ANSWER_MAGIC]):
        return _parse_binary(data)
    body = data
    if data[4:8] == DHIP_MAGIC:
        if len(data) < DHIP_HEADER.size:
            return Parsed.unparseable(PROTOCOL, "DHIP header truncated")
        _, _, _, body_length, _, _, _ = DHIP_HEADER.unpack_from(data)
        body = data[DHIP_HEADER.size : DHIP_HEADER.size + min(body_length, MAX_BODY_BYTES)]
    elif data.lstrip()[:1] != b"{":
        return Parsed.unparseable(PROTOCOL, "neither a DHIP frame, bare DHIP JSON nor a binary (0xb3) answer")
    return _parse_json(body)


def _parse_json(body: bytes) -> Parsed:
    if len(body) > MAX_BODY_BYTES:
        return Parsed.unparseable(PROTOCOL, "JSON body too large")
    try:
        message = json.loads(body.rstrip(b"\x00\r\n ").decode("utf-8", errors="replace"))
    except (ValueError, RecursionError) as error:
        return Parsed.unparseable(PROTOCOL, f"DHIP body is not JSON: {error}"[:200])
    if not isinstance(message, dict):
        return Parsed.unparseable(PROTOCOL, "DHIP body is not a JSON object")
    fields: dict[str, str] = {"dhip.form": "json"}
    method = message.get("method")
    if method in SEARCH_METHODS:  # a client's search (seen in captures), not a device describing itself
        return Parsed.unparseable(PROTOCOL, f"a {method} request, not an answer")
    if isinstance(method, str):
        fields["dhip.method"] = method[:MAX_VALUE_CHARS]
    top_mac = message.get("mac")
    if isinstance(top_mac, str):
        fields["dhip.mac"] = top_mac[:MAX_VALUE_CHARS]
    params = message.get("params")
    if isinstance(params, dict):
        for key, value in _flatten(params, "dhip", 0):
            if len(fields) >= MAX_FIELDS:
                break
            fields.setdefault(key, value)
    if "dhip.method" not in fields and "dhip.deviceinfo.devicetype" not in fields:
        return Parsed.unparseable(PROTOCOL, "JSON without a DHIP method or deviceInfo")
    _add_device_keys(fields)
    return Parsed(PROTOCOL, fields)


def _flatten(value: Any, prefix: str, depth: int) -> Iterator[tuple[str, str]]:
    """Dotted lowercased paths to scalar leaves; lists get their index as a path element."""
    if depth > MAX_DEPTH:
        return
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _flatten(child, f"{prefix}.{str(key).lower()}", depth + 1)
    elif isinstance(value, list):
        for index, child in enumerate(value[:MAX_FIELDS]):
            yield from _flatten(child, f"{prefix}.{index}", depth + 1)
    elif isinstance(value, bool):
        yield prefix, "true" if value else "false"
    elif value is not None:
        yield prefix, str(value)[:MAX_VALUE_CHARS]


def _add_device_keys(fields: dict[str, str]) -> None:
    def first(*keys: str) -> str | None:
        for key in keys:
            value = fields.get(key, "").strip()
            if value:
                return value
        return None

    model = first("dhip.deviceinfo.devicetype", "dhip.devicetype")
    if model:
        fields["device.model"] = model
    serial = first("dhip.deviceinfo.serialno", "dhip.serialno")
    if serial:
        fields["device.serial"] = serial
    firmware = first("dhip.deviceinfo.version")
    if firmware:
        fields["device.firmware"] = firmware
    name = first("dhip.deviceinfo.machinename", "dhip.name")
    if name:
        fields["device.name"] = name
    vendor = first("dhip.deviceinfo.vendor")
    if vendor and vendor.lower() not in PLACEHOLDER_VENDORS:
        fields["device.manufacturer"] = vendor  # the brand the device shows (e.g. "Lorex" on a Dahua OEM unit)
    kind = DEVICE_CLASS_KINDS.get((first("dhip.deviceinfo.deviceclass") or "").upper())
    if kind:
        fields["device.kind"] = kind
    for candidate in (first("dhip.deviceinfo.mac"), first("dhip.mac")):
        mac = normalize_mac(candidate or "")
        if mac:
            fields["device.mac"] = mac
            break


def _parse_binary(data: bytes) -> Parsed:
    if len(data) < BINARY_HEADER_SIZE:
        return Parsed.unparseable(PROTOCOL, f"binary answer shorter than its {BINARY_HEADER_SIZE}-byte header")
    part2_length = data[2]
    part3_length = struct.unpack_from("<H", data, 0x14)[0]
    if len(data) < BINARY_HEADER_SIZE + part2_length + part3_length:
        return Parsed.unparseable(PROTOCOL, "binary answer shorter than its declared length")
    fields: dict[str, str] = {"dhip.form": "binary"}
    header_type = _text(data[0x28:0x38])
    if header_type:
        fields["dhip.devicetype"] = header_type
    address = data[0x38:0x3C]
    if any(address):
        fields["dhip.ipv4address"] = ".".join(str(octet) for octet in address)
    part2 = data[BINARY_HEADER_SIZE : BINARY_HEADER_SIZE + part2_length]
    mac_text = _text(part2[:17])
    if mac_text:
        fields["dhip.mac"] = mac_text
    part2_type = _text(part2[17:])
    if part2_type:  # newer firmware repeats a longer device type here; it wins over the 16-byte one
        fields["dhip.devicetype"] = part2_type
    part3 = data[BINARY_HEADER_SIZE + part2_length : BINARY_HEADER_SIZE + part2_length + part3_length]
    for line in part3.decode("utf-8", errors="replace").splitlines():
        key, colon, value = line.partition(":")
        key = key.strip().lower()
        if colon and key and key.replace("_", "").isalnum() and len(fields) < MAX_FIELDS:
            fields.setdefault(f"dhip.{key}", value.strip()[:MAX_VALUE_CHARS])
    _add_device_keys(fields)
    return Parsed(PROTOCOL, fields)


def _text(raw: bytes) -> str:
    return raw.split(b"\x00", 1)[0].decode("utf-8", errors="replace").strip()[:MAX_VALUE_CHARS]


PARSERS = {PROTOCOL: parse_dhip}


async def probe(target: Target, ctx: ProbeContext) -> list[Observation]:
    """DHIP search on 37810 and the binary search on 5050, both unicast to the target alone, concurrently."""
    searches = (
        (DHIP_PORT, probe_payload(), "DHDiscover.search"),
        (BINARY_PORT, binary_probe_payload(), "binary search"),
    )
    answer_lists = await asyncio.gather(
        *(udp_answers_from_target(target.address, port, payload, ctx) for port, payload, _ in searches)
    )
    observations = []
    for (port, payload, request), answers in zip(searches, answer_lists, strict=True):
        for data in answers:
            if data == payload:  # some stacks reflect the search itself; it is not an answer
                continue
            status = Status.OK if parse_dhip(data).ok else Status.PROTOCOL_ERROR
            observations.append(
                Observation(
                    host=target.address,
                    protocol=PROTOCOL,
                    data=data,
                    port=port,
                    request=request,
                    transport="udp",
                    status=status,
                )
            )
    return observations
