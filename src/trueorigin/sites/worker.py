"""Central Celery tasks: ingest of sensors' observations, heartbeats, the dispatcher (beat), alert delivery.

Run by `trueorigin worker` (ingest workers, which hold the database URL) and `trueorigin beat` (which only
publishes the dispatcher's tick). Every task is idempotent, because late acknowledgement delivers a message
again after a crash: an observation stored twice is stored once (audit pipeline keys), a host finished twice is
finished once, progress is read back from the store rather than added up, and an alert is sent once per target
(`alerts` rows).
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from celery import Celery, Task
from sqlalchemy.exc import DBAPIError, OperationalError

from trueorigin.audit.ingest import ingest
from trueorigin.audit.session import AuditSession
from trueorigin.errors import InputError
from trueorigin.sites import alerts
from trueorigin.sites.broker import (
    CENTRAL,
    CENTRAL_QUEUE,
    DELIVER_TASK,
    DISPATCH_TASK,
    HEARTBEAT_TASK,
    INGEST_QUEUE,
    INGEST_TASK,
    make_app,
    publish_job,
    site_of_routing_key,
)
from trueorigin.sites.messages import Heartbeat, ObservationBatch, validated
from trueorigin.sites.service import Sites
from trueorigin.store import Store, open_store

log = logging.getLogger("trueorigin.sites")
DISPATCH_SECONDS = 30.0
RETRYABLE = (OperationalError, DBAPIError, ConnectionError, OSError)


class Central:
    """The ingest worker's state: one store per process (opened on first use, after the fork)."""

    def __init__(self, db_url: str | None, base_url: str | None = None) -> None:
        self.db_url = db_url
        self.base_url = base_url
        self._store: Store | None = None
        self._pid = 0
        self._lock = threading.Lock()

    @property
    def store(self) -> Store:
        with self._lock:
            if self._store is None or self._pid != os.getpid():
                self._store = open_store(self.db_url)
                self._pid = os.getpid()
            return self._store

    # -- the tasks' bodies (plain methods: tested without a broker too) ---------------------------

    def ingest_batch(self, payload: dict[str, Any], routing_key: str | None) -> dict[str, Any]:
        batch: ObservationBatch = validated(ObservationBatch, payload)
        accepted_for = site_of_routing_key(routing_key)
        if accepted_for is not None and accepted_for != batch.site:
            raise InputError(f"batch claims site {batch.site!r} but was published for {accepted_for!r}")
        sites = Sites(self.store)
        job = sites.require_job(batch.job_id)
        if job.site != batch.site:
            raise InputError(f"batch for job {job.id} of site {job.site!r} came from site {batch.site!r}")
        if job.status == "cancelled" and not batch.final:
            return {"job": job.id, "ignored": "cancelled"}
        # Everything below is idempotent, so a batch delivered again (a worker killed mid-batch) is simply
        # processed again: its observations are stored once, its hosts finished once, and the counters are
        # set from the store, never incremented blindly.
        observations = [item.to_observation() for item in batch.observations]
        result = ingest(self.store, job.scan_id, observations, finish_hosts=True)
        if batch.finished_hosts:
            with AuditSession.attach(self.store, job.scan_id) as session:
                session.finish_hosts(sorted(set(batch.finished_hosts)))
        done = len(self.store.done_hosts(job.scan_id))
        record = sites.job_progress(
            job.id, batch.sensor, hosts_done=done, observations=result.added,
            status=batch.status if batch.final else None, error=batch.error,
            hosts_expected=batch.hosts_total if batch.final else None,
        )  # fmt: skip
        if record.status in ("complete", "failed", "cancelled"):
            self.store.finish_scan(job.scan_id, record.status)
        if result.identifications:
            self.raise_alerts()
        return {"job": job.id, "added": result.added, "duplicates": result.duplicates, "hosts_done": done}

    def heartbeat(self, payload: dict[str, Any], routing_key: str | None) -> None:
        beat: Heartbeat = validated(Heartbeat, payload)
        accepted_for = site_of_routing_key(routing_key)
        if accepted_for is not None and accepted_for != beat.site:
            raise InputError(f"heartbeat claims site {beat.site!r} but was published for {accepted_for!r}")
        Sites(self.store).heartbeat(beat)

    def raise_alerts(self) -> list[int]:
        return alerts.raise_alerts(self.store, self.base_url)

    def dispatch(self, app: Celery) -> dict[str, Any]:
        """Beat's tick: start due scheduled audits, expire waivers, raise and send alerts."""
        jobs = Sites(self.store).due_jobs()
        for job in jobs:
            publish_job(app, job.model_dump(mode="json"))
        expired = self.store.expire_waivers()
        created = self.raise_alerts()
        for alert_id in alerts.pending(self.store):
            app.send_task(DELIVER_TASK, args=[alert_id], exchange=CENTRAL.name, routing_key="central")
        return {"jobs": [j.job_id for j in jobs], "waivers_expired": expired, "alerts": created}


def build_worker_app(broker_url: str, db_url: str | None, base_url: str | None = None) -> tuple[Celery, Central]:
    """The ingest worker's app with its tasks bound to one `Central`."""
    app = make_app(broker_url)
    central = Central(db_url, base_url)

    @app.task(name=INGEST_TASK, bind=True, acks_late=True, autoretry_for=RETRYABLE, retry_backoff=True,
              retry_backoff_max=60, max_retries=None)  # fmt: skip
    def ingest_task(task: Task, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            return central.ingest_batch(payload, (task.request.delivery_info or {}).get("routing_key"))
        except InputError as exc:  # a bad or foreign message is dropped, never retried
            log.warning("ingest refused a batch: %s", exc)
            return {"refused": str(exc)[:300]}

    @app.task(name=HEARTBEAT_TASK, bind=True, acks_late=True, autoretry_for=RETRYABLE, retry_backoff=True,
              max_retries=3)  # fmt: skip
    def heartbeat_task(task: Task, payload: dict[str, Any]) -> None:
        try:
            central.heartbeat(payload, (task.request.delivery_info or {}).get("routing_key"))
        except InputError as exc:
            log.warning("refused a heartbeat: %s", exc)

    @app.task(name=DISPATCH_TASK, acks_late=True, autoretry_for=RETRYABLE, retry_backoff=True, max_retries=3)
    def dispatch_task() -> dict[str, Any]:
        return central.dispatch(app)

    @app.task(name=DELIVER_TASK, bind=True, acks_late=True, max_retries=8)
    def deliver_task(task: Task, alert_id: int) -> bool:
        try:
            return alerts.deliver(central.store, alert_id)
        except InputError:
            return False
        except Exception as exc:  # retried with exponential backoff: 2, 4, 8 ... 256 s
            raise task.retry(exc=exc, countdown=2 ** (task.request.retries + 1)) from None

    app.conf.beat_schedule = {
        "trueorigin-dispatch": {
            "task": DISPATCH_TASK,
            "schedule": DISPATCH_SECONDS,
            "options": {"queue": "trueorigin.central"},
        }
    }
    app.conf.task_routes = {DISPATCH_TASK: {"queue": CENTRAL_QUEUE.name}, DELIVER_TASK: {"queue": CENTRAL_QUEUE.name}}
    return app, central


def worker_argv(concurrency: int, name: str) -> list[str]:
    return [
        "worker", "--queues", f"{INGEST_QUEUE.name},{CENTRAL_QUEUE.name}", "--pool", "prefork",
        "--concurrency", str(concurrency), "--without-mingle", "--without-gossip", "--hostname", name,
        "--loglevel", "WARNING",
    ]  # fmt: skip
