"""Server-rendered pages (Jinja2, autoescaped; htmx for the live device filter). Forms post back here and
redirect (303) to the page they came from; every form carries the session's CSRF token."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from trueorigin.errors import InputError
from trueorigin.server import actions, charts, queries, screening
from trueorigin.server.accounts import SESSION_SECONDS, Principal
from trueorigin.server.app import (
    context,
    current_principal,
    remote,
    require_decide,
    require_read,
)
from trueorigin.server.errors import ApiError
from trueorigin.server.security import (
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    check_origin,
    is_https,
    new_login_csrf,
    same_token,
    set_session_cookie,
)
from trueorigin.store.api import REMEDIATION_STATUSES, FindingFilter


def RowId() -> Any:
    return Path(ge=1, le=2_147_483_647)


router = APIRouter(include_in_schema=False)

MESSAGES = {
    "status": "Finding status changed.",
    "waiver": "Waiver recorded.",
    "decision": "Decision recorded.",
    "revoked": "Token revoked.",
}


def render(
    request: Request, template: str, principal: Principal | None, status: int = 200, **values: Any
) -> HTMLResponse:
    ctx = context(request)
    message = MESSAGES.get(request.query_params.get("done", ""))
    html = ctx.templates.get_template(template).render(
        user=principal,
        csrf=principal.csrf if principal is not None else None,
        csrf_field=CSRF_FIELD,
        path=request.url.path,
        message=message,
        **values,
    )
    return HTMLResponse(html, status_code=status)


def _blank(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


# ---------------------------------------------------------------------------------------------- login
@router.get("/login")
def login_page(request: Request, principal: Principal | None = Depends(current_principal)) -> Response:
    if principal is not None:
        return RedirectResponse("/", status_code=303)
    return _login_form(request, None, 200)


def _login_form(request: Request, error: str | None, status: int) -> Response:
    token = new_login_csrf()
    response = render(request, "login.html.j2", None, status=status, login_csrf=token, error=error)
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=context(request).settings.force_secure_cookies or is_https(request, context(request).settings),
    )
    return response


@router.post("/login")
def login(
    request: Request,
    username: str = Form(..., max_length=100),
    password: str = Form(..., max_length=1024),
    csrf_token: str = Form("", max_length=200),
) -> Response:
    ctx = context(request)
    check_origin(request)
    if not same_token(csrf_token, request.cookies.get(LOGIN_CSRF_COOKIE)):
        raise ApiError(403, "csrf", "missing or wrong CSRF token (reload the login page)")
    address = remote(request)
    wait = ctx.throttle.blocked_for(address)
    if wait > 0:
        return _login_form(request, f"Too many failed sign-ins from your address; try again in {int(wait) + 1} s.", 429)
    result = ctx.accounts.login(username, password, address)
    if result.principal is None or result.cookie is None:
        ctx.throttle.failed(address)
        if result.retry_after > 0:
            return _login_form(request, f"Too many failed sign-ins; try again in {int(result.retry_after) + 1} s.", 429)
        return _login_form(request, "Wrong user name or password.", 401)
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(response, result.cookie, request, ctx.settings, SESSION_SECONDS)
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, principal: Principal = Depends(require_read)) -> Response:
    context(request).accounts.logout(principal, remote(request))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


# ---------------------------------------------------------------------------------------------- overview
@router.get("/")
def overview_page(request: Request, principal: Principal = Depends(require_read)) -> Response:
    ctx = context(request)
    data = queries.overview(ctx.store, ctx.regimes_of)
    svg = {
        "vendor": charts.bar_chart("Covered devices by true vendor", data["by_vendor"]),
        "site": charts.bar_chart("Covered devices by site", data["by_site"]),
        "regime": charts.bar_chart("Covered devices by regime", data["by_regime"]),
        "kind": charts.bar_chart("Covered devices by kind", data["by_kind"]),
        "trend": charts.line_chart(
            "Covered devices per scan",
            [p["when"][5:16].replace("T", " ") if p["when"] else "" for p in data["trend"]],
            {"yes": [p["yes"] for p in data["trend"]], "review": [p["review"] for p in data["trend"]]},
        ),
        "burndown": charts.stacked_chart(
            "Remediation burndown (findings by status at each scan)",
            [((p["when"] or "")[5:10] + "\n" + (p["when"] or "")[11:16], p["counts"]) for p in data["burndown"]],
            list(REMEDIATION_STATUSES),
        ),
    }
    return render(request, "overview.html.j2", principal, data=data, svg=svg)


# ---------------------------------------------------------------------------------------------- devices
@router.get("/devices")
def devices_page(
    request: Request,
    q: str | None = Query(None, max_length=200),
    vendor: str | None = Query(None, max_length=200),
    brand: str | None = Query(None, max_length=200),
    covered: str | None = Query(None, max_length=10),
    kind: str | None = Query(None, max_length=40),
    site: str | None = Query(None, max_length=200),
    status: str | None = Query(None, max_length=16),
    relabeled: str | None = Query(None, max_length=5),
    sort: str = Query("host", max_length=20),
    order: str = Query("asc", max_length=4),
    cursor: str | None = Query(None, max_length=500),
    limit: int = Query(50, ge=1, le=queries.MAX_PAGE),
    principal: Principal = Depends(require_read),
) -> Response:
    ctx = context(request)
    filters = {
        "q": _blank(q),
        "vendor": _blank(vendor),
        "brand": _blank(brand),
        "covered": _blank(covered),
        "kind": _blank(kind),
        "site": _blank(site),
        "status": _blank(status),
        "relabeled": _blank(relabeled),
    }
    flt = queries.DeviceQuery(
        filters["q"],
        filters["vendor"],
        filters["brand"],
        filters["covered"],
        filters["kind"],
        filters["site"],
        filters["status"],
        {"yes": True, "no": False}.get(filters["relabeled"] or ""),
        sort,
        order,
        limit,
        cursor,
    )
    page = queries.list_devices(ctx.store, flt)
    kept = {k: v for k, v in filters.items() if v} | {"sort": sort, "order": order}
    next_url = f"/devices?{urlencode(kept | {'cursor': page.next_cursor})}" if page.next_cursor else None

    def sort_url(key: str) -> str:
        flip = "desc" if sort == key and order == "asc" else "asc"
        return "/devices?" + urlencode(
            {k: v for k, v in kept.items() if k not in ("sort", "order")} | {"sort": key, "order": flip}
        )

    return render(
        request,
        "devices.html.j2",
        principal,
        page=page,
        filters=filters,
        sort=sort,
        order=order,
        facets=queries.device_facets(ctx.store),
        next_url=next_url,
        sort_url=sort_url,
        statuses=REMEDIATION_STATUSES,
        sort_keys=queries.SORT_KEYS,
    )


@router.get("/devices/{device_id}")
def device_page(request: Request, device_id: int = RowId(), principal: Principal = Depends(require_read)) -> Response:
    ctx = context(request)
    device = queries.get_device(ctx.store, device_id, ctx.kb)
    return render(request, "device.html.j2", principal, d=device, statuses=REMEDIATION_STATUSES)


# ---------------------------------------------------------------------------------------------- findings
@router.get("/findings")
def findings_page(
    request: Request,
    status: str | None = Query(None, max_length=16),
    covered: str | None = Query(None, max_length=10),
    vendor: str | None = Query(None, max_length=200),
    site: str | None = Query(None, max_length=200),
    cursor: str | None = Query(None, max_length=500),
    principal: Principal = Depends(require_read),
) -> Response:
    ctx = context(request)
    flt = FindingFilter(status=_blank(status), covered=_blank(covered), vendor=_blank(vendor), site=_blank(site))
    page = queries.list_findings(ctx.store, flt, 50, cursor)
    kept = {
        k: v
        for k, v in {"status": flt.status, "covered": flt.covered, "vendor": flt.vendor, "site": flt.site}.items()
        if v
    }
    next_url = f"/findings?{urlencode(kept | {'cursor': page.next_cursor})}" if page.next_cursor else None
    return render(
        request, "findings.html.j2", principal, page=page, flt=kept, next_url=next_url, statuses=REMEDIATION_STATUSES
    )


def _back(request: Request, default: str, done: str) -> RedirectResponse:
    """Back to the page the form was on (same-origin paths only), with a message code."""
    target = request.query_params.get("back") or default
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        target = default
    joiner = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{joiner}done={done}", status_code=303)


@router.post("/findings/{finding_id}/status")
def finding_status(
    request: Request,
    finding_id: int = RowId(),
    status: str = Form(..., max_length=16),
    note: str = Form("", max_length=actions.MAX_NOTE),
    principal: Principal = Depends(require_decide),
) -> Response:
    ctx = context(request)
    if status == "waived":
        raise InputError("use the waiver form (a waiver needs a reason and an expiry date)")
    actions.change_finding(ctx.store, ctx.accounts, principal, finding_id, status, note, remote=remote(request))
    return _back(request, "/findings", "status")


@router.post("/findings/{finding_id}/waiver")
def finding_waiver(
    request: Request,
    finding_id: int = RowId(),
    reason: str = Form(..., max_length=actions.MAX_NOTE),
    expires: str = Form(..., max_length=10),
    principal: Principal = Depends(require_decide),
) -> Response:
    ctx = context(request)
    actions.change_finding(
        ctx.store, ctx.accounts, principal, finding_id, "waived", reason, expires, remote=remote(request)
    )
    return _back(request, "/findings", "waiver")


# ---------------------------------------------------------------------------------------------- scans
@router.get("/scans")
def scans_page(
    request: Request, cursor: str | None = Query(None, max_length=500), principal: Principal = Depends(require_read)
) -> Response:
    page = queries.list_scans(context(request).store, 50, cursor)
    next_url = f"/scans?{urlencode({'cursor': page.next_cursor})}" if page.next_cursor else None
    return render(request, "scans.html.j2", principal, page=page, next_url=next_url)


@router.get("/scans/diff")
def diff_page(
    request: Request,
    a: str = Query(..., max_length=64),
    b: str = Query(..., max_length=64),
    principal: Principal = Depends(require_read),
) -> Response:
    diff = queries.scan_diff(context(request).store, a, b)
    return render(request, "diff.html.j2", principal, diff=diff)


# ---------------------------------------------------------------------------------------------- screening
@router.get("/screening")
def screening_page(request: Request, principal: Principal = Depends(require_read)) -> Response:
    return render(request, "screening.html.j2", principal, uploads=screening.list_uploads(context(request).accounts))


@router.post("/screening")
def screening_upload(
    request: Request, file: UploadFile = File(...), principal: Principal = Depends(require_decide)
) -> Response:
    ctx = context(request)
    data = file.file.read(ctx.settings.max_upload_bytes + 1)
    if len(data) > ctx.settings.max_upload_bytes:
        raise ApiError(413, "too_large", f"an upload is limited to {ctx.settings.max_upload_bytes >> 20} MiB")
    document = screening.upload(
        ctx.store, ctx.accounts, principal, file.filename or "inventory.csv", data, ctx.kb, remote(request)
    )
    return RedirectResponse(f"/screening/{document['id']}", status_code=303)


@router.get("/screening/{upload_id}")
def upload_page(
    request: Request,
    upload_id: str,
    only: str | None = Query(None, max_length=10),
    principal: Principal = Depends(require_read),
) -> Response:
    document = screening.get_upload(context(request).accounts, upload_id, "review" if only == "review" else None)
    return render(request, "upload.html.j2", principal, u=document, only=only)


@router.post("/screening/{upload_id}/decide")
def upload_decide(
    request: Request,
    upload_id: str,
    key: str = Form(..., max_length=200),
    covered: str = Form(..., max_length=10),
    reason: str = Form("", max_length=actions.MAX_NOTE),
    vendor: str = Form("", max_length=200),
    principal: Principal = Depends(require_decide),
) -> Response:
    screening.decide(context(request).accounts, principal, upload_id, key, covered, reason, vendor, remote(request))
    return RedirectResponse(f"/screening/{upload_id}?done=decision", status_code=303)


# ---------------------------------------------------------------------------------------------- knowledge base
@router.get("/kb")
def kb_page(
    request: Request, q: str | None = Query(None, max_length=200), principal: Principal = Depends(require_read)
) -> Response:
    kb = context(request).kb
    resolution = kb.resolve(q).to_json() if q and q.strip() else None
    return render(request, "kb.html.j2", principal, q=q or "", r=resolution, kb_version=kb.version, stats=kb.stats())


# ---------------------------------------------------------------------------------------------- reports
@router.get("/reports")
def reports_page(request: Request, principal: Principal = Depends(require_read)) -> Response:
    page = queries.list_scans(context(request).store, 50, None)
    return render(request, "reports.html.j2", principal, formats=actions.report_formats(), scans=page.items)


# ---------------------------------------------------------------------------------------------- sites
@router.get("/sites")
def sites_page(request: Request, principal: Principal = Depends(require_read)) -> Response:
    """Sensor health, audit jobs with progress, and schedules (changed through the API or the CLI)."""
    import time

    from trueorigin.sites.service import Sites

    sites = Sites(context(request).store)

    def when(epoch: float | None) -> str:
        return "" if epoch is None else time.strftime("%Y-%m-%d %H:%M", time.gmtime(epoch))

    return render(
        request, "sites.html.j2", principal, when=when,
        sensors=[s.to_json() for s in sites.sensors()], jobs=[j.to_json() for j in sites.jobs(limit=100)],
        schedules=[s.to_json() for s in sites.schedules()],
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------- audit, account
@router.get("/audit")
def audit_page(
    request: Request,
    cursor: str | None = Query(None, max_length=500),
    actor: str | None = Query(None, max_length=200),
    principal: Principal = Depends(require_decide),
) -> Response:
    page = queries.list_audit(context(request).store, 100, cursor, _blank(actor))
    kept = {"actor": actor} if _blank(actor) else {}
    next_url = f"/audit?{urlencode(kept | {'cursor': page.next_cursor})}" if page.next_cursor else None
    return render(request, "audit.html.j2", principal, page=page, next_url=next_url, actor=actor or "")


@router.get("/account")
def account_page(request: Request, principal: Principal = Depends(require_read)) -> Response:
    accounts = context(request).accounts
    users = accounts.users() if principal.can("admin") else []
    return render(
        request, "account.html.j2", principal, tokens=accounts.tokens(principal.user_id), users=users, new_token=None
    )


@router.post("/account/tokens")
def account_token(
    request: Request,
    name: str = Form(..., max_length=100),
    scope: str = Form("read", max_length=5),
    principal: Principal = Depends(require_read),
) -> Response:
    accounts = context(request).accounts
    _id, secret = accounts.create_token(principal, name, scope, remote(request))
    users = accounts.users() if principal.can("admin") else []
    return render(
        request,
        "account.html.j2",
        principal,
        tokens=accounts.tokens(principal.user_id),
        users=users,
        new_token=secret,
        status=201,
    )


@router.post("/account/tokens/{token_id}/revoke")
def account_revoke(request: Request, token_id: int = RowId(), principal: Principal = Depends(require_read)) -> Response:
    context(request).accounts.revoke_token(principal, token_id, remote(request))
    return RedirectResponse("/account?done=revoked", status_code=303)
