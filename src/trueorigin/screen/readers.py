"""Streaming readers for inventories: CSV (any delimiter), XLSX, JSON, JSONL and Parquet.

Every reader yields `Batch`es of at most `batch_rows` rows as a pyarrow Table whose columns are all strings (empty
string for missing values), plus the 1-based data row number of every row. Rows that cannot be read are skipped and
recorded as `BadRow`s with their row number; they never stop the run. Unusable files raise `InputError`.

Text formats must be UTF-8 (a BOM is fine) or UTF-16 with a BOM unless the caller names the encoding: guessing a
legacy code page would silently turn "海康威视" into mojibake that then matches nothing.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from trueorigin.errors import InputError, LimitError
from trueorigin.limits import (
    MAX_XLSX_CELL_CHARS,
    MAX_XLSX_MEMBER_BYTES,
    MAX_XLSX_SHARED_STRINGS,
    MAX_XLSX_SHARED_STRINGS_BYTES,
    MiB,
    bounded_lines,
    loads_json,
)

Format = Literal["csv", "xlsx", "json", "jsonl", "parquet"]
FORMATS: tuple[Format, ...] = ("csv", "xlsx", "json", "jsonl", "parquet")

DEFAULT_BATCH_ROWS = 131_072
MAX_JSON_BYTES = 512 * 1024 * 1024  # a JSON array is parsed whole; bigger inventories belong in JSONL/CSV/Parquet
MAX_LINE_BYTES = 1024 * 1024
MAX_COLUMNS = 1000
MAX_BAD_ROWS_KEPT = 1000
_SNIFF_BYTES = 64 * 1024

_EXTENSIONS: dict[str, Format] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".tab": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}


@dataclass(frozen=True, slots=True)
class BadRow:
    row: int | None  # 1-based data row number (the header is not counted); None when the reader cannot tell
    reason: str


@dataclass(slots=True)
class Batch:
    table: pa.Table  # string columns named like the input
    row_numbers: list[int]  # 1-based data row numbers of table's rows


@dataclass
class BadRowLog:
    """Bad rows seen so far: the first MAX_BAD_ROWS_KEPT in full, then only counted."""

    rows: list[BadRow] = field(default_factory=list)
    count: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, bad: BadRow) -> None:
        with self._lock:
            self.count += 1
            if len(self.rows) < MAX_BAD_ROWS_KEPT:
                self.rows.append(bad)


@dataclass
class TableSource:
    """An opened inventory: its format, encoding, column names, and an iterator over row batches."""

    path: Path
    format: Format
    columns: list[str]
    encoding: str | None
    bad_rows: BadRowLog
    notes: list[str]
    _batches: Iterator[Batch]

    def batches(self) -> Iterator[Batch]:
        return self._batches


def detect_format(path: Path, head: bytes) -> Format:
    """Format from the file name, or from the first bytes when the extension says nothing."""
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise InputError(f"{path}: old binary Excel (.xls) is not supported; save it as .xlsx or CSV")
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"["):
        return "json"
    if stripped.startswith(b"{"):
        first_line = stripped.split(b"\n", 1)[0].strip()
        return "jsonl" if first_line.endswith(b"}") else "json"
    return "csv"


def open_table(
    path: Path,
    fmt: Format | None = None,
    encoding: str | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> TableSource:
    """Open an inventory for streaming. Raises InputError for a missing, empty, binary or undecodable file."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if not path.is_file():
        raise InputError(f"{path}: not a regular file")
    size = path.stat().st_size
    if size == 0:
        raise InputError(f"{path}: the file is empty")
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if not head.strip(b" \t\r\n\xef\xbb\xbf"):
        raise InputError(f"{path}: the file is empty (only white space)")
    chosen = fmt or detect_format(path, head)
    if chosen not in FORMATS:
        raise InputError(f"unknown format {chosen!r}; use one of {', '.join(FORMATS)}")
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise InputError(f"--encoding {encoding!r}: no such text encoding (e.g. cp1252, gb18030)") from None
    bad_rows = BadRowLog()
    notes: list[str] = []
    if chosen == "parquet":
        return _open_parquet(path, batch_rows, bad_rows, notes)
    if chosen == "xlsx":
        return _open_xlsx(path, batch_rows, bad_rows, notes)
    text_encoding = encoding or detect_encoding(path, head)
    if chosen == "csv":
        return _open_csv(path, head, text_encoding, batch_rows, bad_rows, notes)
    if chosen == "jsonl":
        return _open_jsonl(path, text_encoding, batch_rows, bad_rows, notes)
    return _open_json(path, size, text_encoding, batch_rows, bad_rows, notes)


