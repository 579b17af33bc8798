"""HTTP-style messages (HTTP/1.x, RTSP, SIP, SSDP): the one parser of their heads and bodies.

`split_message` reads the start line and headers (RFC 9112 §2-5: tokens, obsolete line folding, bounded
counts and sizes); `decoded_body` undoes the transfer and content codings (chunked, gzip/deflate, bounded);
`split_http_response` is the convenience view the SOAP/UPnP probes use. Pure functions: no I/O.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

MAX_HEAD_BYTES = 64 * 1024
MAX_HEADERS = 200
MAX_HEADER_VALUE = 4096
MAX_DECODED_BODY = 1024 * 1024  # chunked/gzip output cap
MAX_DECHUNKED_BODY = MAX_DECODED_BODY
MAX_GZIP_INPUT = 256 * 1024  # "gzip only if small"


@dataclass(frozen=True, slots=True)
class MessageHead:
    version: str  # "HTTP/1.1", "RTSP/1.0", "SIP/2.0"
    status: int  # 0 for a request
    reason: str
    headers: tuple[tuple[str, str], ...]  # (lowercase name, value) in order
    body: bytes
    method: str | None = None  # a request's method (NOTIFY, M-SEARCH ...), None for a response


_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9a-z-]{1,64}$")
_STATUS_LINE = re.compile(r"^([A-Z]{2,8}/\d(?:\.\d)?)[ \t]+(\d{3})(?:[ \t]+([^\r\n]*))?$")
_REQUEST_LINE = re.compile(r"^([A-Z][A-Z-]{0,31})[ \t]+(\S{1,2048})[ \t]+([A-Z]{2,8}/\d(?:\.\d)?)$")


def split_message(
    data: bytes, version_prefix: tuple[str, ...], request_methods: tuple[str, ...] = ()
) -> MessageHead | None:
    """Split a response (or a request whose method is in `request_methods`) into start line, headers and raw
    body; None when it is not such a message. The one parser of HTTP-style heads (HTTP, RTSP, SIP, SSDP)."""
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
    start = lines[0].strip()
    match = _STATUS_LINE.match(start)
    method: str | None = None
    if match is not None:
        version, status, reason = match.group(1).upper(), int(match.group(2)), (match.group(3) or "").strip()
    else:
        request = _REQUEST_LINE.match(start) if request_methods else None
        if request is None or request.group(1) not in request_methods:
            return None
        version, status, reason, method = request.group(3).upper(), 0, "", request.group(1)
    if not version.startswith(version_prefix):
        return None
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if len(headers) >= MAX_HEADERS:
            break
        if not line.strip():
            break  # a line of white space only ends the head (sloppy devices send " \r\n" before the blank line)
        if line[:1] in (" ", "\t") and headers:  # obsolete line folding: continue the previous value
            name, value = headers[-1]
            headers[-1] = (name, (value + " " + line.strip())[:MAX_HEADER_VALUE])
            continue
        name, colon, value = line.partition(":")
        name = name.strip().lower()
        if not colon or not _TOKEN.match(name):
            continue  # not a header line; a field name must be an RFC 9110 token
        headers.append((name, value.strip()[:MAX_HEADER_VALUE]))
    return MessageHead(version=version, status=status, reason=reason, headers=tuple(headers), body=body, method=method)


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


def decode_chunked(body: bytes, limit: int = MAX_DECHUNKED_BODY) -> bytes:
    """RFC 9112 §7.1 chunked coding; tolerant of truncation (returns what was complete), bounded."""
    out = bytearray()
    position = 0
    while position < len(body) and len(out) < limit:
        line_end = body.find(b"\n", position, position + 1024)
        if line_end < 0:
            break
        size_text = body[position:line_end].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            break
        if size <= 0:
            break
        start = line_end + 1
        out += body[start : min(start + size, len(body))]
        position = start + size
        if body[position : position + 2] == b"\r\n":
            position += 2
        elif body[position : position + 1] == b"\n":
            position += 1
    return bytes(out[:limit])


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


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    """A minimally parsed HTTP response: status code, lowercase headers (repeats joined by "\\n"), body."""

    status: int
    headers: dict[str, str]
    body: bytes
    raw: bytes


def split_http_response(raw: bytes) -> HttpAnswer | None:
    """An HTTP/1.x response as status, headers (repeats joined by newline) and decoded body (`split_message`
    and `decoded_body`); None when it is not an HTTP response."""
    head = split_message(raw, ("HTTP/",))
    if head is None:
        return None
    headers: dict[str, str] = {}
    for key, value in head.headers:
        headers[key] = f"{headers[key]}\n{value}" if key in headers else value
    return HttpAnswer(status=head.status, headers=headers, body=decoded_body(head), raw=raw)
