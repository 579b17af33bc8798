"""Alerts: a covered device appears, reappears after being marked removed, or its waiver expires.

Alerts are derived from the findings' history (the store's record of every status change), so every
source that opens or reopens a finding (site sensors, a laptop scan, an import) raises them the same way.
Each (history entry, target) pair is one row, delivered once and retried with backoff until it is.

Channels: a webhook (JSON body, `X-Trueorigin-Signature: sha256=<HMAC of the body>` with the target's
secret, `X-Trueorigin-Timestamp`), email over SMTP, and syslog in ArcSight CEF (UDP or TCP) for SIEMs.
Device strings are hostile: JSON-encoded in webhooks, escaped per the CEF rules in syslog, and plain text
(never HTML) in email.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import socket
import time
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select

from trueorigin import __version__
from trueorigin.errors import InputError
from trueorigin.sites.service import Sites, session_of
from trueorigin.store import FindingFilter, Store
from trueorigin.store.api import FindingRecord
from trueorigin.store.models import FindingHistoryRow
from trueorigin.store.sites_models import AlertRow, AlertTargetRow

CURSOR_KEY = "alerts.history_cursor"
KINDS = ("webhook", "email", "syslog")
EVENTS = {
    "covered-appeared": ("Covered device appeared", 8),
    "covered-reappeared": ("Covered device reappeared after removal", 9),
    "waiver-expired": ("Waiver expired", 6),
}
REMOVED_STATES = ("removed", "replaced")
DELIVERY_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class AlertTarget:
    id: int
    kind: str
    address: str
    secret: str | None
    site: str | None
    options: dict[str, Any]

    def to_json(self) -> dict[str, Any]:  # never the secret
        return {"id": self.id, "kind": self.kind, "address": self.address, "site": self.site, "options": self.options}


def _target(row: AlertTargetRow) -> AlertTarget:
    return AlertTarget(row.id, row.kind, row.address, row.secret, row.site, json.loads(row.options_json))


def add_target(
    store: Store, kind: str, address: str, *, secret: str | None = None, site: str | None = None, **options: Any
) -> AlertTarget:
    if kind not in KINDS:
        raise InputError(f"alert kind must be one of {', '.join(KINDS)}")
    parts = urlsplit(address)
    expected = {"webhook": ("http", "https"), "email": ("smtp",), "syslog": ("syslog", "syslog+tcp")}[kind]
    if parts.scheme not in expected or not parts.hostname:
        raise InputError(f"a {kind} target is a URL of scheme {' or '.join(expected)}://HOST[:PORT]...")
    if kind == "webhook" and not secret:
        raise InputError("a webhook needs --secret: receivers check the HMAC signature with it")
    with session_of(store) as session:
        row = AlertTargetRow(
            kind=kind, address=address, secret=secret, options_json=json.dumps(options, sort_keys=True), site=site,
            enabled=True, created_at=time.time(),
        )  # fmt: skip
        session.add(row)
        session.flush()
        return _target(row)


def targets(store: Store) -> list[AlertTarget]:
    with session_of(store) as session:
        return [_target(r) for r in session.scalars(select(AlertTargetRow).where(AlertTargetRow.enabled.is_(True)))]


def _event(entry: FindingHistoryRow) -> str | None:
    if entry.to_status != "open":
        return None
    if entry.from_status is None:
        return "covered-appeared"
    if entry.from_status in REMOVED_STATES:
        return "covered-reappeared"
    if entry.from_status == "waived":
        return "waiver-expired"
    return None


def raise_alerts(store: Store, base_url: str | None = None) -> list[int]:
    """Turn finding-history entries newer than the cursor into alert rows; returns the new alert ids."""
    sites = Sites(store)
    cursor = int(sites.state(CURSOR_KEY) or 0)
    with session_of(store) as session:
        entries = list(
            session.scalars(
                select(FindingHistoryRow).where(FindingHistoryRow.id > cursor).order_by(FindingHistoryRow.id)
            )
        )
    if not entries:
        return []
    findings = {f.id: f for f in store.findings(FindingFilter())}
    all_targets = targets(store)
    created: list[int] = []
    with session_of(store) as session:
        for entry in entries:
            event = _event(entry)
            finding = findings.get(entry.finding_id)
            if event is None or finding is None:
                continue
            if event != "waiver-expired" and finding.identification.covered != "yes":
                continue  # "review" devices are for people to decide, not alarms
            payload = alert_payload(event, finding, entry, base_url)
            for target in all_targets:
                if target.site is not None and target.site != finding.site:
                    continue
                exists = session.scalar(
                    select(AlertRow.id).where(AlertRow.history_id == entry.id, AlertRow.target_id == target.id)
                )
                if exists is not None:
                    continue
                row = AlertRow(
                    history_id=entry.id, target_id=target.id, event=event, payload_json=json.dumps(payload),
                    status="pending", attempts=0, created_at=time.time(),
                )  # fmt: skip
                session.add(row)
                session.flush()
                created.append(row.id)
    sites.set_state(CURSOR_KEY, str(entries[-1].id))
    return created


def alert_payload(event: str, finding: FindingRecord, entry: FindingHistoryRow, base_url: str | None) -> dict[str, Any]:
    """What every channel says: the device, its site, the evidence in one line, and the finding's link."""
    title, severity = EVENTS[event]
    ident = finding.identification
    link = f"{base_url.rstrip('/')}/findings/{finding.id}" if base_url else None
    summary = ident.vendor or "unknown maker"
    if ident.brand and ident.brand != ident.vendor:
        summary += f" sold as {ident.brand}"
    if ident.model:
        summary += f", model {ident.model}"
    strongest = max(ident.evidence, key=lambda e: e.certainty or 0.0, default=None)
    if strongest is not None:
        summary += f"; strongest evidence: {strongest.claim}"
        if strongest.field:
            summary += f" ({strongest.field}={(strongest.value or '')[:80]})"
    return {
        "event": event,
        "title": title,
        "severity": severity,
        "time": entry.changed_at,
        "site": finding.site,
        "address": ident.host,
        "mac": ident.mac,
        "vendor": ident.vendor,
        "brand_shown": ident.brand,
        "model": ident.model,
        "covered": ident.covered,
        "finding_id": finding.id,
        "status": finding.status,
        "reason": entry.reason,
        "evidence_summary": summary,
        "evidence_count": len(ident.evidence),
        "link": link,
        "tool": f"trueorigin {__version__}",
    }