def detect_encoding(path: Path, head: bytes) -> str:
    """UTF-8 (with or without BOM) or BOM-marked UTF-16; anything else is an InputError naming where it fails."""
    if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    if b"\x00" in head:
        raise InputError(f"{path}: looks like a binary file (NUL bytes), not a text inventory; check --format")
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    line = 1
    with path.open("rb") as handle:
        while chunk := handle.read(16 * 1024 * 1024):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                bad_at = offset + exc.start
                line += chunk[: exc.start].count(b"\n")
                raise InputError(
                    f"{path}: not valid UTF-8 (byte 0x{chunk[exc.start]:02x} at offset {bad_at}, line {line}); "
                    "if the file uses a legacy code page, name it with --encoding (e.g. cp1252, gb18030)"
                ) from None
            line += chunk.count(b"\n")
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise InputError(f"{path}: not valid UTF-8 (truncated character at the end of the file)") from None
    return "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"


def _unique_names(names: list[str]) -> list[str]:
    """Column names made unique and non-empty, in order ("", "Model", "Model" -> "column_1", "Model", "Model_2")."""
    seen: dict[str, int] = {}
    out: list[str] = []
    for index, raw in enumerate(names, start=1):
        name = raw.strip() or f"column_{index}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        seen.setdefault(name, 1)
        out.append(name)
    return out


def _decode_head(head: bytes, encoding: str) -> str:
    return head.decode(encoding, errors="replace")


# --------------------------------------------------------------------------------------------------- CSV


def _sniff_delimiter(sample: str) -> str:
    lines = [line for line in sample.splitlines()[:50] if line.strip()]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|").delimiter
    except csv.Error:
        counts = {d: lines[0].count(d) for d in ",;\t|"}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def _open_csv(
    path: Path, head: bytes, encoding: str, batch_rows: int, bad_rows: BadRowLog, notes: list[str]
) -> TableSource:
    sample = _decode_head(head, encoding).lstrip("\ufeff")
    delimiter = "\t" if path.suffix.lower() in (".tsv", ".tab") else _sniff_delimiter(sample)
    header_line = next(csv.reader(io.StringIO(sample), delimiter=delimiter), None)
    if not header_line or not any(cell.strip() for cell in header_line):
        raise InputError(f"{path}: no header row found")
    if len(header_line) > MAX_COLUMNS:
        raise InputError(f"{path}: {len(header_line)} columns is more than the {MAX_COLUMNS} supported")
    columns = _unique_names(header_line)
    if delimiter != ",":
        notes.append(f"CSV delimiter {delimiter!r} detected")
    skipped_rows: list[int] = []

    def on_invalid(row: pa_csv.InvalidRow) -> str:
        # pyarrow counts physical rows from 1 including the header; data rows are counted without it.
        number = row.number - 1 if row.number is not None else None
        bad_rows.add(
            BadRow(number, f"expected {row.expected_columns} fields, found {row.actual_columns}: {row.text[:80]!r}")
        )
        if number is not None:
            skipped_rows.append(number)
        return "skip"

    # Single-threaded parsing is what lets pyarrow report the row number of an invalid row.
    read_options = pa_csv.ReadOptions(
        column_names=columns, skip_rows=1, encoding=encoding, block_size=4 * 1024 * 1024, use_threads=False
    )
    parse_options = pa_csv.ParseOptions(delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_invalid)
    convert_options = pa_csv.ConvertOptions(
        column_types={name: pa.string() for name in columns},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
        null_values=[],
    )
    try:
        reader = pa_csv.open_csv(
            path, read_options=read_options, parse_options=parse_options, convert_options=convert_options
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read as CSV: {exc}") from None

    def generate() -> Iterator[Batch]:
        numbering = _RowNumbering(skipped_rows)
        pending: list[pa.RecordBatch] = []
        pending_rows = 0
        while True:
            try:
                record_batch = reader.read_next_batch()
            except StopIteration:
                break
            except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
                # Undecodable data far into the file (after the encoding check's sample) or a broken quote.
                raise InputError(f"{path}: cannot read as CSV after data row {numbering.next_row - 1}: {exc}") from None
            pending.append(record_batch)
            pending_rows += record_batch.num_rows
            if pending_rows >= batch_rows:
                table = pa.Table.from_batches(pending)
                pending, pending_rows = [], 0
                yield Batch(table, numbering.take(table.num_rows))
        if pending_rows:
            table = pa.Table.from_batches(pending)
            yield Batch(table, numbering.take(table.num_rows))

    return TableSource(path, "csv", columns, encoding, bad_rows, notes, generate())


class _RowNumbering:
    """Hands out data row numbers to good rows, leaving out the numbers of skipped bad rows."""

    def __init__(self, skipped: list[int]) -> None:
        self._skipped = skipped  # appended to by the reader's invalid-row handler
        self.next_row = 1

    def take(self, count: int) -> list[int]:
        skipped = {n for n in self._skipped if n >= self.next_row}
        numbers: list[int] = []
        row = self.next_row
        if not skipped:
            numbers = list(range(row, row + count))
            row += count
        else:
            while len(numbers) < count:
                if row not in skipped:
                    numbers.append(row)
                row += 1
        self.next_row = row
        return numbers


# --------------------------------------------------------------------------------------------------- Parquet


def _as_strings(column: pa.ChunkedArray | pa.Array) -> pa.Array | pa.ChunkedArray:
    """Any Arrow column as strings with "" for null; nested types are written as JSON."""
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return pc.fill_null(column, "")
    try:
        return pc.fill_null(pc.cast(column, pa.string()), "")
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        values = column.to_pylist()
        return pa.array(["" if v is None else json.dumps(v, default=str, ensure_ascii=False) for v in values])


def _stringify_table(table: pa.Table, columns: list[str]) -> pa.Table:
    return pa.table({name: _as_strings(table.column(i)) for i, name in enumerate(columns)})


def _open_parquet(path: Path, batch_rows: int, bad_rows: BadRowLog, notes: list[str]) -> TableSource:
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"{path}: not a readable Parquet file: {exc}") from None
    columns = _unique_names(list(parquet.schema_arrow.names))

    def generate() -> Iterator[Batch]:
        next_row = 1
        try:
            for record_batch in parquet.iter_batches(batch_size=batch_rows):
                table = _stringify_table(pa.Table.from_batches([record_batch]), columns)
                yield Batch(table, list(range(next_row, next_row + table.num_rows)))
                next_row += table.num_rows
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(f"{path}: Parquet data is corrupt after data row {next_row - 1}: {exc}") from None

    return TableSource(path, "parquet", columns, None, bad_rows, notes, generate())


