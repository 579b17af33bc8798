"""Banners: what a TCP service says first (SSH, FTP, telnet, SMTP) or answers (SIP).

Sends (probe): on telnet/FTP/SSH ports nothing: it connects, reads the greeting (until the server falls
silent, closes, or `ctx.max_bytes`/`ctx.timeout` are reached) and closes without answering. Telnet option
negotiation (IAC) is read, never answered; no login is attempted. On SIP's TCP port 5060, where a server
speaks only when asked, one SIP `OPTIONS` request (RFC 3261 §11, the capability query nmap's SIPOptions
probe also sends) is sent and its answer read; no REGISTER, no INVITE, no credentials. Safe: read-only.
Specs: RFC 4253 §4.2 (SSH identification string), RFC 959 (FTP 220 greeting), RFC 854 (telnet IAC),
RFC 5321 (SMTP 220), RFC 3261 (SIP responses, for banners captured elsewhere).

Parser (`banner`): `banner.text` (printable text, IAC sequences removed, first 1 KiB), `banner.first_line`,
`banner.service` (ssh/ftp/telnet/sip/smtp/unknown), `ssh.version`, `ssh.software`, `ssh.comments`, and
`sip.header.<name>` for SIP answers.
"""

from __future__ import annotations

import os
import re

from trueorigin.model import Observation, Parsed, Target
from trueorigin.probes.base import ProbeContext, ports_to_probe, request_once
from trueorigin.probes.message import split_message

# Field keys this module's parsers emit (besides the shared `device.*` keys): the field vocabulary that
# fingerprint rules may use is the union of every module's declaration (tests/test_field_vocabulary.py).
FIELDS: tuple[str, ...] = (
    "banner.text",
    "banner.first_line",
    "banner.service",
    "ssh.version",
    "ssh.software",
    "ssh.comments",
    "sip.status",
)
FIELD_FAMILIES: tuple[str, ...] = ("sip.header.",)  # open-ended next component


PROTOCOL = "banner"
TCP_PORTS = (21, 22, 23, 5060)
SIP_PORTS = frozenset({5060})
TEXT_LIMIT = 1024
READ_LIMIT = 8192  # a greeting is small; anything longer is not a greeting we need
IAC = 0xFF
SB, SE = 0xFA, 0xF0
NEGOTIATION_VERBS = {0xFB, 0xFC, 0xFD, 0xFE}  # WILL, WONT, DO, DONT

_SSH_ID = re.compile(r"^SSH-(\d+\.\d+)-([^\s\r\n]{1,255})(?:[ \t]+([^\r\n]{0,255}))?")
_FTP_OR_SMTP = re.compile(r"^(?:220|120|421)[ -]")
_TELNET_PROMPT = re.compile(r"(?:login|username|user name|password)\s*:\s*$", re.IGNORECASE)


def strip_telnet(data: bytes) -> tuple[bytes, bool]:
    """Remove RFC 854 IAC command sequences; returns (payload, had_iac)."""
    out = bytearray()
    had_iac = False
    index = 0
    length = len(data)
    while index < length:
        byte = data[index]
        if byte != IAC:
            out.append(byte)
            index += 1
            continue
        had_iac = True
        command = data[index + 1] if index + 1 < length else None
        if command == IAC:  # escaped 0xFF data byte
            out.append(IAC)
            index += 2
        elif command in NEGOTIATION_VERBS:
            index += 3
        elif command == SB:  # subnegotiation: skip to IAC SE
            end = data.find(bytes([IAC, SE]), index + 2)
            index = length if end < 0 else end + 2
        else:
            index += 2
    return bytes(out), had_iac


def printable(text: str) -> str:
    return "".join(ch for ch in text if ch.isprintable() or ch in "\r\n\t")


