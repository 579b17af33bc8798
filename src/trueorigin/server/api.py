"""REST API under /api/v1 (OpenAPI at /api/v1/openapi.json): the same objects and actions as the pages.

Lists are cursor-paginated: `{"items": [...], "next_cursor": "..." | null, "total": n | null}`; pass
`cursor=<next_cursor>` for the next page. Errors: `{"error": {"status", "code", "message"}}`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

from fastapi import APIRouter, Depends, File, Path, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from trueorigin.server import actions, queries, screening
from trueorigin.server.accounts import Principal
from trueorigin.server.app import context, remote, require_admin, require_decide, require_read
from trueorigin.server.errors import ERROR_RESPONSES, ApiError
from trueorigin.store.api import FindingFilter


def RowId() -> Any:
    return Path(ge=1, le=2_147_483_647)


router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)
# every format the report module offers (one source: its RENDERERS), as the path parameter's pattern
REPORT_FORMATS = "^(" + "|".join(re.escape(name) for name in actions.REPORT_MEDIA) + ")$"


def Limit() -> Any:
    return Query(None, ge=1, le=queries.MAX_PAGE, description="Items per page (default 50).")


def Cursor() -> Any:
    return Query(None, max_length=500, description="`next_cursor` of the previous page.")


def Text() -> Any:
    return Query(None, max_length=200)


CoveredParam = Literal["yes", "no", "review"]
StatusParam = Literal["open", "scheduled", "replaced", "removed", "waived"]


class PageOut(BaseModel):
    items: list[dict[str, Any]]
    next_cursor: str | None
    total: int | None = None


class StatusChange(BaseModel):
    status: Literal["open", "scheduled", "replaced", "removed"]
    note: str = Field(min_length=1, max_length=actions.MAX_NOTE, description="Why (kept in the history).")


class Waiver(BaseModel):
    reason: str = Field(min_length=1, max_length=actions.MAX_NOTE)
    expires: dt.date = Field(description="Last day the waiver holds (after today).")


class DecisionIn(BaseModel):
    key: str = Field(min_length=1, max_length=200, description="The row's screen key.")
    covered: CoveredParam
    reason: str = Field(min_length=1, max_length=actions.MAX_NOTE)
    vendor: str = Field("", max_length=200)


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    scope: Literal["read", "write"] = "read"


def _page(page: queries.Page) -> dict[str, Any]:
    return page.to_json()


@router.get("/me", tags=["accounts"])
def me(principal: Principal = Depends(require_read)) -> dict[str, Any]:
    """Who the request is made as, and what it may do."""
    return {
        "name": principal.name,
        "role": principal.role,
        "via": principal.via,
        "scope": principal.scope,
        "may": sorted(p for p in ("read", "decide", "admin") if principal.can(p)),
    }


@router.get("/overview", tags=["dashboard"])
def overview(request: Request, _p: Principal = Depends(require_read)) -> dict[str, Any]:
    """Covered devices by vendor, site, regime and kind; trend across scans; remediation burndown."""
    ctx = context(request)
    return queries.overview(ctx.store, ctx.regimes_of)


@router.get("/devices", tags=["devices"], response_model=PageOut)
def devices(
    request: Request,
    q: str | None = Text(),
    vendor: str | None = Text(),
    brand: str | None = Text(),
    covered: CoveredParam | None = None,
    kind: str | None = Text(),
    site: str | None = Text(),
    status: StatusParam | None = None,
    relabeled: bool | None = None,
    sort: Literal["host", "vendor", "brand", "kind", "covered", "last_seen", "confidence", "id"] = "host",
    order: Literal["asc", "desc"] = "asc",
    limit: int | None = Limit(),
    cursor: str | None = Cursor(),
    _p: Principal = Depends(require_read),
) -> dict[str, Any]:
    """Devices with their latest identification: brand shown vs true origin (vendor), coverage, finding."""
    flt = queries.DeviceQuery(q, vendor, brand, covered, kind, site, status, relabeled, sort, order, limit, cursor)
    return _page(queries.list_devices(context(request).store, flt))


@router.get("/devices/{device_id}", tags=["devices"])
def device(request: Request, device_id: int = RowId(), _p: Principal = Depends(require_read)) -> dict[str, Any]:
    """One device: evidence chain with sources, raw observations (as escaped text), history, finding, KEV CVEs."""
    ctx = context(request)
    return queries.get_device(ctx.store, device_id, ctx.kb)


@router.get("/findings", tags=["findings"], response_model=PageOut)
def findings(
    request: Request,
    site: str | None = Text(),
    vendor: str | None = Text(),
    brand: str | None = Text(),
    covered: CoveredParam | None = None,
    status: StatusParam | None = Query(None, description="Effective status (an expired waiver counts as open)."),
    scan: str | None = Query(None, max_length=64),
    tag: str | None = Text(),
    limit: int | None = Limit(),
    cursor: str | None = Cursor(),
    _p: Principal = Depends(require_read),
) -> dict[str, Any]:
    """Findings (covered or under-review devices) with remediation status and waiver terms."""
    flt = FindingFilter(site=site, vendor=vendor, brand=brand, covered=covered, status=status, scan_id=scan, tag=tag)
    return _page(queries.list_findings(context(request).store, flt, limit, cursor))


@router.get("/findings/{finding_id}", tags=["findings"])
def finding(request: Request, finding_id: int = RowId(), _p: Principal = Depends(require_read)) -> dict[str, Any]:
    return queries.finding_state(context(request).store, finding_id)


@router.post("/findings/{finding_id}/status", tags=["findings"])
def set_finding_status(
    request: Request, change: StatusChange, finding_id: int = RowId(), principal: Principal = Depends(require_decide)
) -> dict[str, Any]:
    """Change a finding's remediation status, with a note (auditor or admin; write-scoped token)."""
    ctx = context(request)
    return actions.change_finding(
        ctx.store, ctx.accounts, principal, finding_id, change.status, change.note, remote=remote(request)
    )


