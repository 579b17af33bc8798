"""`trueorigin screen FILE ...` and `trueorigin screen decide ...` (registered by trueorigin.cli)."""

from __future__ import annotations

import getpass
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import typer
from rich.console import Console

from trueorigin.errors import InputError, verdict_exit_code
from trueorigin.safetext import json_text
from trueorigin.screen.columns import detect_columns, parse_map_options
from trueorigin.screen.decisions import DecisionStore, default_path, make_decision
from trueorigin.screen.engine import Screening, Summary, describe_row, row_values_at
from trueorigin.screen.matcher import Matcher, decision_key
from trueorigin.screen.overlap import BackgroundWriter
from trueorigin.screen.readers import FORMATS, Format, open_table
from trueorigin.screen.writers import ADDED_COLUMNS, open_writer
from trueorigin.terminal import Column, Styled, line, print_table
from trueorigin.terminal import console as make_console

SHOWN_ROWS = 20
SHOWN_BAD_ROWS = 10


class _DefaultRunGroup(typer.core.TyperGroup):
    """`trueorigin screen FILE ...` runs the `run` sub-command; `screen decide ...` the other one."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


screen_app = typer.Typer(
    cls=_DefaultRunGroup,
    help="Screen an inventory, purchase history or product catalog (CSV, XLSX, JSON, JSONL, Parquet). "
    "`trueorigin screen FILE [OPTIONS]` is `trueorigin screen run FILE [OPTIONS]`: see `trueorigin screen run "
    "--help` for its options, and `trueorigin screen decide --help` for recording a reviewer's verdict.",
    no_args_is_help=True,
)

MapOption = typer.Option(
    None, "--map", help="COLUMN=FIELD (brand, model, description, mac, fcc_id, serial, key, ignore); repeatable."
)
FormatOption = typer.Option(None, "--format", help=f"Input format ({'|'.join(FORMATS)}); detected when omitted.")
EncodingOption = typer.Option(None, "--encoding", help="Text encoding when it is not UTF-8/UTF-16 (e.g. cp1252).")
DecisionsOption = typer.Option(
    None, "--decisions", help="Reviewer decisions file (default: FILE.decisions.json next to the input)."
)


def _format(value: str | None) -> Format | None:
    if value is None:
        return None
    lowered = value.lower()
    for fmt in FORMATS:
        if fmt == lowered:
            return fmt
    raise InputError(f"--format {value!r}: use one of {', '.join(FORMATS)}")


def _matcher() -> Matcher:
    from trueorigin.knowledge import load

    return Matcher(load())


@screen_app.command("run")
def run_command(
    file: Path = typer.Argument(..., help="Inventory file to screen.", show_default=False),
    fmt: str | None = FormatOption,
    encoding: str | None = EncodingOption,
    mapping: list[str] | None = MapOption,
    out: Path | None = typer.Option(None, "--out", help="Write input rows + results: .csv, .xlsx, .jsonl, .parquet"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON line per row (row, covered, vendor ...)."),
    decisions_path: Path | None = DecisionsOption,
    no_decisions: bool = typer.Option(False, "--no-decisions", help="Ignore recorded reviewer decisions."),
    explain: bool = typer.Option(
        False, "--explain", help="Add the score's explanation to --out (always in --json; long text per row)."
    ),
    batch_rows: int | None = typer.Option(None, "--batch-rows", min=1, help="Rows per batch (memory vs. speed)."),
    store_url: str | None = typer.Option(
        None, "--store", help="Also record rows to act on as a 'screen' scan in this store (sqlite:///x.db, ...)."
    ),
) -> None:
    """Screen FILE: which rows are covered equipment (yes/no/review), their true vendor, and why.

    Exit code: 0 nothing covered, 1 covered rows found, 3 rows to review only, 2 bad input (README).
    """
    console = make_console(stderr=as_json)
    overrides = parse_map_options(mapping or [])
    decisions = None if no_decisions else DecisionStore.load(decisions_path or default_path(file))
    screening = Screening(
        file, _matcher(), overrides, _format(fmt), encoding, decisions, batch_rows, explain=explain or as_json
    )
    _print_detection(console, screening)
    added = ADDED_COLUMNS if explain or as_json else tuple(c for c in ADDED_COLUMNS if c != "explanation")
    writer = BackgroundWriter(open_writer(out, screening.source.columns, added)) if out else None
    flagged: list[dict[str, Any]] = []
    recorder = _StoreRecorder(store_url, file, screening) if store_url else None
    try:
        for screened in screening.batches():
            if writer is not None:
                writer.write(screened.table, screened.row_numbers)
            if recorder is not None:
                recorder.record(screened.table, screened.row_numbers)
            if as_json:
                _write_json_lines(screened.added, screened.row_numbers)
            elif len(flagged) < SHOWN_ROWS:
                flagged.extend(_flagged_rows(screened.added, screened.row_numbers, SHOWN_ROWS - len(flagged)))
    finally:
        if writer is not None:
            writer.close()
        if recorder is not None:
            recorder.finish("complete" if sys.exc_info()[0] is None else "failed")
    if flagged and writer is None:
        _print_flagged(console, flagged)
    _print_summary(console, screening.summary, screening, out)
    if recorder is not None:
        console.print(line(f"recorded {recorder.count:,} rows to act on as scan {recorder.scan_id}"))
    raise typer.Exit(verdict_exit_code(v for v, n in screening.summary.covered.items() if n))


class _StoreRecorder:
    """Rows to act on, written through the audit session as one 'screen' scan (one identification per row)."""

    def __init__(self, url: str, file: Path, screening: Screening) -> None:
        from trueorigin.audit import AuditSession

        self.file = file
        self.columns = screening.columns
        matcher = screening.matcher
        kb: Any = matcher.kb
        entities = getattr(kb, "entities", {}) or {}
        self.regimes_of = {matcher.entity_name(e): matcher.coverage(e)[1] for e in entities}
        options = {"columns": {k: v for k, v in screening.columns.columns.items()}, "format": screening.source.format}
        self.session = AuditSession.open(url, "screen", [str(file)], options, kb=kb)
        self.scan_id = self.session.scan_id
        self.count = 0
        self.finished = False

    def record(self, table: Any, row_numbers: list[int]) -> None:
        from trueorigin.screen.report import flagged_identifications

        for ident in flagged_identifications(self.file, self.columns, table, row_numbers, self.regimes_of):
            self.session.record_identification(ident)
            self.count += 1

    def finish(self, status: str) -> None:
        if not self.finished:
            self.session.finish(status)
            self.session.close()
            self.finished = True


def _write_json_lines(added: Any, row_numbers: list[int]) -> None:
    columns = {name: added.column(name).to_pylist() for name in added.column_names}
    lines = []
    for index, number in enumerate(row_numbers):
        record: dict[str, Any] = {"row": number}
        for name, values in columns.items():
            record[name] = values[index]
        lines.append(json_text(record))
    if lines:
        sys.stdout.write("\n".join(lines) + "\n")


def _flagged_rows(added: Any, row_numbers: list[int], limit: int) -> list[dict[str, Any]]:
    flagged = pc.not_equal(pc.cast(added.column("covered"), pa.string()), "no")
    picked = pc.indices_nonzero(flagged).slice(0, limit).to_pylist()  # no Python loop over every row
    if not picked:
        return []
    rows = added.take(picked).to_pylist()
    for position, row in zip(picked, rows, strict=True):
        row["row"] = row_numbers[position]
    return list(rows)


def _print_detection(console: Console, screening: Screening) -> None:
    source = screening.source
    encoding = f", {source.encoding}" if source.encoding else ""
    title = f"{source.path.name}: {source.format}{encoding}, {len(source.columns)} columns"
    rows = [[item.field, item.column, item.how] for item in screening.columns.detected]
    print_table(console, title, ("field", "column", "detected by"), rows)
    if screening.columns.unused:
        console.print(line(f"not screened: {', '.join(screening.columns.unused)}"))
    for note in source.notes:
        console.print(line(f"note: {note}"))


def _print_flagged(console: Console, flagged: list[dict[str, Any]]) -> None:
    columns = [Column(name, overflow="fold") for name in ("row", "covered", "vendor", "brand", "matched", "confidence")]
    rows = [
        [
            str(row["row"]),
            Styled(row["covered"], "red" if row["covered"] == "yes" else "yellow"),
            row["vendor"],
            row["brand"],
            row["matched"][:120],
            f"{row['confidence']:.2f}",
        ]
        for row in flagged
    ]
    print_table(console, f"rows to act on (first {len(flagged)})", columns, rows)


def _print_summary(console: Console, summary: Summary, screening: Screening, out: Path | None) -> None:
    rows: list[list[object]] = [["rows screened", f"{summary.rows:,}"]]
    for verdict, style in (("yes", "red"), ("review", "yellow"), ("no", "green")):
        rows.append([Styled(f"covered {verdict}", style), f"{summary.covered.get(verdict, 0):,}"])
    rows.append(["reviewer decisions applied", f"{summary.decided:,}"])
    bad = screening.source.bad_rows
    rows.append(["bad rows (skipped or not screened)", f"{bad.count:,}"])
    rows.append(["distinct values matched", f"{summary.distinct:,}"])
    if summary.seconds > 0:
        rows.append(["seconds", f"{summary.seconds:.1f}"])
        rows.append(["rows per second", f"{summary.rows / summary.seconds:,.0f}"])
    for vendor, count in summary.vendors.most_common(10):
        rows.append([f"  vendor {vendor} (yes/review)", f"{count:,}"])
    if out is not None:
        rows.append(["written to", str(out)])
    columns = (Column("what"), Column("value", justify="right"))
    print_table(console, "screening summary", columns, rows, show_header=False)
    for item in bad.rows[:SHOWN_BAD_ROWS]:
        where = f"row {item.row}" if item.row is not None else "a row"
        console.print(line(Styled("bad row:", "yellow"), f" {where}: {item.reason}"))
    if bad.count > SHOWN_BAD_ROWS:
        console.print(line(f"... and {bad.count - SHOWN_BAD_ROWS} more bad rows"))


@screen_app.command("decide")
def decide_command(
    file: Path = typer.Argument(..., help="The inventory the row belongs to.", show_default=False),
    row: int | None = typer.Option(None, "--row", min=1, help="1-based data row number (as in --json 'row')."),
    key: str | None = typer.Option(None, "--key", help="The row's screen_key (from --out/--json) instead of --row."),
    covered: str = typer.Option(..., "--covered", help="The reviewer's verdict: yes, no or review."),
    reason: str = typer.Option(..., "--reason", help="What the reviewer established, and how."),
    vendor: str = typer.Option("", "--vendor", help="The true vendor the reviewer established (optional)."),
    reviewer: str | None = typer.Option(None, "--reviewer", help="Who decided (default: the login name)."),
    decisions_path: Path | None = DecisionsOption,
    fmt: str | None = FormatOption,
    encoding: str | None = EncodingOption,
    mapping: list[str] | None = MapOption,
) -> None:
    """Record a reviewer's judgement on one row; later `screen` runs apply it to every row with the same key."""
    if (row is None) == (key is None):
        raise InputError("name the row with exactly one of --row N or --key KEY")
    store = DecisionStore.load(decisions_path or default_path(file))
    listing = ""
    if row is not None:
        key, listing = _key_of_row(file, row, fmt, encoding, mapping or [])
    assert key is not None
    decision = make_decision(key, covered, reason, vendor, reviewer or _login(), listing)
    store.record(decision)
    make_console().print(
        line(f"recorded: {decision.key} -> covered {decision.covered} ({decision.reason}) in {store.path}")
    )


