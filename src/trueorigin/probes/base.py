"""Shared bounded I/O for probes: every read has a byte limit and a deadline."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from xml.etree import ElementTree

from defusedxml.ElementTree import fromstring as defused_fromstring

from trueorigin.model import Observation, Status, Target
from trueorigin.probes.message import HttpAnswer, split_http_response

# The normalized self-description every parser that learns it emits, and identification reads.
DEVICE_FIELDS: tuple[str, ...] = (
    "device.manufacturer",
    "device.model",
    "device.firmware",
    "device.serial",
    "device.mac",
    "device.name",
    "device.hardware",
    "device.kind",
)

DEFAULT_TIMEOUT = 3.0
DEFAULT_MAX_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class Credential:
    """A user-supplied login. Never logged, never stored in results."""

    username: str
    password: str

    def __repr__(self) -> str:  # keep secrets out of logs and tracebacks
        return f"Credential(username={self.username!r}, password='***')"


@dataclass(slots=True)
class ProbeContext:
    """What a probe may use: bounds, the user's credentials for this host, and a rate limiter."""

    timeout: float = DEFAULT_TIMEOUT
    max_bytes: int = DEFAULT_MAX_BYTES
    credentials: tuple[Credential, ...] = ()
    # awaited before every new connection or datagram; the scanner plugs in its global rate limiter
    throttle: Callable[[], Awaitable[None]] | None = None
    extra: dict[str, object] = field(default_factory=dict)

    async def wait_turn(self) -> None:
        if self.throttle is not None:
            await self.throttle()


def ports_to_probe(target: Target, default_ports: tuple[int, ...]) -> tuple[int, ...]:
    """The port the scanner found open on the target, or every port the module expects its protocol on."""
    return (target.port,) if target.port is not None else default_ports


async def probe_each_port(
    target: Target,
    default_ports: tuple[int, ...],
    ctx: ProbeContext,
    probe_port: Callable[[Target, int, ProbeContext], Awaitable[list[Observation]]],
) -> list[Observation]:
    """Run a module's per-port probe on each port to probe, one after the other."""
    observations: list[Observation] = []
    for port in ports_to_probe(target, default_ports):
        observations += await probe_port(target, port, ctx)
    return observations


async def read_bounded(reader: asyncio.StreamReader, max_bytes: int, timeout: float) -> tuple[bytes, bool]:
    """Read until EOF, `max_bytes` or `timeout`; returns (data, truncated)."""
    chunks: list[bytes] = []
    total = 0
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while total < max_bytes:
        remaining = deadline - loop.time()
        if remaining <= 0:
            return b"".join(chunks), True
        try:
            chunk = await asyncio.wait_for(reader.read(min(65536, max_bytes - total)), remaining)
        except (TimeoutError, ConnectionError, OSError):
            return b"".join(chunks), True
        if not chunk:
            return b"".join(chunks), False
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks), True


async def tcp_exchange(
    host: str, port: int, payload: bytes | None, ctx: ProbeContext, *, until: bytes | None = None
) -> bytes:
    """Connect, optionally send `payload`, read a bounded answer; raises OSError/TimeoutError on failure.

    With `until`, reading stops as soon as that marker has been seen (for protocols that keep the
    connection open, such as HTTP/1.1 without Content-Length handling here or RTSP).
    """
    await ctx.wait_turn()
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), ctx.timeout)
    try:
        if payload:
            writer.write(payload)
            await asyncio.wait_for(writer.drain(), ctx.timeout)
        if until is None:
            data, _ = await read_bounded(reader, ctx.max_bytes, ctx.timeout)
            return data
        buf = b""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ctx.timeout
        while until not in buf and len(buf) < ctx.max_bytes:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                chunk = await asyncio.wait_for(reader.read(65536), remaining)
            except (TimeoutError, ConnectionError, OSError):
                break
            if not chunk:
                break
            buf += chunk
        return buf[: ctx.max_bytes]
    finally:
        writer.close()
        with contextlib.suppress(TimeoutError, ConnectionError, OSError):
            await asyncio.wait_for(writer.wait_closed(), 1.0)


class _DatagramCollector(asyncio.DatagramProtocol):
    def __init__(self, max_bytes: int) -> None:
        self.answers: list[tuple[bytes, tuple[str, int]]] = []
        self.max_bytes = max_bytes
        self.total = 0

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.total + len(data) <= self.max_bytes:
            self.answers.append((data, addr))
            self.total += len(data)


