"""The one query layer of the server: every page and every API route reads through these functions.

Reads go straight to the store's tables (a handful of SQL queries per call, whatever the number of devices);
writes go through the store API (`Store.set_status`) and `accounts.Accounts` (audit log) only.
A device is shown with its *latest* identification (the largest identification id of the device).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from trueorigin.errors import InputError
from trueorigin.model import COVERED_VALUES, Identification
from trueorigin.store.accounts import AuditLogRow
from trueorigin.store.api import REMEDIATION_STATUSES, FindingFilter, Store, iso_time
from trueorigin.store.codec import identification_from_json
from trueorigin.store.models import (
    DeviceRow,
    FindingHistoryRow,
    FindingRow,
    IdentificationRow,
    ObservationRow,
    ScanRow,
    SiteRow,
)

MAX_PAGE = 200
DEFAULT_PAGE = 50
MAX_SHOWN_BYTES = 8192  # raw observation text shown per observation
MAX_OBSERVATIONS = 100
TREND_SCANS = 20
WAIVER_REMINDER_DAYS = 30
MAX_CACHED = 1024

SortKey = Literal["host", "vendor", "brand", "kind", "covered", "last_seen", "confidence", "id"]
SORT_KEYS: tuple[str, ...] = ("host", "vendor", "brand", "kind", "covered", "last_seen", "confidence", "id")


# ---------------------------------------------------------------------------------------------- cursors
def encode_cursor(values: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> list[Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError) as exc:
        raise InputError("cursor is not one this server issued") from exc
    if not isinstance(value, list) or not value:
        raise InputError("cursor is not one this server issued")
    return value


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None
    total: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"items": self.items, "next_cursor": self.next_cursor, "total": self.total}


def _row_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31


def _limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_PAGE
    if not 1 <= limit <= MAX_PAGE:
        raise InputError(f"limit must be between 1 and {MAX_PAGE}")
    return limit


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def _session(store: Store) -> Session:
    return Session(store.engine)


def _is_latest() -> ColumnElement[bool]:
    """The identification is its device's newest: no identification of the same device has a larger id.
    (An anti-join on the (device_id, id) index; filters on the identification apply before it.)"""
    newer = aliased(IdentificationRow)
    return ~exists().where(newer.device_id == IdentificationRow.device_id, newer.id > IdentificationRow.id)


# ---------------------------------------------------------------------------------------------- devices
@dataclass(frozen=True, slots=True)
class DeviceQuery:
    q: str | None = None  # text in host, vendor, brand, model, MAC or serial
    vendor: str | None = None
    brand: str | None = None
    covered: str | None = None
    kind: str | None = None
    site: str | None = None
    status: str | None = None  # recorded remediation status of the device's finding
    relabeled: bool | None = None  # brand shown differs from the true origin
    sort: str = "host"
    order: str = "asc"
    limit: int | None = None
    cursor: str | None = None

    def validate(self) -> None:
        if self.covered is not None and self.covered not in COVERED_VALUES:
            raise InputError(f"covered must be one of {', '.join(COVERED_VALUES)}")
        if self.status is not None and self.status not in REMEDIATION_STATUSES:
            raise InputError(f"status must be one of {', '.join(REMEDIATION_STATUSES)}")
        if self.sort not in SORT_KEYS:
            raise InputError(f"sort must be one of {', '.join(SORT_KEYS)}")
        if self.order not in ("asc", "desc"):
            raise InputError("order must be asc or desc")
        if self.q is not None and len(self.q) > 200:
            raise InputError("search text is limited to 200 characters")
        _limit(self.limit)


def _device_select() -> Select[Any]:
    ident = IdentificationRow
    return (
        select(
            DeviceRow.id,
            ident.host,
            DeviceRow.mac,
            ident.serial,
            SiteRow.name,
            ident.vendor,
            ident.brand,
            ident.covered,
            ident.model,
            ident.firmware,
            ident.kind,
            ident.confidence,
            ident.scan_id,
            DeviceRow.first_seen,
            DeviceRow.last_seen,
            FindingRow.id,
            FindingRow.status,
            FindingRow.expires,
        )
        .select_from(ident)
        .join(DeviceRow, DeviceRow.id == ident.device_id)
        .outerjoin(SiteRow, SiteRow.id == DeviceRow.site_id)
        .outerjoin(FindingRow, FindingRow.device_id == DeviceRow.id)
        .where(_is_latest())
    )


def _sort_column(sort: str) -> ColumnElement[Any]:
    ident = IdentificationRow
    columns: dict[str, Any] = {
        "host": ident.host,
        "vendor": func.coalesce(ident.vendor, ""),
        "brand": func.coalesce(ident.brand, ""),
        "kind": func.coalesce(ident.kind, ""),
        "covered": ident.covered,
        "last_seen": DeviceRow.last_seen,
        "confidence": ident.confidence,
        "id": DeviceRow.id,
    }
    column: ColumnElement[Any] = columns[sort]
    return column


def _device_filters(flt: DeviceQuery) -> list[ColumnElement[bool]]:
    ident = IdentificationRow
    conditions: list[ColumnElement[bool]] = []
    if flt.q:
        pattern = _like(flt.q.strip())
        conditions.append(
            or_(
                *(
                    func.lower(column).like(pattern, escape="\\")
                    for column in (ident.host, ident.vendor, ident.brand, ident.model, ident.serial, DeviceRow.mac)
                )
            )
        )
    for column, wanted in (
        (ident.vendor, flt.vendor),
        (ident.brand, flt.brand),
        (ident.kind, flt.kind),
        (SiteRow.name, flt.site),
    ):
        if wanted:
            conditions.append(func.lower(column) == wanted.lower())
    if flt.covered:
        conditions.append(ident.covered == flt.covered)
    if flt.status:
        conditions.append(FindingRow.status == flt.status)
    if flt.relabeled is not None:
        differs = and_(
            ident.brand.is_not(None), ident.vendor.is_not(None), func.lower(ident.brand) != func.lower(ident.vendor)
        )
        conditions.append(differs if flt.relabeled else ~differs)
    return conditions


def _device_item(row: Any) -> dict[str, Any]:
    (
        device_id,
        host,
        mac,
        serial,
        site,
        vendor,
        brand,
        covered,
        model,
        firmware,
        kind,
        confidence,
        scan_id,
        first_seen,
        last_seen,
        finding_id,
        status,
        expires,
    ) = row
    return {
        "id": device_id,
        "host": host,
        "mac": mac,
        "serial": serial,
        "site": site,
        "vendor": vendor,
        "brand": brand,
        "relabeled": bool(brand and vendor and brand.casefold() != vendor.casefold()),
        "covered": covered,
        "model": model,
        "firmware": firmware,
        "kind": kind,
        "confidence": round(float(confidence), 3),
        "last_scan_id": scan_id,
        "first_seen": iso_time(first_seen),
        "last_seen": iso_time(last_seen),
        "finding_id": finding_id,
        "status": status,
        "waiver_expires": expires.isoformat() if expires else None,
    }


def list_devices(store: Store, flt: DeviceQuery) -> Page:
    """Devices with their latest identification, filtered, sorted and cursor-paginated (keyset, stable)."""
    flt.validate()
    limit = _limit(flt.limit)
    column = _sort_column(flt.sort)
    conditions = _device_filters(flt)
    query = _device_select().where(*conditions)
    cursor = decode_cursor(flt.cursor)
    if cursor is not None:
        numeric = flt.sort in ("last_seen", "confidence", "id")
        if (
            len(cursor) != 2
            or not _row_id(cursor[1])
            or not (
                isinstance(cursor[0], int | float) and abs(cursor[0]) < 1e15 if numeric else isinstance(cursor[0], str)
            )
        ):
            raise InputError("cursor is not one this server issued")
        value, last_id = cursor
        if flt.order == "asc":
            query = query.where(or_(column > value, and_(column == value, DeviceRow.id > last_id)))
        else:
            query = query.where(or_(column < value, and_(column == value, DeviceRow.id < last_id)))
    direction = (column.asc(), DeviceRow.id.asc()) if flt.order == "asc" else (column.desc(), DeviceRow.id.desc())
    sort_value = column.label("sort_value")
    with _session(store) as session:
        rows = session.execute(query.add_columns(sort_value).order_by(*direction).limit(limit + 1)).all()
        total = None
        if cursor is None:  # counted once per change of the data for each set of filters
            count_query = select(func.count()).select_from(_device_select().where(*conditions).subquery())
            key = json.dumps([flt.q, flt.vendor, flt.brand, flt.covered, flt.kind, flt.site, flt.status, flt.relabeled])
            total = CACHE.get(store, "count:" + key, lambda s: int(s.scalar(count_query) or 0))
    items = [_device_item(row[:-1]) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor([last[-1], last[0]])
    return Page(items, next_cursor, total)


def device_facets(store: Store) -> dict[str, list[str]]:
    """Values the device filters offer (vendors, brands, kinds, sites); computed once per change of the data."""
    return dict(CACHE.get(store, "facets", _facets))


def _facets(session: Session) -> dict[str, list[str]]:
    ident = IdentificationRow

    def distinct(column: Any) -> list[str]:
        query = select(column).where(column.is_not(None)).distinct().order_by(column).limit(500)
        return [v for v in session.scalars(query) if v]

    return {
        "vendor": distinct(ident.vendor),
        "brand": distinct(ident.brand),
        "kind": distinct(ident.kind),
        "site": distinct(SiteRow.name),
    }


def _printable(data: bytes) -> str:
    """Raw bytes as text a person can read: UTF-8 where it decodes, control bytes as \\xNN (escaped later by
    the template like every device string)."""
    text = data[:MAX_SHOWN_BYTES].decode("utf-8", errors="backslashreplace")
    out = []
    for char in text:
        if char in "\n\t" or (char.isprintable() and not 0xD800 <= ord(char) <= 0xDFFF):
            out.append(char)
        else:
            out.append(f"\\x{ord(char):02x}" if ord(char) < 256 else f"\\u{ord(char):04x}")
    if len(data) > MAX_SHOWN_BYTES:
        out.append(f"\n… ({len(data) - MAX_SHOWN_BYTES} more bytes)")
    return "".join(out)


def get_device(store: Store, device_id: int, kb: Any = None) -> dict[str, Any]:
    """A device: its latest identification with the evidence chain, raw observations, history, finding, KEV CVEs."""
    with _session(store) as session:
        found = session.execute(_device_select().where(DeviceRow.id == device_id)).first()
        if found is None:
            raise LookupError(f"no device {device_id}")
        device = _device_item(found)
        history_rows = session.execute(
            select(
                IdentificationRow.id,
                IdentificationRow.scan_id,
                IdentificationRow.host,
                IdentificationRow.vendor,
                IdentificationRow.brand,
                IdentificationRow.covered,
                IdentificationRow.model,
                IdentificationRow.firmware,
                IdentificationRow.confidence,
                IdentificationRow.identified_at,
            )
            .where(IdentificationRow.device_id == device_id)
            .order_by(IdentificationRow.id.desc())
            .limit(100)
        ).all()
        latest_doc = session.scalar(
            select(IdentificationRow.ident_json).where(IdentificationRow.id == history_rows[0][0])
        )
        ident = identification_from_json(json.loads(latest_doc or "{}"))
        observations = session.scalars(
            select(ObservationRow)
            .where(ObservationRow.scan_id == device["last_scan_id"], ObservationRow.host == device["host"])
            .order_by(ObservationRow.id)
            .limit(MAX_OBSERVATIONS)
        ).all()
        finding_history: list[dict[str, Any]] = []
        if device["finding_id"] is not None:
            finding_history = [
                {
                    "changed_at": iso_time(h.changed_at),
                    "actor": h.actor,
                    "from": h.from_status,
                    "to": h.to_status,
                    "reason": h.reason,
                    "approver": h.approver,
                    "expires": h.expires.isoformat() if h.expires else None,
                }
                for h in session.scalars(
                    select(FindingHistoryRow)
                    .where(FindingHistoryRow.finding_id == device["finding_id"])
                    .order_by(FindingHistoryRow.id)
                )
            ]
        finding = session.get(FindingRow, device["finding_id"]) if device["finding_id"] is not None else None
    cited = {e.observation_sha256 for e in ident.evidence if e.observation_sha256}
    device["identification"] = ident.to_json()
    device["observations"] = [
        {
            "id": o.id,
            "protocol": o.protocol,
            "port": o.port,
            "transport": o.transport,
            "request": o.request,
            "status": o.status,
            "observed_at": iso_time(o.observed_at),
            "sha256": o.sha256,
            "bytes": len(o.data),
            "cited": o.sha256 in cited,
            "text": _printable(bytes(o.data)),
        }
        for o in observations
    ]
    device["history"] = [
        {
            "scan_id": scan_id,
            "host": host,
            "vendor": vendor,
            "brand": brand,
            "covered": covered,
            "model": model,
            "firmware": firmware,
            "confidence": round(float(confidence), 3),
            "identified_at": iso_time(identified_at),
        }
        for (_id, scan_id, host, vendor, brand, covered, model, firmware, confidence, identified_at) in history_rows
    ]
    device["finding"] = None
    if finding is not None:
        device["finding"] = {
            "id": finding.id,
            "status": finding.status,
            "reason": finding.reason,
            "approver": finding.approver,
            "expires": finding.expires.isoformat() if finding.expires else None,
            "history": finding_history,
        }
    device["cves"] = kev_details(kb, ident)
    return device


def kev_details(kb: Any, ident: Identification) -> list[dict[str, Any]]:
    by_id = {c.id: c for c in getattr(kb, "cve_list", ())} if kb is not None else {}
    out: list[dict[str, Any]] = []
    for cve_id in ident.cves:
        cve = by_id.get(cve_id)
        if cve is None:
            out.append(
                {"id": cve_id, "name": "", "description": "", "date_added": None, "due_date": None, "sources": []}
            )
            continue
        out.append(
            {
                "id": cve.id,
                "name": cve.name,
                "description": cve.description,
                "date_added": cve.date_added.isoformat(),
                "due_date": cve.due_date.isoformat() if cve.due_date else None,
                "sources": [s.to_json() for s in cve.sources],
            }
        )
    return out


# ---------------------------------------------------------------------------------------------- overview
class DataCache:
    """Results that only change when the data does (overview counts, filter values), per database.

    Keyed by a cheap probe of the data (`_data_version`); one computation at a time per key (single flight),
    so twenty users opening the dashboard after a scan wait for one computation instead of running twenty."""

    def __init__(self) -> None:
        self._values: dict[tuple[int, str], tuple[tuple[Any, ...], Any]] = {}
        self._locks: dict[tuple[int, str], threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, store: Store, name: str, compute: Callable[[Session], Any]) -> Any:
        key = (id(store.engine), name)
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with _session(store) as session:
            version = _data_version(session)
            cached = self._values.get(key)
            if cached is not None and cached[0] == version:
                return cached[1]
            with lock:
                cached = self._values.get(key)
                if cached is not None and cached[0] == version:
                    return cached[1]
                value = compute(session)
                if len(self._values) >= MAX_CACHED:  # bounded: many distinct filters only cost recomputation
                    self._values.clear()
                self._values[key] = (version, value)
                return value


CACHE = DataCache()


def _data_version(session: Session) -> tuple[Any, ...]:
    """Changes whenever anything the cached results count changes (max-id probes on indexed keys)."""
    return (
        session.scalar(select(func.max(IdentificationRow.id))),
        session.scalar(select(func.max(FindingHistoryRow.id))),
        session.scalar(select(func.count()).select_from(ScanRow)),
        dt.date.today().isoformat(),
    )


def overview(store: Store, regimes_of: Callable[[str], Sequence[str]] | None = None) -> dict[str, Any]:
    """Counts for the dashboard: covered devices by vendor, site, regime and kind; trend across scans;
    remediation burndown; waivers that expire soon. Computed once per change of the data."""
    return dict(CACHE.get(store, "overview", lambda session: _compute_overview(session, regimes_of)))


def _compute_overview(session: Session, regimes_of: Callable[[str], Sequence[str]] | None) -> dict[str, Any]:
    ident = IdentificationRow
    # One pass over the devices' latest identifications, grouped by everything the charts need.
    rows = session.execute(
        select(ident.covered, ident.vendor, ident.kind, SiteRow.name, func.count())
        .select_from(ident)
        .join(DeviceRow, DeviceRow.id == ident.device_id)
        .outerjoin(SiteRow, SiteRow.id == DeviceRow.site_id)
        .where(_is_latest())
        .group_by(ident.covered, ident.vendor, ident.kind, SiteRow.name)
    ).all()
    covered_counts: Counter[str] = Counter()
    vendors: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    sites: Counter[str] = Counter()
    for covered, vendor, kind, site, count in rows:
        covered_counts[covered] += int(count)
        if covered == "yes":
            vendors[vendor or "(unknown)"] += int(count)
            kinds[kind or "unknown"] += int(count)
            sites[site or "(no site)"] += int(count)

    def ranked(counter: Counter[str]) -> list[tuple[str, int]]:
        return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))

    by_vendor = ranked(vendors)
    regimes: Counter[str] = Counter()
    if regimes_of is not None:
        for vendor, count in by_vendor:
            for regime in regimes_of(vendor):
                regimes[regime] += count
    status_rows = session.execute(select(FindingRow.status, func.count()).group_by(FindingRow.status)).all()
    today = dt.date.today()
    soon = today + dt.timedelta(days=WAIVER_REMINDER_DAYS)
    waivers = session.execute(
        select(FindingRow.id, FindingRow.device_id, FindingRow.expires, FindingRow.reason, FindingRow.approver)
        .where(FindingRow.status == "waived", FindingRow.expires <= soon)
        .order_by(FindingRow.expires)
        .limit(50)
    ).all()
    return {
        "devices": sum(covered_counts.values()),
        "covered": {k: int(covered_counts.get(k, 0)) for k in COVERED_VALUES},
        "by_vendor": by_vendor,
        "by_site": ranked(sites),
        "by_kind": ranked(kinds),
        "by_regime": ranked(regimes),
        "status": {s: 0 for s in REMEDIATION_STATUSES} | {s: int(c) for s, c in status_rows},
        "trend": _trend(session),
        "burndown": _burndown(session),
        "waivers_due": [
            {
                "finding_id": fid,
                "device_id": device_id,
                "expires": expires.isoformat() if expires else None,
                "expired": bool(expires and expires < today),
                "days_left": (expires - today).days if expires else None,
                "reason": reason,
                "approver": approver,
            }
            for fid, device_id, expires, reason, approver in waivers
        ],
    }


def _recent_scans(session: Session) -> list[tuple[str, float, float | None, str]]:
    rows = session.execute(
        select(ScanRow.id, ScanRow.started_at, ScanRow.finished_at, ScanRow.kind)
        .order_by(ScanRow.started_at.desc(), ScanRow.id.desc())
        .limit(TREND_SCANS)
    ).all()
    return [(r[0], r[1], r[2], r[3]) for r in reversed(rows)]


def _trend(session: Session) -> list[dict[str, Any]]:
    """Per recent scan: identified hosts that were covered yes / review."""
    scans = _recent_scans(session)
    ids = [s[0] for s in scans]
    counts: dict[str, dict[str, int]] = {i: {"yes": 0, "review": 0} for i in ids}
    if ids:
        for scan_id, covered, count in session.execute(
            select(IdentificationRow.scan_id, IdentificationRow.covered, func.count())
            .where(IdentificationRow.scan_id.in_(ids), IdentificationRow.covered.in_(("yes", "review")))
            .group_by(IdentificationRow.scan_id, IdentificationRow.covered)
        ):
            counts[scan_id][covered] = int(count)
    return [{"scan_id": i, "when": iso_time(started), "kind": kind, **counts[i]} for i, started, _f, kind in scans]


def _burndown(session: Session) -> list[dict[str, Any]]:
    """Findings by remediation status as each recent scan finished, replayed from the history in one pass."""
    scans = _recent_scans(session)
    moments = [(finished or started, scan_id) for scan_id, started, finished, _kind in scans]
    moments.sort()
    status_of: dict[int, str] = {}
    points: list[dict[str, Any]] = []
    rows = session.execute(
        select(FindingHistoryRow.finding_id, FindingHistoryRow.changed_at, FindingHistoryRow.to_status).order_by(
            FindingHistoryRow.changed_at, FindingHistoryRow.id
        )
    )
    pending = iter(rows)
    head = next(pending, None)
    for moment, scan_id in moments:
        while head is not None and head[1] <= moment:
            status_of[head[0]] = head[2]
            head = next(pending, None)
        counts = Counter(status_of.values())
        points.append(
            {
                "scan_id": scan_id,
                "when": iso_time(moment),
                "counts": {s: counts.get(s, 0) for s in REMEDIATION_STATUSES},
            }
        )
    return points


# ---------------------------------------------------------------------------------------------- findings
def list_findings(store: Store, flt: FindingFilter, limit: int | None = None, cursor: str | None = None) -> Page:
    """Findings (store.findings: filters validated there), ordered by id, cursor = last id shown."""
    size = _limit(limit)
    after = decode_cursor(cursor)
    if after is not None and (len(after) != 1 or not _row_id(after[0])):
        raise InputError("cursor is not one this server issued")
    today = dt.date.today()
    records = store.findings(flt)
    if after is not None:
        records = [r for r in records if r.id > after[0]]
    shown = records[:size]
    items = []
    for record in shown:
        doc = record.to_json(today)
        ident = record.identification
        doc["identification"] = {k: v for k, v in ident.to_json().items() if k != "evidence"}
        doc["days_left"] = (record.expires - today).days if record.expires else None
        doc["reminder"] = bool(
            record.status == "waived" and record.expires and (record.expires - today).days <= WAIVER_REMINDER_DAYS
        )
        items.append(doc)
    next_cursor = encode_cursor([shown[-1].id]) if len(records) > size else None
    return Page(items, next_cursor, len(records) if after is None else None)


def finding_state(store: Store, finding_id: int) -> dict[str, Any]:
    with _session(store) as session:
        row = session.get(FindingRow, finding_id)
        if row is None:
            raise LookupError(f"no finding {finding_id}")
        return {
            "id": row.id,
            "device_id": row.device_id,
            "status": row.status,
            "reason": row.reason,
            "approver": row.approver,
            "expires": row.expires.isoformat() if row.expires else None,
        }


# ---------------------------------------------------------------------------------------------- scans
def list_scans(store: Store, limit: int | None = None, cursor: str | None = None) -> Page:
    """Scans, newest first, with host and identification counts."""
    size = _limit(limit)
    after = decode_cursor(cursor)
    with _session(store) as session:
        query = (
            select(ScanRow, SiteRow.name)
            .outerjoin(SiteRow, SiteRow.id == ScanRow.site_id)
            .order_by(ScanRow.started_at.desc(), ScanRow.id.desc())
        )
        if after is not None:
            if len(after) != 2 or not isinstance(after[0], int | float) or not isinstance(after[1], str):
                raise InputError("cursor is not one this server issued")
            started, scan_id = after
            query = query.where(
                or_(ScanRow.started_at < started, and_(ScanRow.started_at == started, ScanRow.id < scan_id))
            )
        rows = session.execute(query.limit(size + 1)).all()
        ids = [scan.id for scan, _site in rows[:size]]
        counts: dict[str, dict[str, int]] = {i: {"identified": 0, "covered": 0, "review": 0} for i in ids}
        if ids:
            for scan_id, covered, count in session.execute(
                select(IdentificationRow.scan_id, IdentificationRow.covered, func.count())
                .where(IdentificationRow.scan_id.in_(ids))
                .group_by(IdentificationRow.scan_id, IdentificationRow.covered)
            ):
                counts[scan_id]["identified"] += int(count)
                if covered == "yes":
                    counts[scan_id]["covered"] = int(count)
                elif covered == "review":
                    counts[scan_id]["review"] = int(count)
    items = [
        {
            "id": scan.id,
            "kind": scan.kind,
            "site": site,
            "status": scan.status,
            "started_at": iso_time(scan.started_at),
            "finished_at": iso_time(scan.finished_at),
            "targets": json.loads(scan.targets_json)[:20],
            "kb_version": scan.kb_version,
            **counts[scan.id],
        }
        for scan, site in rows[:size]
    ]
    next_cursor = None
    if len(rows) > size:
        last = rows[size - 1][0]
        next_cursor = encode_cursor([last.started_at, last.id])
    return Page(items, next_cursor)


def scan_diff(store: Store, scan_a: str, scan_b: str) -> dict[str, Any]:
    from trueorigin.store.diff import diff_scans

    if store.get_scan(scan_a) is None or store.get_scan(scan_b) is None:
        raise LookupError("no such scan")
    document = diff_scans(store, scan_a, scan_b).to_json()
    for key in ("appeared", "disappeared"):
        for item in document[key]:
            item.pop("evidence", None)
    return document


# ---------------------------------------------------------------------------------------------- audit log
def list_audit(
    store: Store,
    limit: int | None = None,
    cursor: str | None = None,
    actor: str | None = None,
    action: str | None = None,
) -> Page:
    size = _limit(limit)
    after = decode_cursor(cursor)
    with _session(store) as session:
        query = select(AuditLogRow).order_by(AuditLogRow.id.desc())
        if after is not None:
            if len(after) != 1 or not _row_id(after[0]):
                raise InputError("cursor is not one this server issued")
            query = query.where(AuditLogRow.id < after[0])
        if actor:
            query = query.where(AuditLogRow.actor == actor)
        if action:
            query = query.where(AuditLogRow.action.like(_like(action).lstrip("%"), escape="\\"))
        rows = session.scalars(query.limit(size + 1)).all()
    items = [
        {
            "id": r.id,
            "at": iso_time(r.at),
            "actor": r.actor,
            "action": r.action,
            "target": r.target,
            "before": json.loads(r.before_json) if r.before_json else None,
            "after": json.loads(r.after_json) if r.after_json else None,
            "remote": r.remote,
        }
        for r in rows[:size]
    ]
    return Page(items, encode_cursor([rows[size - 1].id]) if len(rows) > size else None)
