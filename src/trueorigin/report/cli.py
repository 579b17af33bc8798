"""`trueorigin report --format FMT --out PATH`, `trueorigin report verify`, and `trueorigin far ...` (contract and
supplier data, report dates and deadlines for FAR 52.204-25(d))."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from trueorigin.errors import EXIT_CHECK_FAILED, InputError
from trueorigin.report.data import build_report
from trueorigin.report.far import far_status
from trueorigin.report.render import RENDERERS, Detail, RenderOptions, renderer_for, write_report
from trueorigin.report.verify import load_manifest, verify_report
from trueorigin.safetext import json_text
from trueorigin.store.api import VERIFY_ON_READ, open_store
from trueorigin.store.cli import DB_HELP, resolve_scan_ref
from trueorigin.store.compliance import ComplianceStore
from trueorigin.terminal import Styled, line, print_table
from trueorigin.terminal import console as make_console

FORMAT_HELP = (
    "html, pdf (summary first, evidence in an appendix), csv, json, far (FAR 52.204-25(d) report per covered "
    "finding, PDF), far-csv, oscal (assessment results JSON), netbox (device import CSV), snipeit (asset import CSV)."
)

report_app = typer.Typer(
    help="Write the compliance report or an export (" + ", ".join(RENDERERS) + ") for a scan, or verify one later.",
    invoke_without_command=True,
)
far_app = typer.Typer(help="FAR 52.204-25(d): contract and supplier data, report dates, deadlines.")


@report_app.callback()
def report_command(
    ctx: typer.Context,
    scan: str | None = typer.Option(None, "--scan", help="Scan id, prefix or `latest` (default: latest)."),
    db: str | None = typer.Option(None, "--db", envvar="TRUEORIGIN_DB", help=DB_HELP),
    fmt: str = typer.Option("html", "--format", "-f", help=FORMAT_HELP),
    out: Path | None = typer.Option(None, "--out", "-o", help="File to write."),
    detail: str = typer.Option("summary", "--detail", help="summary (default) or full: every evidence chain inline."),
    finding: list[int] = typer.Option([], "--finding", help="far / far-csv: only this finding (repeatable)."),
    evidence_url: str = typer.Option(
        "report.html#evidence-{finding_id}",
        "--evidence-url",
        help="netbox / snipeit: link to a device's evidence; {finding_id} and {host} are filled in.",
    ),
) -> None:
    """Write the compliance report (or an export) for a scan."""
    if ctx.invoked_subcommand is not None:
        return
    renderer = renderer_for(fmt)
    if detail not in ("summary", "full"):
        raise InputError(f"--detail must be summary or full, not {detail!r}")
    if out is None:
        raise InputError(f"--out PATH is required (e.g. --out report{renderer.suffix})")
    if not out.parent.exists():
        raise InputError(f"directory does not exist: {out.parent}")
    if finding and renderer.format not in ("far", "far-csv"):
        raise InputError("--finding applies to --format far and far-csv only")
    if "{" in evidence_url.replace("{finding_id}", "").replace("{host}", ""):
        raise InputError("--evidence-url may only use {finding_id} and {host}")
    level: Detail = "full" if detail == "full" else "summary"
    options = RenderOptions(detail=level, finding_ids=tuple(finding), evidence_url=evidence_url)
    with open_store(db, create=False, verify=VERIFY_ON_READ) as store:
        scan_id = resolve_scan_ref(store, scan) if scan else None
        data = build_report(store, scan_id)
    write_report(data, renderer.format, out, options)
    overdue = sum(1 for s in data.far.values() if s.overdue)
    make_console().print(
        line(
            f"wrote {out} ({renderer.format}): {len(data.covered_devices)} covered device(s), "
            f"{len(data.review_devices)} to review, {overdue} FAR report(s) overdue; scan {data.scan.id}; "
            f"knowledge base {data.kb_version}; fingerprints {data.fingerprint_version}"
        )
    )


@report_app.command("verify")
def verify_command(
    report: Path = typer.Argument(..., help="A report written by `trueorigin report` (any format)."),
    db: str | None = typer.Option(None, "--db", envvar="TRUEORIGIN_DB", help=DB_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Check that the report's evidence manifest is intact and every raw answer it lists is unaltered."""
    load_manifest(report)  # the report is checked first: a bad report is the error, whatever the store
    with open_store(db, create=False, verify=VERIFY_ON_READ) as store:
        result = verify_report(report, store)
    if as_json:
        typer.echo(json_text(result.to_json(), indent=2))
    else:
        console = make_console()  # the report file is untrusted: its values are shown, never interpreted
        console.print(line(f"scan {result.scan_id}, knowledge base {result.kb_version}"))
        console.print(line("manifest intact: ", "yes" if result.manifest_intact else Styled("NO", "red")))
        console.print(line(f"raw answers checked: {result.checked}, not verified: {len(result.failed)}"))
        for failure in result.failed[:50]:
            console.print(line(f"  finding {failure['finding_id']} {failure['host']}: {failure['sha256']}"))
        console.print("[green]VERIFIED[/green]" if result.ok else "[red]VERIFICATION FAILED[/red]")
    if not result.ok:
        raise typer.Exit(EXIT_CHECK_FAILED)


