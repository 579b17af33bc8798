"""Sites in the REST API: sensor health, audit jobs with progress, and the schedules kept in the database.

Reads are open to every role; schedule changes are an admin's and land in the audit log (before -> after).
Starting and cancelling audits needs the broker and stays with the CLI (`trueorigin sites audit|cancel`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from trueorigin.errors import InputError
from trueorigin.server.accounts import Accounts, Principal
from trueorigin.server.app import context, remote, require_admin, require_read
from trueorigin.server.errors import ERROR_RESPONSES, ApiError
from trueorigin.sites.service import Sites, audit_request

router = APIRouter(prefix="/api/v1/sites", responses=ERROR_RESPONSES, tags=["sites"])


class ScheduleIn(BaseModel):
    site: str = Field(min_length=1, max_length=50)
    cron: str = Field(min_length=9, max_length=100, description="5-field cron expression, UTC.")
    targets: list[Annotated[str, Field(min_length=1, max_length=300)]] = Field(min_length=1, max_length=4096)
    ports: list[Annotated[int, Field(ge=1, le=65535)]] = Field(
        default=[80, 443, 554, 8000, 8080, 37777], min_length=1, max_length=1024
    )
    rate: float = Field(300.0, gt=0, le=100_000)


class ScheduleChange(BaseModel):
    cron: str | None = Field(None, min_length=9, max_length=100)
    enabled: bool | None = None


def _sites(request: Request) -> Sites:
    return Sites(context(request).store)


@router.get("/sensors")
def sensors(
    request: Request, site: str | None = Query(None, max_length=50), _p: Principal = Depends(require_read)
) -> dict[str, Any]:
    """Every sensor's last heartbeat: version, state, job progress, healthy (heard from within 3 minutes)."""
    return {"items": [s.to_json() for s in _sites(request).sensors(site)]}


@router.get("/jobs")
def jobs(
    request: Request, site: str | None = Query(None, max_length=50), _p: Principal = Depends(require_read)
) -> dict[str, Any]:
    """Audit jobs, newest first (at most 200), with hosts finished and observations stored."""
    return {"items": [j.to_json() for j in _sites(request).jobs(site)]}


@router.get("/schedules")
def schedules(request: Request, _p: Principal = Depends(require_read)) -> dict[str, Any]:
    return {"items": [s.to_json() for s in _sites(request).schedules()]}


@router.post("/schedules", status_code=201)
def add_schedule(request: Request, body: ScheduleIn, principal: Principal = Depends(require_admin)) -> dict[str, Any]:
    """A recurring audit of a site; run by `trueorigin beat` and an ingest worker."""
    try:
        plan = audit_request(body.site, body.targets, ports=body.ports, rate=body.rate)
        schedule = _sites(request).add_schedule(body.site, body.cron, plan)
    except InputError as exc:
        raise ApiError(422, "invalid", str(exc)) from None
    _log(request, principal, "schedule.add", f"schedule:{schedule.id}", None, schedule.to_json())
    return schedule.to_json()


@router.patch("/schedules/{schedule_id}")
def change_schedule(
    request: Request, body: ScheduleChange, schedule_id: int, principal: Principal = Depends(require_admin)
) -> dict[str, Any]:
    sites = _sites(request)
    before = next((s.to_json() for s in sites.schedules() if s.id == schedule_id), None)
    if before is None:
        raise ApiError(404, "not_found", f"no schedule {schedule_id}")
    try:
        after = sites.update_schedule(schedule_id, cron=body.cron, enabled=body.enabled).to_json()
    except InputError as exc:
        raise ApiError(422, "invalid", str(exc)) from None
    _log(request, principal, "schedule.change", f"schedule:{schedule_id}", before, after)
    return after


def _log(request: Request, principal: Principal, action: str, target: str, before: Any, after: Any) -> None:
    accounts: Accounts = context(request).accounts
    with accounts.session() as session:
        Accounts.audit(session, principal.name, action, target, before, after, remote(request))
