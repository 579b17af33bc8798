"""`trueorigin fingerprints list|test|match`: inspect and self-test the fingerprint data."""

from __future__ import annotations

from collections import Counter

import typer

from trueorigin.errors import EXIT_CHECK_FAILED, InputError
from trueorigin.fingerprints import is_known_field, load_rules, match_field
from trueorigin.fingerprints.selftest import run_selftest
from trueorigin.safetext import json_text
from trueorigin.terminal import Styled, line, print_table
from trueorigin.terminal import console as make_console

fingerprints_app = typer.Typer(
    name="fingerprints",
    help="Fingerprint rules (data files): list them, run their self-test, match a value.",
    no_args_is_help=True,
)
console = make_console()
err_console = make_console(stderr=True)


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
                json_text(
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
                )
            )
        return
    rows = [
        [r.id, r.field, ", ".join(f"{k}={v}" for k, v in r.sets.items()), f"{r.certainty:.2f}", str(len(r.examples))]
        for r in rules
    ]
    print_table(console, f"{len(rules)} fingerprint rules", ("id", "field", "sets", "certainty", "examples"), rows)


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
                typer.echo(json_text(r.to_json()))
    else:
        for r in results:
            if r.status == "pass" and not show_all:
                continue
            colour = {"pass": "green", "fail": "red", "skip": "yellow"}[r.status]
            detail = "; ".join(r.problems)
            console.print(line(Styled(r.status, colour), f" {r.check} {r.rule_id} {r.subject!r} {detail}"))
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
            typer.echo(json_text({"rule": hit.rule_id, "attributes": dict(hit.attributes), "certainty": hit.certainty}))
        return
    if not hits:
        console.print("no rule matches")
    for hit in hits:
        attrs = ", ".join(f"{k}={v}" for k, v in hit.attributes.items())
        console.print(line(f"{hit.rule_id} ({hit.certainty:.2f}): {attrs}"))


def register(app: typer.Typer) -> None:
    """Add the `fingerprints` command group to the root app."""
    app.add_typer(fingerprints_app, name="fingerprints")
