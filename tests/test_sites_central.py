"""The central side of sites without a broker: messages, jobs, schedules, idempotent ingest, alerts.

Store tests run on SQLite and on the machine's PostgreSQL (`pg_url`); alert channels are real servers on
127.0.0.1 (an HTTP receiver, aiosmtpd, a UDP syslog socket).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trueorigin.errors import InputError
from trueorigin.sites import alerts
from trueorigin.sites.messages import (
    MAX_BATCH_OBSERVATIONS,
    AuditJob,
    ObservationBatch,
    ObservationIn,
    check_site_name,
    validated,
)
from trueorigin.sites.service import Sites, audit_request, check_cron
from trueorigin.sites.worker import Central
from trueorigin.store import FindingFilter, Store, open_store

# A Hikvision SADP answer as the lab and the passive tests use it (docs/lab.md cites the public capture).
HIKVISION_HTTP = b"HTTP/1.1 200 OK\r\nServer: App-webs/\r\nContent-Type: text/html\r\n\r\n<title>NVR</title>"
AXIS_HTTP = b"HTTP/1.1 200 OK\r\nServer: axis\r\n\r\n<title>AXIS P3245-LVE</title>"


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = f"sqlite:///{tmp_path / 'central.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    with open_store(url) as opened:
        yield opened


def obs(host: str, data: bytes, port: int = 80, when: float | None = None) -> dict[str, Any]:
    return {
        "host": host, "protocol": "http", "data_b64": base64.b64encode(data).decode(), "port": port,
        "request": "GET /", "transport": "tcp", "status": "ok", "time": when or time.time(),
    }  # fmt: skip


def batch(job_id: str, site: str, sequence: int, observations: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"job_id": job_id, "site": site, "sensor": "s1/run1", "sequence": sequence,
            "observations": observations, **extra}  # fmt: skip


def new_job(store: Store, site: str, targets: list[str]) -> str:
    return Sites(store).create_job(site, audit_request(site, targets, ports=[80])).job_id


# -- messages ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, id=n or "empty") for n in ("", "UPPER", "a_b", "-a", "a-", "a" * 51, "a.b", "a b", "é")],
)
def test_site_names_that_cannot_be_queue_names_are_refused(name: str) -> None:
    with pytest.raises(InputError):
        check_site_name(name)


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        pytest.param({"job_id": "x" * 8, "site": "a", "targets": [], "ports": [80]}, "targets", id="no-targets"),
        pytest.param({"job_id": "x" * 8, "site": "a", "targets": ["1"], "ports": [70000]}, "ports", id="bad-port"),
        pytest.param({"job_id": "x" * 8, "site": "a", "targets": ["1"], "ports": [80], "password": "p"}, "password",
                     id="unknown-key"),
        pytest.param({"job_id": "../../x", "site": "a", "targets": ["1"], "ports": [80]}, "job_id", id="path-job"),
    ],
)  # fmt: skip
def test_bad_jobs_are_refused_without_echoing_them(payload: dict[str, Any], where: str) -> None:
    with pytest.raises(InputError, match=where) as caught:
        validated(AuditJob, payload)
    assert "password" not in str(caught.value) or where == "password"
    assert "'p'" not in str(caught.value)


def test_batches_are_size_bounded() -> None:
    too_many = [obs("198.18.0.1", b"x")] * (MAX_BATCH_OBSERVATIONS + 1)
    with pytest.raises(InputError):
        validated(ObservationBatch, batch("job-00001", "a", 0, too_many))
    huge = obs("198.18.0.1", b"x" * (300 * 1024))
    with pytest.raises(InputError):
        validated(ObservationBatch, batch("job-00001", "a", 0, [huge]))
    with pytest.raises(InputError):
        validated(ObservationBatch, batch("job-00001", "a", 0, [obs("not-an-ip", b"x")]))


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
        max_leaves=20,
    )
)
def test_any_decoded_message_is_accepted_or_refused_as_input(payload: Any) -> None:
    for model in (AuditJob, ObservationBatch):
        with contextlib.suppress(InputError):  # the only failure allowed: a refusal, never a crash
            validated(model, payload)


def test_observation_round_trips_through_a_message() -> None:
    item = ObservationIn.model_validate(obs("::ffff:198.18.0.9", bytes(range(256))))
    back = item.to_observation()
    assert back.data == bytes(range(256)) and back.host == "::ffff:c612:9"
    assert ObservationIn.of(back).to_observation() == back


# -- jobs, schedules, sensors ---------------------------------------------------------------------------


def test_cron_expressions_are_checked() -> None:
    assert check_cron("0  2 * * 1") == "0 2 * * 1"
    for bad in ("* * *", "61 * * * *", "every monday", "* * * * * *"):
        with pytest.raises(InputError):
            check_cron(bad)


def test_due_schedules_fire_once_per_period(store: Store) -> None:
    sites = Sites(store)
    schedule = sites.add_schedule("campus", "*/5 * * * *", audit_request("campus", ["198.18.0.0/28"], ports=[80]))
    start = schedule.last_run or time.time()
    assert sites.due_jobs(now=start + 1) == []  # created now: next run is up to five minutes away
    fired = sites.due_jobs(now=start + 301)
    assert [j.site for j in fired] == ["campus"] and fired[0].targets == ["198.18.0.0/28"]
    assert sites.due_jobs(now=start + 302) == []  # not twice for the same period
    sites.update_schedule(schedule.id, enabled=False)
    assert sites.due_jobs(now=start + 10_000) == []
    job = sites.require_job(fired[0].job_id)
    assert job.status == "queued" and job.schedule_id == schedule.id


def test_a_cancelled_job_stays_cancelled(store: Store) -> None:
    sites = Sites(store)
    job_id = new_job(store, "campus", ["198.18.0.1"])
    assert sites.cancel_job(job_id).status == "cancelled"
    record = sites.job_progress(job_id, "s", hosts_done=1, observations=0, status="complete", error=None)
    assert record.status == "cancelled"


# -- ingest -----------------------------------------------------------------------------------------------


def test_ingest_is_idempotent_and_identifies_centrally(store: Store) -> None:
    central = Central(None)
    central._store = store  # the test's store (SQLite or PostgreSQL)
    central._pid = __import__("os").getpid()
    job_id = new_job(store, "campus", ["198.18.0.1", "198.18.0.2"])
    payload = batch(job_id, "campus", 0, [obs("198.18.0.1", HIKVISION_HTTP), obs("198.18.0.2", AXIS_HTTP)])
    first = central.ingest_batch(payload, "ingest.campus")
    assert first["added"] == 2 and first["hosts_done"] == 2
    again = central.ingest_batch(payload, "ingest.campus")  # redelivered after a crash
    assert again["added"] == 0 and again["duplicates"] == 2 and again["hosts_done"] == 2
    rerun = central.ingest_batch({**payload, "sensor": "s2/run2"}, "ingest.campus")  # a whole job redone
    assert rerun["added"] == 0 and rerun["duplicates"] == 2
    final = central.ingest_batch(
        batch(job_id, "campus", 1, [], final=True, status="complete", hosts_total=2), "ingest.campus"
    )
    assert final["hosts_done"] == 2
    sites = Sites(store)
    record = sites.require_job(job_id)
    assert record.status == "complete" and record.hosts_done == 2 and record.observations == 2
    findings = store.findings(FindingFilter(site="campus"))
    assert [(f.identification.host, f.identification.vendor) for f in findings] == [("198.18.0.1", "Hikvision")]


def test_a_final_batch_ingested_first_does_not_close_the_job_early(store: Store) -> None:
    """With several ingest workers the last batch can be stored before an earlier one."""
    central = Central(None)
    central._store, central._pid = store, __import__("os").getpid()
    job_id = new_job(store, "campus", ["198.18.0.1", "198.18.0.2"])
    last = batch(job_id, "campus", 1, [obs("198.18.0.2", AXIS_HTTP)], final=True, status="complete", hosts_total=2)
    central.ingest_batch(last, "ingest.campus")
    assert Sites(store).require_job(job_id).status == "running"
    central.ingest_batch(batch(job_id, "campus", 0, [obs("198.18.0.1", HIKVISION_HTTP)]), "ingest.campus")
    record = Sites(store).require_job(job_id)
    assert record.status == "complete" and record.hosts_done == 2
    assert store.require_scan(record.scan_id).status == "complete"


@pytest.mark.parametrize(
    ("claimed", "routing_key"),
    [pytest.param("other", "ingest.other", id="job-of-another-site"),
     pytest.param("campus", "ingest.other", id="published-as-another-site")],
)  # fmt: skip
def test_a_sensor_adds_observations_for_its_own_site_only(store: Store, claimed: str, routing_key: str) -> None:
    central = Central(None)
    central._store, central._pid = store, __import__("os").getpid()
    job_id = new_job(store, "campus", ["198.18.0.1"])
    with pytest.raises(InputError, match="site"):
        central.ingest_batch(batch(job_id, claimed, 0, [obs("198.18.0.1", HIKVISION_HTTP)]), routing_key)
    assert store.findings(FindingFilter()) == []


def test_same_address_at_two_sites_is_two_devices(store: Store) -> None:
    central = Central(None)
    central._store, central._pid = store, __import__("os").getpid()
    for site in ("north", "south"):
        job_id = new_job(store, site, ["198.18.0.1"])
        central.ingest_batch(batch(job_id, site, 0, [obs("198.18.0.1", HIKVISION_HTTP)]), f"ingest.{site}")
    findings = store.findings(FindingFilter(covered="yes"))
    assert sorted(f.site or "" for f in findings) == ["north", "south"]
    assert len({f.device_id for f in findings}) == 2
    assert [f.site for f in store.findings(FindingFilter(site="north"))] == ["north"]


# -- alerts -----------------------------------------------------------------------------------------------


class Receiver(BaseHTTPRequestHandler):
    failures_left = 0
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if Receiver.failures_left > 0:
            Receiver.failures_left -= 1
            self.send_response(503)
            self.end_headers()
            return
        Receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        return


@pytest.fixture
def webhook() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    Receiver.received, Receiver.failures_left = [], 0
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hook"
    finally:
        server.shutdown()


HOSTILE = "Evil\x1b[2J|=\\\n<script>alert(1)</script>\u202e"


def _covered_finding(store: Store, site: str = "campus", title: str = "NVR", base_url: str | None = None) -> None:
    """An audit batch that opens (or reopens) a covered finding; the ingest raises its alerts at once."""
    central = Central(None, base_url)
    central._store, central._pid = store, __import__("os").getpid()
    job_id = new_job(store, site, ["198.18.0.1"])
    answer = HIKVISION_HTTP.replace(b"<title>NVR</title>", f"<title>{title}</title>".encode())
    central.ingest_batch(batch(job_id, site, 0, [obs("198.18.0.1", answer)]), f"ingest.{site}")


def test_webhook_alert_is_signed_retried_and_sent_once(store: Store, webhook: str) -> None:
    alerts.add_target(store, "webhook", webhook, secret="s3cret")
    _covered_finding(store, title=HOSTILE, base_url="https://trueorigin.example")
    created = alerts.pending(store)
    assert len(created) == 1 and alerts.raise_alerts(store) == []  # raised once: the cursor moved on
    Receiver.failures_left = 2
    for _attempt in range(2):
        with pytest.raises(ConnectionError):
            alerts.deliver(store, created[0])
    assert alerts.deliver(store, created[0]) is True
    assert alerts.deliver(store, created[0]) is True and len(Receiver.received) == 1  # never twice
    headers, body = Receiver.received[0]
    expected = hmac.new(b"s3cret", headers["x-trueorigin-timestamp"].encode() + b"." + body, hashlib.sha256)
    assert headers["x-trueorigin-signature"] == "sha256=" + expected.hexdigest()
    payload = json.loads(body)
    assert payload["event"] == "covered-appeared" and payload["site"] == "campus"
    assert payload["vendor"] == "Hikvision" and payload["link"].startswith("https://trueorigin.example/findings/")
    assert "s3cret" not in body.decode()


def test_reappearance_and_waiver_expiry_raise_their_own_alerts(store: Store, webhook: str) -> None:
    alerts.add_target(store, "webhook", webhook, secret="k")
    _covered_finding(store)
    assert len(alerts.pending(store)) == 1
    (finding,) = store.findings(FindingFilter())
    store.set_status([finding.id], "removed", actor="tester", reason="replaced by Axis")
    before = set(alerts.pending(store))
    _covered_finding(store)  # seen again by the next audit
    events = [json.loads(r)["event"] for r in _payloads(store, sorted(set(alerts.pending(store)) - before))]
    assert events == ["covered-reappeared"]
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    store.set_status([finding.id], "waived", actor="tester", reason="contract ends", approver="ciso", expires=tomorrow)
    store.expire_waivers(today=tomorrow + dt.timedelta(days=1))
    events = [json.loads(r)["event"] for r in _payloads(store, alerts.raise_alerts(store))]
    assert events == ["waiver-expired"]


def _payloads(store: Store, ids: list[int]) -> list[str]:
    from sqlalchemy import select

    from trueorigin.sites.service import session_of
    from trueorigin.store.sites_models import AlertRow

    with session_of(store) as session:
        return list(session.scalars(select(AlertRow.payload_json).where(AlertRow.id.in_(ids))))


def test_email_alert_over_smtp(store: Store) -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    got: list[Any] = []

    class Keep(Message):
        def handle_message(self, message: Any) -> None:
            got.append(message)

    with socket.socket() as probe:  # a free port on loopback for the SMTP server
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        alerts.add_target(store, "email", f"smtp://127.0.0.1:{port}/security@example.org")
        _covered_finding(store, title=HOSTILE)
        (alert_id,) = alerts.pending(store)
        alerts.deliver(store, alert_id)
    finally:
        controller.stop()
    (message,) = got
    assert message["To"] == "security@example.org" and "Hikvision" in message["Subject"]
    text = message.get_payload()
    assert "\x1b" not in text and "\u202e" not in text and "site: campus" in text


def test_syslog_cef_alert_escapes_device_strings(store: Store) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(10)
        alerts.add_target(store, "syslog", f"syslog://127.0.0.1:{sock.getsockname()[1]}")
        _covered_finding(store)
        (alert_id,) = alerts.pending(store)
        alerts.deliver(store, alert_id)
        line = sock.recv(65536).decode()
    assert line.startswith("<164>1 ") and "CEF:0|trueorigin|trueorigin|" in line
    assert "|covered-appeared|Covered device appeared|8|" in line and "cs1=campus" in line


def test_cef_escaping_of_hostile_values() -> None:
    payload = {"event": "covered-appeared", "title": "a|b", "severity": 8, "vendor": HOSTILE, "site": "x=y",
               "address": "198.18.0.1", "time": 1.0}  # fmt: skip
    line = alerts.cef_line(payload)
    header, _, extension = line.partition("|8|")  # severity closes the header; pipes are literal after it
    assert "a\\|b" in header and "\x1b" not in line and "\n" not in line and "\u202e" not in line
    assert "cs1=x\\=y" in extension and "cs2=Evil\\\\x1b" in extension
