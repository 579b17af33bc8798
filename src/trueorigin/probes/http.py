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
descriptions only get `http.xml.root` (the ssdp module owns `upnp.*`). The seams live in their own
modules: `message` (heads and bodies of HTTP-style messages), `httpauth` (challenges and their answers),
`deviceinfo` (the device-info formats).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import re

import mmh3

from trueorigin.model import Observation, Parsed, Status, Target
from trueorigin.probes.base import Credential, ProbeContext, probe_each_port, request_once
from trueorigin.probes.deviceinfo import magicbox_fields, rpc2_fields, xml_fields
from trueorigin.probes.httpauth import Challenge, auth_fields, authorization_for, parse_challenges
from trueorigin.probes.message import (
    MAX_DECODED_BODY,
    MAX_HEADER_VALUE,
    MAX_HEADERS,
    decoded_body,
    header_fields,
    request_path,
    split_message,
)

__all__ = [  # the message, auth and device-info helpers live in their own modules; these names stay reachable
    "MAX_DECODED_BODY",
    "MAX_HEADERS",
    "MAX_HEADER_VALUE",
    "PARSERS",
    "Challenge",
    "authorization_for",
    "build_request",
    "parse_http",
    "probe",
    "probe_port",
]

# Field keys this module's parsers emit (besides the shared `device.*` keys): the field vocabulary that
# fingerprint rules may use is the union of every module's declaration (tests/test_field_vocabulary.py).
FIELDS: tuple[str, ...] = (
    "http.status",
    "http.reason",
    "http.header_order",
    "http.auth.scheme",
    "http.realm",
    "http.title",
    "http.body",
    "http.path",
    "http.favicon.md5",
    "http.favicon.mmh3",
    "http.xml.root",
    "http.location",
)
# prefixes whose next component is open-ended
FIELD_FAMILIES: tuple[str, ...] = ("http.header.", "http.isapi.", "http.dahua.", "http.rpc2.")


PROTOCOL = "http"
TCP_PORTS = (80, 81, 88, 8080, 8081, 443, 8443, 7443)
TLS_PORTS = frozenset({443, 8443, 7443})

USER_AGENT = "trueorigin/0.1 (equipment identification; read-only)"
BODY_TEXT_LIMIT = 64 * 1024
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
# body text, title, favicon
# ---------------------------------------------------------------------------------------------------------


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
# the parser
# ---------------------------------------------------------------------------------------------------------


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
