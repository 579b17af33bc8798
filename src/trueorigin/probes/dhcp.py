"""DHCP: what a client says about itself when it asks for an address (seen passively, never sent).

No probe: DHCP requests are broadcast by the devices themselves; trueorigin reads them from captures or
lease exports (the passive module feeds them here). Nothing is sent.
Spec: RFC 2131 (BOOTP/DHCP message layout), RFC 2132 (options 12 host name, 55 parameter request list,
60 vendor class identifier, 53 message type), magic cookie 99.130.83.99.

Parser (`dhcp-vendor-class`): a whole DHCP message, or just the option-60 value as text. Emits
`dhcp.vendor_class`, `dhcp.hostname`, `dhcp.parameter_list` (decimal option codes, comma separated, in
the client's order -- itself a fingerprint of the DHCP client), `dhcp.client_mac` and `dhcp.message_type`;
`device.mac` from chaddr (Ethernet only) and `device.name` from the host name.
"""

from __future__ import annotations

from trueorigin.model import Parsed

# Field keys this module's parsers emit (besides the shared `device.*` keys): the field vocabulary that
# fingerprint rules may use is the union of every module's declaration (tests/test_field_vocabulary.py).
FIELDS: tuple[str, ...] = (
    "dhcp.vendor_class",
    "dhcp.hostname",
    "dhcp.client_mac",
    "dhcp.parameter_list",
    "dhcp.message_type",
)
FIELD_FAMILIES: tuple[str, ...] = ()  # open-ended next component


PROTOCOL = "dhcp-vendor-class"
BOOTP_FIXED = 236
MAGIC_COOKIE = bytes([99, 130, 83, 99])
MAX_MESSAGE = 4096
MAX_TEXT = 255
OPTION_PAD, OPTION_END = 0, 255
OPTION_HOSTNAME, OPTION_MESSAGE_TYPE, OPTION_PARAMETERS, OPTION_VENDOR_CLASS = 12, 53, 55, 60
MESSAGE_TYPES = {
    1: "discover",
    2: "offer",
    3: "request",
    4: "decline",
    5: "ack",
    6: "nak",
    7: "release",
    8: "inform",
}


def _text(raw: bytes) -> str:
    return "".join(ch for ch in raw[:MAX_TEXT].decode("utf-8", errors="replace") if ch.isprintable()).strip()


def read_options(data: bytes) -> dict[int, bytes] | None:
    """Options after the magic cookie; None when the layout is broken (an option running past the end)."""
    options: dict[int, bytes] = {}
    index = BOOTP_FIXED + len(MAGIC_COOKIE)
    while index < len(data):
        code = data[index]
        if code == OPTION_PAD:
            index += 1
            continue
        if code == OPTION_END:
            break
        if index + 1 >= len(data):
            return None
        length = data[index + 1]
        start = index + 2
        if start + length > len(data):
            return None
        # RFC 3396: a repeated option is concatenated
        options[code] = options.get(code, b"") + data[start : start + length]
        index = start + length
    return options


def parse_message(data: bytes) -> dict[str, str] | None:
    if len(data) < BOOTP_FIXED + len(MAGIC_COOKIE) or data[BOOTP_FIXED : BOOTP_FIXED + 4] != MAGIC_COOKIE:
        return None
    if data[0] not in (1, 2):  # op: BOOTREQUEST or BOOTREPLY
        return None
    options = read_options(data)
    if options is None:
        return None
    fields: dict[str, str] = {}
    hardware_type, hardware_length = data[1], data[2]
    if hardware_type == 1 and hardware_length == 6:
        mac = ":".join(f"{octet:02x}" for octet in data[28:34])
        fields["dhcp.client_mac"] = mac
        fields["device.mac"] = mac
    if OPTION_VENDOR_CLASS in options:
        vendor_class = _text(options[OPTION_VENDOR_CLASS])
        if vendor_class:
            fields["dhcp.vendor_class"] = vendor_class
    if OPTION_HOSTNAME in options:
        hostname = _text(options[OPTION_HOSTNAME])
        if hostname:
            fields["dhcp.hostname"] = hostname
            fields["device.name"] = hostname
    if OPTION_PARAMETERS in options:
        fields["dhcp.parameter_list"] = ",".join(str(code) for code in options[OPTION_PARAMETERS])
    if len(options.get(OPTION_MESSAGE_TYPE, b"")) == 1:
        kind = options[OPTION_MESSAGE_TYPE][0]
        fields["dhcp.message_type"] = MESSAGE_TYPES.get(kind, str(kind))
    return fields


def parse_dhcp(data: bytes, request: str | None) -> Parsed:
    if len(data) > MAX_MESSAGE:
        return Parsed.unparseable(PROTOCOL, "larger than a DHCP message")
    fields = parse_message(data)
    if fields is not None:
        return Parsed(protocol=PROTOCOL, fields=fields)
    if len(data) <= MAX_TEXT and data and data[0] not in (1, 2):
        vendor_class = _text(data)
        if vendor_class and vendor_class == data.decode("utf-8", errors="replace").strip():
            return Parsed(protocol=PROTOCOL, fields={"dhcp.vendor_class": vendor_class})
    return Parsed.unparseable(PROTOCOL, "neither a DHCP message nor an option-60 text")


PARSERS = {PROTOCOL: parse_dhcp}