async def udp_exchange(
    host: str, port: int, payload: bytes, ctx: ProbeContext, *, wait: float | None = None
) -> list[tuple[bytes, tuple[str, int]]]:
    """Send one datagram unicast to `host:port` and collect answers for `wait` seconds (bounded)."""
    await ctx.wait_turn()
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(
        lambda: _DatagramCollector(ctx.max_bytes), family=socket.AF_INET, local_addr=("0.0.0.0", 0)
    )
    try:
        transport.sendto(payload, (host, port))
        await asyncio.sleep(ctx.timeout if wait is None else wait)
        return list(protocol.answers)
    finally:
        transport.close()


# --- generic helpers shared by the request/response probes (http, rtsp, banner, tls, vendorports) ---


def fingerprinting_tls_context() -> ssl.SSLContext:
    """A client TLS context that accepts any certificate: we record what the device shows, we do not trust it.

    Old cameras and NVRs often speak only TLS 1.0/1.1 with weak ciphers, so the security level is lowered;
    nothing secret is ever sent over these connections (credentials go only to the user's own devices,
    on the user's explicit request).
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with contextlib.suppress(ssl.SSLError, ValueError), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # deliberately allowed: old devices speak only TLS 1.0
        context.minimum_version = ssl.TLSVersion.TLSv1
    with contextlib.suppress(ssl.SSLError):
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    return context


async def open_stream(
    host: str, port: int, ctx: ProbeContext, *, tls: bool = False
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Connect (and for `tls`, handshake without verification) within `ctx.timeout`; raises OSError/TimeoutError."""
    await ctx.wait_turn()
    ssl_context = fingerprinting_tls_context() if tls else None
    server_hostname = host if tls else None
    return await asyncio.wait_for(
        asyncio.open_connection(host, port, ssl=ssl_context, server_hostname=server_hostname), ctx.timeout
    )


