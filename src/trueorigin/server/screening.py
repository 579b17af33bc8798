"""Inventory screening through the server: upload a file, review the rows to act on, record decisions.

The screening itself is `trueorigin.screen` (the same engine as `trueorigin screen FILE`); decisions use
`screen/decisions.py` (`make_decision` validates, `DecisionStore.apply` applies) with the decisions kept in the
database instead of a JSON file. The uploaded bytes are kept (bounded size) so the file can be screened again.
The file is written to a fresh temporary directory under a fixed name: no user-supplied path is ever opened.
"""

from __future__ import annotations

import json
import tempfile
import time
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from trueorigin.errors import InputError
from trueorigin.screen.decisions import Decision, DecisionStore, make_decision
from trueorigin.screen.engine import Screening
from trueorigin.server.accounts import Accounts, Principal
from trueorigin.store.accounts import ScreeningDecisionRow, ScreeningUploadRow
from trueorigin.store.api import Store, iso_time

MAX_FLAGGED_ROWS = 2000  # rows to act on kept per upload for review (the summary counts all rows)
MAX_CELLS_SHOWN = 12
SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".json", ".jsonl", ".ndjson", ".parquet")


def _suffix(filename: str) -> str:
    lowered = filename.lower()
    for suffix in SUFFIXES:
        if lowered.endswith(suffix):
            return suffix
    raise InputError(f"an inventory is one of {', '.join(SUFFIXES)}; {filename[:100]!r} is not")


def _decisions(session: Session, path: Path) -> DecisionStore:
    rows = session.scalars(select(ScreeningDecisionRow)).all()
    return DecisionStore(
        path,
        {
            r.key: Decision(r.key, r.covered, r.reason, r.vendor, r.reviewer, r.decided_at, r.listing)  # type: ignore[arg-type]
            for r in rows
        },
    )


def _screen_bytes(
    data: bytes, filename: str, decisions: DecisionStore, kb: Any
) -> tuple[dict[str, Any], list[dict[str, Any]], Any]:
    from trueorigin.screen.matcher import Matcher

    with tempfile.TemporaryDirectory(prefix="trueorigin-upload-") as folder:
        path = Path(folder) / ("inventory" + _suffix(filename))
        path.write_bytes(data)
        screening = Screening(path, Matcher(kb), decisions=decisions, explain=True)
        flagged: list[dict[str, Any]] = []
        batches = []
        for screened in screening.batches():
            covered = screened.added.column("covered").to_pylist()
            picked = [i for i, value in enumerate(covered) if value != "no"]
            if picked and len(flagged) < MAX_FLAGGED_ROWS:
                picked = picked[: MAX_FLAGGED_ROWS - len(flagged)]
                table_rows = screened.table.take(picked).to_pylist()
                for position, row in zip(picked, table_rows, strict=True):
                    cells = {k: str(v) for k, v in row.items() if not k.startswith("+") and v not in (None, "")}
                    flagged.append(
                        {
                            "row": screened.row_numbers[position],
                            "key": row["+screen_key"],
                            "covered": row["+covered"],
                            "vendor": row["+vendor"],
                            "brand": row["+brand"],
                            "matched": row["+matched"],
                            "confidence": round(float(row["+confidence"] or 0.0), 3),
                            "explanation": row.get("+explanation") or "",
                            "sources": [s for s in str(row["+sources"] or "").split(" | ") if s],
                            "cells": dict(list(cells.items())[:MAX_CELLS_SHOWN]),
                        }
                    )
            batches.append((screened.table, screened.row_numbers))
        summary = screening.summary
        document = {
            "rows": summary.rows,
            "covered": {k: summary.covered.get(k, 0) for k in ("yes", "review", "no")},
            "decided": summary.decided,
            "bad_rows": screening.source.bad_rows.count,
            "columns": {k: v for k, v in screening.columns.columns.items()},
            "format": screening.source.format,
            "flagged_kept": len(flagged),
        }
        return document, flagged, (screening, batches, path)


def _record_scan(store: Store, filename: str, run: Any, kb: Any) -> str:
    """The rows to act on as one 'screen' scan, written through the audit pipeline (as `trueorigin screen FILE
    --store` does): the store records the tool, knowledge-base and fingerprint versions that decided them."""
    from trueorigin.audit import AuditSession
    from trueorigin.screen.report import flagged_identifications

    screening, batches, _path = run
    matcher = screening.matcher
    regimes_of = {matcher.entity_name(e): matcher.coverage(e)[1] for e in (getattr(kb, "entities", {}) or {})}
    shown = Path(Path(filename).name or "inventory")
    options = {"columns": dict(screening.columns.columns), "format": screening.source.format, "upload": True}
    session = AuditSession.open(store, "screen", [shown.name], options, kb=kb)
    try:
        for table, row_numbers in batches:
            for ident in flagged_identifications(shown, screening.columns, table, row_numbers, regimes_of):
                session.record_identification(ident)
        session.finish("complete")
    except BaseException:
        session.finish("failed")
        raise
    finally:
        session.close()
    return session.scan_id


