"""Store commands: `trueorigin scans`, `trueorigin diff A B`, `trueorigin findings list|set|history|expire`."""

from __future__ import annotations

import datetime as dt
import getpass
from typing import Any

import typer
from rich.console import Console

from trueorigin.errors import InputError
from trueorigin.safetext import json_text
from trueorigin.store.api import (
    REMEDIATION_STATUSES,
    FindingFilter,
    FindingRecord,
    Store,
    as_mapping,
    iso_time,
    open_store,
)
from trueorigin.store.diff import ScanDiff, diff_scans
from trueorigin.terminal import Styled, line, print_table
from trueorigin.terminal import console as make_console


def _out() -> Console:
    # Made per command so the terminal width (COLUMNS) is read when the command runs.
    return make_console()


DB_HELP = "Store URL: sqlite:///path.db (default sqlite:///trueorigin.db), a file path, or postgresql://..."
DbOption = typer.Option(None, "--db", envvar="TRUEORIGIN_DB", help=DB_HELP)
JsonOption = typer.Option(False, "--json", help="Print JSON for other tools instead of a table.")

findings_app = typer.Typer(help="List covered devices and track their remediation.", no_args_is_help=True)


def resolve_scan_ref(store: Store, ref: str) -> str:
    """A scan id, or `latest` / `previous` (the one before latest), or a unique id prefix."""
    scans = store.scans()
    if ref in ("latest", "previous"):
        needed = 1 if ref == "latest" else 2
        if len(scans) < needed:
            raise InputError(f"the store has {len(scans)} scan(s); no {ref!r} scan")
        return scans[-needed].id
    matches = [s.id for s in scans if s.id == ref] or [s.id for s in scans if s.id.startswith(ref)]
    if len(matches) != 1:
        what = "no scan" if not matches else "more than one scan"
        raise InputError(f"{what} matches {ref!r} (see `trueorigin scans`)")
    return matches[0]


def scans_command(db: str | None = DbOption, as_json: bool = JsonOption) -> None:
    """List the scans in the store, oldest first."""
    with open_store(db) as store:
        records = store.scans()
        if as_json:
            typer.echo(json_text([as_mapping(r) for r in records], indent=2))
            return
        columns = ("id", "kind", "site", "status", "started", "finished", "hosts done", "identified")
        rows = [
            [
                r.id,
                r.kind,
                r.site or "",
                r.status,
                iso_time(r.started_at) or "",
                iso_time(r.finished_at) or "",
                str(r.hosts_done),
                str(r.identifications),
            ]
            for r in records
        ]
        print_table(_out(), "Scans", columns, rows)


def diff_command(
    scan_a: str = typer.Argument(..., help="Earlier scan id (or prefix, `previous`)."),
    scan_b: str = typer.Argument(..., help="Later scan id (or prefix, `latest`)."),
    db: str | None = DbOption,
    as_json: bool = JsonOption,
) -> None:
    """What appeared, disappeared, changed firmware or status between two scans (devices matched by MAC,
    serial, then address)."""
    with open_store(db) as store:
        result = diff_scans(store, resolve_scan_ref(store, scan_a), resolve_scan_ref(store, scan_b))
        print_diff(result, as_json)


def print_diff(result: ScanDiff, as_json: bool = False) -> None:
    """A scan diff as JSON or as a table (shared by `diff` and `reidentify`)."""
    if as_json:
        typer.echo(json_text(result.to_json(), indent=2))
        return
    _out().print(line(Styled("diff", "bold"), f" {result.scan_a} -> {result.scan_b}"))
    rows: list[list[object]] = []
    for ident in result.appeared:
        rows.append(["appeared", ident.host, ident.vendor or "?", ident.brand or "", "", ident.covered])
    for ident in result.disappeared:
        rows.append(["disappeared", ident.host, ident.vendor or "?", ident.brand or "", ident.covered, ""])
    for change in [*result.firmware_changed, *result.status_changed]:
        rows.append(
            [
                f"{change.attribute} changed",
                change.device_after.host,
                change.device_after.vendor or "?",
                change.device_after.brand or "",
                change.before or "",
                change.after or "",
            ]
        )
    print_table(_out(), None, ("change", "host", "vendor", "brand", "from", "to"), rows)
    _out().print(line(f"{result.unchanged} device(s) unchanged"))


