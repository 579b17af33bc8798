"""HTTP: what a device's web server says before and (with the user's credentials) after login.

Sends (probe): `GET /`, `GET /favicon.ico`, `GET /ISAPI/System/deviceInfo` (Hikvision ISAPI) and
`GET /cgi-bin/magicBox.cgi?action=getSystemInfo` (Dahua CGI), HTTP/1.1 with `Connection: close`, on the
port named by the target or on `TCP_PORTS` (TLS on `TLS_PORTS`, certificate not verified). Unauthenticated,
the device-info paths usually answer 401 with a realm: that challenge is itself evidence. Only when the user
supplied credentials for this host (`ctx.credentials`) are the device-info requests repeated with
RFC 7616 Digest (MD5, MD5-sess, SHA-256; qop=auth) or RFC 7617 Basic, as the server asks; credentials are
never guessed, never put into `Observation.request` or results. Devices lock accounts after failed logins,
so a credential that works is the only one used afterwards and, when none works on the first challenged
path, no further path is tried.
Reads: one response per request, bounded by `ctx.max_bytes` and `ctx.timeout` (base.read_message).
Specs: RFC 9110/9112 (messages, chunked coding), RFC 7616/7617 (auth). Safe: read-only GETs.

Parser (`http`): status, reason, headers (lowercase names, order), WWW-Authenticate scheme and realm,
<title>, body text (first 64 KiB), favicon MD5 and Shodan-style MurmurHash3 when the path ends in
`favicon.ico`, XML root element, and `device.*` from Hikvision ISAPI `DeviceInfo`, Huawei HiLink
`<response>` (api/device/information), Dahua `magicBox.cgi` key=value and Dahua RPC2 JSON answers. UPnP
descriptions only get `http.xml.root` (the ssdp module owns `upnp.*`).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import json
import os
import re
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import mmh3
from defusedxml import ElementTree as SafeElementTree

from trueorigin.model import Observation, Parsed, Status, Target
from trueorigin.probes.base import Credential, ProbeContext, decode_chunked, probe_each_port, request_once
from trueorigin.probes.mac import normalize_mac

PROTOCOL = "http"
TCP_PORTS = (80, 81, 88, 8080, 8081, 443, 8443, 7443)
TLS_PORTS = frozenset({443, 8443, 7443})

USER_AGENT = "trueorigin/0.1 (equipment identification; read-only)"
BODY_TEXT_LIMIT = 64 * 1024
MAX_HEAD_BYTES = 64 * 1024
MAX_HEADERS = 200
MAX_HEADER_VALUE = 4096
MAX_DECODED_BODY = 1024 * 1024  # chunked/gzip output cap; only the first 64 KiB become text anyway
MAX_GZIP_INPUT = 256 * 1024  # "gzip only if small"
MAX_XML_BYTES = 256 * 1024
MAX_TITLE = 256

ISAPI_DEVICE_INFO = "/ISAPI/System/deviceInfo"
DAHUA_SYSTEM_INFO = "/cgi-bin/magicBox.cgi?action=getSystemInfo"
# after login only: the remaining magicBox answers that name firmware and vendor
DAHUA_CREDENTIALED_EXTRA = (
    "/cgi-bin/magicBox.cgi?action=getSoftwareVersion",
    "/cgi-bin/magicBox.cgi?action=getVendor",
    "/cgi-bin/magicBox.cgi?action=getMachineName",
)
UNAUTHENTICATED_PATHS = ("/", "/favicon.ico", ISAPI_DEVICE_INFO, DAHUA_SYSTEM_INFO)
CREDENTIALED_PATHS = (ISAPI_DEVICE_INFO, DAHUA_SYSTEM_INFO, *DAHUA_CREDENTIALED_EXTRA)


# ---------------------------------------------------------------------------------------------------------
# message head (shared with rtsp and the SIP part of banner)
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MessageHead:
    version: str  # "HTTP/1.1", "RTSP/1.0", "SIP/2.0"
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]  # (lowercase name, value) in order
    body: bytes


_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9a-z-]{1,64}$")
_STATUS_LINE = re.compile(r"^([A-Z]{2,8}/\d(?:\.\d)?)[ \t]+(\d{3})(?:[ \t]+([^\r\n]*))?$")


def split_message(data: bytes, version_prefix: tuple[str, ...]) -> MessageHead | None:
    """Split a response into status line, headers and raw body; None when it is not such a message."""
    head_end = data.find(b"\r\n\r\n", 0, MAX_HEAD_BYTES)
    separator = 4
    if head_end < 0:
        head_end = data.find(b"\n\n", 0, MAX_HEAD_BYTES)
        separator = 2
    if head_end < 0:
        # a response cut inside its headers: keep what arrived (up to the head cap), no body
        head_bytes, body = data[:MAX_HEAD_BYTES], b""
    else:
        head_bytes, body = data[:head_end], data[head_end + separator :]
    lines = head_bytes.decode("latin-1").replace("\r\n", "\n").split("\n")
    match = _STATUS_LINE.match(lines[0].strip())
    if match is None or not match.group(1).upper().startswith(version_prefix):
        return None
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if len(headers) >= MAX_HEADERS:
            break
        if line[:1] in (" ", "\t") and headers:  # obsolete line folding: continue the previous value
            name, value = headers[-1]
            headers[-1] = (name, (value + " " + line.strip())[:MAX_HEADER_VALUE])
            continue
        name, colon, value = line.partition(":")
        name = name.strip().lower()
        if not colon or not _TOKEN.match(name):
            continue  # not a header line; a field name must be an RFC 9110 token
        headers.append((name, value.strip()[:MAX_HEADER_VALUE]))
    return MessageHead(
        version=match.group(1).upper(),
        status=int(match.group(2)),
        reason=(match.group(3) or "").strip(),
        headers=tuple(headers),
        body=body,
    )


def header_fields(prefix: str, headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """`<prefix>.header.<name>` (repeats joined by newline) and `<prefix>.header_order`."""
    joined: dict[str, list[str]] = {}
    order: list[str] = []
    for name, value in headers:
        joined.setdefault(name, []).append(value)
        order.append(name)
    fields = {f"{prefix}.header.{name}": "\n".join(values) for name, values in joined.items()}
    if order:
        fields[f"{prefix}.header_order"] = ",".join(order)
    return fields


_AUTH_PARAM = re.compile(r'([A-Za-z0-9_-]{1,32})[ \t]*=[ \t]*(?:"((?:[^"\\]|\\.){0,1024})"|([^\s,"]{0,1024}))')


@dataclass(frozen=True, slots=True)
class Challenge:
    scheme: str  # "Digest", "Basic", ...
    params: Mapping[str, str]  # lowercase parameter names


def parse_challenges(values: Iterable[str]) -> list[Challenge]:
    """WWW-Authenticate values -> challenges (one per header line; a line with two schemes is split)."""
    challenges: list[Challenge] = []
    for value in values:
        # "Digest realm=..., nonce=..., Basic realm=..." : split where a new scheme token starts
        for part in re.split(r",\s*(?=[A-Za-z][A-Za-z0-9_-]{0,31}\s+[A-Za-z0-9_-]{1,32}\s*=)", value[:4096]):
            scheme, _, rest = part.strip().partition(" ")
            if not scheme or "=" in scheme:
                if challenges:  # a parameter split off by mistake belongs to the previous challenge
                    previous = challenges[-1]
                    merged = dict(previous.params) | _auth_params(part)
                    challenges[-1] = Challenge(previous.scheme, merged)
                continue
            challenges.append(Challenge(scheme, _auth_params(rest)))
            if len(challenges) >= 16:
                return challenges
    return challenges


def _auth_params(text: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for match in _AUTH_PARAM.finditer(text):
        value = match.group(2) if match.group(2) is not None else (match.group(3) or "")
        params.setdefault(match.group(1).lower(), value.replace('\\"', '"'))
    return params


def auth_fields(prefix: str, challenges: list[Challenge]) -> dict[str, str]:
    """`<prefix>.auth.scheme` and `<prefix>.realm` from the first (server-preferred) challenge with them."""
    fields: dict[str, str] = {}
    if challenges:
        fields[f"{prefix}.auth.scheme"] = challenges[0].scheme
    for challenge in challenges:
        realm = challenge.params.get("realm")
        if realm is not None:
            fields[f"{prefix}.realm"] = realm
            break
    return fields


def request_path(request: str | None) -> str | None:
    """`GET /x?y HTTP/1.1`, `GET /x` or `/x` -> `/x?y`."""
    if not request:
        return None
    for token in request.split()[:3]:
        if token.startswith("/") or "://" in token:
            if "://" in token:
                rest = token.split("://", 1)[1]
                slash = rest.find("/")
                return rest[slash:] if slash >= 0 else "/"
            return token
    return None


# ---------------------------------------------------------------------------------------------------------
# body decoding
# ---------------------------------------------------------------------------------------------------------


def decode_gzip(body: bytes) -> bytes | None:
    """Inflate a small gzip/deflate body with an output cap (no decompression bombs); None if not possible."""
    if len(body) > MAX_GZIP_INPUT:
        return None
    for wbits in (47, -15):  # 47: gzip or zlib header auto-detected; -15: raw deflate
        try:
            inflater = zlib.decompressobj(wbits)
            return inflater.decompress(body, MAX_DECODED_BODY)
        except zlib.error:
            continue
    return None


def body_text(body: bytes) -> str:
    text = body[:BODY_TEXT_LIMIT].decode("utf-8", errors="replace")
    return text.lstrip("\ufeff")


_TITLE_OPEN = re.compile(r"<title(?:\s[^>]{0,256})?>", re.IGNORECASE)


def html_title(text: str) -> str | None:
    match = _TITLE_OPEN.search(text)
    if match is None:
        return None
    start = match.end()
    end = text.lower().find("</title", start, start + 4096)
    raw = text[start : end if end >= 0 else start + MAX_TITLE]
    title = " ".join(html.unescape(raw).split())
    return title[:MAX_TITLE]


def favicon_hashes(data: bytes) -> dict[str, str]:
    """MD5 (nmap/recog favicon databases) and Shodan's `http.favicon.hash`: MurmurHash3 (32-bit, signed)
    of the base64 text with a newline every 76 characters, as Python's `base64.encodebytes` writes it."""
    return {
        "http.favicon.md5": hashlib.md5(data, usedforsecurity=False).hexdigest(),
        "http.favicon.mmh3": str(mmh3.hash(base64.encodebytes(data))),
    }


