"""Untrusted text made safe for each output: the one place that decides how a device string is shown.

Device answers, file contents, file names and column headers are hostile input. Every output renders them
through one of these functions (docs/hostile-input.md states the guarantees):

- `visible(text)`: characters that could act instead of being seen -- C0/C1 controls, DEL, ESC (so ANSI/OSC
  sequences and OSC 8 links), NUL, bidi controls and other invisible format characters, line/paragraph
  separators, lone surrogates (undecodable bytes) -- become a visible escape: `\\x1b`, `\\n`, `<U+202E>`.
  Backslashes are not doubled, so the escape is exact for text that has no backslash or `<U+`; readable for all.
- terminal: `terminal_text(value)` (a Rich `Text`, never parsed as markup) and `terminal_markup(value)`
  (for interpolation into a markup string: visible and markup-escaped, `[link=...]` prints literally).
- spreadsheets: `spreadsheet_cell(value)`: a cell that a spreadsheet would read as a formula (OWASP CSV
  injection: starts with `=`, `+`, `-`, `@`, tab, CR, LF or a full-width `＝＋－＠`) gets a leading `'` so it
  stays text; plain numbers ("-3", "0.95") cannot be formulas and are left alone. Hidden characters are shown,
  except tab and line breaks inside the cell (the user's own layout, quoted by CSV).
- HTML: `html_visible(value)`, registered as the Jinja filter `visible` and finalizer of report templates
  (autoescape still does the HTML escaping).
- JSON for humans' terminals: `json_text(document)`: like `json.dumps(..., ensure_ascii=False)`, with every
  such character written as a `\\uXXXX` escape (same JSON value, nothing raw on the terminal).
"""

from __future__ import annotations

import json
import re
from typing import Any

from rich.markup import escape as _escape_markup
from rich.text import Text

# Unicode categories Cc (controls), Cf (format: bidi controls, zero-width characters, BOM, tags), Zl/Zp (line
# and paragraph separators) and Cs (surrogates: bytes that did not decode, via surrogateescape). Written out
# because computing them with unicodedata costs ~0.7 s at import; tests/test_safetext.py checks this table
# still covers every such character of the running Python's Unicode version.
HIDDEN_RANGES: tuple[tuple[int, int], ...] = (
    (0x0000, 0x001F),
    (0x007F, 0x009F),
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x2028, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xD800, 0xDFFF),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)


def _char_class(ranges: tuple[tuple[int, int], ...]) -> str:
    return "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)


HIDDEN = re.compile(f"[{_char_class(HIDDEN_RANGES)}]")
# Hidden characters but tab, LF and CR: in JSON these are indentation (json.dumps escapes them inside strings);
# inside a spreadsheet cell they are the user's own layout (a multi-line description), quoted by CSV.
_HIDDEN_BUT_LAYOUT = re.compile(f"(?![\\t\\n\\r])[{_char_class(HIDDEN_RANGES)}]")
_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape_one(match: re.Match[str]) -> str:
    ch = match.group()
    short = _SHORT.get(ch)
    if short is not None:
        return short
    code = ord(ch)
    if code <= 0x9F:  # C0, DEL, C1
        return f"\\x{code:02x}"
    return f"<U+{code:04X}>"


def visible(text: str) -> str:
    """`text` with every control, bidi/format, separator and surrogate character shown as a visible escape."""
    return HIDDEN.sub(_escape_one, text)


def _as_text(value: object) -> str:
    return "" if value is None else value if isinstance(value, str) else str(value)


# -- terminal ------------------------------------------------------------------------------------------------
def terminal_text(value: object, style: str = "") -> Text:
    """An untrusted value as a Rich `Text`: never parsed as markup or emoji, no raw control character."""
    return Text(visible(_as_text(value)), style=style)


def terminal_markup(value: object) -> str:
    """An untrusted value for interpolation into a Rich markup string (`f"[red]error:[/red] {...}"`)."""
    return _escape_markup(visible(_as_text(value)))


# -- spreadsheets (CSV, XLSX) --------------------------------------------------------------------------------
# Leading characters that make Excel, LibreOffice or Google Sheets evaluate a cell (OWASP "CSV Injection");
# full-width forms because some spreadsheet programs fold them to ASCII when a cell is typed or imported.
FORMULA_STARTS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")


def needs_formula_guard(text: str) -> bool:
    """Would a spreadsheet read this text as the start of a formula?"""
    return bool(text) and text[0] in FORMULA_STARTS and _PLAIN_NUMBER.fullmatch(text) is None


def spreadsheet_cell(value: object) -> str:
    """An untrusted value as the text of a CSV/XLSX cell: never a formula (a leading tab, CR or LF counts, as
    OWASP says); hidden characters shown, except tab and line breaks inside the cell, which are kept."""
    raw = _as_text(value)
    text = _HIDDEN_BUT_LAYOUT.sub(_escape_one, raw)
    return "'" + text if needs_formula_guard(raw) else text


# -- HTML ----------------------------------------------------------------------------------------------------
def html_visible(value: object) -> object:
    """For Jinja: strings made visible (autoescape then escapes them); markup the template marked safe, numbers
    and None pass through unchanged."""
    if isinstance(value, str) and not hasattr(value, "__html__"):
        return visible(value)
    return value


# -- JSON ----------------------------------------------------------------------------------------------------
def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}" if ord(match.group()) <= 0xFFFF else _astral_escape(match.group())


def _astral_escape(ch: str) -> str:
    code = ord(ch) - 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def json_text(document: Any, **kwargs: Any) -> str:
    """`json.dumps(document, ensure_ascii=False, **kwargs)` with control, bidi/format and surrogate characters
    as `\\uXXXX` escapes: the same JSON value, safe to print. (Outside strings JSON text is plain ASCII, so
    every match is inside a string literal, where the escape means the same character.)"""
    return _HIDDEN_BUT_LAYOUT.sub(_json_escape, json.dumps(document, ensure_ascii=False, **kwargs))
