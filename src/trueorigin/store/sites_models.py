"""Tables of the multi-site layer (sensors, audit jobs, schedules, alerts); created by migration 0005_sites.

Kept apart from `store/models.py` so the core tables stay readable; same declarative Base and naming.
Times are UTC epoch seconds like the rest of the store.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from trueorigin.store.models import Base


class SensorRow(Base):
    """A site sensor as its heartbeats describe it (it never writes here itself: the ingest worker does)."""

    __tablename__ = "sensors"
    __table_args__ = (UniqueConstraint("site", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str] = mapped_column(String(50), index=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16))
    job_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    hosts_done: Mapped[int] = mapped_column(Integer, default=0)
    hosts_total: Mapped[int] = mapped_column(Integer, default=0)
    last_seen: Mapped[float] = mapped_column(Float)


class AuditJobRow(Base):
    """One audit sent to a site's sensors; its observations land in scan `scan_id`."""

    __tablename__ = "audit_jobs"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(50), index=True)
    scan_id: Mapped[str] = mapped_column(ForeignKey("scans.id"))
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("site_schedules.id"), nullable=True)
    request_json: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)  # queued running complete cancelled failed
    sensor: Mapped[str | None] = mapped_column(String(200), nullable=True)
    hosts_done: Mapped[int] = mapped_column(Integer, default=0)
    # set by the sensor's last batch: the job completes when that many hosts are finished in the store, so a
    # final batch ingested before earlier ones (several workers) does not close the job early
    hosts_expected: Mapped[int | None] = mapped_column(Integer, nullable=True)
    observations: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)


class ScheduleRow(Base):
    """A recurring audit of one site: a cron expression and the audit's parameters (never credentials)."""

    __tablename__ = "site_schedules"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str] = mapped_column(String(50), index=True)
    cron: Mapped[str] = mapped_column(String(100))
    request_json: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    last_run: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[float] = mapped_column(Float)


class AlertTargetRow(Base):
    """Where alerts go: a webhook URL (HMAC-signed), an SMTP recipient or a syslog collector (CEF)."""

    __tablename__ = "alert_targets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # webhook email syslog
    address: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str | None] = mapped_column(String(200), nullable=True)
    options_json: Mapped[str] = mapped_column(Text, default="{}")
    site: Mapped[str | None] = mapped_column(String(50), nullable=True)  # None: every site
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[float] = mapped_column(Float)


class AlertRow(Base):
    """One alert raised from a finding's history entry, per target: sent once, retried until delivered."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("history_id", "target_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    history_id: Mapped[int] = mapped_column(ForeignKey("finding_history.id"))
    target_id: Mapped[int] = mapped_column(ForeignKey("alert_targets.id"))
    event: Mapped[str] = mapped_column(String(40))
    payload_json: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # pending sent failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[float] = mapped_column(Float)
    sent_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class SiteStateRow(Base):
    """Small named cursors (e.g. the last finding-history id turned into alerts)."""

    __tablename__ = "site_state"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
