"""Commands of the knowledge area: `trueorigin kb stats|validate|explain|import-oui`."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from trueorigin.errors import EXIT_CHECK_FAILED, EXIT_REVIEW, InputError, verdict_exit_code
from trueorigin.safetext import json_text
from trueorigin.terminal import Column, Styled, line, print_table
from trueorigin.terminal import console as make_console

kb_app = typer.Typer(
    name="kb",
    help="The knowledge base: covered vendors, subsidiaries, relabel brands, OUIs, models, FCC IDs, KEV CVEs.",
    no_args_is_help=True,
)
console = make_console(soft_wrap=True)
err_console = make_console(stderr=True, soft_wrap=True)


@kb_app.command("stats")
def stats(as_json: bool = typer.Option(False, "--json", help="Print one JSON object.")) -> None:
    """Counts per kind of record and the dates of the data."""
    from trueorigin.knowledge import load
    from trueorigin.knowledge.oui import registry_age_warning

    counts = load().stats()
    warning = registry_age_warning(str(counts.get("data_dates", {}).get("oui_registry", "")))
    if as_json:
        typer.echo(json.dumps({**counts, "warnings": [warning] if warning else []}, ensure_ascii=False, indent=2))
        return
    if warning:
        err_console.print(line(Styled("warning:", "yellow"), " ", warning))
    rows = [
        [key.replace("_", " "), str(value)]
        for key, value in counts.items()
        if key not in ("version", "data_dates", "oui_by_registry")
    ]
    rows += [[f"  OUI {registry}", str(value)] for registry, value in counts["oui_by_registry"].items()]
    print_table(console, f"knowledge base {counts['version']}", ("records", Column("count", justify="right")), rows)
    for key, value in counts["data_dates"].items():
        console.print(line(f"{key.replace('_', ' ')}: {value}"))


@kb_app.command("validate")
def validate_cmd() -> None:
    """Check the data: schema, sources on every record, references, model examples, contradictory links."""
    from trueorigin.knowledge.validate import validate

    problems = validate()
    if problems:
        for problem in problems:
            err_console.print(line(Styled("✗", "red"), " ", problem))
        err_console.print(f"{len(problems)} problem(s)")
        raise typer.Exit(EXIT_CHECK_FAILED)
    console.print("[green]✓[/green] knowledge base is valid")


@kb_app.command("explain")
def explain(
    name: str = typer.Argument(..., help="Brand, company (any language), MAC address or OUI, model number or FCC ID."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """What NAME resolves to, why (the chain of records) and on which sources.

    Exit code: 0 not covered, 1 covered, 3 covered "review" or NAME unknown (a person must look), 2 bad input.
    """
    from trueorigin.knowledge import load

    resolution = load().resolve(name)
    if as_json:
        typer.echo(json_text(resolution.to_json(), indent=2))
    else:
        out = make_console(soft_wrap=True)  # made here so the terminal width is read when the command runs
        colour = {"yes": "red", "review": "yellow", "no": "green"}[resolution.covered]
        out.print(line(Styled(resolution.query, "bold"), f" → {resolution.kind}: {resolution.resolved or '—'}"))
        if resolution.kind != "unknown":
            out.print(line(f"maker: {resolution.maker or '—'}    covered vendor: {resolution.vendor or '—'}"))
            regimes = ", ".join(resolution.regimes) or "—"
            out.print(line("covered: ", Styled(resolution.covered, colour), f"    regimes: {regimes}"))
        for scope in resolution.scope:
            if scope.get("qualifier"):
                out.print(line(f"  {scope['regime']}: only {scope['qualifier']}"))
        for note in resolution.notes:
            out.print(line(Styled("note:", "dim"), " ", note))
        if resolution.records:
            out.print("why:")
            for record in resolution.records:
                out.print(line(f"  • {record.claim} ", Styled(f"({record.id})", "dim")))
        if resolution.sources:
            out.print("sources:")
            for source in resolution.sources:
                out.print(line(f"  - {source.title} — {source.url} ({source.date})"))
    if resolution.kind == "unknown":
        if not as_json:
            err_console.print(line(f"{name!r} is not known to the knowledge base"))
        raise typer.Exit(EXIT_REVIEW)
    raise typer.Exit(verdict_exit_code([resolution.covered]))


@kb_app.command("import-oui")
def import_oui(
    path: Path = typer.Argument(..., help="IEEE registry directory (e.g. /usr/share/ieee-data) or one registry CSV."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Where to write the table (default: the shipped oui.tsv)."
    ),
    registry_date: str | None = typer.Option(None, "--registry-date", help="YYYY-MM-DD, when PATH has no .lastupdate."),
) -> None:
    """Rebuild the OUI table from IEEE registry files (MA-L, MA-M, MA-S, IAB) and the organization mapping."""
    from trueorigin.knowledge.loader import DATA_DIR
    from trueorigin.knowledge.oui import import_registry, write_oui_tsv
    from trueorigin.knowledge.ouimap import load_mapping

    mapping, excluded, digest = load_mapping()
    result = import_registry(path, mapping, excluded, registry_date)
    target = output or DATA_DIR / "oui.tsv"
    shipped = path.resolve() == (DATA_DIR / "ieee").resolve()
    source = "knowledge/data/ieee (the shipped IEEE snapshot)" if shipped else str(path)
    text = write_oui_tsv(result, source, f"oui-organizations.yaml sha256 {digest[:16]}")
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {target}: {exc.strerror or exc}") from exc
    console.print(
        line(
            f"{len(result.records)} assignments of {len(result.counts)} entities/brands from {result.rows_read} "
            f"registry rows (registry date {result.registry_date}) → {target}"
        )
    )
    if result.unused_mappings:
        console.print(
            line(
                f"{len(result.unused_mappings)} mapped organization(s) not in this registry: "
                + "; ".join(result.unused_mappings)
            )
        )
    if result.unmapped_suspicious:
        console.print(
            line(
                Styled("review:", "yellow"),
                " unmapped organizations containing a watched name: " + "; ".join(result.unmapped_suspicious),
            )
        )


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.add_typer(kb_app, name="kb")
