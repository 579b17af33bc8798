"""ONVIF: WS-Discovery Probe/ProbeMatches (UDP 3702) and the device service's GetDeviceInformation.

Sends, to the target only:
1. WS-Discovery `Probe` datagrams (types `dn:NetworkVideoTransmitter` and `tds:Device`, because some cameras
   answer only the first and some recorders only the second) unicast to UDP 3702;
2. from the `XAddrs` of its ProbeMatches that point at the same target address, one SOAP
   `GetDeviceInformation` POST - unauthenticated first; only if the device refuses and the user supplied
   credentials for this host, again with those credentials as a WS-Security UsernameToken (PasswordDigest) or,
   when the device challenges with it, HTTP Digest. Credentials are never guessed and never recorded.
Reads: Types, XAddrs and Scopes (onvif://www.onvif.org/<category>/<value>, URL-decoded), and Manufacturer,
Model, FirmwareVersion, SerialNumber, HardwareId.

Specifications: WS-Discovery (2005/04, namespace http://schemas.xmlsoap.org/ws/2005/04/discovery), ONVIF Core
Specification §7.3 (discovery, scopes) and §8.4.3/§5.12 (GetDeviceInformation, user authentication),
OASIS WSS UsernameToken Profile 1.0, RFC 7616 (HTTP Digest).

Safe: discovery and a read-only query. Nothing is configured, no stream is opened.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import ipaddress
import os
import re
import time
import uuid
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from trueorigin.model import Observation, Parsed, Status, Target, normalize_mac
from trueorigin.probes.base import (
    Credential,
    ProbeContext,
    http_exchange,
    parse_untrusted_xml,
    udp_answers_from_target,
    xml_local_name,
)
from trueorigin.probes.message import HttpAnswer, split_http_response

# Field keys this module's parsers emit (besides the shared `device.*` keys): the field vocabulary that
# fingerprint rules may use is the union of every module's declaration (tests/test_field_vocabulary.py).
FIELDS: tuple[str, ...] = (
    "wsd.types",
    "wsd.xaddrs",
    "wsd.scopes",
    "wsd.address",
    "onvif.manufacturer",
    "onvif.model",
    "onvif.firmware",
    "onvif.serial",
    "onvif.hardware_id",
)
FIELD_FAMILIES: tuple[str, ...] = ("onvif.scope.",)  # open-ended next component


DISCOVERY_PROTOCOL = "ws-discovery"
DEVICE_INFO_PROTOCOL = "onvif-device-info"
WSD_PORT = 3702
MULTICAST_GROUP = "239.255.255.250"
MULTICAST_PORT = 3702
UDP_PORTS = (WSD_PORT,)

MAX_SCOPES = 64
MAX_VALUE_CHARS = 1024
MAX_XADDRS_TRIED = 3
ONVIF_SCOPE_PREFIX = "onvif://www.onvif.org/"
DISCOVERY_MATCH_ELEMENTS = frozenset({"ProbeMatch", "ResolveMatch", "Hello"})
DEVICE_INFO_ELEMENTS = {
    "Manufacturer": "onvif.manufacturer",
    "Model": "onvif.model",
    "FirmwareVersion": "onvif.firmware",
    "SerialNumber": "onvif.serial",
    "HardwareId": "onvif.hardware_id",
}
ONVIF_TO_DEVICE_KEYS = {
    "onvif.manufacturer": "device.manufacturer",
    "onvif.model": "device.model",
    "onvif.firmware": "device.firmware",
    "onvif.serial": "device.serial",
    "onvif.hardware_id": "device.hardware",
}
SEARCHED_TYPES = (
    ("dn", "http://www.onvif.org/ver10/network/wsdl", "NetworkVideoTransmitter"),
    ("tds", "http://www.onvif.org/ver10/device/wsdl", "Device"),
)

WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
PASSWORD_DIGEST_TYPE = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"
)
BASE64_ENCODING_TYPE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
GET_DEVICE_INFORMATION_ACTION = "http://www.onvif.org/ver10/device/wsdl/GetDeviceInformation"


# --- requests -----------------------------------------------------------------------------------------------


def probe_payload(message_id: str | None = None, searched_type: int = 0) -> bytes:
    """A WS-Discovery Probe for one device type (0: NetworkVideoTransmitter, 1: Device)."""
    prefix, namespace, name = SEARCHED_TYPES[searched_type]
    message = message_id or f"uuid:{uuid.uuid4()}"
    document = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"'
        ' xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"'
        ' xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"'
        f' xmlns:{prefix}="{namespace}">'
        "<s:Header>"
        f"<a:MessageID>{escape(message)}</a:MessageID>"
        '<a:To s:mustUnderstand="1">urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>'
        '<a:Action s:mustUnderstand="1">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action>'
        "</s:Header>"
        f"<s:Body><d:Probe><d:Types>{prefix}:{name}</d:Types></d:Probe></s:Body>"
        "</s:Envelope>"
    )
    return document.encode("utf-8")


def password_digest(nonce: bytes, created: str, password: str) -> str:
    """WSS UsernameToken PasswordDigest = Base64(SHA-1(nonce + created + password))."""
    return base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest()).decode()


def username_token_header(credential: Credential, nonce: bytes | None = None, created: str | None = None) -> str:
    nonce = os.urandom(16) if nonce is None else nonce
    created = created or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return (
        f'<wsse:Security xmlns:wsse="{WSSE_NS}" xmlns:wsu="{WSU_NS}" s:mustUnderstand="1"><wsse:UsernameToken>'
        f"<wsse:Username>{escape(credential.username)}</wsse:Username>"
        f'<wsse:Password Type="{PASSWORD_DIGEST_TYPE}">{password_digest(nonce, created, credential.password)}'
        "</wsse:Password>"
        f'<wsse:Nonce EncodingType="{BASE64_ENCODING_TYPE}">{base64.b64encode(nonce).decode()}</wsse:Nonce>'
        f"<wsu:Created>{created}</wsu:Created>"
        "</wsse:UsernameToken></wsse:Security>"
    )


def device_info_request(security_header: str = "") -> bytes:
    """The SOAP 1.2 GetDeviceInformation request, optionally with a WS-Security header."""
    document = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"'
        ' xmlns:tds="http://www.onvif.org/ver10/device/wsdl">'
        f"<s:Header>{security_header}</s:Header>"
        "<s:Body><tds:GetDeviceInformation/></s:Body>"
        "</s:Envelope>"
    )
    return document.encode("utf-8")


_CHALLENGE_PARAM = re.compile(r'(\w+)\s*=\s*(?:"([^"]*)"|([^\s,]+))')


def digest_authorization(
    challenge: str, credential: Credential, method: str, uri: str, cnonce: str | None = None
) -> str | None:
    """The Authorization header answering an HTTP Digest challenge (RFC 7616, MD5 or SHA-256, qop=auth)."""
    scheme, _, params_text = challenge.strip().partition(" ")
    if scheme.lower() != "digest":
        return None
    params = {
        m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
        for m in _CHALLENGE_PARAM.finditer(params_text)
    }
    realm, nonce = params.get("realm"), params.get("nonce")
    if realm is None or nonce is None:
        return None
    algorithm = params.get("algorithm", "MD5")
    hash_name = {"MD5": "md5", "SHA-256": "sha256"}.get(algorithm.upper())
    if hash_name is None:
        return None

    def digest(text: str) -> str:
        return hashlib.new(hash_name, text.encode()).hexdigest()

    ha1 = digest(f"{credential.username}:{realm}:{credential.password}")
    ha2 = digest(f"{method}:{uri}")
    qops = [q.strip() for q in params.get("qop", "").split(",") if q.strip()]
    parts = [
        f'username="{credential.username}"',
        f'realm="{realm}"',
        f'nonce="{nonce}"',
        f'uri="{uri}"',
        f"algorithm={algorithm}",
    ]
    if "auth" in qops:
        cnonce = cnonce or os.urandom(8).hex()
        response = digest(f"{ha1}:{nonce}:00000001:{cnonce}:auth:{ha2}")
        parts += ["qop=auth", "nc=00000001", f'cnonce="{cnonce}"']
    else:
        response = digest(f"{ha1}:{nonce}:{ha2}")
    parts.append(f'response="{response}"')
    if "opaque" in params:
        parts.append(f'opaque="{params["opaque"]}"')
    return "Digest " + ", ".join(parts)


# --- parsers ------------------------------------------------------------------------------------------------


def parse_ws_discovery(data: bytes, request: str | None = None) -> Parsed:
    """ProbeMatches (or Hello/ResolveMatches) -> wsd.types/xaddrs/scopes, onvif.scope.<category>, device.*."""
    root = parse_untrusted_xml(data)
    if root is None:
        return Parsed.unparseable(DISCOVERY_PROTOCOL, "not well-formed XML (or a DTD/entity, which is refused)")
    matches = [element for element in root.iter() if xml_local_name(element.tag) in DISCOVERY_MATCH_ELEMENTS]
    if not matches:
        return Parsed.unparseable(DISCOVERY_PROTOCOL, "no ProbeMatch, ResolveMatch or Hello element")
    types: list[str] = []
    xaddrs: list[str] = []
    scopes: list[str] = []
    addresses: list[str] = []
    for match in matches:
        for child in match.iter():
            name = xml_local_name(child.tag)
            if name == "Types":
                _extend_unique(types, _tokens(child))
            elif name == "XAddrs":
                _extend_unique(xaddrs, _tokens(child))
            elif name == "Scopes":
                _extend_unique(scopes, _tokens(child))
            elif name == "Address":
                _extend_unique(addresses, _tokens(child))
    fields: dict[str, str] = {}
    for key, values in (
        ("wsd.types", types),
        ("wsd.xaddrs", xaddrs),
        ("wsd.scopes", scopes),
        ("wsd.address", addresses),
    ):
        if values:
            fields[key] = "\n".join(values[:MAX_SCOPES])
    scope_values: dict[str, list[str]] = {}
    for scope in scopes[:MAX_SCOPES]:
        parsed_scope = _onvif_scope(scope)
        if parsed_scope:
            _extend_unique(scope_values.setdefault(parsed_scope[0], []), [parsed_scope[1]])
    for category, values in scope_values.items():
        fields[f"onvif.scope.{category}"] = "\n".join(values)
    _add_scope_device_keys(fields, scope_values)
    return Parsed(DISCOVERY_PROTOCOL, fields)


def _tokens(element: ElementTree.Element) -> list[str]:
    # lists are whitespace separated; devices pad with newlines, tabs and runs of spaces
    return [token[:MAX_VALUE_CHARS] for token in (element.text or "").split()][: MAX_SCOPES * 2]


def _extend_unique(target: list[str], values: Iterable[str]) -> None:
    for value in values:
        if value not in target and len(target) < MAX_SCOPES * 2:
            target.append(value)


def _onvif_scope(scope: str) -> tuple[str, str] | None:
    """`onvif://www.onvif.org/name/HIKVISION%20DS-2CD2143G0-I` -> ("name", "HIKVISION DS-2CD2143G0-I")."""
    if not scope.lower().startswith(ONVIF_SCOPE_PREFIX):
        return None
    category, _, value = scope[len(ONVIF_SCOPE_PREFIX) :].partition("/")
    category = category.strip().lower()
    value = unquote(value).strip()
    if not category or not value or not category.replace("_", "").replace("-", "").isalnum():
        return None
    return category, value[:MAX_VALUE_CHARS]


def _add_scope_device_keys(fields: dict[str, str], scope_values: dict[str, list[str]]) -> None:
    def first(*categories: str) -> str | None:
        for category in categories:
            values = scope_values.get(category)
            if values:
                return values[0]
        return None

    # the brand shown: a vendor's own manufacturer scope wins over the free-form name
    manufacturer = first("manufacturer", "mfr", "brand", "name")
    if manufacturer:
        fields["device.manufacturer"] = manufacturer
    name = first("name")
    if name:
        fields["device.name"] = name
    model = first("hardware", "model")
    if model:
        fields["device.model"] = model
    mac = normalize_mac(first("mac", "macaddress") or "")
    if mac:
        fields["device.mac"] = mac
    kinds = {value.lower() for value in scope_values.get("type", [])}
    if "ptz" in kinds:
        fields["device.kind"] = "ptz"
    elif kinds & {"network_video_storage", "networkvideostorage", "nvr"}:
        fields["device.kind"] = "nvr"


def parse_device_info(data: bytes, request: str | None = None) -> Parsed:
    """GetDeviceInformationResponse (a SOAP body, or a whole HTTP response) -> onvif.* and device.*."""
    answer = split_http_response(data)
    body = answer.body if answer is not None else data
    root = parse_untrusted_xml(body)
    if root is None:
        return Parsed.unparseable(DEVICE_INFO_PROTOCOL, "not well-formed XML (or a DTD/entity, which is refused)")
    response = next(
        (element for element in root.iter() if xml_local_name(element.tag) == "GetDeviceInformationResponse"), None
    )
    if response is None:
        if any(xml_local_name(element.tag) == "Fault" for element in root.iter()):
            reason = " ".join(
                (element.text or "").strip() for element in root.iter() if xml_local_name(element.tag) == "Text"
            )
            return Parsed.unparseable(DEVICE_INFO_PROTOCOL, f"SOAP Fault: {reason}"[:200])
        return Parsed.unparseable(DEVICE_INFO_PROTOCOL, "no GetDeviceInformationResponse element")
    fields: dict[str, str] = {}
    for child in response:
        key = DEVICE_INFO_ELEMENTS.get(xml_local_name(child.tag))
        value = (child.text or "").strip()[:MAX_VALUE_CHARS]
        if key and value and key not in fields:
            fields[key] = value
    for onvif_key, device_key in ONVIF_TO_DEVICE_KEYS.items():
        if onvif_key in fields:
            fields[device_key] = fields[onvif_key]
    return Parsed(DEVICE_INFO_PROTOCOL, fields)


PARSERS = {DISCOVERY_PROTOCOL: parse_ws_discovery, DEVICE_INFO_PROTOCOL: parse_device_info}


# --- probe --------------------------------------------------------------------------------------------------


async def probe(target: Target, ctx: ProbeContext) -> list[Observation]:
    """WS-Discovery unicast to the target, then GetDeviceInformation on its own XAddrs."""
    answer_lists = await asyncio.gather(
        *(
            udp_answers_from_target(target.address, WSD_PORT, probe_payload(searched_type=index), ctx)
            for index in range(len(SEARCHED_TYPES))
        )
    )
    observations: list[Observation] = []
    seen: set[bytes | tuple[tuple[str, str], ...]] = set()
    xaddrs: list[str] = []
    for data in (answer for answers in answer_lists for answer in answers):
        parsed = parse_ws_discovery(data)
        # both probes usually get the same ProbeMatches, differing only in message ids
        identity = tuple(sorted(parsed.fields.items())) if parsed.ok else data
        if identity in seen:
            continue
        seen.add(identity)
        observations.append(
            Observation(
                host=target.address,
                protocol=DISCOVERY_PROTOCOL,
                data=data,
                port=WSD_PORT,
                request="Probe",
                transport="udp",
                status=Status.OK if parsed.ok else Status.PROTOCOL_ERROR,
            )
        )
        _extend_unique(xaddrs, parsed.fields.get("wsd.xaddrs", "").split())
    for xaddr in [x for x in xaddrs if _points_at(x, target.address)][:MAX_XADDRS_TRIED]:
        observation = await device_information(target.address, xaddr, ctx)
        if observation is not None:
            observations.append(observation)
            break
    return observations


def _points_at(url: str, address: str) -> bool:
    """True when an XAddr's host is the target itself (never follow a device to another host)."""
    try:
        parts = urlsplit(url)
        return (
            parts.scheme in ("http", "https")
            and parts.hostname is not None
            and (ipaddress.ip_address(parts.hostname) == ipaddress.ip_address(address))
        )
    except ValueError:
        return False


