"""Observations that come from other tools' records rather than from the wire.

Nothing here sends traffic. Two observation protocols:

- `nmap-service`: one `<port>` (or `<os>`) element of an nmap XML report (`nmap -sV -O -oX`). nmap's own
  service fields become `nmap.*`; the output of safe scripts that quote what the device sent is mapped to the
  same field names the active probes use (`http-server-header` -> `http.header.server`, `http-title` ->
  `http.title`, `ssl-cert` -> `tls.subject.*` / `tls.issuer.*`, `snmp-sysdescr` -> `snmp.sysdescr`,
  `banner` -> `banner.text`), so the same fingerprints apply.
- `asset-record`: one row of an asset export as a JSON object (see README, "Passive audit and imports"):
  `manufacturer`, `model`, `firmware`, `serial`, `hostname` become `device.*`; `http_server`, `http_title`,
  `snmp_sysdescr`, `banner` map like the scripts above.
"""

from __future__ import annotations

import json
from xml.etree.ElementTree import Element

from defusedxml import ElementTree as SafeET

from trueorigin.model import Parsed

MAX_RECORD_BYTES = 256 * 1024
MAX_VALUE = 2048

_SCRIPT_FIELDS = {
    "http-server-header": "http.header.server",
    "http-title": "http.title",
    "snmp-sysdescr": "snmp.sysdescr",
    "banner": "banner.text",
    "rtsp-methods": "rtsp.public",
}
_ASSET_FIELDS = {
    "manufacturer": "device.manufacturer",
    "vendor": "device.manufacturer",
    "brand": "device.manufacturer",
    "model": "device.model",
    "firmware": "device.firmware",
    "serial": "device.serial",
    "hostname": "device.name",
    "http_server": "http.header.server",
    "http_title": "http.title",
    "snmp_sysdescr": "snmp.sysdescr",
    "banner": "banner.text",
}
_CERT_PARTS = {"commonName": "cn", "organizationName": "o", "organizationalUnitName": "ou", "countryName": "c"}

# Field keys these parsers emit: nmap's own, and the keys of other protocols that script output and asset
# columns map onto (the shared `device.*` keys aside).
_NMAP_FIELDS = (
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
FIELDS: tuple[str, ...] = tuple(
    dict.fromkeys(
        [
            *_NMAP_FIELDS,
            *_SCRIPT_FIELDS.values(),
            *(key for key in _ASSET_FIELDS.values() if not key.startswith("device.")),
            *(f"tls.{side}.{part}" for side in ("subject", "issuer") for part in _CERT_PARTS.values()),
        ]
    )
)
FIELD_FAMILIES: tuple[str, ...] = ()


def _clip(value: str) -> str:
    return value.strip()[:MAX_VALUE]


def parse_nmap_service(data: bytes, request: str | None = None) -> Parsed:
    if len(data) > MAX_RECORD_BYTES:
        return Parsed.unparseable("nmap-service", "record larger than 256 KiB")
    try:
        root = SafeET.fromstring(data)
    except Exception as exc:  # defusedxml raises several types, including on entity bombs
        return Parsed.unparseable("nmap-service", f"not nmap XML: {type(exc).__name__}")
    fields: dict[str, str] = {}
    if root.tag == "port":
        fields["nmap.port"] = _clip(root.get("portid", ""))
        fields["nmap.transport"] = _clip(root.get("protocol", ""))
        service = root.find("service")
        if service is not None:
            for attr in ("name", "product", "version", "extrainfo", "devicetype", "ostype", "hostname"):
                if service.get(attr):
                    key = "service" if attr == "name" else attr
                    fields[f"nmap.{key}"] = _clip(service.get(attr, ""))
            cpes = [_clip(c.text or "") for c in service.findall("cpe") if c.text]
            if cpes:
                fields["nmap.cpe"] = "\n".join(cpes[:16])
        for script in root.findall("script")[:64]:
            _script_fields(script, fields)
    elif root.tag == "os":
        match = root.find("osmatch")
        if match is not None:
            fields["nmap.os.name"] = _clip(match.get("name", ""))
            osclass = match.find("osclass")
            if osclass is not None:
                for attr in ("vendor", "osfamily", "type", "osgen"):
                    if osclass.get(attr):
                        fields[f"nmap.os.{attr}"] = _clip(osclass.get(attr, ""))
    else:
        return Parsed.unparseable("nmap-service", f"unexpected element <{root.tag[:40]}>")
    return Parsed(protocol="nmap-service", fields={k: v for k, v in fields.items() if v})


def _script_fields(script: Element, fields: dict[str, str]) -> None:
    script_id = script.get("id", "")
    output = _clip(script.get("output", ""))
    if script_id in _SCRIPT_FIELDS and output:
        fields[_SCRIPT_FIELDS[script_id]] = output
    elif script_id == "ssl-cert":
        for table in script.findall("table")[:4]:
            side = table.get("key")
            if side not in ("subject", "issuer"):
                continue
            for elem in table.findall("elem")[:32]:
                part = _CERT_PARTS.get(elem.get("key", ""))
                if part and elem.text:
                    fields[f"tls.{side}.{part}"] = _clip(elem.text)


def parse_asset_record(data: bytes, request: str | None = None) -> Parsed:
    if len(data) > MAX_RECORD_BYTES:
        return Parsed.unparseable("asset-record", "record larger than 256 KiB")
    try:
        record = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        return Parsed.unparseable("asset-record", f"not a JSON object: {type(exc).__name__}")
    if not isinstance(record, dict):
        return Parsed.unparseable("asset-record", "not a JSON object")
    fields: dict[str, str] = {}
    for column, value in record.items():
        key = _ASSET_FIELDS.get(str(column).strip().lower())
        if key and isinstance(value, str | int | float) and str(value).strip():
            fields.setdefault(key, _clip(str(value)))
    return Parsed(protocol="asset-record", fields=fields)


PARSERS = {"nmap-service": parse_nmap_service, "asset-record": parse_asset_record}
