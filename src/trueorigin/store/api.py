"""The Store: scans, observations, identifications, devices, findings and their remediation history.

Every write method commits its own transaction, so a process killed with SIGKILL loses nothing it had
already finished (SQLite runs in WAL mode; a committed transaction survives a crash of the writer).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast, get_args

from sqlalchemy import ColumnElement, Engine, create_engine, event, func, or_, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from trueorigin.errors import InputError
from trueorigin.model import Identification, Observation, RemediationStatus, Status
from trueorigin.store.codec import identification_from_json
from trueorigin.store.identity import IdentityKey, find_same_device
from trueorigin.store.models import (
    DeviceRow,
    DeviceTagRow,
    FindingHistoryRow,
    FindingRow,
    IdentificationRow,
    ObservationRow,
    ScanHostRow,
    ScanRow,
    SiteRow,
)

DEFAULT_URL = "sqlite:///trueorigin.db"
REMEDIATION_STATUSES: tuple[RemediationStatus, ...] = get_args(RemediationStatus)
# Identifications with these coverage values open a finding ("review" needs a human decision).
FINDING_COVERAGE: frozenset[str] = frozenset({"yes", "review"})
# A device marked gone that shows up again was not really remediated: the finding reopens.
REOPEN_WHEN_SEEN: frozenset[str] = frozenset({"replaced", "removed"})


@dataclass(frozen=True, slots=True)
class ScanRecord:
    id: str
    kind: str
    targets: list[str]
    options: dict[str, Any]
    site: str | None
    status: str
    started_at: float
    finished_at: float | None
    hosts_done: int = 0
    identifications: int = 0
    kb_version: str | None = None  # knowledge-base version the scan identified with, when recorded
    tool_version: str | None = None  # trueorigin version that ran it
    fingerprint_version: str | None = None  # fingerprint data version the scan identified with
    source_scan: str | None = None  # the scan whose observations a re-identification re-ran


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    finding_id: int
    changed_at: float
    actor: str
    from_status: str | None
    to_status: str
    reason: str | None = None
    approver: str | None = None
    expires: dt.date | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "finding_id": self.finding_id,
            "changed_at": iso_time(self.changed_at),
            "actor": self.actor,
            "from": self.from_status,
            "to": self.to_status,
            "reason": self.reason,
            "approver": self.approver,
            "expires": self.expires.isoformat() if self.expires else None,
        }


@dataclass(frozen=True, slots=True)
class FindingRecord:
    """A finding with the latest identification of its device."""

    id: int
    device_id: int
    status: RemediationStatus  # as recorded
    reason: str | None
    approver: str | None
    expires: dt.date | None
    first_scan_id: str
    last_scan_id: str
    site: str | None
    identification: Identification
    tags: tuple[str, ...] = ()
    created_at: float = 0.0
    updated_at: float = 0.0

    def effective_status(self, today: dt.date | None = None) -> RemediationStatus:
        """The status that counts today: a waiver past its expiry no longer protects the device."""
        day = today or dt.date.today()
        if self.status == "waived" and self.expires is not None and self.expires < day:
            return "open"
        return self.status

    def waiver_expired(self, today: dt.date | None = None) -> bool:
        return self.status == "waived" and self.effective_status(today) == "open"

    def to_json(self, today: dt.date | None = None) -> dict[str, Any]:
        ident = self.identification
        return {
            "id": self.id,
            "device_id": self.device_id,
            "status": self.status,
            "effective_status": self.effective_status(today),
            "waiver_expired": self.waiver_expired(today),
            "reason": self.reason,
            "approver": self.approver,
            "expires": self.expires.isoformat() if self.expires else None,
            "first_scan_id": self.first_scan_id,
            "last_scan_id": self.last_scan_id,
            "site": self.site,
            "tags": list(self.tags),
            "identification": ident.to_json(),
        }


@dataclass(frozen=True, slots=True)
class FindingFilter:
    """Conditions that all must hold (None = any). Text matches are case-insensitive equality."""

    site: str | None = None
    vendor: str | None = None
    brand: str | None = None
    subnet: str | None = None
    covered: str | None = None
    status: str | None = None  # effective status
    scan_id: str | None = None  # seen in this scan
    ids: tuple[int, ...] = field(default=())
    tag: str | None = None  # the device carries this tag

    def validate(self) -> None:
        """Raise InputError for a value that can never match (a typo should not silently list nothing)."""
        if self.covered is not None and self.covered not in ("yes", "no", "review"):
            raise InputError(f"covered must be yes, no or review, not {self.covered!r}")
        if self.status is not None and self.status not in REMEDIATION_STATUSES:
            raise InputError(f"status must be one of {', '.join(REMEDIATION_STATUSES)}, not {self.status!r}")
        self.network()

    def network(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
        if self.subnet is None:
            return None
        try:
            return ipaddress.ip_network(self.subnet, strict=False)
        except ValueError as exc:
            raise InputError(f"not a subnet: {self.subnet!r}") from exc


def iso_time(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC).isoformat(timespec="seconds")


def normalize_url(url: str | None) -> str:
    """Accept a SQLAlchemy URL, `postgresql://` (mapped to psycopg 3) or a plain SQLite file path."""
    if not url:
        return DEFAULT_URL
    if "://" not in url:
        return f"sqlite:///{Path(url)}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: readers never block the scanner; synchronous=NORMAL in WAL survives a crash of the process
    # (only power loss can drop the last transactions). busy_timeout lets a report read during a scan.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _migrate(engine: Engine) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Two processes opening a fresh database at once must not both create the schema.
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(8890001)")
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def open_store(url: str | None = None) -> Store:
    """Open (and create or upgrade to the newest schema) the store at `url`."""
    full = normalize_url(url)
    try:
        parsed = make_url(full)
        if parsed.get_backend_name() == "sqlite":
            database = parsed.database
            if database and database != ":memory:" and not Path(database).parent.exists():
                raise InputError(f"directory of the store does not exist: {Path(database).parent}")
            in_memory = not database or database == ":memory:"
            # An in-memory database lives in one connection: share it, or every session sees an empty one.
            pool = {"poolclass": StaticPool} if in_memory else {}
            engine = create_engine(full, connect_args={"check_same_thread": False}, **pool)
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(full, pool_pre_ping=True)
        _migrate(engine)
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise InputError(f"not a usable database URL {url!r}: {exc}") from exc
    except OperationalError as exc:
        raise InputError(f"cannot open the store at {url or DEFAULT_URL!r}: {exc.orig}") from exc
    return Store(engine)


def _clip(value: str | None, limit: int) -> str | None:
    """Fit device-supplied text into its column (PostgreSQL rejects longer values; the JSON keeps it whole)."""
    return None if value is None else value[:limit]


def _check_length(what: str, value: str | None, limit: int) -> None:
    if value is not None and len(value) > limit:
        raise InputError(f"{what} is longer than {limit} characters")


def _parse_date(value: str | dt.date | None, what: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise InputError(f"{what} must be a date like 2027-01-31, not {value!r}") from exc


class Store:
    """Typed access to one database. Create it with `open_store(url)`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with self._sessions() as session:
            try:
                yield session
                session.commit()
            except SQLAlchemyError:
                session.rollback()
                raise

    # ------------------------------------------------------------------ sites and tags
    def _site_id(self, session: Session, name: str | None, create: bool = True) -> int | None:
        if name is None:
            return None
        _check_length("the site name", name, 200)
        row = session.scalar(select(SiteRow).where(SiteRow.name == name))
        if row is None:
            if not create:
                return None
            row = SiteRow(name=name, description="")
            session.add(row)
            session.flush()
        return row.id

    def add_site(self, name: str, description: str = "") -> None:
        _check_length("the site name", name, 200)
        with self._session() as session:
            row = session.scalar(select(SiteRow).where(SiteRow.name == name))
            if row is None:
                session.add(SiteRow(name=name, description=description))
            else:
                row.description = description

    def sites(self) -> list[str]:
        with self._session() as session:
            return list(session.scalars(select(SiteRow.name).order_by(SiteRow.name)))

    def tag_device(self, device_id: int, tag: str) -> None:
        _check_length("a tag", tag, 100)
        with self._session() as session:
            if session.get(DeviceRow, device_id) is None:
                raise InputError(f"no device {device_id}")
            exists = session.scalar(
                select(DeviceTagRow).where(DeviceTagRow.device_id == device_id, DeviceTagRow.tag == tag)
            )
            if exists is None:
                session.add(DeviceTagRow(device_id=device_id, tag=tag))

    # ------------------------------------------------------------------ scans
    def create_scan(self, kind: str, targets: list[str], options: dict[str, Any], site: str | None = None) -> str:
        scan_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:8]
        with self._session() as session:
            session.add(
                ScanRow(
                    id=scan_id,
                    kind=kind,
                    targets_json=json.dumps(list(targets)),
                    options_json=json.dumps(options, default=str, sort_keys=True),
                    site_id=self._site_id(session, site),
                    status="running",
                    started_at=time.time(),
                    finished_at=None,
                )
            )
        return scan_id

    def _scan_record(self, session: Session, row: ScanRow) -> ScanRecord:
        site = session.get(SiteRow, row.site_id) if row.site_id is not None else None
        done = session.scalar(
            select(func.count()).select_from(ScanHostRow).where(ScanHostRow.scan_id == row.id, ScanHostRow.done)
        )
        idents = session.scalar(
            select(func.count()).select_from(IdentificationRow).where(IdentificationRow.scan_id == row.id)
        )
        return ScanRecord(
            id=row.id,
            kind=row.kind,
            targets=list(json.loads(row.targets_json)),
            options=dict(json.loads(row.options_json)),
            site=site.name if site else None,
            status=row.status,
            started_at=row.started_at,
            finished_at=row.finished_at,
            hosts_done=int(done or 0),
            identifications=int(idents or 0),
            kb_version=row.kb_version,
            tool_version=row.tool_version,
            fingerprint_version=row.fingerprint_version,
            source_scan=row.source_scan,
        )

    def get_scan(self, scan_id: str) -> ScanRecord | None:
        with self._session() as session:
            row = session.get(ScanRow, scan_id)
            return None if row is None else self._scan_record(session, row)

    def scans(self) -> list[ScanRecord]:
        """All scans, oldest first."""
        with self._session() as session:
            rows = session.scalars(select(ScanRow).order_by(ScanRow.started_at, ScanRow.id)).all()
            return [self._scan_record(session, row) for row in rows]

    def latest_scan_id(self) -> str | None:
        with self._session() as session:
            return session.scalar(select(ScanRow.id).order_by(ScanRow.started_at.desc(), ScanRow.id.desc()).limit(1))

    def require_scan(self, scan_id: str) -> ScanRecord:
        record = self.get_scan(scan_id)
        if record is None:
            raise InputError(f"no scan {scan_id!r} in this store (see `trueorigin scans`)")
        return record

    def _require_scan_row(self, session: Session, scan_id: str) -> ScanRow:
        row = session.get(ScanRow, scan_id)
        if row is None:
            raise InputError(f"no scan {scan_id!r} in this store")
        return row

    def finish_scan(self, scan_id: str, status: str = "complete") -> None:
        with self._session() as session:
            row = self._require_scan_row(session, scan_id)
            row.status = status
            row.finished_at = time.time()

    def set_scan_kb_version(self, scan_id: str, version: str) -> None:
        with self._session() as session:
            self._require_scan_row(session, scan_id).kb_version = version

    def set_scan_versions(
        self,
        scan_id: str,
        *,
        tool: str,
        knowledge: str,
        fingerprints: str,
        source_scan: str | None = None,
    ) -> None:
        """Record which tool and data versions decided the scan (and the scan it re-identifies, if any)."""
        with self._session() as session:
            row = self._require_scan_row(session, scan_id)
            row.tool_version = tool[:200]
            row.kb_version = knowledge[:200]
            row.fingerprint_version = fingerprints[:200]
            if source_scan is not None:
                row.source_scan = source_scan[:64]

    # ------------------------------------------------------------------ hosts and observations
    def _host_row(self, session: Session, scan_id: str, host: str) -> ScanHostRow:
        host = host[:255]
        row = session.scalar(select(ScanHostRow).where(ScanHostRow.scan_id == scan_id, ScanHostRow.host == host))
        if row is None:
            row = ScanHostRow(scan_id=scan_id, host=host, done=False)
            session.add(row)
        return row

    def add_observations(self, scan_id: str, host: str, observations: list[Observation]) -> None:
        with self._session() as session:
            self._require_scan_row(session, scan_id)
            self._host_row(session, scan_id, host)
            for obs in observations:
                session.add(
                    ObservationRow(
                        scan_id=scan_id,
                        host=obs.host[:255],
                        protocol=obs.protocol[:64],
                        port=obs.port,
                        request=obs.request,
                        transport=obs.transport[:16],
                        status=str(obs.status)[:32],
                        observed_at=obs.time,
                        data=bytes(obs.data),
                        sha256=obs.sha256,
                    )
                )

    def observations(self, scan_id: str, host: str | None = None) -> list[Observation]:
        with self._session() as session:
            query = select(ObservationRow).where(ObservationRow.scan_id == scan_id)
            if host is not None:
                query = query.where(ObservationRow.host == host)
            rows = session.scalars(query.order_by(ObservationRow.id)).all()
            return [
                Observation(
                    host=r.host,
                    protocol=r.protocol,
                    data=bytes(r.data),
                    port=r.port,
                    request=r.request,
                    transport=r.transport,
                    status=Status(r.status) if r.status in Status._value2member_map_ else Status.OK,
                    time=r.observed_at,
                )
                for r in rows
            ]

    def observation_digests(self, scan_id: str) -> dict[str, list[str]]:
        """host -> sha256 of every raw observation stored for it in this scan (as recorded at write time)."""
        with self._session() as session:
            rows = session.execute(
                select(ObservationRow.host, ObservationRow.sha256)
                .where(ObservationRow.scan_id == scan_id)
                .order_by(ObservationRow.id)
            ).all()
        out: dict[str, list[str]] = {}
        for host, digest in rows:
            out.setdefault(host, []).append(digest)
        return out

    def verify_digests(
        self, digests: Iterable[str], scan_id: str | None = None, host: str | None = None
    ) -> dict[str, bool]:
        """For each sha256: True when a stored observation (of this scan and host, when given) still has
        bytes that hash to it. The bytes are re-hashed; the recorded `sha256` column only finds candidates.
        """
        import hashlib

        wanted = set(digests)
        result = dict.fromkeys(wanted, False)
        with self._session() as session:
            for chunk_start in range(0, len(wanted), 500):
                chunk = sorted(wanted)[chunk_start : chunk_start + 500]
                query = select(ObservationRow.sha256, ObservationRow.data).where(ObservationRow.sha256.in_(chunk))
                if scan_id is not None:
                    query = query.where(ObservationRow.scan_id == scan_id)
                if host is not None:
                    query = query.where(ObservationRow.host == host)
                for digest, data in session.execute(query):
                    if hashlib.sha256(bytes(data)).hexdigest() == digest:
                        result[digest] = True
        return result

    def finish_host(self, scan_id: str, host: str) -> None:
        with self._session() as session:
            self._require_scan_row(session, scan_id)
            row = self._host_row(session, scan_id, host)
            row.done = True
            row.finished_at = time.time()

    def finish_hosts(self, scan_id: str, hosts: list[str]) -> None:
        """Mark many hosts finished in one transaction (a scan's silent addresses come by the thousand)."""
        now = time.time()
        with self._session() as session:
            self._require_scan_row(session, scan_id)
            for start in range(0, len(hosts), 500):  # stay under SQLite's bound-parameter limit
                chunk = [host[:255] for host in hosts[start : start + 500]]
                existing = {
                    row.host: row
                    for row in session.scalars(
                        select(ScanHostRow).where(ScanHostRow.scan_id == scan_id, ScanHostRow.host.in_(chunk))
                    )
                }
                for host in chunk:
                    row = existing.get(host)
                    if row is None:
                        row = ScanHostRow(scan_id=scan_id, host=host, done=False)
                        session.add(row)
                        existing[host] = row
                    row.done, row.finished_at = True, now

    def done_hosts(self, scan_id: str) -> set[str]:
        with self._session() as session:
            return set(
                session.scalars(select(ScanHostRow.host).where(ScanHostRow.scan_id == scan_id, ScanHostRow.done))
            )

    # ------------------------------------------------------------------ devices and identifications
    def _match_device(
        self, session: Session, ident: Identification, scan_id: str, site_id: int | None, now: float
    ) -> DeviceRow:
        seen = IdentityKey.of(ident.host[:255], ident.mac, _clip(ident.serial, 200))
        # A device already identified at another address in this scan is not merged with this host: two hosts
        # sharing a MAC in one scan is more often a router's MAC than one device with two addresses.
        same_site = DeviceRow.site_id.is_(None) if site_id is None else DeviceRow.site_id == site_id
        conditions: list[ColumnElement[bool]] = [(DeviceRow.address == seen.address) & same_site]
        if seen.mac:
            conditions.append(DeviceRow.mac == seen.mac)
        if seen.serial:
            conditions.append(DeviceRow.serial == seen.serial)
        found = session.scalars(select(DeviceRow).where(or_(*conditions)).order_by(DeviceRow.last_seen)).all()
        taken = set(
            session.scalars(
                select(IdentificationRow.device_id).where(
                    IdentificationRow.scan_id == scan_id, IdentificationRow.device_id.in_([d.id for d in found])
                )
            )
        )
        candidates = [d for d in found if d.id not in taken]
        device = find_same_device(seen, candidates, lambda d: IdentityKey(d.mac, d.serial, d.address))
        if device is None:
            device = DeviceRow(
                mac=seen.mac, serial=seen.serial, address=seen.address, site_id=site_id, first_seen=now, last_seen=now
            )
            session.add(device)
            session.flush()
        else:
            device.mac = device.mac or seen.mac
            device.serial = device.serial or seen.serial
            device.address = seen.address
            device.last_seen = now
        return device

    def add_identification(
        self, scan_id: str, ident: Identification, actor: str | None = None, *, seen: bool = True
    ) -> None:
        """Store an identification (replacing an earlier one for the same host in this scan) and
        open, refresh or reopen the device's finding. `seen=False` (a re-identification of stored
        observations) never reopens a finding marked replaced or removed: the device was not seen again."""
        now = time.time()
        with self._session() as session:
            scan = self._require_scan_row(session, scan_id)
            old = session.scalar(
                select(IdentificationRow).where(
                    IdentificationRow.scan_id == scan_id, IdentificationRow.host == ident.host[:255]
                )
            )
            if old is not None:
                session.delete(old)
                session.flush()
            device = self._match_device(session, ident, scan_id, scan.site_id, now)
            session.add(
                IdentificationRow(
                    scan_id=scan_id,
                    host=ident.host[:255],
                    device_id=device.id,
                    vendor=_clip(ident.vendor, 200),
                    brand=_clip(ident.brand, 200),
                    covered=ident.covered,
                    model=_clip(ident.model, 200),
                    firmware=_clip(ident.firmware, 200),
                    kind=_clip(ident.kind, 40),
                    mac=IdentityKey.of(ident.host, ident.mac, None).mac,
                    serial=_clip(ident.serial, 200),
                    confidence=float(ident.confidence),
                    identified_at=now,
                    ident_json=json.dumps(ident.to_json(), sort_keys=True),
                )
            )
            self._update_finding(session, device.id, scan_id, ident, now, actor or f"scan:{scan_id}", seen)

    def _update_finding(
        self,
        session: Session,
        device_id: int,
        scan_id: str,
        ident: Identification,
        now: float,
        actor: str,
        seen: bool = True,
    ) -> None:
        finding = session.scalar(select(FindingRow).where(FindingRow.device_id == device_id))
        if finding is None:
            if ident.covered not in FINDING_COVERAGE:
                return
            finding = FindingRow(
                device_id=device_id,
                status="open",
                first_scan_id=scan_id,
                last_scan_id=scan_id,
                created_at=now,
                updated_at=now,
            )
            session.add(finding)
            session.flush()
            why = f"identified as {ident.vendor or 'unknown vendor'} (covered: {ident.covered})"
            session.add(
                FindingHistoryRow(
                    finding_id=finding.id, changed_at=now, actor=actor, from_status=None, to_status="open", reason=why
                )
            )
            return
        finding.last_scan_id = scan_id
        finding.updated_at = now
        if seen and finding.status in REOPEN_WHEN_SEEN and ident.covered in FINDING_COVERAGE:
            why = f"marked {finding.status} but seen again in scan {scan_id}"
            session.add(
                FindingHistoryRow(
                    finding_id=finding.id,
                    changed_at=now,
                    actor=actor,
                    from_status=finding.status,
                    to_status="open",
                    reason=why,
                )
            )
            finding.status, finding.reason, finding.approver, finding.expires = "open", why, None, None

    def identifications(self, scan_id: str) -> list[Identification]:
        with self._session() as session:
            docs = session.scalars(
                select(IdentificationRow.ident_json)
                .where(IdentificationRow.scan_id == scan_id)
                .order_by(IdentificationRow.id)
            ).all()
        return [identification_from_json(json.loads(doc)) for doc in docs]

    def device_identifications(self, scan_id: str) -> list[tuple[int, Identification]]:
        """(device id, identification) for a scan, in the order they were added."""
        with self._session() as session:
            rows = session.execute(
                select(IdentificationRow.device_id, IdentificationRow.ident_json)
                .where(IdentificationRow.scan_id == scan_id)
                .order_by(IdentificationRow.id)
            ).all()
        return [(device_id, identification_from_json(json.loads(doc))) for device_id, doc in rows]

    # ------------------------------------------------------------------ findings
    def findings(self, where: FindingFilter | None = None, today: dt.date | None = None) -> list[FindingRecord]:
        """Findings with their device's latest identification (in `where.scan_id` when given), filtered;
        ordered by id. A handful of queries whatever the number of findings."""
        flt = where or FindingFilter()
        flt.validate()
        network = flt.network()
        with self._session() as session:
            query = select(FindingRow).order_by(FindingRow.id)
            if flt.ids:
                query = query.where(FindingRow.id.in_(flt.ids))
            findings = session.scalars(query).all()
            # Latest identification per device: ids grow with time, so the largest id is the newest.
            latest = select(func.max(IdentificationRow.id)).group_by(IdentificationRow.device_id)
            if flt.scan_id is not None:
                latest = latest.where(IdentificationRow.scan_id == flt.scan_id)
            ident_rows = session.execute(
                select(IdentificationRow.device_id, IdentificationRow.scan_id, IdentificationRow.ident_json).where(
                    IdentificationRow.id.in_(latest)
                )
            ).all()
            ident_of_device = {device_id: (scan_id, doc) for device_id, scan_id, doc in ident_rows}
            site_of_scan: dict[str, str | None] = {
                scan_id: name
                for scan_id, name in session.execute(
                    select(ScanRow.id, SiteRow.name)
                    .select_from(ScanRow)
                    .outerjoin(SiteRow, ScanRow.site_id == SiteRow.id)
                )
            }
            tags_of_device: dict[int, list[str]] = {}
            for device_id, tag in session.execute(
                select(DeviceTagRow.device_id, DeviceTagRow.tag).order_by(DeviceTagRow.tag)
            ):
                tags_of_device.setdefault(device_id, []).append(tag)
            records: list[FindingRecord] = []
            for finding in findings:
                found = ident_of_device.get(finding.device_id)
                if found is None:  # not seen in the requested scan
                    continue
                scan_id, doc = found
                record = FindingRecord(
                    id=finding.id,
                    device_id=finding.device_id,
                    status=cast(RemediationStatus, finding.status),
                    reason=finding.reason,
                    approver=finding.approver,
                    expires=finding.expires,
                    first_scan_id=finding.first_scan_id,
                    last_scan_id=finding.last_scan_id,
                    site=site_of_scan.get(scan_id),
                    identification=identification_from_json(json.loads(doc)),
                    tags=tuple(tags_of_device.get(finding.device_id, ())),
                    created_at=finding.created_at,
                    updated_at=finding.updated_at,
                )
                if _matches(record, flt, network, today):
                    records.append(record)
            return records

    def set_status(
        self,
        finding_ids: Sequence[int],
        status: str,
        actor: str,
        reason: str | None = None,
        approver: str | None = None,
        expires: str | dt.date | None = None,
        today: dt.date | None = None,
    ) -> list[int]:
        """Set the remediation status of many findings in one transaction; returns the ids that changed.

        A waiver needs a reason, an approver and an expiry date after today. Setting the same status again
        records nothing (unless a waiver's terms change).
        """
        if status not in REMEDIATION_STATUSES:
            raise InputError(f"status must be one of {', '.join(REMEDIATION_STATUSES)}, not {status!r}")
        if not actor.strip():
            raise InputError("who made the change (actor) is required")
        _check_length("the actor", actor, 200)
        _check_length("the approver", approver, 200)
        expiry = _parse_date(expires, "--expires")
        day = today or dt.date.today()
        if status == "waived":
            missing = [name for name, value in (("reason", reason), ("approver", approver)) if not value]
            if expiry is None:
                missing.append("expires")
            if missing:
                raise InputError(f"a waiver needs {', '.join('--' + m for m in missing)}")
            if expiry is not None and expiry <= day:
                raise InputError(f"a waiver must expire after today ({day.isoformat()}), not {expiry.isoformat()}")
        elif expiry is not None or approver is not None:
            raise InputError("--approver and --expires only apply to status waived")
        now = time.time()
        changed: list[int] = []
        with self._session() as session:
            rows = session.scalars(select(FindingRow).where(FindingRow.id.in_(list(finding_ids)))).all()
            unknown = set(finding_ids) - {r.id for r in rows}
            if unknown:
                raise InputError(f"no finding with id {', '.join(str(i) for i in sorted(unknown))}")
            for row in rows:
                same = row.status == status and (
                    status != "waived" or (row.reason, row.approver, row.expires) == (reason, approver, expiry)
                )
                if same:
                    continue
                session.add(
                    FindingHistoryRow(
                        finding_id=row.id,
                        changed_at=now,
                        actor=actor,
                        from_status=row.status,
                        to_status=status,
                        reason=reason,
                        approver=approver,
                        expires=expiry,
                    )
                )
                row.status, row.reason, row.approver, row.expires = status, reason, approver, expiry
                row.updated_at = now
                changed.append(row.id)
        return sorted(changed)

    def expire_waivers(self, today: dt.date | None = None, actor: str = "trueorigin") -> list[int]:
        """Turn waivers past their expiry back to open, recording why; returns the finding ids."""
        day = today or dt.date.today()
        now = time.time()
        expired: list[int] = []
        with self._session() as session:
            rows = session.scalars(
                select(FindingRow).where(FindingRow.status == "waived", FindingRow.expires < day)
            ).all()
            for row in rows:
                why = f"waiver expired on {row.expires.isoformat() if row.expires else '?'}"
                session.add(
                    FindingHistoryRow(
                        finding_id=row.id,
                        changed_at=now,
                        actor=actor,
                        from_status="waived",
                        to_status="open",
                        reason=why,
                    )
                )
                row.status, row.reason, row.approver, row.expires, row.updated_at = "open", why, None, None, now
                expired.append(row.id)
        return sorted(expired)

    def history(self, finding_ids: Iterable[int] | None = None) -> list[HistoryEntry]:
        """Status changes, oldest first (all findings when `finding_ids` is None)."""
        with self._session() as session:
            query = select(FindingHistoryRow).order_by(FindingHistoryRow.changed_at, FindingHistoryRow.id)
            if finding_ids is not None:
                query = query.where(FindingHistoryRow.finding_id.in_(list(finding_ids)))
            return [
                HistoryEntry(
                    finding_id=r.finding_id,
                    changed_at=r.changed_at,
                    actor=r.actor,
                    from_status=r.from_status,
                    to_status=r.to_status,
                    reason=r.reason,
                    approver=r.approver,
                    expires=r.expires,
                )
                for r in session.scalars(query)
            ]