@router.post("/findings/{finding_id}/waiver", tags=["findings"])
def waive_finding(
    request: Request, waiver: Waiver, finding_id: int = RowId(), principal: Principal = Depends(require_decide)
) -> dict[str, Any]:
    """Waive a finding until a date, with a reason; the signed-in user is the approver."""
    ctx = context(request)
    return actions.change_finding(
        ctx.store,
        ctx.accounts,
        principal,
        finding_id,
        "waived",
        waiver.reason,
        waiver.expires.isoformat(),
        remote=remote(request),
    )


@router.get("/scans", tags=["scans"], response_model=PageOut)
def scans(
    request: Request, limit: int | None = Limit(), cursor: str | None = Cursor(), _p: Principal = Depends(require_read)
) -> dict[str, Any]:
    """Scans, newest first, with identified / covered / review counts."""
    return _page(queries.list_scans(context(request).store, limit, cursor))


@router.get("/scans/diff", tags=["scans"])
def diff(
    request: Request,
    a: str = Query(..., max_length=64),
    b: str = Query(..., max_length=64),
    _p: Principal = Depends(require_read),
) -> dict[str, Any]:
    """What changed from scan a to scan b: devices appeared, disappeared, firmware or status changed."""
    return queries.scan_diff(context(request).store, a, b)


@router.get("/scans/{scan_id}", tags=["scans"])
def scan(request: Request, scan_id: str, _p: Principal = Depends(require_read)) -> dict[str, Any]:
    from trueorigin.store.api import as_mapping

    record = context(request).store.get_scan(scan_id[:64])
    if record is None:
        raise LookupError(f"no scan {scan_id[:64]}")
    return dict(as_mapping(record))


@router.get("/kb/explain", tags=["knowledge base"])
def kb_explain(
    request: Request, q: str = Query(..., min_length=1, max_length=200), _p: Principal = Depends(require_read)
) -> dict[str, Any]:
    """`trueorigin kb explain`: what a name, brand, MAC/OUI, model or FCC ID resolves to, with its chain."""
    kb = context(request).kb
    document: dict[str, Any] = kb.resolve(q).to_json()
    document["kb_version"] = kb.version
    return document


@router.get("/reports", tags=["reports"])
def report_formats(_p: Principal = Depends(require_read)) -> dict[str, Any]:
    return {"formats": actions.report_formats()}