def _filter(
    site: str | None,
    vendor: str | None,
    brand: str | None,
    subnet: str | None,
    covered: str | None,
    status: str | None,
    scan: str | None,
    ids: list[int] | None,
    tag: str | None = None,
) -> FindingFilter:
    return FindingFilter(
        site=site,
        vendor=vendor,
        brand=brand,
        subnet=subnet,
        covered=covered,
        status=status,
        scan_id=scan,
        ids=tuple(ids or ()),
        tag=tag,
    )


SiteOpt = typer.Option(None, "--site", help="Only this site.")
VendorOpt = typer.Option(None, "--vendor", help="Only this true vendor (e.g. Hikvision).")
BrandOpt = typer.Option(None, "--brand", help="Only this brand shown (e.g. LTS).")
SubnetOpt = typer.Option(None, "--subnet", help="Only addresses in this subnet (e.g. 198.18.0.0/24).")
CoveredOpt = typer.Option(None, "--covered", help="yes, no or review.")
StatusOpt = typer.Option(None, "--status", help="Effective status: " + ", ".join(REMEDIATION_STATUSES) + ".")
IdsForSet = typer.Argument(None, help="Finding ids (or select with the filters).")
IdsForHistory = typer.Argument(None, help="Finding ids (default: all).")
TagOpt = typer.Option(None, "--tag", help="Only devices carrying this tag.")
ScanOpt = typer.Option(None, "--scan", help="Only devices seen in this scan (id, prefix or latest).")


def _finding_row(record: FindingRecord, today: dt.date) -> list[str]:
    ident = record.identification
    status: str = record.effective_status(today)
    if record.waiver_expired(today):
        status += " (waiver expired)"
    elif record.status == "waived" and record.expires:
        status += f" until {record.expires.isoformat()}"
    return [
        str(record.id),
        ident.host,
        record.site or "",
        ident.vendor or "?",
        ident.brand or "",
        ident.model or "",
        ident.covered,
        status,
    ]


def findings_list(
    site: str | None = SiteOpt,
    vendor: str | None = VendorOpt,
    brand: str | None = BrandOpt,
    subnet: str | None = SubnetOpt,
    covered: str | None = CoveredOpt,
    status: str | None = StatusOpt,
    scan: str | None = ScanOpt,
    tag: str | None = TagOpt,
    db: str | None = DbOption,
    as_json: bool = JsonOption,
) -> None:
    """List findings (covered or under-review devices) with their remediation status."""
    today = dt.date.today()
    with open_store(db) as store:
        scan_id = resolve_scan_ref(store, scan) if scan else None
        records = store.findings(_filter(site, vendor, brand, subnet, covered, status, scan_id, None, tag), today)
        if as_json:
            typer.echo(json_text([r.to_json(today) for r in records], indent=2))
            return
        columns = ("id", "host", "site", "vendor", "brand shown", "model", "covered", "status")
        print_table(_out(), f"Findings ({len(records)})", columns, [_finding_row(r, today) for r in records])