# --------------------------------------------------------------------------------------------------- XLSX


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)[:MAX_XLSX_CELL_CHARS]  # Excel's own limit; the parts' sizes were checked before reading


def _check_xlsx_parts(path: Path) -> None:
    """Refuse a workbook whose parts would not fit in memory, from the zip directory, before openpyxl reads any.

    openpyxl keeps every shared string in a list, so their number and size are bounded here; a part that
    inflates beyond the limit (a zip bomb) is refused whatever its name. zipfile never inflates a part past the
    size its directory entry declares, so the declared sizes are the bound.
    """
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if info.file_size > MAX_XLSX_MEMBER_BYTES:
                    raise LimitError(
                        f"{path}: part {info.filename!r} inflates to {info.file_size >> 20} MiB, over the "
                        f"{MAX_XLSX_MEMBER_BYTES // MiB} MiB limit; save the sheet as CSV"
                    )
                if info.filename.lower().endswith("sharedstrings.xml"):
                    if info.file_size > MAX_XLSX_SHARED_STRINGS_BYTES:
                        raise LimitError(
                            f"{path}: shared strings of {info.file_size >> 20} MiB, over the "
                            f"{MAX_XLSX_SHARED_STRINGS_BYTES // MiB} MiB limit; save the sheet as CSV"
                        )
                    _count_shared_strings(path, archive, info)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise InputError(f"{path}: not a readable XLSX workbook: {type(exc).__name__}: {exc}") from None


def _count_shared_strings(path: Path, archive: Any, info: Any) -> None:
    count = 0
    tail = b""
    with archive.open(info) as member:
        while chunk := member.read(4 * MiB):
            data = tail + chunk
            # "<si>" or "<si " or a prefixed "<x:si>": every shared string item starts with one
            count += data.count(b"<si>") + data.count(b"<si ") + data.count(b":si>") + data.count(b":si ")
            tail = data[-3:]  # a marker split across chunks is counted once: it needs a byte of the next chunk
            if count > MAX_XLSX_SHARED_STRINGS:
                raise LimitError(
                    f"{path}: more than {MAX_XLSX_SHARED_STRINGS:,} shared strings (the limit); save the sheet as CSV"
                )


