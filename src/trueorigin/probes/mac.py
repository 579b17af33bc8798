"""MAC addresses given as text (from ARP tables, DHCP leases, switch exports, inventories).

No probe: MAC addresses are learned passively or imported, never by sending anything.
Parser (`mac`): accepts the notations of `trueorigin.model.normalize_mac` (the one MAC normaliser) and
emits `mac.address` / `device.mac` (lower case, colon separated),
`mac.oui` (first 3 octets, upper case; the IEEE MA-L prefix used by the knowledge base) and
`mac.locally_administered` ("true" for randomized or locally assigned addresses, whose OUI proves nothing).
Spec: IEEE 802 (EUI-48); the U/L bit is bit 1 of the first octet.
"""

from __future__ import annotations

from trueorigin.model import Parsed, normalize_mac

# Field keys this module's parsers emit (besides the shared `device.*` keys): the field vocabulary that
# fingerprint rules may use is the union of every module's declaration (tests/test_field_vocabulary.py).
FIELDS: tuple[str, ...] = (
    "mac.address",
    "mac.oui",
    "mac.locally_administered",
)
FIELD_FAMILIES: tuple[str, ...] = ()  # open-ended next component


PROTOCOL = "mac"
MAX_INPUT = 128

__all__ = ["PARSERS", "mac_fields", "normalize_mac", "parse_mac"]


def mac_fields(mac: str) -> dict[str, str]:
    first_octet = int(mac[:2], 16)
    return {
        "mac.address": mac,
        "mac.oui": mac[:8].upper(),
        "mac.locally_administered": "true" if first_octet & 0x02 else "false",
        "device.mac": mac,
    }


def parse_mac(data: bytes, request: str | None) -> Parsed:
    if len(data) > MAX_INPUT:
        return Parsed.unparseable(PROTOCOL, "too long for a MAC address")
    mac = normalize_mac(data.decode("ascii", errors="replace"))
    if mac is None:
        return Parsed.unparseable(PROTOCOL, "not a MAC address")
    return Parsed(protocol=PROTOCOL, fields=mac_fields(mac))


PARSERS = {PROTOCOL: parse_mac}