# ---------------------------------------------------------------------------------------------------------
# device-info bodies
# ---------------------------------------------------------------------------------------------------------


# Hikvision ISAPI deviceType values -> product kinds of the canonical vocabulary
_ISAPI_KINDS = {
    "ipcamera": "camera",
    "ipdome": "ptz",
    "ipzoom": "camera",
    "ipc": "camera",
    "nvr": "nvr",
    "dvr": "dvr",
    "dvs": "dvr",
    "hybirdnvr": "nvr",  # sic, as some firmware spells it (unverified)
    "thermal": "thermal",
    "villa vto": "intercom",
    "vto": "intercom",
    "vis": "intercom",
    "acs": "access-control",
}


def _local_name(tag: object) -> str:
    text = tag if isinstance(tag, str) else ""
    return text.rsplit("}", 1)[-1]


def xml_fields(body: bytes) -> dict[str, str]:
    """`http.xml.root`, and for a Hikvision ISAPI DeviceInfo the `http.isapi.*` leaves and `device.*`."""
    if len(body) > MAX_XML_BYTES:
        return {}
    try:
        root = SafeElementTree.fromstring(body)
    except Exception:  # defusedxml refuses entities/DTDs; malformed XML is simply not XML
        # Some HiLink firmware writes a malformed declaration ('<?xml version="1.0"encoding=...'): the
        # document after it is still well-formed. Refused DTDs/entities stay refused on the retry.
        end = body.find(b"?>") if body.startswith(b"<?xml") else -1
        if end < 0:
            return {}
        try:
            root = SafeElementTree.fromstring(body[end + 2 :])
        except Exception:
            return {}
    fields = {"http.xml.root": _local_name(root.tag)}
    if _local_name(root.tag) == "response":
        fields.update(_hilink_fields(root))
    if _local_name(root.tag) != "DeviceInfo":
        return fields
    leaves: dict[str, str] = {}
    for child in list(root)[:200]:
        if len(child) == 0 and child.text and child.text.strip():
            leaves[_local_name(child.tag).lower()] = child.text.strip()[:256]
    fields.update({f"http.isapi.{name}": value for name, value in leaves.items()})
    mapping = {
        "devicename": "device.name",
        "model": "device.model",
        "serialnumber": "device.serial",
        "firmwareversion": "device.firmware",
        "hardwareversion": "device.hardware",
        "manufacturer": "device.manufacturer",
    }
    for leaf, key in mapping.items():
        if leaves.get(leaf):
            fields[key] = leaves[leaf]
    mac = normalize_mac(leaves.get("macaddress", ""))
    if mac:
        fields["device.mac"] = mac
    kind = _ISAPI_KINDS.get(leaves.get("devicetype", "").lower())
    if kind:
        fields["device.kind"] = kind
    return fields


