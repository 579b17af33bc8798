"""Device-info bodies served over HTTP: Hikvision ISAPI `DeviceInfo` XML, Dahua `magicBox.cgi` key=value
answers and Dahua RPC2 JSON. Each turns into vendor keys (`http.isapi.*`, `http.dahua.*`, `http.rpc2.*`) and
the shared `device.*` keys. Pure functions, bounded work; XML through defusedxml.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

from defusedxml import ElementTree as SafeElementTree

from trueorigin.model import normalize_mac

MAX_XML_BYTES = 256 * 1024


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
