"""`trueorigin reidentify SCAN`: a stored scan's observations through today's knowledge base and fingerprints."""

from __future__ import annotations

import typer
from rich.console import Console

from trueorigin.audit.reidentify import reidentify
from trueorigin.store import open_store
from trueorigin.store.cli import DbOption, JsonOption, print_diff, resolve_scan_ref
from trueorigin.store.diff import diff_scans


def reidentify_command(
    scan: str = typer.Argument(..., help="Scan id (or prefix, `latest`, `previous`) whose observations to re-run."),
    db: str | None = DbOption,
    as_json: bool = JsonOption,
) -> None:
    """Re-identify a stored scan with the current knowledge base and fingerprints; stored as a new scan
    (kind "reidentify", linked to its source), then shown as `trueorigin diff SOURCE NEW` would.

    Exit code: 0 done, 2 bad input (no such scan, or one without stored observations).
    """
    with open_store(db) as store:
        source = resolve_scan_ref(store, scan)
        new_scan = reidentify(store, source)
        record = store.require_scan(new_scan)
        if not as_json:
            Console(stderr=True).print(
                f"re-identified scan {source} as scan [bold]{new_scan}[/bold] (knowledge base {record.kb_version}, "
                f"fingerprints {record.fingerprint_version})",
                highlight=False,
            )
        print_diff(diff_scans(store, source, new_scan), as_json)


def register(app: typer.Typer) -> None:
    app.command("reidentify")(reidentify_command)
