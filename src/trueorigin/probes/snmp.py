"""SNMP: sysDescr (1.3.6.1.2.1.1.1.0) and sysObjectID (1.3.6.1.2.1.1.2.0) of the system group, plus a few
documented read-only objects of covered vendors' private MIBs (`PRIVATE_OBJECTS`).

Sends (probe): one SNMPv2c GetRequest for the two system objects and the private objects to UDP 161, ONLY
with a community the user supplied
for this host (`ctx.extra["snmp_community"]`, or the scanner's `ctx.extra["snmp_communities"]` tuple, tried
in the user's order until one is answered); without one nothing is sent (no guessing of "public" or any
other community). The community is never stored: the observations keep the decoded
values as text (`snmp-sysdescr`: the description; `snmp-sysobjectid`: the dotted OID), not the answer
packet, which echoes the community.
Why private objects: some covered products keep a generic stack's sysObjectID (Hytera repeaters answer lwIP's
1.3.6.1.4.1.26381, LibreNMS tests/snmpsim/hytera.snmprec), so only an object of the maker's own MIB names the
maker. A v2c agent without the object answers that one binding with noSuchObject (RFC 3416 §4.2.1) and the
system objects still come back; an agent that instead refuses the whole PDU (error-status set, SNMPv1 habit)
is asked once more for the two system objects alone.
Private objects asked (one extra binding each, never a walk):
- 1.3.6.1.4.1.40297.1.2.4.1.0 rptModelName (HYTERA-REPEATER-MIB, LibreNMS mibs/hytera/HYTERA-REPEATER-MIB):
  the repeater's model name, OCTET STRING "unicode string" (UTF-16LE, as nonoo/dmrshark libs/comm/snmp.c
  and OK-DMR/ok-dmrlib okdmr/dmrlib/hytera/snmp.py decode it).
Specs: RFC 1157 (v1 message), RFC 3416 (v2c PDUs), RFC 3418 (system group), X.690 (BER).
Safe: read-only GET of two public system objects and of documented read-only private objects.

Parsers (`snmp-sysdescr`, `snmp-sysobjectid`): a BER-encoded GetResponse (decoded here by a small,
bounded decoder) or the plain value as text (`1.3.6.1.4.1.39165.1.1`, `.1.3.6...`,
`SNMPv2-SMI::enterprises.39165.1.1`, `iso.3.6.1...`). Emit `snmp.sysdescr`, `snmp.sysobjectid` and
`snmp.enterprise` (the IANA private enterprise number N of 1.3.6.1.4.1.N..., e.g. 39165 Hikvision,
37496 Dahua, 2011 Huawei, 3902 ZTE). `snmp.community` is never emitted.

Parser `snmp-object` (one answered object that is not in the system group): data is the value's octets and
`request` names the object (`get 1.3.6.1.4.1.40297.1.2.4.1.0`), or data is one line of net-snmp output
(`.1.3.6.1.4.1.40297.1.2.4.1.0 = Hex-STRING: 52 00 44 00 ...` or `= STRING: "RD985"`). Emits
`snmp.oid.<dotted oid>` (the value as text; UTF-16LE octets are decoded), `snmp.enterprise` (the enterprise
whose MIB defines the object) and the `device.*` key the MIB documents for it (rptModelName -> device.model).
"""

from __future__ import annotations

import asyncio
import os
import re
from dataclasses import dataclass, replace

from trueorigin.model import Observation, Parsed, Status, Target
from trueorigin.probes.base import ProbeContext, udp_exchange

# Field keys this module's parsers emit (besides the shared `device.*` keys): the field vocabulary that
# fingerprint rules may use is the union of every module's declaration (tests/test_field_vocabulary.py).
FIELDS: tuple[str, ...] = (
    "snmp.sysdescr",
    "snmp.sysobjectid",
    "snmp.enterprise",
)
FIELD_FAMILIES: tuple[str, ...] = ("snmp.oid.",)  # open-ended next component


