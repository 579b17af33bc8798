"""The server's writes besides accounts and screening: finding status changes and waivers, reports.

Shared by the pages and the API so both record the same audit-log entries.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from trueorigin.errors import InputError
from trueorigin.server.accounts import Accounts, Principal
from trueorigin.server.queries import finding_state
from trueorigin.store.api import Store

MAX_NOTE = 2000


def _report_media() -> dict[str, str]:
    from trueorigin.report import RENDERERS

    return {name: renderer.media_type for name, renderer in RENDERERS.items()}


REPORT_MEDIA = _report_media()  # every format the report module offers, with its media type


def change_finding(
    store: Store,
    accounts: Accounts,
    principal: Principal,
    finding_id: int,
    status: str,
    note: str | None,
    expires: str | None = None,
    remote: str | None = None,
) -> dict[str, Any]:
    """Set a finding's status with a note; `waived` needs the note (its reason) and an expiry date. The
    approver of a waiver is the signed-in auditor. Returns the finding as it is now."""
    note = (note or "").strip() or None
    if note is not None and len(note) > MAX_NOTE:
        raise InputError(f"a note has at most {MAX_NOTE} characters")
    if status == "waived":
        if not note:
            raise InputError("a waiver needs a reason")
        if not expires:
            raise InputError("a waiver needs an expiry date")
    elif not note:
        raise InputError("a status change needs a note saying why")
    before = finding_state(store, finding_id)
    approver = principal.name if status == "waived" else None
    changed = store.set_status(
        [finding_id],
        status,
        actor=principal.name,
        reason=note,
        approver=approver,
        expires=(expires or None) if status == "waived" else None,
    )
    after = finding_state(store, finding_id)
    if changed:
        action = "finding.waive" if status == "waived" else "finding.status"
        accounts.record(principal.name, action, f"finding:{finding_id}", before, after, remote)
    return after


def report_formats() -> list[str]:
    from trueorigin.report import RENDERERS

    return list(RENDERERS)


def render_report(store: Store, fmt: str, scan_id: str | None, kb: Any = None) -> tuple[bytes, str, str]:
    """A report in one of the report module's formats, as bytes: (content, media type, file name)."""
    from trueorigin.report import build_report, renderer_for
    from trueorigin.report.render import RenderOptions

    renderer = renderer_for(fmt)
    if scan_id is not None and store.get_scan(scan_id) is None:
        raise LookupError(f"no scan {scan_id}")
    data = build_report(store, scan_id, kb=kb)
    name = f"trueorigin-report-{data.scan.id}-{renderer.format}{renderer.suffix}"
    return renderer.render_bytes(data, RenderOptions()), renderer.media_type, name


def today() -> dt.date:
    return dt.date.today()
