"""Streaming output: the input rows plus the added columns, as CSV, XLSX, JSON lines or Parquet.

Added columns (the output contract): covered, vendor, brand, matched, confidence, sources; then explanation (with
`--explain`) and screen_key (the key `trueorigin screen decide --key` takes). An input column whose name
collides with an added one is kept under "<name> (input)".
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq

from trueorigin.errors import InputError
from trueorigin.safetext import json_text
from trueorigin.spreadsheet import CsvWriter, XlsxWriter

CONTRACT_COLUMNS = ("covered", "vendor", "brand", "matched", "confidence", "sources")
ADDED_COLUMNS = (*CONTRACT_COLUMNS, "explanation", "screen_key")
OUT_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
}
WRITE_SLICE_ROWS = 32_768
XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit minus the header row


def output_names(input_columns: list[str]) -> list[str]:
    """Input column names as written, renamed where they collide with an added column."""
    taken = set(ADDED_COLUMNS)
    out: list[str] = []
    for name in input_columns:
        new = name
        while new in taken:
            new = f"{new} (input)"
        taken.add(new)
        out.append(new)
    return out


class RowWriter(Protocol):
    def write(self, table: pa.Table, row_numbers: list[int]) -> None: ...
    def close(self) -> None: ...


def open_writer(path: Path, input_columns: list[str], added_columns: Sequence[str] = ADDED_COLUMNS) -> RowWriter:
    """A writer for `path`, chosen by its suffix. Raises InputError for an unsupported suffix or unwritable path."""
    kind = OUT_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise InputError(f"--out {path}: use a .csv, .xlsx, .jsonl or .parquet file name")
    if not path.parent.exists():
        raise InputError(f"--out {path}: directory {path.parent} does not exist")
    names = output_names(input_columns) + list(added_columns)
    try:
        if kind == "csv":
            return _CsvWriter(path, names, "\t" if path.suffix.lower() == ".tsv" else ",")
        if kind == "xlsx":
            return _XlsxWriter(path, names)
        if kind == "parquet":
            return _ParquetWriter(path, names)
        return _JsonlWriter(path, names)
    except OSError as exc:
        raise InputError(f"--out {path}: cannot write: {exc}") from None


def _renamed(table: pa.Table, names: list[str]) -> pa.Table:
    return table.rename_columns(names)


class _CsvWriter:
    """CSV/TSV through the one spreadsheet writer (formula and control characters neutralised, header too)."""

    def __init__(self, path: Path, names: list[str], delimiter: str) -> None:
        self.writer = CsvWriter(path, names, delimiter)

    def write(self, table: pa.Table, row_numbers: list[int]) -> None:
        # In slices: the writer decodes dictionary columns (long shared texts) row by row while it writes.
        for piece in table.to_batches(max_chunksize=WRITE_SLICE_ROWS):
            self.writer.write_arrow(pa.Table.from_batches([piece]))

    def close(self) -> None:
        self.writer.close()


class _ParquetWriter:
    def __init__(self, path: Path, names: list[str]) -> None:
        self.names = names
        self.path = path
        self.writer: pq.ParquetWriter | None = None

    def write(self, table: pa.Table, row_numbers: list[int]) -> None:
        table = _renamed(table, self.names)
        if self.writer is None:
            self.writer = pq.ParquetWriter(str(self.path), table.schema)
        self.writer.write_table(table)

    def close(self) -> None:
        if self.writer is None:
            fields = [(n, pa.float64() if n == "confidence" else pa.string()) for n in self.names]
            self.writer = pq.ParquetWriter(str(self.path), pa.schema(fields))
        self.writer.close()


class _JsonlWriter:
    def __init__(self, path: Path, names: list[str]) -> None:
        self.names = names
        self.handle = path.open("w", encoding="utf-8")

    def write(self, table: pa.Table, row_numbers: list[int]) -> None:
        columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
        lines: list[str] = []
        for index, number in enumerate(row_numbers):
            record: dict[str, Any] = {"row": number}
            for name, values in zip(self.names, columns, strict=True):
                record[name] = values[index]
            lines.append(json_text(record))
        if lines:
            self.handle.write("\n".join(lines) + "\n")

    def close(self) -> None:
        self.handle.close()


class _XlsxWriter:
    """XLSX through the one spreadsheet writer: every text cell a string cell (never a formula or link)."""

    def __init__(self, path: Path, names: list[str]) -> None:
        self.path = path
        self.writer = XlsxWriter(path, names, sheet="screened")

    def write(self, table: pa.Table, row_numbers: list[int]) -> None:
        if self.writer.rows + table.num_rows > XLSX_MAX_ROWS + 1:
            raise InputError(f"--out {self.path}: more than {XLSX_MAX_ROWS} rows do not fit in XLSX; use .csv")
        self.writer.write_arrow(table)

    def close(self) -> None:
        self.writer.close()