async def device_information(address: str, xaddr: str, ctx: ProbeContext) -> Observation | None:
    """GetDeviceInformation on one device-service URL of `address` (e.g. http://<address>/onvif/device_service
    when WS-Discovery is disabled but the web port is open); the same auth rules as `probe`. None if refused."""
    if not _points_at(xaddr, address):
        return None
    parts = urlsplit(xaddr)
    tls = parts.scheme == "https"
    try:
        port = parts.port or (443 if tls else 80)
    except ValueError:
        return None
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"

    async def post(body: bytes, extra_headers: dict[str, str] | None = None) -> HttpAnswer | None:
        headers = {"Content-Type": f'application/soap+xml; charset=utf-8; action="{GET_DEVICE_INFORMATION_ACTION}"'}
        headers.update(extra_headers or {})
        return await http_exchange(address, port, "POST", path, ctx, body=body, headers=headers, tls=tls)

    def observed(answer: HttpAnswer | None, how: str) -> Observation | None:
        if answer is None or answer.status != 200 or not parse_device_info(answer.body).ok:
            return None
        return Observation(
            host=address,
            protocol=DEVICE_INFO_PROTOCOL,
            data=answer.body,
            port=port,
            request=f"POST {path} GetDeviceInformation ({how})",
            transport="tcp",
        )

    first = await post(device_info_request())
    found = observed(first, "unauthenticated")
    if found is not None or first is None:
        return found
    for credential in ctx.credentials:  # only what the user supplied for this host, in their order
        challenge = first.headers.get("www-authenticate", "")
        digest_challenge = next((c for c in challenge.split("\n") if c.strip().lower().startswith("digest")), "")
        if first.status == 401 and digest_challenge:
            authorization = digest_authorization(digest_challenge, credential, "POST", path)
            if authorization:
                found = observed(await post(device_info_request(), {"Authorization": authorization}), "HTTP digest")
                if found is not None:
                    return found
        found = observed(await post(device_info_request(username_token_header(credential))), "WS-UsernameToken")
        if found is not None:
            return found
    return None