@router.get(
    "/reports/{fmt}",
    tags=["reports"],
    response_class=Response,
    responses={200: {"content": {m: {} for m in actions.REPORT_MEDIA.values()}, "description": "the report"}},
)
def report(
    request: Request,
    fmt: str = Path(pattern=REPORT_FORMATS, description="A format of the report module."),
    scan: str | None = Query(None, max_length=64),
    _p: Principal = Depends(require_read),
) -> Response:
    """The compliance report of a scan (default: the latest) in one of the report formats."""
    ctx = context(request)
    if fmt not in actions.report_formats():
        raise ApiError(404, "not_found", f"no report format {fmt}")
    content, media, name = actions.render_report(ctx.store, fmt, scan, ctx.kb)
    return Response(content, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/screening", tags=["screening"])
def uploads(request: Request, _p: Principal = Depends(require_read)) -> dict[str, Any]:
    return {"items": screening.list_uploads(context(request).accounts)}


@router.post("/screening", tags=["screening"], status_code=201)
def upload(
    request: Request, file: UploadFile = File(...), principal: Principal = Depends(require_decide)
) -> dict[str, Any]:
    """Upload an inventory (CSV, XLSX, JSON, JSONL, Parquet) and screen it; returns the rows to act on."""
    ctx = context(request)
    data = file.file.read(ctx.settings.max_upload_bytes + 1)
    if len(data) > ctx.settings.max_upload_bytes:
        raise ApiError(413, "too_large", f"an upload is limited to {ctx.settings.max_upload_bytes >> 20} MiB")
    return screening.upload(
        ctx.store, ctx.accounts, principal, file.filename or "inventory.csv", data, ctx.kb, remote(request)
    )


@router.get("/screening/{upload_id}", tags=["screening"])
def upload_rows(
    request: Request, upload_id: str, only: Literal["review"] | None = None, _p: Principal = Depends(require_read)
) -> dict[str, Any]:
    """An upload's rows to act on (`only=review`: uncertain rows without a decision yet)."""
    return screening.get_upload(context(request).accounts, upload_id, only)


@router.post("/screening/{upload_id}/decisions", tags=["screening"], status_code=201)
def decide(
    request: Request, upload_id: str, decision: DecisionIn, principal: Principal = Depends(require_decide)
) -> dict[str, Any]:
    """Record a reviewer's decision on a row (by its key); it applies to every row with that key, later too."""
    return screening.decide(
        context(request).accounts,
        principal,
        upload_id,
        decision.key,
        decision.covered,
        decision.reason,
        decision.vendor,
        remote(request),
    )


@router.get("/audit", tags=["accounts"], response_model=PageOut)
def audit(
    request: Request,
    actor: str | None = Text(),
    action: str | None = Query(None, max_length=64),
    limit: int | None = Limit(),
    cursor: str | None = Cursor(),
    _p: Principal = Depends(require_decide),
) -> dict[str, Any]:
    """The audit log, newest first: who changed what, when, before -> after (auditors and admins)."""
    return _page(queries.list_audit(context(request).store, limit, cursor, actor, action))


@router.get("/tokens", tags=["accounts"])
def tokens(request: Request, principal: Principal = Depends(require_read)) -> dict[str, Any]:
    """Your API tokens (all tokens for an admin); secrets are never shown again."""
    accounts = context(request).accounts
    return {"items": accounts.tokens(None if principal.can("admin") else principal.user_id)}


@router.post("/tokens", tags=["accounts"], status_code=201)
def create_token(request: Request, token: TokenIn, principal: Principal = Depends(require_read)) -> dict[str, Any]:
    """A new API token for yourself; the secret is in this answer only. A read-only token may not create tokens."""
    if principal.scope != "write":
        raise ApiError(403, "forbidden", "this API token is read-only")
    token_id, secret = context(request).accounts.create_token(principal, token.name, token.scope, remote(request))
    return {"id": token_id, "token": secret, "scope": token.scope, "name": token.name}


@router.delete("/tokens/{token_id}", tags=["accounts"], status_code=204, response_class=Response)
def revoke_token(request: Request, token_id: int = RowId(), principal: Principal = Depends(require_read)) -> Response:
    if principal.scope != "write":
        raise ApiError(403, "forbidden", "this API token is read-only")
    context(request).accounts.revoke_token(principal, token_id, remote(request))
    return Response(status_code=204)


@router.get("/users", tags=["accounts"])
def users(request: Request, _p: Principal = Depends(require_admin)) -> dict[str, Any]:
    return {"items": context(request).accounts.users()}