async def close_stream(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(TimeoutError, ConnectionError, OSError, ssl.SSLError):
        await asyncio.wait_for(writer.wait_closed(), 1.0)


@dataclass(frozen=True, slots=True)
class ReadResult:
    """Bytes read from a peer and why reading stopped."""

    data: bytes
    complete: bool  # the message (or greeting) ended normally
    timed_out: bool = False
    reset: bool = False
    truncated: bool = False  # stopped at the byte limit


def _message_length(buffer: bytes) -> int | None:
    """Total length of an HTTP/RTSP/SIP-style message once its head is in `buffer`, if it can be known.

    Returns None while the head is incomplete or when the body is delimited by EOF; -1 for chunked bodies
    (the caller then waits for the final zero-length chunk).
    """
    head_end = buffer.find(b"\r\n\r\n")
    separator = 4
    if head_end < 0:
        head_end = buffer.find(b"\n\n")
        separator = 2
    if head_end < 0:
        return None
    head = buffer[:head_end].decode("latin-1").lower()
    for line in head.split("\n")[1:]:
        name, _, value = line.partition(":")
        name = name.strip()
        if name == "transfer-encoding" and "chunked" in value:
            return -1
        if name == "content-length":
            try:
                length = int(value.strip())
            except ValueError:
                return None
            return head_end + separator + max(length, 0)
    status_line = head.split("\n", 1)[0]
    # statuses that never carry a body; RTSP and SIP replies without Content-Length have none either
    if status_line.startswith(("rtsp/", "sip/")) or _bodiless_status(status_line):
        return head_end + separator
    return None


def _bodiless_status(status_line: str) -> bool:
    parts = status_line.split()
    return len(parts) >= 2 and (parts[1] in {"204", "304"} or parts[1].startswith("1"))


async def read_message(reader: asyncio.StreamReader, max_bytes: int, timeout: float) -> ReadResult:
    """Read one HTTP/RTSP/SIP-style response: stops at its end (Content-Length, last chunk, EOF), the byte
    limit, or the deadline, so keep-alive servers do not cost a full timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    buffer = b""
    while len(buffer) < max_bytes:
        expected = _message_length(buffer)
        if expected is not None and expected >= 0 and len(buffer) >= expected:
            return ReadResult(buffer[:expected], complete=True)
        if expected == -1 and buffer.endswith((b"\r\n0\r\n\r\n", b"\n0\n\n")):
            return ReadResult(buffer, complete=True)
        remaining = deadline - loop.time()
        if remaining <= 0:
            return ReadResult(buffer, complete=False, timed_out=True)
        try:
            chunk = await asyncio.wait_for(reader.read(min(65536, max_bytes - len(buffer))), remaining)
        except TimeoutError:
            return ReadResult(buffer, complete=False, timed_out=True)
        except (ConnectionError, OSError):
            return ReadResult(buffer, complete=False, reset=True)
        if not chunk:
            return ReadResult(buffer, complete=True)
        buffer += chunk
    return ReadResult(buffer[:max_bytes], complete=False, truncated=True)


async def read_greeting(
    reader: asyncio.StreamReader, max_bytes: int, timeout: float, *, idle: float = 0.5
) -> ReadResult:
    """Read what a server says first without being asked (SSH/FTP/telnet banners, vendor ports).

    Stops at EOF, `max_bytes`, the deadline, or `idle` seconds of silence after the first bytes, because
    greetings such as a telnet `login: ` prompt never end with a newline and the server then waits for us.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    buffer = b""
    while len(buffer) < max_bytes:
        remaining = deadline - loop.time()
        if remaining <= 0:
            return ReadResult(buffer, complete=bool(buffer), timed_out=not buffer)
        wait = min(remaining, idle) if buffer else remaining
        try:
            chunk = await asyncio.wait_for(reader.read(min(4096, max_bytes - len(buffer))), wait)
        except TimeoutError:
            if buffer:
                return ReadResult(buffer, complete=True)
            continue
        except (ConnectionError, OSError):
            return ReadResult(buffer, complete=False, reset=True)
        if not chunk:
            return ReadResult(buffer, complete=True)
        buffer += chunk
    return ReadResult(buffer[:max_bytes], complete=False, truncated=True)


def read_status(result: ReadResult) -> Status:
    """Map how reading ended to the closed Status vocabulary."""
    if result.complete:
        # a peer that closes without a byte has answered nothing we could parse
        return Status.OK if result.data else Status.PROTOCOL_ERROR
    if result.truncated or result.data:
        return Status.TRUNCATED
    if result.reset:
        return Status.PROTOCOL_ERROR
    return Status.TIMEOUT


def connect_error_status(error: BaseException) -> Status:
    if isinstance(error, ConnectionRefusedError):
        return Status.REFUSED
    if isinstance(error, TimeoutError):
        return Status.TIMEOUT
    return Status.PROTOCOL_ERROR


async def request_once(
    host: str, port: int, payload: bytes | None, ctx: ProbeContext, *, tls: bool = False, greeting: bool = False
) -> tuple[bytes, Status]:
    """One connection: send `payload` (if any), read one message (or a greeting), close. Never raises on
    network errors: failures come back as (partial bytes, non-OK Status)."""
    try:
        reader, writer = await open_stream(host, port, ctx, tls=tls)
    except (OSError, TimeoutError, ssl.SSLError) as error:
        return b"", connect_error_status(error)
    try:
        if payload:
            writer.write(payload)
            await asyncio.wait_for(writer.drain(), ctx.timeout)
        if greeting:
            result = await read_greeting(reader, ctx.max_bytes, ctx.timeout)
        else:
            result = await read_message(reader, ctx.max_bytes, ctx.timeout)
        return result.data, read_status(result)
    except (OSError, TimeoutError, ssl.SSLError) as error:
        return b"", connect_error_status(error)
    finally:
        await close_stream(writer)


# --- helpers for discovery protocols (sadp, dhip, onvif, ssdp, mdns) -------------------------------

MAX_XML_BYTES = 256 * 1024


def parse_untrusted_xml(data: bytes) -> ElementTree.Element | None:
    """Parse XML a device sent, or None. DTDs and entities are refused, so XML bombs are never expanded."""
    if len(data) > MAX_XML_BYTES:
        return None
    try:
        root: ElementTree.Element = defused_fromstring(
            data, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except Exception:  # defusedxml raises ParseError, DefusedXmlException, ValueError ...; all mean "not usable"
        return None
    return root


def xml_local_name(tag: object) -> str:
    """`{namespace}Name` or `prefix:Name` -> `Name` (devices disagree on namespaces and prefixes)."""
    if not isinstance(tag, str):  # comments and processing instructions have callable tags
        return ""
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


async def http_exchange(
    host: str,
    port: int,
    method: str,
    path: str,
    ctx: ProbeContext,
    *,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    tls: bool = False,
) -> HttpAnswer | None:
    """One bounded HTTP/1.0 request through `request_once`; None on network errors or a non-HTTP answer."""
    lines = [f"{method} {path} HTTP/1.0", f"Host: {host}:{port}", "User-Agent: trueorigin", "Connection: close"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
    raw, _status = await request_once(host, port, request, ctx, tls=tls)
    return split_http_response(raw)


async def udp_answers_from_target(host: str, port: int, payload: bytes, ctx: ProbeContext) -> list[bytes]:
    """Send one datagram unicast to `host:port`; keep only answers whose source address is `host`.

    Network errors (unreachable, refused, bad address) mean "no answer", never an exception.
    """
    try:
        answers = await udp_exchange(host, port, payload, ctx)
    except (OSError, ValueError):
        return []
    return [data for data, source in answers if source[0] == host]
