"""ORM tables of the store (SQLAlchemy 2 declarative).

The schema itself is created by the Alembic migrations in `store/migrations/versions/`; these classes must
stay identical to what the migrations build (a test compares them with Alembic's autogenerate).

Times are UTC epoch seconds (floats) so SQLite and PostgreSQL behave the same; waiver expiry is a date.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Explicit constraint names so migrations are reproducible on every backend.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class SiteRow(Base):
    __tablename__ = "sites"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")


class ScanRow(Base):
    __tablename__ = "scans"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    targets_json: Mapped[str] = mapped_column(Text)
    options_json: Mapped[str] = mapped_column(Text)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), nullable=True)
    status: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[float] = mapped_column(Float)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    kb_version: Mapped[str | None] = mapped_column(String(200), nullable=True)
    tool_version: Mapped[str | None] = mapped_column(String(200), nullable=True)
    fingerprint_version: Mapped[str | None] = mapped_column(String(200), nullable=True)
    source_scan: Mapped[str | None] = mapped_column(String(64), nullable=True)  # re-identified from


class ScanHostRow(Base):
    """One host of one scan; `done` means it is finished and never redone on --resume."""

    __tablename__ = "scan_hosts"
    __table_args__ = (UniqueConstraint("scan_id", "host"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scan_id: Mapped[str] = mapped_column(ForeignKey("scans.id"), index=True)
    host: Mapped[str] = mapped_column(String(255))
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class ObservationRow(Base):
    """Append-only: raw bytes exactly as received, with their sha256 for later verification."""

    __tablename__ = "observations"
    __table_args__ = (Index("ix_observations_scan_id_host", "scan_id", "host"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scan_id: Mapped[str] = mapped_column(ForeignKey("scans.id"))
    host: Mapped[str] = mapped_column(String(255))
    protocol: Mapped[str] = mapped_column(String(64))
    port: Mapped[int | None] = mapped_column(Integer, nullable=True)
    request: Mapped[str | None] = mapped_column(Text, nullable=True)
    transport: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(32))
    observed_at: Mapped[float] = mapped_column(Float)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64), index=True)


class DeviceRow(Base):
    """A physical device followed across scans (matched by MAC, then serial, then address within a site)."""

    __tablename__ = "devices"
    # A device without MAC or serial is its address within its site: at most one such device per address
    # (migration 0002; what concurrent writers race on is refused by the database, not only by the lock).
    __table_args__ = (
        Index(
            "uq_devices_address_keyless_no_site",
            "address",
            unique=True,
            sqlite_where=text("site_id IS NULL AND mac IS NULL AND serial IS NULL"),
            postgresql_where=text("site_id IS NULL AND mac IS NULL AND serial IS NULL"),
        ),
        Index(
            "uq_devices_site_id_address_keyless",
            "site_id",
            "address",
            unique=True,
            sqlite_where=text("site_id IS NOT NULL AND mac IS NULL AND serial IS NULL"),
            postgresql_where=text("site_id IS NOT NULL AND mac IS NULL AND serial IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mac: Mapped[str | None] = mapped_column(String(17), nullable=True, index=True)
    serial: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    # Matched per host: indexed by migration 0002_devices_address_index.
    address: Mapped[str] = mapped_column(String(255), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), nullable=True)
    first_seen: Mapped[float] = mapped_column(Float)
    last_seen: Mapped[float] = mapped_column(Float)


class DeviceTagRow(Base):
    __tablename__ = "device_tags"
    __table_args__ = (UniqueConstraint("device_id", "tag"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), index=True)
    tag: Mapped[str] = mapped_column(String(100))


class IdentificationRow(Base):
    """`Identification.to_json()` as written, plus the columns that filters and diffs need."""

    __tablename__ = "identifications"
    __table_args__ = (UniqueConstraint("scan_id", "host"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scan_id: Mapped[str] = mapped_column(ForeignKey("scans.id"), index=True)
    host: Mapped[str] = mapped_column(String(255))
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), index=True)
    vendor: Mapped[str | None] = mapped_column(String(200), nullable=True)
    brand: Mapped[str | None] = mapped_column(String(200), nullable=True)
    covered: Mapped[str] = mapped_column(String(16))
    model: Mapped[str | None] = mapped_column(String(200), nullable=True)
    firmware: Mapped[str | None] = mapped_column(String(200), nullable=True)
    kind: Mapped[str | None] = mapped_column(String(40), nullable=True)
    mac: Mapped[str | None] = mapped_column(String(17), nullable=True)
    serial: Mapped[str | None] = mapped_column(String(200), nullable=True)
    confidence: Mapped[float] = mapped_column(Float)
    identified_at: Mapped[float] = mapped_column(Float)
    ident_json: Mapped[str] = mapped_column(Text)


class FindingRow(Base):
    """One covered (or under-review) device, tracked until remediated; one row per device."""

    __tablename__ = "findings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    approver: Mapped[str | None] = mapped_column(String(200), nullable=True)
    expires: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    first_scan_id: Mapped[str] = mapped_column(ForeignKey("scans.id"))
    last_scan_id: Mapped[str] = mapped_column(ForeignKey("scans.id"))
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)


class FindingHistoryRow(Base):
    """Every status change of a finding: who, when, from, to, why."""

    __tablename__ = "finding_history"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"), index=True)
    changed_at: Mapped[float] = mapped_column(Float)
    actor: Mapped[str] = mapped_column(String(200))
    from_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    approver: Mapped[str | None] = mapped_column(String(200), nullable=True)
    expires: Mapped[dt.date | None] = mapped_column(Date, nullable=True)


# the multi-site tables live in their own module; imported here so every user of Base.metadata sees them
# The server's tables (users, sessions, tokens, audit log) share this metadata: one schema, one migration history.
from trueorigin.store import accounts as _accounts  # noqa: E402, F401
from trueorigin.store import sites_models as _sites_models  # noqa: E402,F401
