"""Observations from scans and inventories that already exist: nmap XML reports and CSV asset exports."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from xml.etree.ElementTree import Element, tostring

from defusedxml import ElementTree as SafeET

from trueorigin.errors import InputError
from trueorigin.model import Observation

ASSET_COLUMNS = (
    "ip",
    "mac",
    "hostname",
    "manufacturer",
    "model",
    "firmware",
    "serial",
    "http_server",
    "http_title",
    "snmp_sysdescr",
    "banner",
    "site",
)
MAX_CSV_FIELD = 64 * 1024


def read_nmap_xml(path: Path) -> Iterator[Observation]:
    """One `nmap-service` observation per open port (and one per OS guess), one `mac` per host with a MAC."""
    try:
        events = SafeET.iterparse(str(path), events=("end",), forbid_dtd=True)
        for _, elem in events:
            if elem.tag != "host":
                continue
            yield from _host_observations(elem)
            elem.clear()  # keep memory flat on large reports
    except FileNotFoundError as exc:
        raise InputError(f"no such file: {path}") from exc
    except SafeET.ParseError as exc:
        raise InputError(f"{path} is not well-formed nmap XML: {exc}") from exc
    except Exception as exc:  # defusedxml's refusals (DTDs, entities) are not ParseErrors
        if type(exc).__module__.startswith("defusedxml"):
            raise InputError(f"{path} was refused as unsafe XML: {type(exc).__name__}") from exc
        raise


def _scan_time(host: Element) -> float:
    """The host's `endtime` (or `starttime`) as epoch seconds; now when nmap did not record it."""
    for attribute in ("endtime", "starttime"):
        value = host.get(attribute, "")
        if value.isdigit() and 0 < int(value) < 2**33:
            return float(value)
    return time.time()


def _host_observations(host: Element) -> Iterator[Observation]:
    address = None
    mac = None
    for addr in host.findall("address"):
        kind = addr.get("addrtype")
        if kind in ("ipv4", "ipv6") and address is None:
            address = addr.get("addr")
        elif kind == "mac":
            mac = addr.get("addr")
    if not address:
        return
    when = _scan_time(host)  # the day nmap saw the host decides the verdict, not the day of the import
    if mac:
        yield Observation(host=address, protocol="mac", data=mac.encode(), transport="nmap", time=when)
    ports = host.find("ports")
    for port in ports.findall("port") if ports is not None else []:
        state = port.find("state")
        if state is not None and state.get("state") != "open":
            continue
        number = port.get("portid")
        yield Observation(
            host=address,
            protocol="nmap-service",
            data=tostring(port, encoding="utf-8"),
            port=int(number) if number and number.isdigit() else None,
            transport="nmap",
            time=when,
        )
    os_elem = host.find("os")
    if os_elem is not None and os_elem.find("osmatch") is not None:
        yield Observation(
            host=address,
            protocol="nmap-service",
            data=tostring(os_elem, encoding="utf-8"),
            transport="nmap",
            time=when,
        )


def read_asset_csv(path: Path) -> Iterator[Observation]:
    """Rows of the documented asset export format; the `ip` column is required, the others optional."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise InputError(f"no such file: {path}") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not UTF-8 text (byte {exc.start}); save the export as UTF-8 CSV") from exc
    csv.field_size_limit(MAX_CSV_FIELD)
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip().lower() for c in reader.fieldnames or []]
    if "ip" not in columns:
        raise InputError(f"{path}: the asset export needs an 'ip' column (found: {', '.join(columns) or 'none'})")
    for row in reader:
        record = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if isinstance(v, str) and k}
        address = record.get("ip", "")
        if not address:
            continue
        if record.get("mac"):
            yield Observation(host=address, protocol="mac", data=record["mac"].encode(), transport="asset-export")
        facts = {k: v for k, v in record.items() if k in ASSET_COLUMNS and k not in ("ip", "mac", "site") and v}
        if facts:
            yield Observation(
                host=address,
                protocol="asset-record",
                data=json.dumps(facts, ensure_ascii=False, sort_keys=True).encode(),
                transport="asset-export",
            )
