"""A site sensor: consumes its site's audit jobs, scans, and sends observations (never verdicts) to ingest.

The scan runs in a thread of its own (inside the site's lab namespace when `lab_netns` is set, a lab and
test option); this thread keeps the broker connection in the host's namespace and turns finished hosts into
bounded batches. The sensor holds no database credentials and loads no knowledge base: the central ingest
workers decide. Its own policy still applies to every job: public addresses only with the sensor's own
`--allow-public`, credentials only from the sensor's own file.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from celery import Celery
from kombu.entity import Queue

from trueorigin import __version__
from trueorigin.errors import InputError
from trueorigin.model import Identification, Observation
from trueorigin.scan.credentials import CredentialBook, load_credentials
from trueorigin.scan.engine import HostResult, Scanner, ScanOptions
from trueorigin.scan.targets import parse_targets
from trueorigin.sites.broker import (
    AUDIT_TASK,
    HEARTBEAT_TASK,
    INGEST,
    INGEST_QUEUE,
    INGEST_TASK,
    control_queue,
    ingest_routing_key,
    make_app,
    site_queue,
)
from trueorigin.sites.messages import (
    MAX_BATCH_OBSERVATIONS,
    AuditJob,
    Heartbeat,
    ObservationBatch,
    ObservationIn,
    check_site_name,
    validated,
)

BATCH_SECONDS = 2.0
BATCH_BYTES = 4 * 1024 * 1024
HEARTBEAT_SECONDS = 30.0


@dataclass(slots=True)
class SensorConfig:
    site: str
    broker_url: str
    name: str = field(default_factory=socket.gethostname)
    credentials: Path | None = None
    lab_netns: str | None = None
    allow_public: bool = False
    max_hosts: int = 65_536


class ScanCancelled(Exception):
    pass


def _no_verdict(host: str, _observations: list[Observation]) -> Identification:
    # the sensor decides nothing: identification happens centrally, from the observations it sends
    return Identification(host=host, vendor=None, brand=None, covered="no")


class _Handoff:
    """Result sink of the scan thread: finished hosts go into a bounded queue; a cancel stops the scan."""

    def __init__(self, results: queue.Queue[HostResult | None], cancelled: threading.Event) -> None:
        self.results = results
        self.cancelled = cancelled

    async def host_done(self, result: HostResult) -> None:
        if self.cancelled.is_set():
            raise ScanCancelled
        while True:
            try:
                self.results.put_nowait(result)
                return
            except queue.Full:  # the publisher is behind (slow broker): wait instead of growing memory
                await asyncio.sleep(0.05)


@dataclass(slots=True)
class _Progress:
    done: int = 0
    total: int = 0
    job_id: str | None = None


class Sensor:
    """One sensor process: a Celery worker on the site's queue, plus heartbeats."""

    def __init__(self, config: SensorConfig, app: Celery | None = None) -> None:
        check_site_name(config.site)
        self.config = config
        self.app = app or make_app(config.broker_url, declare=False)
        self.book = load_credentials(config.credentials) if config.credentials else CredentialBook()
        self.progress = _Progress()
        self._stop = threading.Event()
        self.app.task(name=AUDIT_TASK, acks_late=True)(self._audit_task)

    # -- messages out ------------------------------------------------------------------------------

    def _publish(self, task: str, payload: dict[str, Any]) -> None:
        # the queue object names the target without declaring it (the sensor's user may declare nothing)
        target = Queue(INGEST_QUEUE.name, INGEST, routing_key=ingest_routing_key(self.config.site), no_declare=True)
        self.app.send_task(
            task, args=[payload], queue=target, exchange=INGEST.name, routing_key=target.routing_key, declare=[]
        )

    def heartbeat(self, state: str) -> None:
        beat = Heartbeat(
            site=self.config.site, sensor=self.config.name, version=__version__, state=state,
            job_id=self.progress.job_id, hosts_done=self.progress.done, hosts_total=self.progress.total,
            time=time.time(),
        )  # fmt: skip
        self._publish(HEARTBEAT_TASK, beat.model_dump(mode="json"))

    def _heartbeats(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            try:
                self.heartbeat("auditing" if self.progress.job_id else "idle")
            except Exception:  # the broker is down: Celery reconnects; the next beat will tell
                continue

    # -- the job -----------------------------------------------------------------------------------

    def _audit_task(self, payload: dict[str, Any]) -> dict[str, Any]:
        job: AuditJob = validated(AuditJob, payload)
        if job.site != self.config.site:
            raise InputError(f"job for site {job.site!r} delivered to a sensor of {self.config.site!r}")
        return self.run_job(job)

    def run_job(self, job: AuditJob, on_host: Callable[[int], None] | None = None) -> dict[str, Any]:
        """Scan the job's targets and send every finished host to ingest; returns a summary."""
        run = f"{self.config.name}/{secrets.token_hex(4)}"  # batches of a redelivered job are a new run
        targets = parse_targets(
            job.targets, job.exclude, allow_public=self.config.allow_public,
            max_hosts=min(job.max_hosts, self.config.max_hosts), resolve=True,
        )  # fmt: skip
        options = ScanOptions(
            ports=tuple(job.ports), rate=job.rate, concurrency=job.concurrency, timeout=job.timeout,
            udp_discovery=job.udp_discovery, credentials=self.book,
        )  # fmt: skip
        results: queue.Queue[HostResult | None] = queue.Queue(maxsize=512)
        cancelled = threading.Event()
        failure: list[BaseException] = []
        self.progress = _Progress(0, targets.count(), job.job_id)

        def scan() -> None:
            try:
                if self.config.lab_netns:
                    from trueorigin.sites.netns import enter_network_namespace

                    enter_network_namespace(self.config.lab_netns)
                scanner = Scanner(options, identifier=_no_verdict, hostnames=targets.hostnames)
                asyncio.run(scanner.run(iter(targets), _Handoff(results, cancelled)))
            except ScanCancelled:
                pass
            except BaseException as exc:  # reported in the final batch, never swallowed
                failure.append(exc)
            finally:
                results.put(None)

        thread = threading.Thread(target=scan, name=f"scan-{job.job_id}", daemon=True)
        thread.start()
        sequence = 0
        pending: list[ObservationIn] = []
        finished: list[str] = []
        size = 0
        last_flush = time.monotonic()
        last_beat = time.monotonic()
        sent_observations = 0

        def flush(final: bool = False, status: str = "running", error: str | None = None) -> None:
            nonlocal sequence, pending, finished, size, last_flush, sent_observations
            batch = ObservationBatch(
                job_id=job.job_id, site=job.site, sensor=run, sequence=sequence, observations=pending,
                finished_hosts=finished, final=final, status=status, error=error,
                hosts_total=self.progress.done if final else None,
            )  # fmt: skip
            self._publish(INGEST_TASK, batch.model_dump(mode="json"))
            sent_observations += len(pending)
            sequence += 1
            pending, finished, size, last_flush = [], [], 0, time.monotonic()

        with self.app.connection_for_read() as control:
            while True:
                try:
                    result = results.get(timeout=0.5)
                except queue.Empty:
                    result = False  # type: ignore[assignment]
                if result is None:
                    break
                if result:
                    for obs in result.observations:
                        item = ObservationIn.of(obs)
                        size += len(item.data_b64)
                        pending.append(item)
                        if len(pending) >= MAX_BATCH_OBSERVATIONS or size >= BATCH_BYTES:
                            flush()
                    finished.append(result.address)
                    self.progress.done += 1
                    if on_host is not None:
                        on_host(self.progress.done)
                due = time.monotonic() - last_flush >= BATCH_SECONDS or len(finished) >= 4096
                if (pending or finished) and due:
                    flush()
                if time.monotonic() - last_beat >= BATCH_SECONDS:
                    last_beat = time.monotonic()
                    if self._cancel_requested(control, job):
                        cancelled.set()
            thread.join()
        status, error = "complete", None
        if cancelled.is_set():
            status = "cancelled"
        elif failure:
            status, error = "failed", f"{type(failure[0]).__name__}: {str(failure[0])[:300]}"
        flush(final=True, status=status, error=error)
        self.progress = _Progress()
        return {"job": job.job_id, "status": status, "observations": sent_observations, "batches": sequence}

    def _cancel_requested(self, connection: Any, job: AuditJob) -> bool:
        """Drain the site's control queue; True if one of its messages cancels this job (others are stale)."""
        wanted = False
        bound = control_queue(self.config.site, declare=False)(connection.default_channel)
        for _ in range(100):
            message = bound.get(no_ack=True, accept=["json"])
            if message is None:
                break
            try:
                body = message.decode()
            except Exception:  # not JSON: nothing a cancel request looks like
                continue
            if isinstance(body, dict) and body.get("cancel") == job.job_id:
                wanted = True
        return wanted

    # -- running -----------------------------------------------------------------------------------

    def worker_argv(self) -> list[str]:
        return [
            "worker", "--queues", site_queue(self.config.site, declare=False).name, "--pool", "threads",
            "--concurrency", "1", "--without-mingle", "--without-gossip", "--without-heartbeat",
            "--hostname", f"sensor-{self.config.site}@{self.config.name}", "--loglevel", "WARNING",
        ]  # fmt: skip

    def run_forever(self) -> None:
        self.app.conf.task_queues = [site_queue(self.config.site, declare=False)]
        beats = threading.Thread(target=self._heartbeats, name="heartbeat", daemon=True)
        with contextlib.suppress(Exception):  # an unreachable broker: Celery's own retries take over below
            self.heartbeat("idle")
        beats.start()
        try:
            self.app.worker_main(self.worker_argv())
        finally:
            self._stop.set()
