"""CSV exports as bytes, through the project's one CSV writer (`trueorigin.spreadsheet`): every text cell is
made visible and can never become a formula, whatever a device or a user typed."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

from trueorigin.spreadsheet import CsvWriter, csv_cell


def safe_cell(value: object) -> str:
    return csv_cell(value)


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """UTF-8 CSV of the header and rows."""
    buffer = io.StringIO(newline="")
    writer = CsvWriter(buffer, header)
    writer.write_rows(rows)
    return buffer.getvalue().encode("utf-8")