# Huawei HiLink / LTE router web API (`/api/device/information`, `/api/device/basic_information`): a
# `<response>` of flat leaves. Leaf names differ in case between firmware (DeviceName / devicename).
_HILINK_DEVICE = {
    "devicename": "device.model",
    "softwareversion": "device.firmware",
    "hardwareversion": "device.hardware",
    "serialnumber": "device.serial",
}
_HILINK_MARKERS = frozenset({"webuiversion", "productfamily", "classify", "sesinfo", "tokinfo"})


def _hilink_fields(root: Any) -> dict[str, str]:
    leaves: dict[str, str] = {}
    for child in list(root)[:100]:
        if len(child) == 0 and child.text and child.text.strip():
            leaves[_local_name(child.tag).lower()] = html.unescape(child.text.strip())[:256]
    if not _HILINK_MARKERS.intersection(leaves):
        return {}
    fields = {key: leaves[leaf] for leaf, key in _HILINK_DEVICE.items() if leaves.get(leaf)}
    mac = normalize_mac(leaves.get("macaddress1", ""))
    if mac:
        fields["device.mac"] = mac
    if leaves.get("classify") in ("cpe", "hilink", "mobile-wifi", "wingle"):
        fields["device.kind"] = "router"
    return fields


_KEY_VALUE_LINE = re.compile(r"^([A-Za-z][\w.\[\]]{0,63})=(.{0,512})$")
_DAHUA_KEYS = {
    "devicetype": "device.model",
    "type": "device.model",
    "serialnumber": "device.serial",
    "sn": "device.serial",
    "serialno": "device.serial",
    "hardwareversion": "device.hardware",
    "vendor": "device.manufacturer",
    "name": "device.name",
    "machinename": "device.name",
}


