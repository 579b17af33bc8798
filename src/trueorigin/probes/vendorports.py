"""Vendor private SDK ports: Hikvision 8000 (`hikvision-private`), Dahua 37777 (`dahua-private`).

Sends (probe): nothing. It connects, reads whatever the server volunteers within a short time, and closes.
nmap's NULL probe records Hikvision's port 8000 answering 16 bytes on connect
(`match ipcam m|^\\0\\0\\0\\x10\\0\\0\\0\\x1e\\0\\0\\0\\x1e\\0\\0\\0\\0|`, nmap-service-probes). An open but silent
port is recorded too (empty data, status io-timeout): that these ports are open at all is a weak signal.
No login, no proprietary request. Safe: read-only, connect and read.

Parser (`hikvision-private`, `dahua-private`): `vendorport.port`, `vendorport.length`, `vendorport.head_hex`
(first 32 bytes, lower-case hex). `request` is written `tcp/<port>`; without it the vendor default is assumed.
"""

from __future__ import annotations

from collections.abc import Callable

from trueorigin.model import Observation, Parsed, Target
from trueorigin.probes.base import ProbeContext, ports_to_probe, request_once

# Field keys this module's parsers emit (besides the shared `device.*` keys): the field vocabulary that
# fingerprint rules may use is the union of every module's declaration (tests/test_field_vocabulary.py).
FIELDS: tuple[str, ...] = (
    "vendorport.port",
    "vendorport.length",
    "vendorport.head_hex",
)
FIELD_FAMILIES: tuple[str, ...] = ()  # open-ended next component


HIKVISION = "hikvision-private"
DAHUA = "dahua-private"
# The one map of vendor SDK ports (the scanner probes them, the passive reader attributes their answers).
PORT_PROTOCOLS: dict[int, str] = {8000: HIKVISION, 37777: DAHUA}
DEFAULT_PORTS = {protocol: port for port, protocol in PORT_PROTOCOLS.items()}
TCP_PORTS = tuple(PORT_PROTOCOLS)
HEAD_BYTES = 32
READ_LIMIT = 4096  # we only look at the head; do not hold more of a binary stream


def _port_from_request(request: str | None) -> int | None:
    if request and request.startswith("tcp/") and request[4:].isdigit():
        port = int(request[4:])
        return port if 0 < port < 65536 else None
    return None


def _parser(protocol: str) -> Callable[[bytes, str | None], Parsed]:
    def parse(data: bytes, request: str | None) -> Parsed:
        port = _port_from_request(request) or DEFAULT_PORTS[protocol]
        fields = {
            "vendorport.port": str(port),
            "vendorport.length": str(len(data)),
            "vendorport.head_hex": data[:HEAD_BYTES].hex(),
        }
        return Parsed(protocol=protocol, fields=fields)

    parse.__name__ = f"parse_{protocol.replace('-', '_')}"
    return parse


parse_hikvision_private = _parser(HIKVISION)
parse_dahua_private = _parser(DAHUA)
PARSERS = {HIKVISION: parse_hikvision_private, DAHUA: parse_dahua_private}


def protocol_for_port(port: int, ctx: ProbeContext) -> str | None:
    if port in PORT_PROTOCOLS:
        return PORT_PROTOCOLS[port]
    mapping = ctx.extra.get("vendor_ports")  # e.g. {8001: "hikvision-private"} for remapped SDK ports
    if isinstance(mapping, dict):
        value = mapping.get(port)
        if value in PARSERS:
            return str(value)
    return None


async def probe(target: Target, ctx: ProbeContext) -> list[Observation]:
    """Connect to the SDK port(s), send nothing, keep the first bytes the server volunteers."""
    ports = ports_to_probe(target, TCP_PORTS)
    observations: list[Observation] = []
    for port in ports:
        protocol = protocol_for_port(port, ctx)
        if protocol is None:
            continue
        bounded = ProbeContext(
            timeout=min(ctx.timeout, 2.0),
            max_bytes=min(ctx.max_bytes, READ_LIMIT),
            credentials=(),
            throttle=ctx.throttle,
            extra=ctx.extra,
        )
        data, status = await request_once(target.address, port, None, bounded, greeting=True)
        observations.append(
            Observation(
                host=target.address, protocol=protocol, data=data, port=port, request=f"tcp/{port}", status=status
            )
        )
    return observations