def findings_set(
    status: str = typer.Argument(..., help="New status: " + ", ".join(REMEDIATION_STATUSES) + "."),
    ids: list[int] | None = IdsForSet,
    site: str | None = SiteOpt,
    vendor: str | None = VendorOpt,
    brand: str | None = BrandOpt,
    subnet: str | None = SubnetOpt,
    covered: str | None = CoveredOpt,
    current: str | None = typer.Option(None, "--current-status", help="Only findings now in this status."),
    scan: str | None = ScanOpt,
    tag: str | None = TagOpt,
    reason: str | None = typer.Option(None, "--reason", help="Why (required for waivers)."),
    approver: str | None = typer.Option(None, "--approver", help="Who approved the waiver."),
    expires: str | None = typer.Option(None, "--expires", help="Waiver expiry date, YYYY-MM-DD."),
    actor: str | None = typer.Option(None, "--by", help="Who makes the change (default: login name)."),
    db: str | None = DbOption,
    as_json: bool = JsonOption,
) -> None:
    """Set the remediation status of findings in bulk, by id or by filter; every change is recorded."""
    selectors = (ids, site, vendor, brand, subnet, covered, current, scan, tag)
    with open_store(db) as store:
        if not any(selectors):
            raise InputError("name finding ids or at least one filter (--site, --vendor, ...)")
        scan_id = resolve_scan_ref(store, scan) if scan else None
        selected = store.findings(_filter(site, vendor, brand, subnet, covered, current, scan_id, ids, tag))
        if ids and len(selected) != len(set(ids)):
            missing = sorted(set(ids) - {r.id for r in selected})
            raise InputError(f"no finding matches id {', '.join(map(str, missing))} with these filters")
        who = actor or _login_name()
        changed = store.set_status([r.id for r in selected], status, who, reason, approver, expires)
        if as_json:
            typer.echo(json_text({"selected": [r.id for r in selected], "changed": changed, "status": status}))
            return
        counts = f"{len(changed)} of {len(selected)} selected finding(s) set to "
        _out().print(line(counts, Styled(status, "bold"), " by ", who))


def findings_history(
    ids: list[int] | None = IdsForHistory,
    db: str | None = DbOption,
    as_json: bool = JsonOption,
) -> None:
    """Every status change: who, when, from, to, why."""
    with open_store(db) as store:
        entries = store.history(ids or None)
        if as_json:
            typer.echo(json_text([e.to_json() for e in entries], indent=2))
            return
        rows: list[list[Any]] = []
        for e in entries:
            rows.append(
                [
                    str(e.finding_id),
                    iso_time(e.changed_at),
                    e.actor,
                    e.from_status or "",
                    e.to_status,
                    e.reason or "",
                    e.approver or "",
                    e.expires.isoformat() if e.expires else "",
                ]
            )
        columns = ("finding", "when", "who", "from", "to", "why", "approver", "expires")
        print_table(_out(), "Status history", columns, rows)


def findings_tag(
    tag: str = typer.Argument(..., help="Tag to add, e.g. a room, an asset class or a project."),
    ids: list[int] = typer.Argument(..., help="Finding ids whose devices get the tag."),
    db: str | None = DbOption,
) -> None:
    """Tag the devices behind findings (tags are kept across scans and usable as --tag filters)."""
    with open_store(db) as store:
        if not tag.strip():
            raise InputError("the tag must not be empty")
        selected = store.findings(FindingFilter(ids=tuple(ids)))
        missing = sorted(set(ids) - {r.id for r in selected})
        if missing:
            raise InputError(f"no finding with id {', '.join(map(str, missing))}")
        for record in selected:
            store.tag_device(record.device_id, tag.strip())
        _out().print(line(f"tagged {len(selected)} device(s) {tag.strip()!r}"))


def findings_expire(db: str | None = DbOption) -> None:
    """Reopen findings whose waiver has expired (recorded in the history)."""
    with open_store(db) as store:
        expired = store.expire_waivers()
        _out().print(f"{len(expired)} waiver(s) expired: {', '.join(map(str, expired)) or '-'}")


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


findings_app.command("list")(findings_list)
findings_app.command("set")(findings_set)
findings_app.command("history")(findings_history)
findings_app.command("expire")(findings_expire)
findings_app.command("tag")(findings_tag)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.command("scans")(scans_command)
    app.command("diff")(diff_command)
    app.add_typer(findings_app, name="findings")
