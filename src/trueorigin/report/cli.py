"""`trueorigin report [--scan ID] [--db URL] --format html|pdf|csv|json --out PATH` and `trueorigin report verify`."""

from __future__ import annotations

from pathlib import Path

import typer

from trueorigin.errors import EXIT_CHECK_FAILED, InputError
from trueorigin.report.data import build_report
from trueorigin.report.render import RENDERERS, renderer_for
from trueorigin.report.verify import load_manifest, verify_report
from trueorigin.safetext import json_text
from trueorigin.store.api import VERIFY_ON_READ, open_store
from trueorigin.store.cli import DB_HELP, resolve_scan_ref
from trueorigin.terminal import Styled, line
from trueorigin.terminal import console as make_console

report_app = typer.Typer(
    help="Write the compliance report (html, pdf, csv, json) for a scan, or verify one later.",
    invoke_without_command=True,
)


@report_app.callback()
def report_command(
    ctx: typer.Context,
    scan: str | None = typer.Option(None, "--scan", help="Scan id, prefix or `latest` (default: latest)."),
    db: str | None = typer.Option(None, "--db", envvar="TRUEORIGIN_DB", help=DB_HELP),
    fmt: str = typer.Option("html", "--format", "-f", help="One of: " + ", ".join(RENDERERS) + "."),
    out: Path | None = typer.Option(None, "--out", "-o", help="File to write."),
) -> None:
    """Write the compliance report for a scan."""
    if ctx.invoked_subcommand is not None:
        return
    renderer = renderer_for(fmt)
    if out is None:
        raise InputError("--out PATH is required (e.g. --out report.html)")
    if not out.parent.exists():
        raise InputError(f"directory does not exist: {out.parent}")
    with open_store(db, create=False, verify=VERIFY_ON_READ) as store:
        scan_id = resolve_scan_ref(store, scan) if scan else None
        data = build_report(store, scan_id)
    renderer.render(data, out)
    make_console().print(
        line(
            f"wrote {out} ({renderer.format}): {len(data.covered_devices)} covered device(s), "
            f"{len(data.review_devices)} to review; scan {data.scan.id}; knowledge base {data.kb_version}; "
            f"fingerprints {data.fingerprint_version}"
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


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.add_typer(report_app, name="report")
