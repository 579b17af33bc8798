"""SSDP / UPnP: M-SEARCH answers and NOTIFY headers (UDP 1900), and the UPnP device description they point to.

Sends: one `M-SEARCH * HTTP/1.1` (ST `ssdp:all`) unicast to the target's UDP 1900; then, for each LOCATION
in its answers that points at the same target address (plain HTTP only), one `GET` of that description.
Reads: the answer's headers (SERVER, ST, USN, LOCATION ...) and the description's device element
(manufacturer, modelName, modelNumber, serialNumber, friendlyName, deviceType ...).

Specification: UPnP Device Architecture 1.1, §1 (SSDP: M-SEARCH, responses, NOTIFY) and §2 (device
description). Safe: discovery and a read-only GET; no SOAP control action is ever invoked (no port mappings).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from trueorigin.model import Observation, Parsed, Status, Target
from trueorigin.probes.base import (
    ProbeContext,
    http_exchange,
    parse_untrusted_xml,
    udp_answers_from_target,
    xml_local_name,
)
from trueorigin.probes.message import split_http_response, split_message

# Field keys this module's parsers emit (besides the shared `device.*` keys): the field vocabulary that
# fingerprint rules may use is the union of every module's declaration (tests/test_field_vocabulary.py).
FIELDS: tuple[str, ...] = (
    "ssdp.status",
    "ssdp.method",
    "upnp.manufacturer",
    "upnp.manufacturer_url",
    "upnp.model_name",
    "upnp.model_number",
    "upnp.model_description",
    "upnp.model_url",
    "upnp.friendly_name",
    "upnp.serial",
    "upnp.device_type",
    "upnp.udn",
)
FIELD_FAMILIES: tuple[str, ...] = ("ssdp.header.",)  # open-ended next component


PROTOCOL = "ssdp"
SSDP_PORT = 1900
MULTICAST_GROUP = "239.255.255.250"
MULTICAST_PORT = 1900
UDP_PORTS = (SSDP_PORT,)

MAX_HEADERS = 64
MAX_VALUE_CHARS = 1024
MAX_DESCRIPTIONS_FETCHED = 2
DESCRIPTION_ELEMENTS = {
    "deviceType": "upnp.device_type",
    "friendlyName": "upnp.friendly_name",
    "manufacturer": "upnp.manufacturer",
    "manufacturerURL": "upnp.manufacturer_url",
    "modelDescription": "upnp.model_description",
    "modelName": "upnp.model_name",
    "modelNumber": "upnp.model_number",
    "modelURL": "upnp.model_url",
    "serialNumber": "upnp.serial",
    "UDN": "upnp.udn",
    "presentationURL": "upnp.presentation_url",
}
# standard UPnP device types that name a product kind (a MediaServer can be anything, so it is not mapped)
DEVICE_TYPE_KINDS = {"internetgatewaydevice": "router", "printer": "printer"}


def probe_payload(search_target: str = "ssdp:all", host: str = f"{MULTICAST_GROUP}:{MULTICAST_PORT}") -> bytes:
    """An M-SEARCH request (UDA 1.1 §1.3.2); for unicast the HOST is the target and MX is not used."""
    lines = ["M-SEARCH * HTTP/1.1", f"HOST: {host}", 'MAN: "ssdp:discover"']
    if host.startswith(MULTICAST_GROUP):
        lines.append("MX: 1")
    lines += [f"ST: {search_target}", "USER-AGENT: trueorigin/0 UPnP/1.1 trueorigin/0", "", ""]
    return "\r\n".join(lines).encode("ascii")


def parse_ssdp(data: bytes, request: str | None = None) -> Parsed:
    """An SSDP answer/NOTIFY -> ssdp.*; a UPnP description (bare or inside an HTTP response) -> upnp.* and device.*."""
    answer = split_http_response(data)
    if answer is not None and _looks_like_xml(answer.body):
        return _parse_description(answer.body)
    if answer is None and _looks_like_xml(data):
        return _parse_description(data)
    return _parse_headers(data)


def _looks_like_xml(data: bytes) -> bool:
    return data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<"


def _parse_headers(data: bytes) -> Parsed:
    head = split_message(data[:65536], ("HTTP/",), request_methods=("NOTIFY", "M-SEARCH"))
    if head is None:
        return Parsed.unparseable(PROTOCOL, "neither an SSDP answer, a NOTIFY nor a UPnP description")
    if head.method == "M-SEARCH":
        return Parsed.unparseable(PROTOCOL, "an M-SEARCH request, not an answer")
    fields: dict[str, str] = {"ssdp.method": head.method} if head.method else {"ssdp.status": str(head.status)}
    for name, value in head.headers[:MAX_HEADERS]:
        key = f"ssdp.header.{name}"
        value = value[:MAX_VALUE_CHARS]
        fields[key] = f"{fields[key]}\n{value}" if key in fields else value
    if not head.headers:
        return Parsed.unparseable(PROTOCOL, "no SSDP headers")
    return Parsed(PROTOCOL, fields)


def _parse_description(body: bytes) -> Parsed:
    root = parse_untrusted_xml(body)
    if root is None:
        return Parsed.unparseable(PROTOCOL, "description is not well-formed XML (or a DTD/entity, which is refused)")
    if xml_local_name(root.tag) != "root":
        return Parsed.unparseable(PROTOCOL, f"root element is {xml_local_name(root.tag)!r}, not a UPnP root")
    # the root device is the first device element directly under root; embedded devices sit deeper
    device = next((child for child in root if xml_local_name(child.tag) == "device"), None)
    if device is None:
        return Parsed.unparseable(PROTOCOL, "UPnP description without a device element")
    fields: dict[str, str] = {}
    for child in device:
        key = DESCRIPTION_ELEMENTS.get(xml_local_name(child.tag))
        value = (child.text or "").strip()[:MAX_VALUE_CHARS]
        if key and value and key not in fields:
            fields[key] = value
    for upnp_key, device_key in (
        ("upnp.manufacturer", "device.manufacturer"),
        ("upnp.serial", "device.serial"),
        ("upnp.friendly_name", "device.name"),
    ):
        if upnp_key in fields:
            fields[device_key] = fields[upnp_key]
    model = fields.get("upnp.model_name") or fields.get("upnp.model_number")
    if model:
        fields["device.model"] = model
    device_type = fields.get("upnp.device_type", "").lower().split(":")
    kind = DEVICE_TYPE_KINDS.get(device_type[-2] if len(device_type) >= 2 else "")
    if kind:
        fields["device.kind"] = kind
    if not fields:
        return Parsed.unparseable(PROTOCOL, "UPnP device element without any known field")
    return Parsed(PROTOCOL, fields)


PARSERS = {PROTOCOL: parse_ssdp}


async def probe(target: Target, ctx: ProbeContext) -> list[Observation]:
    """Unicast M-SEARCH to the target, then its own device descriptions."""
    search = probe_payload(host=f"{target.address}:{SSDP_PORT}")
    observations: list[Observation] = []
    locations: list[str] = []
    for data in await udp_answers_from_target(target.address, SSDP_PORT, search, ctx):
        parsed = parse_ssdp(data)
        observations.append(
            Observation(
                host=target.address,
                protocol=PROTOCOL,
                data=data,
                port=SSDP_PORT,
                request="M-SEARCH ssdp:all",
                transport="udp",
                status=Status.OK if parsed.ok else Status.PROTOCOL_ERROR,
            )
        )
        location = parsed.fields.get("ssdp.header.location", "").split("\n")[0].strip()
        if location and location not in locations and _points_at(location, target.address):
            locations.append(location)
    for location in locations[:MAX_DESCRIPTIONS_FETCHED]:
        observation = await _fetch_description(target.address, location, ctx)
        if observation is not None:
            observations.append(observation)
    return observations


def _points_at(url: str, address: str) -> bool:
    """Only plain-HTTP LOCATIONs on the target itself are fetched (a device may name any host)."""
    try:
        parts = urlsplit(url)
        return (
            parts.scheme == "http"
            and parts.hostname is not None
            and (ipaddress.ip_address(parts.hostname) == ipaddress.ip_address(address))
        )
    except ValueError:
        return False


async def _fetch_description(address: str, location: str, ctx: ProbeContext) -> Observation | None:
    parts = urlsplit(location)
    try:
        port = parts.port or 80
    except ValueError:
        return None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    answer = await http_exchange(address, port, "GET", path, ctx)
    if answer is None or answer.status != 200 or not answer.body:
        return None
    return Observation(
        host=address,
        protocol=PROTOCOL,
        data=answer.body,
        port=port,
        request=f"GET {path}",
        transport="tcp",
        status=Status.OK if parse_ssdp(answer.body).ok else Status.PROTOCOL_ERROR,
    )