def status_at(history: Sequence[HistoryEntry], finding_id: int, when: float) -> str | None:
    """Status of a finding at a moment, replayed from its history (None if it did not exist yet)."""
    status: str | None = None
    for entry in history:
        if entry.finding_id == finding_id and entry.changed_at <= when:
            status = entry.to_status
    return status


def _matches(
    record: FindingRecord,
    flt: FindingFilter,
    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None,
    today: dt.date | None,
) -> bool:
    ident = record.identification

    def same(wanted: str | None, actual: str | None) -> bool:
        return wanted is None or (actual or "").casefold() == wanted.casefold()

    if not (same(flt.site, record.site) and same(flt.vendor, ident.vendor) and same(flt.brand, ident.brand)):
        return False
    if not same(flt.covered, ident.covered) or not same(flt.status, record.effective_status(today)):
        return False
    if flt.tag is not None and flt.tag.casefold() not in {t.casefold() for t in record.tags}:
        return False
    if network is not None:
        try:
            return ipaddress.ip_address(ident.host) in network
        except ValueError:
            return False
    return True


def as_mapping(record: ScanRecord) -> Mapping[str, Any]:
    return {
        "id": record.id,
        "kind": record.kind,
        "site": record.site,
        "status": record.status,
        "started_at": iso_time(record.started_at),
        "finished_at": iso_time(record.finished_at),
        "targets": record.targets,
        "hosts_done": record.hosts_done,
        "identifications": record.identifications,
        "kb_version": record.kb_version,
        "fingerprint_version": record.fingerprint_version,
        "tool_version": record.tool_version,
        "source_scan": record.source_scan,
    }