_VERSION_BUILD = re.compile(r"^(?P<version>.{1,256}?)(?:\s*,\s*|\s+)build[:\s]\s*(?P<build>.{1,256})$", re.IGNORECASE)


def _dahua_version(value: str) -> tuple[str, str | None]:
    """`2.800.0000016.0.R,build:2020-06-05` -> ("2.800.0000016.0.R", "2020-06-05"); also `V1.0 build 200101`."""
    match = _VERSION_BUILD.match(value.strip())
    if match is None:
        return value.strip(), None
    return match.group("version").strip(), match.group("build").strip()


def magicbox_fields(text: str, path: str | None) -> dict[str, str]:
    """Dahua `magicBox.cgi` answers: `key=value` lines (getSystemInfo, getDeviceType, getSerialNo ...)."""
    pairs: list[tuple[str, str]] = []
    for line in text.splitlines()[:100]:
        line = line.strip()
        if not line:
            continue
        match = _KEY_VALUE_LINE.match(line)
        if match is None:
            return {}  # not a key=value document (an HTML error page, say)
        pairs.append((match.group(1), match.group(2).strip()))
    if not pairs:
        return {}
    keys = {key.lower() for key, _ in pairs}
    from_magicbox = path is not None and "magicbox.cgi" in path.lower()
    if not from_magicbox and not keys & {"devicetype", "serialnumber", "updateserial"}:
        return {}
    fields: dict[str, str] = {}
    for key, value in pairs:
        lower = key.lower()
        fields[f"http.dahua.{lower}"] = value
        if not value:
            continue
        if lower == "version":
            version, build = _dahua_version(value)
            fields["device.firmware"] = version
            if build:
                fields["http.dahua.build"] = build
        elif lower in _DAHUA_KEYS:
            fields.setdefault(_DAHUA_KEYS[lower], value)
    return fields


