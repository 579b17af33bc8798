"""Rendering scan results: Rich table, JSON lines (the `Identification.to_json()` contract), CSV; exit codes.

Exit codes of `trueorigin scan` (documented in docs/scanning.md):
  0  no covered equipment found
  1  covered equipment found (at least one host with covered = "yes")
  2  bad input or an error (no scan result)
  3  nothing covered for certain, but at least one host needs review (covered = "review")
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TextIO

from rich.console import Console

from trueorigin.model import Identification
from trueorigin.safetext import json_text
from trueorigin.spreadsheet import write_csv as write_spreadsheet_csv
from trueorigin.terminal import print_identifications_table

EXIT_CLEAN = 0
EXIT_COVERED = 1
EXIT_ERROR = 2
EXIT_REVIEW = 3

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
    covered = {i.covered for i in identifications}
    if "yes" in covered:
        return EXIT_COVERED
    if "review" in covered:
        return EXIT_REVIEW
    return EXIT_CLEAN


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
