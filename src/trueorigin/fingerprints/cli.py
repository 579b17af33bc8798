"""`trueorigin fingerprints list|test|match`: inspect and self-test the fingerprint data."""

from __future__ import annotations

import json
from collections import Counter

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from trueorigin.errors import EXIT_CHECK_FAILED, InputError
from trueorigin.fingerprints import is_known_field, load_rules, match_field
from trueorigin.fingerprints.selftest import run_selftest

fingerprints_app = typer.Typer(
    name="fingerprints",
    help="Fingerprint rules (data files): list them, run their self-test, match a value.",
    no_args_is_help=True,
)
console = Console()
err_console = Console(stderr=True)


@fingerprints_app.command("list")
def list_rules(
    as_json: bool = typer.Option(False, "--json", help="One JSON object per rule."),
    vendor: str | None = typer.Option(None, "--vendor", help="Only rules that set this vendor id."),
    field: str | None = typer.Option(None, "--field", help="Only rules on this field."),
) -> None:
    """List the rules: id, field, what they set, certainty, number of examples."""
    rules = [r for r in load_rules() if (vendor is None or r.vendor == vendor) and (field is None or r.field == field)]
    if as_json:
        for r in rules:
            typer.echo(
                json.dumps(
                    {
                        "id": r.id,
                        "field": r.field,
                        "pattern": r.pattern,
                        "sets": dict(r.sets),
                        "certainty": r.certainty,
                        "description": r.description,
                        "examples": len(r.examples),
                        "counter_examples": len(r.counter_examples),
                        "file": r.file,
                    },
                    ensure_ascii=False,
                )
            )
        return
    table = Table(title=f"{len(rules)} fingerprint rules")
    for column in ("id", "field", "sets", "certainty", "examples"):
        table.add_column(column)
    for r in rules:
        sets = ", ".join(f"{k}={v}" for k, v in r.sets.items())
        table.add_row(escape(r.id), escape(r.field), escape(sets), f"{r.certainty:.2f}", str(len(r.examples)))
    console.print(table)


@fingerprints_app.command("test")
def test_rules(
    as_json: bool = typer.Option(False, "--json", help="One JSON object per check."),
    show_all: bool = typer.Option(False, "--all", help="Also print passing checks."),
) -> None:
    """Replay every example, counter-example and generic banner; exit 1 if any check fails."""
    results = run_selftest(load_rules())
    counts = Counter(r.status for r in results)
    if as_json:
        for r in results:
            if show_all or r.status != "pass":
                typer.echo(json.dumps(r.to_json(), ensure_ascii=False))
    else:
        for r in results:
            if r.status == "pass" and not show_all:
                continue
            colour = {"pass": "green", "fail": "red", "skip": "yellow"}[r.status]
            detail = escape("; ".join(r.problems))
            console.print(f"[{colour}]{r.status}[/{colour}] {r.check} {r.rule_id} {escape(repr(r.subject))} {detail}")
        console.print(f"{counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped")
    if counts["fail"]:
        raise typer.Exit(EXIT_CHECK_FAILED)


@fingerprints_app.command("match")
def match_value(
    field: str = typer.Argument(..., help="A field of the vocabulary, e.g. http.header.server."),
    value: str = typer.Argument(..., help="The value a device sent."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Which rules match VALUE on FIELD, and what they extract."""
    if not is_known_field(field):
        raise InputError(f"{field!r} is not in the field vocabulary (docs/ARCHITECTURE.md)")
    hits = match_field(field, value)
    if as_json:
        for hit in hits:
            typer.echo(
                json.dumps(
                    {"rule": hit.rule_id, "attributes": dict(hit.attributes), "certainty": hit.certainty},
                    ensure_ascii=False,
                )
            )
        return
    if not hits:
        console.print("no rule matches")
    for hit in hits:
        attrs = ", ".join(f"{k}={v}" for k, v in hit.attributes.items())
        console.print(f"{hit.rule_id} ({hit.certainty:.2f}): {escape(attrs)}")


def register(app: typer.Typer) -> None:
    """Add the `fingerprints` command group to the root app."""
    app.add_typer(fingerprints_app, name="fingerprints")