def _flatten_json(value: object, prefix: str, out: dict[str, str], depth: int = 0) -> None:
    if len(out) >= 200 or depth > 6:
        return
    if isinstance(value, dict):
        for key, item in list(value.items())[:100]:
            _flatten_json(item, f"{prefix}.{str(key).lower()}" if prefix else str(key).lower(), out, depth + 1)
    elif isinstance(value, str | int | float | bool) and prefix:
        out[prefix] = str(value)[:512]


_RPC2_KEYS = {
    "type": "device.model",
    "devicetype": "device.model",
    "sn": "device.serial",
    "serialnumber": "device.serial",
    "serialno": "device.serial",
    "vendor": "device.manufacturer",
    "hardwareversion": "device.hardware",
    "name": "device.name",
    "machinename": "device.name",
    "version": "device.firmware",
    "version.version": "device.firmware",
}


def rpc2_fields(text: str) -> dict[str, str]:
    """Dahua RPC2 JSON answers (`{"id":..,"params":{"type":"IPC-..."},"result":true,"session":..}`)."""
    stripped = text.strip()
    if not stripped.startswith("{") or '"params"' not in stripped:
        return {}
    try:
        document = json.loads(stripped)
    except (ValueError, RecursionError):
        return {}
    if not isinstance(document, dict) or not isinstance(document.get("params"), dict) or "result" not in document:
        return {}
    flat: dict[str, str] = {}
    _flatten_json(document["params"], "", flat)
    fields = {f"http.rpc2.{key}": value for key, value in flat.items()}
    for key, value in flat.items():
        target = _RPC2_KEYS.get(key)
        if target and value:
            if target == "device.firmware":
                value = _dahua_version(value)[0]
            fields.setdefault(target, value)
    return fields


# ---------------------------------------------------------------------------------------------------------
# the parser
# ---------------------------------------------------------------------------------------------------------


def decoded_body(head: MessageHead) -> bytes:
    headers = dict(head.headers)
    body = head.body
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = decode_chunked(body)
    else:
        length = headers.get("content-length", "").strip()
        if length.isdigit():
            body = body[: int(length)]
    encoding = headers.get("content-encoding", "").lower()
    if "gzip" in encoding or "deflate" in encoding:
        inflated = decode_gzip(body)
        if inflated is not None:
            body = inflated
    return body[:MAX_DECODED_BODY]


def parse_http(data: bytes, request: str | None) -> Parsed:
    head = split_message(data, ("HTTP/",))
    if head is None:
        return Parsed.unparseable(PROTOCOL, "no HTTP status line")
    fields: dict[str, str] = {"http.status": str(head.status), "http.reason": head.reason}
    fields.update(header_fields("http", head.headers))
    headers = dict(head.headers)
    fields.update(auth_fields("http", parse_challenges(v for n, v in head.headers if n == "www-authenticate")))
    if "location" in headers:
        fields["http.location"] = headers["location"]
    path = request_path(request)
    if path is not None:
        fields["http.path"] = path
    body = decoded_body(head)
    if not body:
        return Parsed(protocol=PROTOCOL, fields=fields)
    if path is not None and path.split("?", 1)[0].lower().endswith("favicon.ico") and head.status == 200:
        fields.update(favicon_hashes(body))
    content_type = headers.get("content-type", "").lower()
    if content_type.startswith(("image/", "audio/", "video/")) or b"\x00" in body[:512]:
        return Parsed(protocol=PROTOCOL, fields=fields)  # binary: hashes only, no text fields
    text = body_text(body)
    fields["http.body"] = text
    title = html_title(text)
    if title is not None:
        fields["http.title"] = title
    stripped = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"<?xml") or ("xml" in content_type and stripped.startswith(b"<")):
        fields.update(xml_fields(stripped))
    fields.update(magicbox_fields(text, path))
    fields.update(rpc2_fields(text))
    return Parsed(protocol=PROTOCOL, fields=fields)