def upload(
    store: Store,
    accounts: Accounts,
    principal: Principal,
    filename: str,
    data: bytes,
    kb: Any,
    remote: str | None = None,
) -> dict[str, Any]:
    if not data:
        raise InputError("the uploaded file is empty")
    filename = (filename or "inventory.csv").replace("\\", "/").rsplit("/", 1)[-1][:255]
    with accounts.session() as session:
        decisions = _decisions(session, Path(tempfile.gettempdir()) / "unused.decisions.json")
    summary, flagged, run = _screen_bytes(data, filename, decisions, kb)
    scan_id = _record_scan(store, filename, run, kb)
    upload_id = uuid.uuid4().hex
    with accounts.session() as session:
        session.add(
            ScreeningUploadRow(
                id=upload_id,
                filename=filename,
                uploaded_by=principal.name,
                uploaded_at=time.time(),
                data=data,
                summary_json=json.dumps(summary),
                rows_json=json.dumps(flagged),
                scan_id=scan_id,
            )
        )
        accounts.audit(
            session,
            principal.name,
            "screening.upload",
            f"upload:{upload_id}",
            None,
            {"filename": filename, "rows": summary["rows"], "scan_id": scan_id},
            remote,
        )
    return get_upload(accounts, upload_id)


def list_uploads(accounts: Accounts) -> list[dict[str, Any]]:
    with accounts.session() as session:
        rows = session.execute(
            select(
                ScreeningUploadRow.id,
                ScreeningUploadRow.filename,
                ScreeningUploadRow.uploaded_by,
                ScreeningUploadRow.uploaded_at,
                ScreeningUploadRow.summary_json,
                ScreeningUploadRow.scan_id,
            )
            .order_by(ScreeningUploadRow.uploaded_at.desc())
            .limit(200)
        ).all()
    return [
        {
            "id": i,
            "filename": f,
            "uploaded_by": u,
            "uploaded_at": iso_time(at),
            "summary": json.loads(s),
            "scan_id": scan,
        }
        for i, f, u, at, s, scan in rows
    ]


def get_upload(accounts: Accounts, upload_id: str, only: str | None = None) -> dict[str, Any]:
    """An upload with its rows to act on, each with the reviewer's decision when one is recorded."""
    with accounts.session() as session:
        row = session.get(ScreeningUploadRow, upload_id[:32])
        if row is None:
            raise LookupError(f"no upload {upload_id}")
        rows: list[dict[str, Any]] = json.loads(row.rows_json)
        keys = {r["key"] for r in rows if r.get("key")}
        decided = (
            {
                d.key: d
                for d in session.scalars(select(ScreeningDecisionRow).where(ScreeningDecisionRow.key.in_(list(keys))))
            }
            if keys
            else {}
        )
        for item in rows:
            decision = decided.get(item.get("key", ""))
            item["decision"] = (
                None
                if decision is None
                else {
                    "covered": decision.covered,
                    "reason": decision.reason,
                    "vendor": decision.vendor,
                    "reviewer": decision.reviewer,
                    "decided_at": decision.decided_at,
                }
            )
        if only == "review":
            rows = [r for r in rows if r["covered"] == "review" and r["decision"] is None]
        return {
            "id": row.id,
            "filename": row.filename,
            "uploaded_by": row.uploaded_by,
            "uploaded_at": iso_time(row.uploaded_at),
            "summary": json.loads(row.summary_json),
            "scan_id": row.scan_id,
            "rows": rows,
        }


def decide(
    accounts: Accounts,
    principal: Principal,
    upload_id: str,
    key: str,
    covered: str,
    reason: str,
    vendor: str = "",
    remote: str | None = None,
) -> dict[str, Any]:
    """Record a reviewer's decision for a row key of an upload (applies to every row with that key, later too)."""
    upload_doc = get_upload(accounts, upload_id)
    row = next((r for r in upload_doc["rows"] if r.get("key") == key), None)
    if row is None:
        raise LookupError(f"upload {upload_id} has no row with key {key!r}")
    listing = " | ".join(str(v) for v in list(row["cells"].values())[:4])
    decision = make_decision(key, covered, reason, vendor, principal.name, listing)
    with accounts.session() as session:
        existing = session.get(ScreeningDecisionRow, decision.key)
        before = None
        if existing is None:
            existing = ScreeningDecisionRow(key=decision.key)
            session.add(existing)
        else:
            before = {
                "covered": existing.covered,
                "reason": existing.reason,
                "vendor": existing.vendor,
                "reviewer": existing.reviewer,
            }
        for name, value in asdict(decision).items():
            if name != "key":
                setattr(existing, name, value)
        accounts.audit(
            session,
            principal.name,
            "screening.decide",
            f"key:{decision.key}"[:200],
            before,
            {
                "covered": decision.covered,
                "reason": decision.reason,
                "vendor": decision.vendor,
                "upload": upload_id,
                "row": row["row"],
            },
            remote,
        )
    return asdict(decision)
