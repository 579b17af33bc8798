"""Observations from scans and inventories that already exist: nmap XML reports and CSV asset exports."""

from __future__ import annotations

import csv
import ipaddress
import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import Element, tostring

from defusedxml import ElementTree as SafeET

from trueorigin.errors import InputError, LimitError, TrueOriginError
from trueorigin.limits import MAX_CSV_FIELD_CHARS, MAX_PORTS_PER_HOST, MAX_SITES_PER_IMPORT
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


@dataclass
class ImportStats:
    """What an importer skipped, and why: shown to the user as counts, never dropped silently."""

    skipped: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)

    def skip(self, reason: str, example: str) -> None:
        self.skipped[reason] += 1
        self.examples.setdefault(reason, example[:80])

    def lines(self) -> list[str]:
        return [f"skipped {n} {reason} (first: {self.examples[reason]!r})" for reason, n in self.skipped.items()]


def valid_address(text: str | None) -> str | None:
    """The address as given when it is an IPv4 or IPv6 address, else None (hostnames are not addresses here)."""
    if not text:
        return None
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return None
    return text


def _port_number(text: str | None) -> int | None:
    if text is None or not text.isdigit() or len(text) > 5 or int(text) > 65535:
        return None
    return int(text)


def read_nmap_xml(path: Path, stats: ImportStats | None = None) -> Iterator[Observation]:
    """One `nmap-service` observation per open port (and one per OS guess), one `mac` per host with a MAC.

    Streamed element by element: a port is turned into its observation and dropped as soon as it is read, so
    memory stays flat however many hosts and ports the report lists (at most MAX_PORTS_PER_HOST per host).
    Hosts whose address is not an IP address and ports outside 0-65535 are skipped and counted in `stats`.
    """
    stats = stats if stats is not None else ImportStats()
    try:
        events = SafeET.iterparse(str(path), events=("start", "end"), forbid_dtd=True)
        root: Element | None = None
        host: _HostState | None = None
        for event, elem in events:
            if root is None:
                root = elem
            if event == "start":
                if elem.tag == "host":
                    host = _HostState(elem)
                elif elem.tag == "ports" and host is not None:
                    host.ports_elem = elem
                continue
            if host is None:
                continue
            if elem.tag == "address":
                host.address_seen(elem, stats)
            elif elem.tag == "port" and host.ports_elem is not None:
                yield from host.port(elem, path, stats)
                _drop(host.ports_elem, elem)
            elif elem.tag == "host":
                yield from host.finish()
                host = None
                elem.clear()
                _drop(root, elem)
    except FileNotFoundError as exc:
        raise InputError(f"no such file: {path}") from exc
    except SafeET.ParseError as exc:
        raise InputError(f"{path} is not well-formed nmap XML: {exc}") from exc
    except (LookupError, ValueError) as exc:  # encoding="UTF-6" / a multi-byte one: found by scripts/fuzz_campaign.py
        raise InputError(f"{path} is not readable nmap XML: {exc}") from exc
    except Exception as exc:  # defusedxml's refusals (DTDs, entities) are not ParseErrors
        if not isinstance(exc, TrueOriginError) and type(exc).__module__.startswith("defusedxml"):
            raise InputError(f"{path} was refused as unsafe XML: {type(exc).__name__}") from exc
        raise


def _drop(parent: Element, child: Element) -> None:
    """Forget an element that was read, so memory stays flat (it is the parent's last child: found at once)."""
    if parent is not child and len(parent) and parent[-1] is child:
        del parent[-1]


def _scan_time(host: Element) -> float:
    """The host's `endtime` (or `starttime`) as epoch seconds; now when nmap did not record it."""
    for attribute in ("endtime", "starttime"):
        value = host.get(attribute, "")
        if value.isdigit() and 0 < int(value) < 2**33:
            return float(value)
    return time.time()