# -- delivery -------------------------------------------------------------------------------------


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def send_webhook(target: AlertTarget, payload: dict[str, Any]) -> None:
    body = json.dumps(payload, sort_keys=True).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"trueorigin/{__version__}",
        "X-Trueorigin-Event": payload["event"],
        "X-Trueorigin-Timestamp": timestamp,
        "X-Trueorigin-Signature": sign(target.secret or "", timestamp, body),
    }
    response = httpx.post(target.address, content=body, headers=headers, timeout=DELIVERY_TIMEOUT)
    if response.status_code >= 300:
        raise ConnectionError(f"webhook answered HTTP {response.status_code}")


def _plain(value: Any) -> str:
    """One line of printable text (device strings may carry control characters)."""
    text = "" if value is None else str(value)
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)[:500]


def send_email(target: AlertTarget, payload: dict[str, Any]) -> None:
    parts = urlsplit(target.address)
    recipient = parts.path.lstrip("/")
    if "@" not in recipient:
        raise InputError("an email target is smtp://HOST:PORT/recipient@example.org")
    message = EmailMessage()
    message["From"] = target.options.get("from", f"trueorigin@{socket.gethostname()}")
    message["To"] = recipient
    message["Subject"] = _plain(f"[trueorigin] {payload['title']}: {payload['vendor']} at {payload['site']}")
    lines = [f"{key}: {_plain(payload.get(key))}" for key in (
        "event", "site", "address", "mac", "vendor", "brand_shown", "model", "covered", "status", "reason",
        "evidence_summary", "link",
    )]  # fmt: skip
    message.set_content("\n".join(lines) + "\n")
    with smtplib.SMTP(parts.hostname or "localhost", parts.port or 25, timeout=DELIVERY_TIMEOUT) as smtp:
        if target.options.get("starttls"):
            smtp.starttls()
        smtp.send_message(message)