SYSDESCR = "snmp-sysdescr"
SYSOBJECTID = "snmp-sysobjectid"
OBJECT = "snmp-object"
UDP_PORTS = (161,)
SYSDESCR_OID = "1.3.6.1.2.1.1.1.0"
SYSOBJECTID_OID = "1.3.6.1.2.1.1.2.0"
SYSTEM_OIDS = (SYSDESCR_OID, SYSOBJECTID_OID)
HYTERA_MODEL_NAME_OID = "1.3.6.1.4.1.40297.1.2.4.1.0"  # HYTERA-REPEATER-MIB rptModelName.0
# object -> the normalized device key its MIB documents (asked in the same GET as the system objects)
PRIVATE_OBJECTS: dict[str, str] = {HYTERA_MODEL_NAME_OID: "device.model"}
ENTERPRISES = "1.3.6.1.4.1"
MAX_MESSAGE = 65535
MAX_TEXT = 4096
MAX_DEPTH = 8
MAX_ITEMS = 64

# BER tags we meet in SNMP
INTEGER, OCTET_STRING, NULL, OID, SEQUENCE = 0x02, 0x04, 0x05, 0x06, 0x30
GET_REQUEST, GET_RESPONSE, REPORT = 0xA0, 0xA2, 0xA8


class BerError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Tlv:
    tag: int
    value: bytes
    end: int  # offset just past this TLV in the buffer it was read from


def read_tlv(data: bytes, offset: int) -> Tlv:
    """One BER TLV with a definite length (SNMP forbids indefinite lengths and multi-byte tags)."""
    if offset + 2 > len(data):
        raise BerError("truncated TLV")
    tag = data[offset]
    if tag & 0x1F == 0x1F:
        raise BerError("multi-byte tag")
    first = data[offset + 1]
    position = offset + 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or position + count > len(data):
            raise BerError("bad length")
        length = int.from_bytes(data[position : position + count], "big")
        position += count
    if position + length > len(data):
        raise BerError("length beyond data")
    return Tlv(tag, data[position : position + length], position + length)


def read_children(value: bytes) -> list[Tlv]:
    children: list[Tlv] = []
    offset = 0
    while offset < len(value):
        if len(children) >= MAX_ITEMS:
            raise BerError("too many elements")
        child = read_tlv(value, offset)
        children.append(child)
        offset = child.end
    return children


def decode_oid(value: bytes) -> str:
    if not value or len(value) > 128:
        raise BerError("bad OID length")
    arcs: list[int] = []
    current = 0
    for byte in value:
        current = (current << 7) | (byte & 0x7F)
        if current.bit_length() > 64:
            raise BerError("OID arc too large")
        if not byte & 0x80:
            arcs.append(current)
            current = 0
    if value[-1] & 0x80:
        raise BerError("truncated OID arc")
    first = arcs[0]
    head = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    return ".".join(str(arc) for arc in head + arcs[1:])


def encode_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def encode_tlv(tag: int, value: bytes) -> bytes:
    return bytes([tag]) + encode_length(len(value)) + value