class _HostState:
    """One <host> being read: its address, MAC, and how many ports it listed so far."""

    def __init__(self, elem: Element) -> None:
        self.elem = elem
        self.address: str | None = None
        self.raw_address: str | None = None
        self.mac: str | None = None
        self.mac_sent = False
        self.ports = 0
        self.ports_elem: Element | None = None
        self.when = _scan_time(elem)  # the day nmap saw the host decides the verdict, not the day of the import

    def address_seen(self, addr: Element, stats: ImportStats) -> None:
        kind = addr.get("addrtype")
        if kind in ("ipv4", "ipv6") and self.raw_address is None:
            self.raw_address = addr.get("addr") or ""
            self.address = valid_address(self.raw_address)
            if self.address is None:
                stats.skip("hosts whose address is not an IP address", self.raw_address)
        elif kind == "mac":
            self.mac = addr.get("addr")

    def _mac(self) -> Iterator[Observation]:
        if self.address and self.mac and not self.mac_sent:
            self.mac_sent = True
            yield Observation(
                host=self.address, protocol="mac", data=self.mac.encode(), transport="nmap", time=self.when
            )

    def port(self, port: Element, path: Path, stats: ImportStats) -> Iterator[Observation]:
        self.ports += 1
        if self.ports > MAX_PORTS_PER_HOST:
            raise LimitError(
                f"{path}: host {self.raw_address!r} lists more than {MAX_PORTS_PER_HOST} ports (the limit)"
            )
        if not self.address:
            return
        yield from self._mac()
        state = port.find("state")
        if state is not None and state.get("state") != "open":
            return
        number = port.get("portid")
        port_number = _port_number(number)
        if port_number is None:
            stats.skip("ports outside 0-65535", f"{self.address} port {number}")
            return
        yield Observation(
            host=self.address,
            protocol="nmap-service",
            data=tostring(port, encoding="utf-8"),
            port=port_number,
            transport="nmap",
            time=self.when,
        )

    def finish(self) -> Iterator[Observation]:
        if not self.address:
            return
        yield from self._mac()
        os_elem = self.elem.find("os")
        if os_elem is not None and os_elem.find("osmatch") is not None:
            yield Observation(
                host=self.address,
                protocol="nmap-service",
                data=tostring(os_elem, encoding="utf-8"),
                transport="nmap",
                time=self.when,
            )


def asset_sites(path: Path) -> list[str]:
    """The distinct values of the asset export's `site` column, in first-seen order ("" for rows without one)."""
    sites: dict[str, None] = {}
    for record in _asset_records(path, ImportStats()):
        sites.setdefault(record.get("site", ""), None)
        if len(sites) > MAX_SITES_PER_IMPORT:
            raise LimitError(f"{path}: more than {MAX_SITES_PER_IMPORT} distinct sites (the limit)")
    return list(sites)


def read_asset_csv(path: Path, stats: ImportStats | None = None, site: str | None = None) -> Iterator[Observation]:
    """Rows of the documented asset export format; the `ip` column is required, the others optional.

    With `site`, only the rows whose `site` column holds that value ("" = rows without a site). Rows whose `ip`
    is not an IP address are skipped and counted in `stats`.
    """
    stats = stats if stats is not None else ImportStats()
    for record in _asset_records(path, stats):
        if site is not None and record.get("site", "") != site:
            continue
        address = valid_address(record.get("ip", ""))
        if address is None:
            if record.get("ip"):
                stats.skip("rows whose ip is not an IP address", record["ip"])
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


def _asset_records(path: Path, stats: ImportStats) -> Iterator[dict[str, str]]:
    """The export's rows as {lower-case column: stripped value}, streamed; bounded fields (MAX_CSV_FIELD_CHARS)."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError as exc:
        raise InputError(f"no such file: {path}") from exc
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    csv.field_size_limit(MAX_CSV_FIELD_CHARS)
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
            columns = [c.strip().lower() for c in header or []]
            if "ip" not in columns:
                found = ", ".join(columns[:20]) or "none"
                raise InputError(f"{path}: the asset export needs an 'ip' column (found: {found})")
            for row in reader:
                yield {name: value.strip() for name, value in zip(columns, row, strict=False) if name}
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{path} is not UTF-8 text (after line {reader.line_num}); save the export as UTF-8 CSV"
            ) from exc
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise LimitError(
                    f"{path}: line {reader.line_num}: a field longer than {MAX_CSV_FIELD_CHARS // 1024} KiB (the limit)"
                ) from None
            raise InputError(f"{path}: line {reader.line_num}: not valid CSV: {exc}") from None