def classify(text: str, had_iac: bool) -> str:
    first = text.lstrip("\r\n").split("\n", 1)[0]
    lowered = text.lower()
    if first.startswith("SSH-"):
        return "ssh"
    if first.startswith("SIP/2.0"):
        return "sip"
    if _FTP_OR_SMTP.match(first):
        if "smtp" in lowered or "mail" in lowered:
            return "smtp"
        return "ftp"
    if had_iac or _TELNET_PROMPT.search(text.rstrip()):
        return "telnet"
    return "unknown"


def parse_banner(data: bytes, request: str | None) -> Parsed:
    if not data:
        return Parsed.unparseable(PROTOCOL, "empty banner")
    payload, had_iac = strip_telnet(data[:READ_LIMIT])
    text = printable(payload.decode("utf-8", errors="replace"))[:TEXT_LIMIT]
    service = classify(text, had_iac)
    fields: dict[str, str] = {"banner.text": text, "banner.service": service}
    lines = [line.strip() for line in text.replace("\r", "\n").split("\n") if line.strip()]
    if lines:
        fields["banner.first_line"] = lines[0][:256]
    if service == "ssh":
        match = _SSH_ID.match(text.lstrip("\r\n"))
        if match:
            fields["ssh.version"] = match.group(1)
            fields["ssh.software"] = match.group(2)
            if match.group(3):
                fields["ssh.comments"] = match.group(3).strip()
    elif service == "sip":
        head = split_message(data[:READ_LIMIT], ("SIP/",))
        if head is not None:
            fields["sip.status"] = str(head.status)
            for name, value in head.headers:
                fields.setdefault(f"sip.header.{name}", value)
    return Parsed(protocol=PROTOCOL, fields=fields)


PARSERS = {PROTOCOL: parse_banner}


def build_sip_options(target_host: str, port: int, local_host: str = "0.0.0.0") -> bytes:
    """A minimal RFC 3261 OPTIONS request (mandatory headers only)."""
    tag = os.urandom(4).hex()
    call_id = os.urandom(8).hex()
    branch = "z9hG4bK" + os.urandom(6).hex()  # RFC 3261 magic cookie prefix
    lines = [
        f"OPTIONS sip:{target_host}:{port} SIP/2.0",
        f"Via: SIP/2.0/TCP {local_host};branch={branch}",
        "Max-Forwards: 70",
        f"From: <sip:trueorigin@{local_host}>;tag={tag}",
        f"To: <sip:{target_host}:{port}>",
        f"Call-ID: {call_id}@trueorigin",
        "CSeq: 1 OPTIONS",
        "Accept: application/sdp",
        "User-Agent: trueorigin/0.1 (equipment identification; read-only)",
        "Content-Length: 0",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii", errors="replace")


def _is_sip_port(port: int, ctx: ProbeContext) -> bool:
    extra = ctx.extra.get("sip_ports")  # for SIP moved to another port
    if isinstance(extra, list | tuple | set | frozenset):
        return port in extra
    return port in SIP_PORTS


async def probe(target: Target, ctx: ProbeContext) -> list[Observation]:
    """Read the greeting on the target's port (or TCP_PORTS), sending nothing; SIP OPTIONS on 5060."""
    ports = ports_to_probe(target, TCP_PORTS)
    bounded = ProbeContext(
        timeout=ctx.timeout,
        max_bytes=min(ctx.max_bytes, READ_LIMIT),
        credentials=(),
        throttle=ctx.throttle,
        extra=ctx.extra,
    )
    observations: list[Observation] = []
    for port in ports:
        if _is_sip_port(port, ctx):
            request = build_sip_options(target.hostname or target.address, port)
            data, status = await request_once(target.address, port, request, bounded)
            request_line = f"OPTIONS sip:{target.hostname or target.address}:{port}"
        else:
            data, status = await request_once(target.address, port, None, bounded, greeting=True)
            request_line = "greeting"
        observations.append(
            Observation(
                host=target.address, protocol=PROTOCOL, data=data, port=port, request=request_line, status=status
            )
        )
    return observations
