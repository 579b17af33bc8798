"""Text forms used to compare names: folding, word tokens, the exact-lookup key. Pure functions, bounded work.

Every input is cut to `MAX_FIELD_CHARS` first: inventory cells and device strings are untrusted (a marketplace
description can be megabytes of pasted HTML).
"""

from __future__ import annotations

import re
import unicodedata

MAX_FIELD_CHARS = 4096

# A run of Han ideographs is kept together: Chinese has no spaces, so names are found as substrings of it.
CJK_RANGES = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{CJK_RANGES}]+|[^\W_]+", re.UNICODE)
_CJK_RUN = re.compile(rf"^[{CJK_RANGES}]+$")
_CJK_ANY = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


def clip(text: str | None) -> str:
    """The value as bounded text: None -> "", cut to MAX_FIELD_CHARS."""
    if not text:
        return ""
    return text[:MAX_FIELD_CHARS]


def fold(text: str) -> str:
    """Case- and accent-insensitive form (NFKC, casefold, combining marks dropped); full-width letters fold too."""
    text = clip(text)
    if text.isascii():  # the common case, and 20x cheaper than the Unicode path
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return unicodedata.normalize("NFKC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))


def tokens(text: str) -> list[str]:
    """Word tokens of `text` after folding. Punctuation and spaces separate words; Han runs stay one token."""
    return _TOKEN.findall(fold(text))


def name_key(text: str) -> str:
    """Normalized form of a name for exact lookup in free text: folded tokens joined by single spaces."""
    return " ".join(tokens(text))


def is_cjk(text: str) -> bool:
    """The whole text is a run of Han characters."""
    return bool(_CJK_RUN.match(text))


def has_cjk(text: str) -> bool:
    """The text holds at least one Han character."""
    return bool(_CJK_ANY.search(text))


def normalize(text: str) -> str:
    """Whole-value comparison form: casefold, unify full-width forms (NFKC), punctuation and '_' -> one space.

    Unlike `name_key` accents are kept: knowledge-base keys (OUI organizations, distinct names) use this form."""
    folded = unicodedata.normalize("NFKC", clip(text)).casefold().replace("_", " ")
    return " ".join(_NON_WORD.sub(" ", folded).split())