@screen_app.command("decisions")
def decisions_command(
    file: Path = typer.Argument(..., help="The inventory whose decisions to list.", show_default=False),
    decisions_path: Path | None = DecisionsOption,
    as_json: bool = typer.Option(False, "--json", help="Print the decisions as JSON lines."),
) -> None:
    """List the reviewer decisions recorded for FILE."""
    store = DecisionStore.load(decisions_path or default_path(file))
    if as_json:
        for decision in store.decisions.values():
            sys.stdout.write(json_text(asdict(decision)) + "\n")
        return
    names = ("key", "covered", "vendor", "reason", "reviewer", "decided", "listing")
    columns = [Column(name, overflow="fold") for name in names]
    rows = [
        [d.key, d.covered, d.vendor, d.reason, d.reviewer, d.decided_at[:10], d.listing[:60]]
        for d in store.decisions.values()
    ]
    print_table(make_console(), f"{len(store.decisions)} decision(s) in {store.path}", columns, rows)


def _key_of_row(file: Path, row: int, fmt: str | None, encoding: str | None, mapping: list[str]) -> tuple[str, str]:
    overrides = parse_map_options(mapping)
    source = open_table(file, _format(fmt), encoding)
    screening_columns = None
    for batch in source.batches():
        if screening_columns is None:
            head = batch.table.slice(0, 200)
            sample = {name: head.column(name).to_pylist() for name in source.columns}
            screening_columns = detect_columns(source.columns, sample, overrides)
        if row in batch.row_numbers:
            position = batch.row_numbers.index(row)
            values = row_values_at(batch.table, position, screening_columns)
            return decision_key(values), describe_row(values)
        if batch.row_numbers and batch.row_numbers[-1] > row:
            break
    raise InputError(f"{file}: there is no readable data row {row}")


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.add_typer(screen_app, name="screen")
