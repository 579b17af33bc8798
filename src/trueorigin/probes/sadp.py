"""Hikvision SADP (Search Active Devices Protocol): XML over UDP 37020.

Sends: one `<Probe>` inquiry, unicast to the target's UDP port 37020 (the same document Hikvision's SADP tool
multicasts to 239.255.255.250:37020). Reads: the `<ProbeMatch>` answer, which states DeviceType,
DeviceDescription (the model), DeviceSN, MAC, SoftwareVersion, DSPVersion, ports and network settings.

Format references (no official specification is published):
- julienblitte/UniversalScanner, UniversalScanner/Hikvision.cs and Hikvision.selftest (seen 2026-11-24)
- MatrixEditor/hiktools SADP documentation and Wireshark dissector (docs/research/landscape.md [O3])

Unverified: whether every firmware answers a unicast inquiry to its sender; SADP tools also listen on the
multicast group, so some devices may answer only there (the scanner's `--multicast` mode hears those).

Safe: a read-only inquiry. The probe never sends the SADP commands that change settings, activate a
device or reset a password.
"""

from __future__ import annotations

import uuid
from xml.sax.saxutils import escape

from trueorigin.model import Observation, Parsed, Status, Target, normalize_mac
from trueorigin.probes.base import (
    ProbeContext,
    parse_untrusted_xml,
    udp_answers_from_target,
    xml_local_name,
)

# Field keys this module's parsers emit (besides the shared `device.*` keys): the field vocabulary that
# fingerprint rules may use is the union of every module's declaration (tests/test_field_vocabulary.py).
FIELDS: tuple[str, ...] = ("sadp.types",)
FIELD_FAMILIES: tuple[str, ...] = ("sadp.",)  # open-ended next component


PROTOCOL = "sadp"
SADP_PORT = 37020
MULTICAST_GROUP = "239.255.255.250"
MULTICAST_PORT = 37020
UDP_PORTS = (SADP_PORT,)

MAX_FIELDS = 128
MAX_VALUE_CHARS = 1024


def probe_payload(inquiry_id: str | None = None) -> bytes:
    """The SADP inquiry: a Probe document with a fresh upper-case UUID and the type `inquiry`."""
    probe_id = (inquiry_id or str(uuid.uuid4())).upper()
    document = (
        f'<?xml version="1.0" encoding="utf-8"?><Probe><Uuid>{escape(probe_id)}</Uuid><Types>inquiry</Types></Probe>'
    )
    return document.encode("utf-8")


def parse_sadp(data: bytes, request: str | None = None) -> Parsed:
    """Every leaf of a ProbeMatch as `sadp.<lowercased element>`, plus the normalized `device.*` keys."""
    root = parse_untrusted_xml(data)
    if root is None:
        return Parsed.unparseable(PROTOCOL, "not well-formed XML (or a DTD/entity, which is refused)")
    # devices spell it ProbeMatch; some third-party tools write Probematch
    if xml_local_name(root.tag).lower() != "probematch":
        return Parsed.unparseable(PROTOCOL, f"root element is {xml_local_name(root.tag)!r}, not ProbeMatch")
    fields: dict[str, str] = {}
    for element in root.iter():
        if element is root or len(element) or len(fields) >= MAX_FIELDS:
            continue
        name = xml_local_name(element.tag).lower()
        value = (element.text or "").strip()[:MAX_VALUE_CHARS]
        if name and value and f"sadp.{name}" not in fields:
            fields[f"sadp.{name}"] = value
    _add_device_keys(fields)
    return Parsed(PROTOCOL, fields)


def _add_device_keys(fields: dict[str, str]) -> None:
    # SADP never names a brand: the protocol itself is the Hikvision signal, left to the fingerprints
    model = fields.get("sadp.devicedescription")
    if model:
        fields["device.model"] = model
    serial = fields.get("sadp.devicesn")
    if serial:
        fields["device.serial"] = serial
    firmware = fields.get("sadp.softwareversion")
    if firmware:
        fields["device.firmware"] = firmware
    mac = normalize_mac(fields.get("sadp.mac", ""))
    if mac:
        fields["device.mac"] = mac


PARSERS = {PROTOCOL: parse_sadp}


async def probe(target: Target, ctx: ProbeContext) -> list[Observation]:
    """Ask the target alone for its SADP ProbeMatch; silence gives no observation."""
    answers = await udp_answers_from_target(target.address, SADP_PORT, probe_payload(), ctx)
    observations = []
    for data in answers:
        status = Status.OK if parse_sadp(data).ok else Status.PROTOCOL_ERROR
        observations.append(
            Observation(
                host=target.address,
                protocol=PROTOCOL,
                data=data,
                port=SADP_PORT,
                request="inquiry",
                transport="udp",
                status=status,
            )
        )
    return observations
