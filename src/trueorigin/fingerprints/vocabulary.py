"""Closed vocabularies the rule files are validated against (docs/ARCHITECTURE.md, "Canonical vocabulary").

The knowledge base implements the same entity ids; a rule naming a vendor outside `VENDORS` is a data
error, so a typo cannot silently create a new manufacturer (recog's `AXIS` vs `Axis` problem).
"""

from __future__ import annotations

from trueorigin.model import PRODUCT_KINDS

# Knowledge-base entity ids a rule may set as `vendor` (true origin: maker of hardware/firmware).
COVERED_VENDORS: tuple[str, ...] = (
    "hikvision",
    "dahua",
    "huawei",
    "zte",
    "hytera",
    "ezviz",
    "hikmicro",
    "hikrobot",
    "hisilicon",
    "huacheng",
    "sepura",
    "honor",
    "teltronic",
    "norsat",
    "xfusion",
    "huawei-symantec",
)
OTHER_VENDORS: tuple[str, ...] = (
    "axis",
    "hanwha",
    "bosch",
    "uniview",
    "reolink",
    "ubiquiti",
    "mobotix",
    "vivotek",
    "hp",
    "canon",
    "cisco",
    "microsoft",
    "tp-link",
    "mikrotik",
    "xiongmai",
    "tiandy",
    "milesight",
    "sony",
    "panasonic",
)
VENDORS: tuple[str, ...] = COVERED_VENDORS + OTHER_VENDORS

KINDS: tuple[str, ...] = PRODUCT_KINDS

# Attributes a rule may set (ARCHITECTURE "Fingerprints").
ATTRIBUTES: tuple[str, ...] = ("vendor", "brand", "family", "kind", "model", "firmware", "serial", "os")

# Field vocabulary: exact keys, then families whose sub-keys are open (`http.header.<name>`).
FIELDS: tuple[str, ...] = (
    # normalized self-description, filled by every parser that learns it
    "device.manufacturer",
    "device.model",
    "device.firmware",
    "device.serial",
    "device.mac",
    "device.name",
    "device.hardware",
    "device.kind",
    # http
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
    # rtsp
    "rtsp.status",
    "rtsp.header_order",
    "rtsp.realm",
    "rtsp.auth.scheme",
    "rtsp.public",
    # tls
    "tls.subject",
    "tls.subject.cn",
    "tls.subject.o",
    "tls.subject.ou",
    "tls.subject.c",
    "tls.issuer",
    "tls.issuer.cn",
    "tls.issuer.o",
    "tls.issuer.ou",
    "tls.serial",
    "tls.not_before",
    "tls.not_after",
    "tls.sha256",
    "tls.san",
    "tls.self_signed",
    # sadp (leaves are open: see FIELD_FAMILIES)
    "sadp.types",
    # dhip
    "dhip.method",
    "dhip.form",
    # ws-discovery / onvif
    "wsd.types",
    "wsd.xaddrs",
    "wsd.scopes",
    "onvif.manufacturer",
    "onvif.model",
    "onvif.firmware",
    "onvif.serial",
    "onvif.hardware_id",
    # ssdp / upnp
    "ssdp.status",
    "upnp.manufacturer",
    "upnp.manufacturer_url",
    "upnp.model_name",
    "upnp.model_number",
    "upnp.model_description",
    "upnp.friendly_name",
    "upnp.serial",
    "upnp.device_type",
    # mdns
    "mdns.names",
    "mdns.services",
    "mdns.hostname",
    # snmp
    "snmp.sysdescr",
    "snmp.sysobjectid",
    "snmp.enterprise",
    # dhcp
    "dhcp.vendor_class",
    "dhcp.hostname",
    "dhcp.client_mac",
    "dhcp.parameter_list",
    # mac
    "mac.address",
    "mac.oui",
    # banner
    "banner.text",
    "banner.first_line",
    "banner.service",
    "ssh.version",
    "ssh.software",
    # vendor private ports
    "vendorport.port",
    "vendorport.length",
    "vendorport.head_hex",
    # records imported from nmap XML (probes/imported.py): nmap's own service and OS fields
    "nmap.port",
    "nmap.transport",
    "nmap.service",
    "nmap.product",
    "nmap.version",
    "nmap.extrainfo",
    "nmap.devicetype",
    "nmap.ostype",
    "nmap.hostname",
    "nmap.cpe",
    "nmap.os.name",
    "nmap.os.vendor",
    "nmap.os.osfamily",
    "nmap.os.type",
    "nmap.os.osgen",
)

# Prefixes whose next component is open-ended (header names, XML leaves, JSON paths, scope categories).
FIELD_FAMILIES: tuple[str, ...] = (
    "http.header.",
    "rtsp.header.",
    "sadp.",
    "dhip.",
    "onvif.scope.",
    "ssdp.header.",
    "mdns.txt.",
    "sip.header.",
    "snmp.oid.",
)

# `snmp.community` is never emitted (ARCHITECTURE); a rule on it would be a secret-matching rule.
FORBIDDEN_FIELDS: tuple[str, ...] = ("snmp.community",)


def is_known_field(name: str) -> bool:
    """True when `name` is a key of the ARCHITECTURE field vocabulary."""
    if name in FORBIDDEN_FIELDS:
        return False
    if name in FIELDS:
        return True
    return any(name.startswith(prefix) and len(name) > len(prefix) for prefix in FIELD_FAMILIES)