def _open_xlsx(path: Path, batch_rows: int, bad_rows: BadRowLog, notes: list[str]) -> TableSource:
    from openpyxl import load_workbook  # openpyxl parses with defusedxml when it is installed (it is)

    _check_xlsx_parts(path)
    handle = path.open("rb")  # a file object: openpyxl would refuse a path without an .xlsx suffix
    try:
        workbook = load_workbook(handle, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds (zip, XML, KeyError) on a damaged file
        handle.close()
        raise InputError(f"{path}: not a readable XLSX workbook: {type(exc).__name__}: {exc}") from None
    if not workbook.worksheets:
        workbook.close()
        handle.close()
        raise InputError(f"{path}: the workbook has no sheets")
    sheet = workbook.worksheets[0]
    if len(workbook.worksheets) > 1:
        notes.append(f"XLSX: screening the first sheet {sheet.title!r} of {len(workbook.worksheets)}")
    rows = sheet.iter_rows(values_only=True)
    header: list[str] | None = None
    try:
        for cells in rows:
            texts = [_cell_text(c) for c in cells]
            if any(t.strip() for t in texts):
                header = texts
                break
    except Exception as exc:  # damaged sheet XML
        workbook.close()
        handle.close()
        raise InputError(f"{path}: cannot read the first sheet: {type(exc).__name__}: {exc}") from None
    if header is None:
        workbook.close()
        handle.close()
        raise InputError(f"{path}: the first sheet has no header row")
    while header and not header[-1].strip():
        header.pop()
    if len(header) > MAX_COLUMNS:
        raise InputError(f"{path}: {len(header)} columns is more than the {MAX_COLUMNS} supported")
    columns = _unique_names(header)
    width = len(columns)

    def generate() -> Iterator[Batch]:
        buffer: dict[str, list[str]] = {name: [] for name in columns}
        numbers: list[int] = []
        row_number = 0
        try:
            for cells in rows:
                texts = [_cell_text(c) for c in cells]
                if not any(t.strip() for t in texts):
                    continue  # blank spreadsheet rows are layout, not data
                row_number += 1
                if any(t.strip() for t in texts[width:]):
                    bad_rows.add(BadRow(row_number, f"values beyond the last header column (ignored): {texts[width:]}"))
                texts = (texts + [""] * width)[:width]
                for name, text in zip(columns, texts, strict=True):
                    buffer[name].append(text)
                numbers.append(row_number)
                if len(numbers) >= batch_rows:
                    yield Batch(pa.table(buffer), numbers)
                    buffer = {name: [] for name in columns}
                    numbers = []
            if numbers:
                yield Batch(pa.table(buffer), numbers)
        except InputError:
            raise
        except Exception as exc:  # damaged sheet XML after the header
            raise InputError(f"{path}: cannot read the sheet after data row {row_number}: {exc}") from None
        finally:
            workbook.close()
            handle.close()

    return TableSource(path, "xlsx", columns, None, bad_rows, notes, generate())


# --------------------------------------------------------------------------------------------------- JSON


def _json_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


class _ObjectBatcher:
    """Collects JSON objects into string-column batches under a fixed column list."""

    def __init__(self, columns: list[str], batch_rows: int) -> None:
        self.columns = columns
        self.batch_rows = batch_rows
        self.buffer: dict[str, list[str]] = {name: [] for name in columns}
        self.numbers: list[int] = []

    def add(self, row_number: int, obj: dict[str, Any]) -> Batch | None:
        for name in self.columns:
            self.buffer[name].append(_json_cell(obj.get(name)))
        self.numbers.append(row_number)
        return self.flush() if len(self.numbers) >= self.batch_rows else None

    def flush(self) -> Batch | None:
        if not self.numbers:
            return None
        batch = Batch(pa.table(self.buffer), self.numbers)
        self.buffer = {name: [] for name in self.columns}
        self.numbers = []
        return batch


def _columns_of(objects: list[Any]) -> list[str]:
    columns: dict[str, None] = {}
    for obj in objects:
        if isinstance(obj, dict):
            for key in obj:
                columns.setdefault(str(key), None)
                if len(columns) > MAX_COLUMNS:
                    raise InputError(f"more than {MAX_COLUMNS} distinct keys in the JSON objects")
    return list(columns)


def _open_json(
    path: Path, size: int, encoding: str, batch_rows: int, bad_rows: BadRowLog, notes: list[str]
) -> TableSource:
    if size > MAX_JSON_BYTES:
        raise InputError(f"{path}: a JSON array larger than {MAX_JSON_BYTES >> 20} MiB; use JSON lines (.jsonl)")
    try:
        document = loads_json(path.read_bytes().decode(encoding), str(path))
    except (UnicodeDecodeError, LookupError) as exc:
        raise InputError(f"{path}: cannot decode as {encoding}: {exc}") from None
    if isinstance(document, dict):
        # {"items": [...]}: a wrapper object holding one list of rows
        lists = [v for v in document.values() if isinstance(v, list)]
        if len(lists) != 1:
            raise InputError(f"{path}: expected a JSON array of objects (or an object holding exactly one array)")
        document = lists[0]
    if not isinstance(document, list):
        raise InputError(f"{path}: expected a JSON array of objects")
    if not document:
        raise InputError(f"{path}: the JSON array is empty")
    columns = _unique_names(_columns_of(document))
    if not columns:
        raise InputError(f"{path}: no JSON objects with keys found")
    rows: list[Any] = document

    def generate() -> Iterator[Batch]:
        batcher = _ObjectBatcher(columns, batch_rows)
        for row_number, obj in enumerate(rows, start=1):
            if not isinstance(obj, dict):
                bad_rows.add(BadRow(row_number, f"not a JSON object but {type(obj).__name__}"))
                continue
            if (batch := batcher.add(row_number, obj)) is not None:
                yield batch
        if (batch := batcher.flush()) is not None:
            yield batch

    return TableSource(path, "json", columns, encoding, bad_rows, notes, generate())


_JSONL_COLUMN_SAMPLE = 10_000


def _open_jsonl(path: Path, encoding: str, batch_rows: int, bad_rows: BadRowLog, notes: list[str]) -> TableSource:
    def lines() -> Iterator[tuple[int, str | None]]:
        with path.open("r", encoding=encoding, newline=None) as handle:
            row_number = 0
            for _, line in bounded_lines(handle, MAX_LINE_BYTES, None, str(path)):  # the file is finite
                if line is not None and not line.strip():
                    continue
                row_number += 1
                yield row_number, line

    def parse(row_number: int, line: str | None) -> dict[str, Any] | None:
        if line is None:
            bad_rows.add(BadRow(row_number, f"line longer than {MAX_LINE_BYTES} characters (the limit)"))
            return None
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            bad_rows.add(BadRow(row_number, f"not valid JSON: {exc.msg} at column {exc.colno}"))
            return None
        except RecursionError:
            bad_rows.add(BadRow(row_number, "JSON nested too deeply (the parser's limit is about 1000 levels)"))
            return None
        if not isinstance(obj, dict):
            bad_rows.add(BadRow(row_number, f"not a JSON object but {type(obj).__name__}"))
            return None
        return obj

    # Columns are the keys seen in the first rows; the output header has to be known before the first row is written.
    sample: list[tuple[int, dict[str, Any] | None]] = []
    source = lines()
    try:
        for row_number, line in source:
            sample.append((row_number, parse(row_number, line)))
            if len(sample) >= _JSONL_COLUMN_SAMPLE:
                break
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: cannot decode as {encoding}: {exc}") from None
    columns = _unique_names(_columns_of([obj for _, obj in sample if obj is not None]))
    if not columns:
        raise InputError(f"{path}: no JSON objects with keys in the first {len(sample)} lines")
    known = set(columns)

    def generate() -> Iterator[Batch]:
        batcher = _ObjectBatcher(columns, batch_rows)
        warned: set[str] = set()

        def rows() -> Iterator[tuple[int, dict[str, Any] | None]]:
            yield from sample
            try:
                for row_number, line in source:
                    yield row_number, parse(row_number, line)
            except UnicodeDecodeError as exc:
                raise InputError(f"{path}: cannot decode as {encoding}: {exc}") from None

        for row_number, obj in rows():
            if obj is None:
                continue
            for key in obj.keys() - known - warned:
                warned.add(key)
                notes.append(f"JSONL key {key!r} first appears at row {row_number}; it is not screened or written")
            if (batch := batcher.add(row_number, obj)) is not None:
                yield batch
        if (batch := batcher.flush()) is not None:
            yield batch

    return TableSource(path, "jsonl", columns, encoding, bad_rows, notes, generate())