def _date(value: str | None, what: str) -> dt.date | None:
    if value is None:
        return None
    if value == "today":
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise InputError(f"{what} must be a date like 2027-01-31 (or `today`), not {value!r}") from exc


@far_app.command("contract")
def contract_command(
    ids: list[int] = typer.Argument(None, help="Finding ids (or give --site)."),
    site: str | None = typer.Option(None, "--site", help="Attach to a site: all its findings inherit the data."),
    contract_number: str | None = typer.Option(None, "--contract-number"),
    order_numbers: str | None = typer.Option(None, "--order", help="Order number(s), if applicable."),
    supplier_name: str | None = typer.Option(None, "--supplier-name"),
    supplier_uei: str | None = typer.Option(None, "--uei", help="Supplier unique entity identifier (12 characters)."),
    supplier_cage: str | None = typer.Option(None, "--cage", help="Supplier CAGE code (5 characters)."),
    item_description: str | None = typer.Option(None, "--item-description"),
    mitigation: str | None = typer.Option(None, "--mitigation", help="Mitigation undertaken or recommended."),
    further_mitigation: str | None = typer.Option(None, "--further-mitigation"),
    prevention: str | None = typer.Option(None, "--prevention", help="Efforts to prevent use, now and in future."),
    clear: list[str] = typer.Option([], "--clear", help="Empty this field (e.g. supplier_cage); repeatable."),
    by: str = typer.Option("cli", "--by", help="Who records this."),
    db: str | None = typer.Option(None, "--db", envvar="TRUEORIGIN_DB", help=DB_HELP),
) -> None:
    """Attach contract and supplier data to a site or to findings (a finding's own values win over its site's)."""
    values = {
        "contract_number": contract_number,
        "order_numbers": order_numbers,
        "supplier_name": supplier_name,
        "supplier_uei": supplier_uei,
        "supplier_cage": supplier_cage,
        "item_description": item_description,
        "mitigation": mitigation,
        "further_mitigation": further_mitigation,
        "prevention": prevention,
    }
    with open_store(db) as store:
        if all(v is None for v in values.values()) and not clear:
            raise InputError("nothing to set: give at least one field option (see --help)")
        count = ComplianceStore(store).set_contract(values, site=site, finding_ids=ids or (), actor=by, clear=clear)
    make_console().print(line("contract data set on ", f"site {site}" if site else f"{count} finding(s)"))


@far_app.command("sent")
def sent_command(
    ids: list[int] = typer.Argument(..., help="Finding ids."),
    initial: str | None = typer.Option(None, "--initial", help="Day the (d)(2)(i) report was sent (or `today`)."),
    further: str | None = typer.Option(None, "--further", help="Day the (d)(2)(ii) report was sent (or `today`)."),
    identified: str | None = typer.Option(
        None, "--identified", help="Day the equipment was identified (default: the day the finding was opened)."
    ),
    by: str = typer.Option("cli", "--by", help="Who records this."),
    db: str | None = typer.Option(None, "--db", envvar="TRUEORIGIN_DB", help=DB_HELP),
) -> None:
    """Record when reports were sent (and, if needed, when the equipment was identified)."""
    with open_store(db) as store:
        dates = [_date(initial, "--initial"), _date(further, "--further"), _date(identified, "--identified")]
        if all(d is None for d in dates):
            raise InputError("give --initial, --further or --identified")
        far_status(store, finding_ids=ids)  # refuses ids that are not covered findings
        ComplianceStore(store).set_far_dates(
            ids, initial_sent_on=dates[0], further_sent_on=dates[1], identified_on=dates[2], actor=by
        )
    make_console().print(line(f"recorded for {len(ids)} finding(s)"))


@far_app.command("status")
def status_command(
    overdue_only: bool = typer.Option(False, "--overdue", help="Only findings with an overdue report."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    db: str | None = typer.Option(None, "--db", envvar="TRUEORIGIN_DB", help=DB_HELP),
) -> None:
    """The FAR 52.204-25(d) deadlines of every covered finding."""
    with open_store(db) as store:
        states = [s for s in far_status(store) if s.overdue or not overdue_only]
    if as_json:
        typer.echo(json_text([s.to_json() for s in states], indent=2))
        return
    rows = [
        [
            s.finding_id,
            s.identified_on.isoformat(),
            Styled("OVERDUE: " + s.state, "red") if s.overdue else s.state,
            s.contract.contract_number or "—",  # typed by users: shown as text, never as markup
            "; ".join(s.missing) or "—",
        ]
        for s in states
    ]
    print_table(make_console(), None, ["finding", "identified", "state", "contract", "missing"], rows)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.add_typer(report_app, name="report")
    app.add_typer(far_app, name="far")
