"""The central side of sites: audit jobs, schedules and sensor health, kept in the store.

Used by the CLI, the ingest workers and the dispatcher (Celery beat's periodic task); the server reads the
same functions. Nothing here talks to the broker: `trueorigin.sites.broker` publishes.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from croniter import croniter
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from trueorigin.audit import AuditSession
from trueorigin.errors import InputError
from trueorigin.sites.messages import AuditJob, Heartbeat, check_site_name, validated
from trueorigin.store import Store
from trueorigin.store.sites_models import AuditJobRow, ScheduleRow, SensorRow, SiteStateRow

SITE_SCAN_KIND = "site-audit"
JOB_OPEN = ("queued", "running")
SENSOR_STALE_SECONDS = 180.0  # three missed heartbeats (one a minute)


@contextmanager
def session_of(store: Store) -> Iterator[Session]:
    """A committed-on-success session on the store's engine (the store's own helper is private)."""
    with Session(store.engine, expire_on_commit=False) as session, session.begin():
        yield session


@dataclass(frozen=True, slots=True)
class JobRecord:
    id: str
    site: str
    scan_id: str
    status: str
    sensor: str | None
    hosts_done: int
    observations: int
    error: str | None
    created_at: float
    updated_at: float
    schedule_id: int | None
    request: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "site": self.site,
            "scan_id": self.scan_id,
            "status": self.status,
            "sensor": self.sensor,
            "hosts_done": self.hosts_done,
            "observations": self.observations,
            "error": self.error,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "schedule_id": self.schedule_id,
        }


def _job(row: AuditJobRow) -> JobRecord:
    return JobRecord(
        row.id, row.site, row.scan_id, row.status, row.sensor, row.hosts_done, row.observations, row.error,
        row.created_at, row.updated_at, row.schedule_id, json.loads(row.request_json),
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class SensorRecord:
    site: str
    name: str
    version: str
    state: str
    job_id: str | None
    hosts_done: int
    hosts_total: int
    last_seen: float

    def healthy(self, now: float | None = None) -> bool:
        return (now or time.time()) - self.last_seen <= SENSOR_STALE_SECONDS

    def to_json(self, now: float | None = None) -> dict[str, Any]:
        return {
            "site": self.site,
            "name": self.name,
            "version": self.version,
            "state": self.state,
            "job_id": self.job_id,
            "hosts_done": self.hosts_done,
            "hosts_total": self.hosts_total,
            "last_seen": self.last_seen,
            "healthy": self.healthy(now),
        }


@dataclass(frozen=True, slots=True)
class ScheduleRecord:
    id: int
    site: str
    cron: str
    enabled: bool
    last_run: float | None
    request: dict[str, Any]

    def next_run(self, after: float | None = None) -> float:
        base = after if after is not None else (self.last_run or time.time())
        return float(croniter(self.cron, base).get_next(float))

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "site": self.site,
            "cron": self.cron,
            "enabled": self.enabled,
            "last_run": self.last_run,
            "next_run": self.next_run(),
            "request": self.request,
        }


def _schedule(row: ScheduleRow) -> ScheduleRecord:
    return ScheduleRecord(row.id, row.site, row.cron, row.enabled, row.last_run, json.loads(row.request_json))


def check_cron(expression: str) -> str:
    expression = " ".join(expression.split())
    if len(expression.split()) != 5 or not croniter.is_valid(expression):
        raise InputError(f"not a 5-field cron expression: {expression[:100]!r} (e.g. '0 2 * * 1' = Mondays 02:00)")
    return expression


def audit_request(site: str, targets: list[str], **options: Any) -> dict[str, Any]:
    """The audit parameters as a job carries them (validated now, so a bad schedule fails when created)."""
    check_site_name(site)
    probe: AuditJob = validated(AuditJob, {"job_id": "validate-only", "site": site, "targets": targets, **options})
    return probe.model_dump(exclude={"job_id", "site"})


class Sites:
    """Jobs, schedules and sensors of every site, over one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- jobs ------------------------------------------------------------------------------------

    def create_job(self, site: str, request: dict[str, Any], schedule_id: int | None = None) -> AuditJob:
        """A queued job and its (empty) scan; the caller publishes the returned message to the site."""
        check_site_name(site)
        job_id = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + secrets.token_hex(6)
        job = AuditJob(job_id=job_id, site=site, **request)
        self.store.add_site(site)
        with AuditSession.open(self.store, SITE_SCAN_KIND, list(job.targets), {"job": job_id, **request}, site) as s:
            scan_id = s.scan_id
        now = time.time()
        with session_of(self.store) as session:
            session.add(
                AuditJobRow(
                    id=job_id, site=site, scan_id=scan_id, schedule_id=schedule_id,
                    request_json=json.dumps(request, sort_keys=True), status="queued", sensor=None, hosts_done=0,
                    observations=0, error=None, created_at=now, updated_at=now,
                )
            )  # fmt: skip
        return job

    def job(self, job_id: str) -> JobRecord | None:
        with session_of(self.store) as session:
            row = session.get(AuditJobRow, job_id)
            return None if row is None else _job(row)

    def require_job(self, job_id: str) -> JobRecord:
        record = self.job(job_id)
        if record is None:
            raise InputError(f"no audit job {job_id[:64]!r}")
        return record

    def jobs(self, site: str | None = None, limit: int = 200) -> list[JobRecord]:
        with session_of(self.store) as session:
            query = select(AuditJobRow).order_by(AuditJobRow.created_at.desc()).limit(limit)
            if site is not None:
                query = query.where(AuditJobRow.site == site)
            return [_job(row) for row in session.scalars(query)]

    def cancel_job(self, job_id: str) -> JobRecord:
        with session_of(self.store) as session:
            row = session.get(AuditJobRow, job_id)
            if row is None:
                raise InputError(f"no audit job {job_id[:64]!r}")
            if row.status in JOB_OPEN:
                row.status, row.updated_at = "cancelled", time.time()
            return _job(row)

    def job_progress(
        self,
        job_id: str,
        sensor: str,
        *,
        hosts_done: int,
        observations: int,
        status: str | None,
        error: str | None,
        hosts_expected: int | None = None,
    ) -> JobRecord:
        """Record a batch: `hosts_done` is the scan's count of finished hosts (set, not added: a batch
        processed twice changes nothing), `observations` the ones this batch newly stored. A final
        "complete" batch brings `hosts_expected`: the job completes once that many hosts are finished,
        whichever batch is ingested last; "failed" and "cancelled" take effect at once."""
        with session_of(self.store) as session:
            row = session.get(AuditJobRow, job_id, with_for_update=True)
            if row is None:
                raise InputError(f"no audit job {job_id[:64]!r}")
            row.sensor = sensor[:200]
            row.hosts_done = max(row.hosts_done, hosts_done)
            row.observations += observations
            if row.status == "queued":
                row.status = "running"
            if hosts_expected is not None:
                row.hosts_expected = hosts_expected
            if status in ("failed", "cancelled") and row.status in JOB_OPEN:
                row.status = status
            if row.status == "running" and row.hosts_expected is not None and row.hosts_done >= row.hosts_expected:
                row.status = "complete"
            if error:
                row.error = error[:500]
            row.updated_at = time.time()
            return _job(row)

    # -- schedules -------------------------------------------------------------------------------

    def add_schedule(self, site: str, cron: str, request: dict[str, Any]) -> ScheduleRecord:
        check_site_name(site)
        cron = check_cron(cron)
        self.store.add_site(site)
        with session_of(self.store) as session:
            row = ScheduleRow(
                site=site, cron=cron, request_json=json.dumps(request, sort_keys=True), enabled=True,
                last_run=time.time(), created_at=time.time(),
            )  # fmt: skip
            session.add(row)
            session.flush()
            return _schedule(row)

    def update_schedule(
        self, schedule_id: int, *, cron: str | None = None, enabled: bool | None = None
    ) -> ScheduleRecord:
        with session_of(self.store) as session:
            row = session.get(ScheduleRow, schedule_id)
            if row is None:
                raise InputError(f"no schedule {schedule_id}")
            if cron is not None:
                row.cron = check_cron(cron)
            if enabled is not None:
                row.enabled = enabled
            return _schedule(row)

    def delete_schedule(self, schedule_id: int) -> None:
        with session_of(self.store) as session:
            row = session.get(ScheduleRow, schedule_id)
            if row is None:
                raise InputError(f"no schedule {schedule_id}")
            row.enabled = False  # jobs keep pointing at it; a disabled schedule never fires

    def schedules(self, site: str | None = None) -> list[ScheduleRecord]:
        with session_of(self.store) as session:
            query = select(ScheduleRow).order_by(ScheduleRow.id)
            if site is not None:
                query = query.where(ScheduleRow.site == site)
            return [_schedule(row) for row in session.scalars(query)]

    def due_jobs(self, now: float | None = None) -> list[AuditJob]:
        """Jobs for every enabled schedule whose next run has come; each schedule fires at most once per call
        (missed runs while the dispatcher was down are not replayed one by one)."""
        now = now or time.time()
        due: list[tuple[int, str, dict[str, Any]]] = []
        with session_of(self.store) as session:
            rows = session.scalars(select(ScheduleRow).where(ScheduleRow.enabled.is_(True)).with_for_update())
            for row in rows:
                if _schedule(row).next_run() <= now:
                    row.last_run = now
                    due.append((row.id, row.site, json.loads(row.request_json)))
        return [self.create_job(site, request, schedule_id=sid) for sid, site, request in due]

    # -- sensors ---------------------------------------------------------------------------------

    def heartbeat(self, beat: Heartbeat) -> None:
        for _attempt in range(2):  # two first heartbeats of one sensor may race to insert
            try:
                with session_of(self.store) as session:
                    row = session.scalar(
                        select(SensorRow).where(SensorRow.site == beat.site, SensorRow.name == beat.sensor)
                    )
                    if row is None:
                        row = SensorRow(site=beat.site, name=beat.sensor)
                        session.add(row)
                    row.version, row.state, row.job_id = beat.version, beat.state, beat.job_id
                    row.hosts_done, row.hosts_total, row.last_seen = beat.hosts_done, beat.hosts_total, beat.time
                return
            except IntegrityError:
                continue

    def sensors(self, site: str | None = None) -> list[SensorRecord]:
        with session_of(self.store) as session:
            query = select(SensorRow).order_by(SensorRow.site, SensorRow.name)
            if site is not None:
                query = query.where(SensorRow.site == site)
            return [
                SensorRecord(r.site, r.name, r.version, r.state, r.job_id, r.hosts_done, r.hosts_total, r.last_seen)
                for r in session.scalars(query)
            ]

    # -- small state -----------------------------------------------------------------------------

    def state(self, key: str) -> str | None:
        with session_of(self.store) as session:
            row = session.get(SiteStateRow, key)
            return None if row is None else row.value

    def set_state(self, key: str, value: str) -> None:
        with session_of(self.store) as session:
            row = session.get(SiteStateRow, key)
            if row is None:
                session.add(SiteStateRow(key=key, value=value))
            else:
                row.value = value
