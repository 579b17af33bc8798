"""Rendering scan results: Rich table, JSON lines (the `Identification.to_json()` contract), CSV; exit code.

The exit code follows the one rule of every command (trueorigin.errors, README "Reliability").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TextIO

from rich.console import Console

from trueorigin.errors import verdict_exit_code
from trueorigin.model import Identification
from trueorigin.safetext import json_text
from trueorigin.spreadsheet import write_csv as write_spreadsheet_csv
from trueorigin.terminal import print_identifications_table

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


def write_json_lines(identifications: Sequence[Identification], out: TextIO) -> None:
    for ident in identifications:
        out.write(json_text(ident.to_json(), sort_keys=False) + "\n")


def write_csv(identifications: Sequence[Identification], out: TextIO) -> None:
    rows = (
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
        for i in identifications
    )
    write_spreadsheet_csv(out, CSV_COLUMNS, rows)


def render_table(identifications: Sequence[Identification], console: Console, title: str) -> None:
    print_identifications_table(console, identifications, title)