PARSERS = {PROTOCOL: parse_http}


# ---------------------------------------------------------------------------------------------------------
# the probe
# ---------------------------------------------------------------------------------------------------------


def build_request(host: str, port: int, path: str, authorization: str | None = None) -> bytes:
    default_port = port in (80, 443)
    host_header = host if default_port else f"{host}:{port}"
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {host_header}",
        f"User-Agent: {USER_AGENT}",
        "Accept: */*",
        "Accept-Encoding: identity",
        "Connection: close",
    ]
    if authorization is not None:
        lines.append(f"Authorization: {authorization}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", errors="replace")


_DIGEST_HASHES = {
    "md5": hashlib.md5,
    "md5-sess": hashlib.md5,
    "sha-256": hashlib.sha256,
    "sha-256-sess": hashlib.sha256,
}


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def digest_authorization(
    challenge: Challenge, method: str, uri: str, credential: Credential, cnonce: str | None = None
) -> str | None:
    """RFC 7616 Authorization header for a Digest challenge; None for algorithms we do not implement."""
    algorithm = challenge.params.get("algorithm", "MD5")
    hash_factory = _DIGEST_HASHES.get(algorithm.lower())
    if hash_factory is None:
        return None

    def digest(text: str) -> str:
        return hash_factory(text.encode("utf-8")).hexdigest()

    realm = challenge.params.get("realm", "")
    nonce = challenge.params.get("nonce", "")
    cnonce = cnonce or os.urandom(8).hex()
    nonce_count = "00000001"
    ha1 = digest(f"{credential.username}:{realm}:{credential.password}")
    if algorithm.lower().endswith("-sess"):
        ha1 = digest(f"{ha1}:{nonce}:{cnonce}")
    ha2 = digest(f"{method}:{uri}")
    qops = [q.strip() for q in challenge.params.get("qop", "").split(",") if q.strip()]
    parts = [
        f'username="{_quote(credential.username)}"',
        f'realm="{_quote(realm)}"',
        f'nonce="{_quote(nonce)}"',
        f'uri="{_quote(uri)}"',
        f"algorithm={algorithm}",
    ]
    if "auth" in qops:
        response = digest(f"{ha1}:{nonce}:{nonce_count}:{cnonce}:auth:{ha2}")
        parts += ["qop=auth", f"nc={nonce_count}", f'cnonce="{cnonce}"']
    elif not qops:
        response = digest(f"{ha1}:{nonce}:{ha2}")
    else:
        return None  # auth-int only: we never send a body, but do not pretend
    parts.append(f'response="{response}"')
    if "opaque" in challenge.params:
        parts.append(f'opaque="{_quote(challenge.params["opaque"])}"')
    return "Digest " + ", ".join(parts)


def basic_authorization(credential: Credential) -> str:
    token = base64.b64encode(f"{credential.username}:{credential.password}".encode()).decode("ascii")
    return f"Basic {token}"


def authorization_for(challenges: list[Challenge], uri: str, credential: Credential) -> str | None:
    """Answer the strongest challenge offered: Digest before Basic."""
    for challenge in challenges:
        if challenge.scheme.lower() == "digest":
            header = digest_authorization(challenge, "GET", uri, credential)
            if header is not None:
                return header
    for challenge in challenges:
        if challenge.scheme.lower() == "basic":
            return basic_authorization(credential)
    return None


def _challenges_of(data: bytes) -> list[Challenge]:
    head = split_message(data, ("HTTP/",))
    if head is None or head.status != 401:
        return []
    return parse_challenges(v for n, v in head.headers if n == "www-authenticate")


