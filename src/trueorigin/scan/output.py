"""Rendering scan results: Rich table, JSON lines (the `Identification.to_json()` contract), CSV; exit code.

The exit code follows the one rule of every command (trueorigin.errors, README "Reliability").
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from typing import TextIO

from rich.console import Console
from rich.table import Table

from trueorigin.errors import verdict_exit_code
from trueorigin.model import Identification

CSV_COLUMNS = (
    "host",
    "vendor",
    "brand",
    "model",
    "firmware",
    "kind",
    "covered",
    "regimes",
    "confidence",
    "mac",
    "cves",
)


def exit_code(identifications: Iterable[Identification]) -> int:
    return verdict_exit_code(i.covered for i in identifications)


def _sort_key(ident: Identification) -> tuple[int, str]:
    rank = {"yes": 0, "review": 1, "no": 2}.get(ident.covered, 3)
    return rank, ident.host


def write_json_lines(identifications: Sequence[Identification], out: TextIO) -> None:
    for ident in identifications:
        out.write(json.dumps(ident.to_json(), ensure_ascii=False, sort_keys=False) + "\n")


def write_csv(identifications: Sequence[Identification], out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for i in identifications:
        writer.writerow(
            [
                i.host,
                i.vendor or "",
                i.brand or "",
                i.model or "",
                i.firmware or "",
                i.kind or "",
                i.covered,
                " ".join(i.regimes),
                f"{i.confidence:.3f}",
                i.mac or "",
                " ".join(i.cves),
            ]
        )


def render_table(identifications: Sequence[Identification], console: Console, title: str) -> None:
    table = Table(title=title, show_lines=False)
    for column in ("host", "vendor", "brand", "model", "firmware", "covered", "confidence"):
        table.add_column(column, justify="right" if column == "confidence" else "left", no_wrap=column == "host")
    style = {"yes": "bold red", "review": "yellow", "no": "green"}
    for i in sorted(identifications, key=_sort_key):
        table.add_row(
            i.host,
            i.vendor or "?",
            i.brand or "",
            i.model or "",
            i.firmware or "",
            f"[{style.get(i.covered, '')}]{i.covered}[/]",
            f"{i.confidence:.2f}",
        )
    console.print(table)
