"""Shared checks that an output is clean of hostile device strings (used by the output tests and tests/hostile/).

Defined independently of trueorigin.safetext (Unicode categories, not its table), so they can catch it out:
- terminal text: no control character but newline, no format (bidi, zero-width), separator or surrogate character;
- CSV / XLSX: no such character in any cell (tab and line breaks inside a cell are allowed: CSV quotes them), no
  cell a spreadsheet would evaluate (a leading = + - @ tab CR LF or full-width ＝＋－＠ that is not a plain
  number), no XLSX formula cell or hyperlink.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from pathlib import Path

HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
FORMULA_STARTS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")

# A device value that tries everything at once: screen clear, OSC 8 link, Rich markup link, NUL, bidi override.
HOSTILE = "\x1b[2J\x1b]8;;http://evil.example/\x07click\x1b]8;;\x07[link=http://x]a[/link]\x00\u202egnp.exe"
# The same, leading with a formula, for spreadsheet outputs.
HOSTILE_FORMULA = '=HYPERLINK("http://evil.example","x")' + HOSTILE


def hidden_characters(text: str, allowed: str = "") -> list[str]:
    """The characters of `text` that a terminal or spreadsheet would act on or hide, as U+XXXX names."""
    return sorted(
        {f"U+{ord(ch):04X}" for ch in text if ch not in allowed and unicodedata.category(ch) in HIDDEN_CATEGORIES}
    )


def assert_terminal_clean(text: str, where: str = "output") -> None:
    """Terminal output: only newlines may be raw; no markup link was turned into an OSC 8 link."""
    found = hidden_characters(text, allowed="\n")
    assert not found, f"raw control/bidi characters in {where}: {found}\n{text[:2000]!r}"


def is_formula(text: str) -> bool:
    return bool(text) and text[0] in FORMULA_STARTS and PLAIN_NUMBER.fullmatch(text) is None


def assert_cell_clean(value: object, where: str) -> None:
    if not isinstance(value, str):
        return
    found = hidden_characters(value, allowed="\t\n\r")
    assert not found, f"raw control/bidi characters in {where}: {found} {value!r}"
    assert not is_formula(value), f"{where} would be evaluated as a formula: {value!r}"


def assert_csv_clean(path: Path, delimiter: str = ",") -> list[list[str]]:
    """Every cell of a CSV file (read with Python's csv reader); returns the rows for further checks."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=delimiter))
    assert rows, f"{path} is empty"
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            assert_cell_clean(value, f"{path.name} row {r} column {c}")
    return rows


def assert_xlsx_clean(path: Path) -> list[list[object]]:
    """Every cell of every sheet: no formula (data_type 'f'), no hyperlink, clean text."""
    from openpyxl import load_workbook

    workbook = load_workbook(path)  # not read-only: data_type and hyperlinks are needed
    rows: list[list[object]] = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            values: list[object] = []
            for cell in row:
                where = f"{path.name} {sheet.title}!{cell.coordinate}"
                assert cell.data_type != "f", f"{where} is a formula: {cell.value!r}"
                assert cell.hyperlink is None, f"{where} is a hyperlink"
                assert_cell_clean(cell.value, where)
                values.append(cell.value)
            rows.append(values)
    return rows


def assert_html_visible(html: str) -> None:
    """An HTML document with no raw NUL, control (but tab/newline/CR) or bidi/format character."""
    found = hidden_characters(html, allowed="\t\n\r")
    assert not found, f"raw control/bidi characters in HTML: {found}"