def _status_code(data: bytes) -> int | None:
    head = split_message(data, ("HTTP/",))
    return head.status if head is not None else None


async def _get(
    target: Target, port: int, path: str, ctx: ProbeContext, tls: bool, auth: str | None
) -> tuple[bytes, Status]:
    payload = build_request(target.hostname or target.address, port, path, auth)
    return await request_once(target.address, port, payload, ctx, tls=tls)


def _use_tls(port: int, ctx: ProbeContext) -> bool:
    extra = ctx.extra.get("tls_ports")
    if isinstance(extra, list | tuple | set | frozenset):
        return port in extra
    return port in TLS_PORTS


async def probe_port(target: Target, port: int, ctx: ProbeContext) -> list[Observation]:
    """Unauthenticated GETs (the first alone, the others concurrently), then the credentialed ones."""
    tls = _use_tls(port, ctx)
    loop = asyncio.get_running_loop()
    # the scanner cancels a probe after about 6 timeouts; stop starting new requests well before that
    deadline = loop.time() + ctx.timeout * 4
    first_path, *other_paths = UNAUTHENTICATED_PATHS
    data, status = await _get(target, port, first_path, ctx, tls, None)
    observations = [_observation(target, port, first_path, data, status)]
    if status == Status.REFUSED or not data:
        return observations  # nothing listens, or it does not speak HTTP here: spare the other requests
    answers = await asyncio.gather(*(_get(target, port, path, ctx, tls, None) for path in other_paths))
    unauthenticated = {first_path: data}
    for path, (answer, answer_status) in zip(other_paths, answers, strict=True):
        observations.append(_observation(target, port, path, answer, answer_status))
        unauthenticated[path] = answer
    if ctx.credentials:
        observations += await _credentialed(target, port, ctx, tls, unauthenticated, deadline)
    return observations


async def _credentialed(
    target: Target, port: int, ctx: ProbeContext, tls: bool, unauthenticated: dict[str, bytes], deadline: float
) -> list[Observation]:
    """Device-info GETs with the user's credentials, answering the device's own challenge.

    Devices lock accounts after a few failed logins, so failures are kept to a minimum: once a credential
    works it is the only one used, and if none works on the first challenged path no other path is tried.
    """
    loop = asyncio.get_running_loop()
    observations: list[Observation] = []
    working: Credential | None = None
    known_challenges: dict[str, list[Challenge]] = {}  # by script path, e.g. /cgi-bin/magicBox.cgi
    for path in CREDENTIALED_PATHS:
        if loop.time() > deadline:
            break
        script = path.split("?", 1)[0]
        challenges = _challenges_of(unauthenticated.get(path, b"")) or known_challenges.get(script, [])
        if not challenges:
            data, _status = await _get(target, port, path, ctx, tls, None)
            challenges = _challenges_of(data)
            if not challenges:
                continue  # open, or not there: nothing a login would add
        for credential in (working,) if working is not None else ctx.credentials:
            authorization = authorization_for(challenges, path, credential)
            if authorization is None:
                return observations  # a scheme we do not answer: do not fail logins for nothing
            data, status = await _get(target, port, path, ctx, tls, authorization)
            code = _status_code(data)
            if code is not None and code != 401:
                observations.append(_observation(target, port, path, data, status))
                working = credential
                known_challenges[script] = challenges
                break
            challenges = _challenges_of(data) or challenges  # a 401 carries a fresh nonce for the next try
        else:
            if working is None:
                return observations  # no credential works here; trying more paths only adds failed logins
    return observations


def _observation(target: Target, port: int, path: str, data: bytes, status: Status) -> Observation:
    return Observation(
        host=target.address, protocol=PROTOCOL, data=data, port=port, request=f"GET {path}", status=status
    )


async def probe(target: Target, ctx: ProbeContext) -> list[Observation]:
    """HTTP(S) GETs of `/`, `/favicon.ico` and the device-info paths on the target's port (or TCP_PORTS)."""
    return await probe_each_port(target, TCP_PORTS, ctx, probe_port)