def _cef_header(value: Any) -> str:
    return _plain(value).replace("\\", "\\\\").replace("|", "\\|")


def _cef_value(value: Any) -> str:
    return _plain(value).replace("\\", "\\\\").replace("=", "\\=")


def cef_line(payload: dict[str, Any]) -> str:
    """The alert as one ArcSight CEF line (header fields escape | and \\; extension values escape = and \\)."""
    header = "|".join(
        _cef_header(v) for v in ("CEF:0", "trueorigin", "trueorigin", __version__, payload["event"], payload["title"])
    )
    extension = {
        "rt": int(float(payload.get("time") or 0) * 1000),
        "dst": payload.get("address"),
        "dmac": payload.get("mac"),
        "cs1Label": "site",
        "cs1": payload.get("site"),
        "cs2Label": "trueOrigin",
        "cs2": payload.get("vendor"),
        "cs3Label": "brandShown",
        "cs3": payload.get("brand_shown"),
        "cs4Label": "findingLink",
        "cs4": payload.get("link"),
        "cn1Label": "findingId",
        "cn1": payload.get("finding_id"),
        "msg": payload.get("evidence_summary"),
    }
    ext = " ".join(f"{k}={_cef_value(v)}" for k, v in extension.items() if v is not None)
    return f"{header}|{payload['severity']}|{ext}"


def send_syslog(target: AlertTarget, payload: dict[str, Any]) -> None:
    parts = urlsplit(target.address)
    # RFC 5424 framing: <PRI>1 TIMESTAMP HOST APP - - - MSG; facility local4 (20), severity warning (4)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    line = f"<164>1 {stamp} {socket.gethostname()} trueorigin - - - {cef_line(payload)}".encode()
    address = (parts.hostname or "localhost", parts.port or 514)
    if parts.scheme == "syslog+tcp":
        with socket.create_connection(address, timeout=DELIVERY_TIMEOUT) as sock:
            sock.sendall(str(len(line)).encode() + b" " + line)  # RFC 6587 octet counting
    else:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(line, address)


SENDERS = {"webhook": send_webhook, "email": send_email, "syslog": send_syslog}


def deliver(store: Store, alert_id: int) -> bool:
    """Send one alert; True when sent (now or before). Raises on a delivery failure so the caller retries."""
    with session_of(store) as session:
        row = session.get(AlertRow, alert_id)
        if row is None or row.status == "sent":
            return True
        target_row = session.get(AlertTargetRow, row.target_id)
        if target_row is None or not target_row.enabled:
            row.status = "failed"
            return False
        target, payload = _target(target_row), json.loads(row.payload_json)
        row.attempts += 1
    try:
        SENDERS[target.kind](target, payload)
    except Exception as exc:
        with session_of(store) as session:
            failed = session.get(AlertRow, alert_id)
            if failed is not None:
                failed.last_error = f"{type(exc).__name__}: {str(exc)[:300]}"
        raise
    with session_of(store) as session:
        sent = session.get(AlertRow, alert_id)
        if sent is not None:
            sent.status, sent.sent_at, sent.last_error = "sent", time.time(), None
    return True


def pending(store: Store) -> list[int]:
    with session_of(store) as session:
        return list(session.scalars(select(AlertRow.id).where(AlertRow.status == "pending").order_by(AlertRow.id)))