def encode_oid(oid: str) -> bytes:
    arcs = [int(part) for part in oid.split(".")]
    body = bytearray([arcs[0] * 40 + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body += bytes(reversed(chunk))
    return encode_tlv(OID, bytes(body))


def encode_integer(number: int) -> bytes:
    raw = number.to_bytes(max(1, (number.bit_length() + 8) // 8), "big", signed=True)
    return encode_tlv(INTEGER, raw)


def build_get_request(community: str, request_id: int, oids: tuple[str, ...]) -> bytes:
    """SNMPv2c GetRequest-PDU (RFC 3416 §4.2.1) for `oids`, values NULL."""
    bindings = b"".join(encode_tlv(SEQUENCE, encode_oid(oid) + encode_tlv(NULL, b"")) for oid in oids)
    pdu = encode_tlv(
        GET_REQUEST,
        encode_integer(request_id) + encode_integer(0) + encode_integer(0) + encode_tlv(SEQUENCE, bindings),
    )
    return encode_tlv(SEQUENCE, encode_integer(1) + encode_tlv(OCTET_STRING, community.encode("utf-8")) + pdu)


def decode_varbinds(message: bytes) -> dict[str, tuple[int, bytes]]:
    """GetResponse message -> {oid: (value tag, value bytes)}; raises BerError on anything else."""
    return decode_response(message)[1]


def decode_response(message: bytes) -> tuple[int, dict[str, tuple[int, bytes]]]:
    """GetResponse message -> (request-id, {oid: (value tag, value bytes)}); raises BerError otherwise."""
    request_id, _error_status, bindings = decode_response_status(message)
    return request_id, bindings


def decode_response_status(message: bytes) -> tuple[int, int, dict[str, tuple[int, bytes]]]:
    """GetResponse message -> (request-id, error-status, {oid: (value tag, value bytes)})."""
    top = read_tlv(message, 0)
    if top.tag != SEQUENCE:
        raise BerError("not a SEQUENCE")
    parts = read_children(top.value)
    if len(parts) != 3 or parts[0].tag != INTEGER or parts[1].tag != OCTET_STRING:
        raise BerError("not an SNMP v1/v2c message")
    if int.from_bytes(parts[0].value or b"\x00", "big") not in (0, 1):
        raise BerError("not SNMP v1 or v2c")
    pdu = parts[2]
    if pdu.tag not in (GET_RESPONSE, REPORT):
        raise BerError(f"PDU tag 0x{pdu.tag:02x} is not a response")
    fields = read_children(pdu.value)
    if len(fields) != 4 or fields[0].tag != INTEGER or fields[3].tag != SEQUENCE:
        raise BerError("malformed PDU")
    request_id = int.from_bytes(fields[0].value[:8] or b"\x00", "big", signed=True)
    error_status = int.from_bytes(fields[1].value[:8] or b"\x00", "big", signed=True)
    result: dict[str, tuple[int, bytes]] = {}
    for binding in read_children(fields[3].value):
        pair = read_children(binding.value) if binding.tag == SEQUENCE else []
        if len(pair) != 2 or pair[0].tag != OID:
            raise BerError("malformed variable binding")
        result[decode_oid(pair[0].value)] = (pair[1].tag, pair[1].value)
    return request_id, error_status, result


_OID_TEXT = re.compile(r"^\.?(\d{1,10}(?:\.\d{1,10}){1,127})$")
_OID_PREFIXES = (
    ("snmpv2-smi::enterprises.", ENTERPRISES + "."),
    ("enterprises.", ENTERPRISES + "."),
    ("iso.", "1."),
)


def normalize_oid_text(text: str) -> str | None:
    candidate = text.strip().strip('"')
    if candidate.lower().startswith("oid:"):
        candidate = candidate[4:].strip()
    lowered = candidate.lower()
    for prefix, replacement in _OID_PREFIXES:
        if lowered.startswith(prefix):
            candidate = replacement + candidate[len(prefix) :]
            break
    match = _OID_TEXT.match(candidate)
    return match.group(1) if match else None


def oid_fields(oid: str) -> dict[str, str]:
    fields = {"snmp.sysobjectid": oid}
    if oid.startswith(ENTERPRISES + "."):
        fields["snmp.enterprise"] = oid.split(".")[6]
    return fields


def _clean_text(raw: bytes) -> str:
    return "".join(ch for ch in raw[:MAX_TEXT].decode("utf-8", errors="replace") if ch.isprintable() or ch in "\r\n\t")


def _looks_like_ber(data: bytes) -> bool:
    return len(data) >= 2 and data[0] == SEQUENCE


def parse_sysdescr(data: bytes, request: str | None) -> Parsed:
    if len(data) > MAX_MESSAGE:
        return Parsed.unparseable(SYSDESCR, "larger than an SNMP message")
    if _looks_like_ber(data):
        try:
            bindings = decode_varbinds(data)
        except BerError as error:
            return Parsed.unparseable(SYSDESCR, f"bad SNMP message: {error}")
        value = bindings.get(SYSDESCR_OID)
        if value is None or value[0] != OCTET_STRING:
            return Parsed.unparseable(SYSDESCR, "no sysDescr.0 string in the response")
        text = _clean_text(value[1])
    else:
        text = _clean_text(data).strip()
        if text.upper().startswith("STRING:"):  # net-snmp's snmpget output
            text = text[7:].strip().strip('"')
    if not text:
        return Parsed.unparseable(SYSDESCR, "empty sysDescr")
    return Parsed(protocol=SYSDESCR, fields={"snmp.sysdescr": text})


def parse_sysobjectid(data: bytes, request: str | None) -> Parsed:
    if len(data) > MAX_MESSAGE:
        return Parsed.unparseable(SYSOBJECTID, "larger than an SNMP message")
    if _looks_like_ber(data):
        try:
            bindings = decode_varbinds(data)
            value = bindings.get(SYSOBJECTID_OID)
            if value is None or value[0] != OID:
                return Parsed.unparseable(SYSOBJECTID, "no sysObjectID.0 OID in the response")
            oid: str | None = decode_oid(value[1])
        except BerError as error:
            return Parsed.unparseable(SYSOBJECTID, f"bad SNMP message: {error}")
    else:
        oid = normalize_oid_text(data[:512].decode("ascii", errors="replace"))
    if oid is None:
        return Parsed.unparseable(SYSOBJECTID, "not an OID")
    return Parsed(protocol=SYSOBJECTID, fields=oid_fields(oid))


def decode_octets(raw: bytes) -> str:
    """An OCTET STRING as text: UTF-16LE when every second byte is NUL (Hytera's "unicode string"), else UTF-8;
    NUL padding and surrounding blanks removed."""
    raw = raw[: MAX_TEXT * 2]
    if len(raw) >= 2 and len(raw) % 2 == 0 and not any(raw[1::2]) and any(raw[0::2]):
        text = raw.decode("utf-16-le", errors="replace")
    else:
        text = raw.decode("utf-8", errors="replace")
    return "".join(ch for ch in text if ch.isprintable())[:MAX_TEXT].strip()


_NETSNMP_LINE = re.compile(r"^\s*(?P<oid>[^\s=]{1,300})\s*=\s*(?P<type>[A-Za-z-]{1,20}):\s?(?P<value>.*)$", re.DOTALL)
_HEX_OCTETS = re.compile(r"^(?:[0-9A-Fa-f]{2}\s*){1,4096}$")


def _netsnmp_value(kind: str, value: str) -> bytes | None:
    """The octets of one net-snmp `TYPE: value` (Hex-STRING or STRING), None for other types."""
    value = value.strip()
    if kind.lower() == "hex-string":
        return bytes.fromhex(value) if _HEX_OCTETS.match(value) else None
    if kind.lower() == "string":
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        return value.encode("utf-8")
    return None


def object_fields(oid: str, octets: bytes) -> dict[str, str]:
    """Fields of one answered non-system object (see the module docstring)."""
    text = decode_octets(octets)
    if not text:
        return {}
    fields = {f"snmp.oid.{oid}": text}
    if oid.startswith(ENTERPRISES + ".") and len(oid.split(".")) > 7:
        fields["snmp.enterprise"] = oid.split(".")[6]
    device_key = PRIVATE_OBJECTS.get(oid)
    if device_key is not None:
        fields[device_key] = text
    return fields


def parse_object(data: bytes, request: str | None) -> Parsed:
    if len(data) > MAX_MESSAGE:
        return Parsed.unparseable(OBJECT, "larger than an SNMP message")
    named = (request or "").strip()
    if named.lower().startswith("get "):
        named = named[4:]
    oid = normalize_oid_text(named) if named else None
    octets = data
    if oid is None:  # no object named by the request: one line of net-snmp output?
        line = _NETSNMP_LINE.match(data[: MAX_TEXT * 4].decode("utf-8", errors="replace"))
        if line is None:
            return Parsed.unparseable(OBJECT, "the request names no OID and the data is no net-snmp line")
        oid = normalize_oid_text(line.group("oid"))
        value = _netsnmp_value(line.group("type"), line.group("value"))
        if oid is None or value is None:
            return Parsed.unparseable(OBJECT, "not an OID with a string value")
        octets = value
    fields = object_fields(oid, octets)
    if not fields:
        return Parsed.unparseable(OBJECT, "empty value")
    return Parsed(protocol=OBJECT, fields=fields)


PARSERS = {SYSDESCR: parse_sysdescr, SYSOBJECTID: parse_sysobjectid, OBJECT: parse_object}


def communities_from(ctx: ProbeContext) -> list[str]:
    """The user's communities for this host: `ctx.extra["snmp_community"]` (one string) and/or the scanner's
    `ctx.extra["snmp_communities"]` (a tuple from the credentials file). Never a default."""
    found: list[str] = []
    single = ctx.extra.get("snmp_community")
    if isinstance(single, str) and single:
        found.append(single)
    several = ctx.extra.get("snmp_communities")
    if isinstance(several, list | tuple):
        found += [c for c in several if isinstance(c, str) and c and c not in found]
    return found


def observations_from_response(answer: bytes, host: str, port: int, when: float | None = None) -> list[Observation]:
    """Decoded values of one GetResponse as observations: text for the system objects, the value's octets for a
    private object that was answered with a string. The one redaction of SNMP answers, used by active scans and
    by captures alike: the packet echoes the community (a secret), so only these values are ever stored.
    Raises BerError for anything but a v1/v2c response."""
    _request_id, bindings = decode_response(answer)
    observations: list[Observation] = []
    descr = bindings.get(SYSDESCR_OID)
    if descr is not None and descr[0] == OCTET_STRING:
        text = _clean_text(descr[1]).encode("utf-8")
        observations.append(Observation(host, SYSDESCR, text, port, "get sysDescr.0", "udp"))
    object_id = bindings.get(SYSOBJECTID_OID)
    if object_id is not None and object_id[0] == OID:
        try:
            oid = decode_oid(object_id[1]).encode("ascii")
        except BerError:
            oid = b""
        if oid:
            observations.append(Observation(host, SYSOBJECTID, oid, port, "get sysObjectID.0", "udp"))
    for private in PRIVATE_OBJECTS:
        value = bindings.get(private)
        # noSuchObject / noSuchInstance / NULL are no answer; only a string value is evidence
        if value is not None and value[0] == OCTET_STRING and decode_octets(value[1]):
            octets = value[1][:MAX_TEXT]
            observations.append(Observation(host, OBJECT, octets, port, f"get {private}", "udp"))
    return observations if when is None else [replace(o, time=when) for o in observations]


class _Refused(Exception):
    """The agent answered with an error-status (it refused the whole PDU)."""


async def _get(
    target: Target, port: int, community: str, oids: tuple[str, ...], ctx: ProbeContext
) -> list[Observation]:
    """One GetRequest; the observations of its answer ([] when none came). Raises OSError/ValueError for
    socket trouble and _Refused when the agent answered with an error-status and no usable value."""
    request_id = int.from_bytes(os.urandom(3), "big")
    answers = await udp_exchange(target.address, port, build_get_request(community, request_id, oids), ctx)
    refused = False
    for data, sender in answers:
        if sender[0] != target.address:
            continue  # only the host the user named may answer for itself
        try:
            answered_id, error_status, _bindings = decode_response_status(data)
            if answered_id != request_id:
                continue  # not the answer to this request
            observations = observations_from_response(data, target.address, port)
        except BerError:
            continue
        if observations and not error_status:
            return observations
        refused = refused or bool(error_status)
    if refused:
        raise _Refused
    return []


async def probe(target: Target, ctx: ProbeContext) -> list[Observation]:
    """SNMPv2c GET of sysDescr.0, sysObjectID.0 and the private objects, only with the communities the user
    supplied (in order, stopping at the first that is answered)."""
    communities = communities_from(ctx)
    if not communities:
        return []  # no community given: no probe (never guess one)
    port = target.port or UDP_PORTS[0]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ctx.timeout * 4  # each try waits one timeout; stay inside the scanner's budget
    for community in communities:
        if loop.time() > deadline:
            break
        try:
            try:
                observations = await _get(target, port, community, (*SYSTEM_OIDS, *PRIVATE_OBJECTS), ctx)
            except _Refused:  # an agent that rejects the PDU for an object it lacks: system objects alone
                try:
                    observations = await _get(target, port, community, SYSTEM_OIDS, ctx)
                except _Refused:
                    observations = []
        except (OSError, ValueError):
            return [Observation(target.address, SYSDESCR, b"", port, "get sysDescr.0", "udp", Status.PROTOCOL_ERROR)]
        if observations:
            return observations
    return [Observation(target.address, SYSDESCR, b"", port, "get sysDescr.0", "udp", Status.TIMEOUT)]
