"""The one terminal renderer: consoles, tables, message lines and the identification result table.

Every cell and every value in a message is untrusted and is rendered through `safetext` as a Rich `Text`
(never parsed as markup or emoji, control/bidi characters shown escaped). Only the tool's own styling is
applied, through `Styled`. Commands build their output with these helpers instead of Rich markup strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from rich.console import Console
from rich.table import Table
from rich.text import Text

from trueorigin.model import Identification
from trueorigin.safetext import terminal_text

COVERED_STYLE = {"yes": "bold red", "review": "yellow", "no": "green"}


@dataclass(frozen=True)
class Styled:
    """A value shown with one of the tool's styles (the value itself stays untrusted text)."""

    value: object
    style: str


@dataclass(frozen=True)
class Column:
    name: str
    justify: Literal["left", "right", "center"] = "left"
    no_wrap: bool = False
    overflow: Literal["fold", "crop", "ellipsis"] = "ellipsis"


def console(stderr: bool = False, **options: Any) -> Console:
    """A console for command output; emoji codes (`:name:`) in text are never replaced."""
    return Console(stderr=stderr, emoji=False, **options)


def cell(value: object) -> Text:
    """One cell or message part: `Styled` values get their style, anything else is plain untrusted text."""
    if isinstance(value, Styled):
        return terminal_text(value.value, value.style)
    return terminal_text(value)


def line(*parts: object) -> Text:
    """A message line from parts (`Styled` or plain values), e.g. `line(Styled("error:", "red"), " ", exc)`."""
    return Text.assemble(*(cell(part) for part in parts))


def table(
    title: object | None,
    columns: Sequence[Column | str],
    rows: Iterable[Sequence[object]],
    show_header: bool = True,
) -> Table:
    """A Rich table whose title, headers and cells are all rendered as untrusted text."""
    result = Table(title=cell(title) if title is not None else None, title_justify="left", show_header=show_header)
    for column in columns:
        spec = column if isinstance(column, Column) else Column(column)
        result.add_column(cell(spec.name), justify=spec.justify, no_wrap=spec.no_wrap, overflow=spec.overflow)
    for row in rows:
        result.add_row(*(cell(value) for value in row))
    return result


def print_table(
    target: Console,
    title: object | None,
    columns: Sequence[Column | str],
    rows: Iterable[Sequence[object]],
    show_header: bool = True,
) -> None:
    target.print(table(title, columns, rows, show_header))


# -- the identification result table (identify, scan, import, passive) -----------------------------------
IDENTIFICATION_COLUMNS = (
    Column("host", no_wrap=True),
    Column("vendor"),
    Column("brand"),
    Column("model"),
    Column("firmware"),
    Column("kind"),
    Column("covered"),
    Column("confidence", justify="right"),
)


def _rank(ident: Identification) -> tuple[int, str]:
    return {"yes": 0, "review": 1, "no": 2}.get(ident.covered, 3), ident.host


def identification_rows(idents: Iterable[Identification]) -> list[list[object]]:
    """Covered first, then review, then the rest; by host within each."""
    return [
        [
            i.host,
            i.vendor or "-",
            i.brand or "-",
            i.model or "-",
            i.firmware or "-",
            i.kind or "-",
            Styled(i.covered, COVERED_STYLE.get(i.covered, "")),
            f"{i.confidence:.2f}",
        ]
        for i in sorted(idents, key=_rank)
    ]


def print_identifications_table(target: Console, idents: Sequence[Identification], title: str | None = None) -> None:
    covered = sum(1 for i in idents if i.covered == "yes")
    heading = title if title is not None else f"{len(idents)} hosts, {covered} covered"
    print_table(target, heading, IDENTIFICATION_COLUMNS, identification_rows(idents))
