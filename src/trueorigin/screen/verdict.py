"""The screen's types: one row's screened values, one piece of evidence (a Signal), one verdict (ScreenResult).

A Signal never quotes the cell it came from: it is evidence about a *kind* of value (a brand, a model-number
family, a name in a description, an address block), so every row whose values carry the same evidence shares
one verdict object, and an inventory of millions of rows is decided once per distinct combination of evidence
(see engine.py). The row's own values sit beside the verdict in the output.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from trueorigin.model import Covered, Source
from trueorigin.names import name_key
from trueorigin.screen.normalize import compact


class KnowledgeBase(Protocol):
    """The part of trueorigin.knowledge's KnowledgeBase the screen reads (structural, see ARCHITECTURE.md)."""

    def entity(self, entity_id: str) -> Any: ...
    def coverage(self, entity_id: str, at: Any = None) -> tuple[Covered, tuple[str, ...]]: ...
    def brand(self, name: str) -> Any: ...
    def oem_links(self, brand_id: str, at: Any = None) -> list[Any]: ...
    def oui(self, mac: str) -> Any: ...
    def model(self, model_text: str) -> Any: ...
    def fcc_grantee(self, fcc_id: str) -> Any: ...


@dataclass(frozen=True, slots=True)
class Signal:
    """One piece of evidence about who made the item."""

    feature: str  # brand, model, description, description model, oui, fcc
    entity: str | None  # maker entity id it points to (None: a brand we know nothing else about)
    score: float
    matched: str  # short text for the `matched` column
    why: str  # longer text for the explanation
    brand: str | None = None  # brand shown, display name
    compat: bool = False  # a compatibility mention: reported, never evidence of origin
    unknown_brand: bool = False  # the brand column named a brand the knowledge base does not know
    row_brand: bool = False  # the brand shown is the row's own brand cell (unknown or other company)
    # (such a signal carries no brand text: all unknown brands share one piece of evidence)
    sources: tuple[Source, ...] = ()
    # OEM links limited to named product lines: "specific" (only some lines) or "partial" (and the brand's
    # other products are a non-covered maker's own); line_words are words that name those lines in a row.
    line_scope: str = ""
    line_words: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class RowValues:
    """The screened fields of one row, trimmed (empty string when the column is absent)."""

    brand: str = ""
    model: str = ""
    description: str = ""
    mac: str = ""
    fcc_id: str = ""
    serial: str = ""
    key: str = ""


@dataclass(frozen=True, slots=True)
class ScreenResult:
    covered: Covered
    vendor: str  # display name of the true origin, "" when unknown
    brand: str  # brand shown
    matched: str
    confidence: float
    sources: str  # URLs, " | " separated
    explanation: str
    key: str  # stable decision key of the row
    regimes: tuple[str, ...] = ()
    decided: bool = False
    brand_from_row: bool = False  # `brand` is to be the row's own brand cell (see Signal.row_brand)

    def added_columns(self) -> dict[str, str]:
        return {
            "covered": self.covered,
            "vendor": self.vendor,
            "brand": self.brand,
            "matched": self.matched,
            "confidence": f"{self.confidence:.2f}",
            "sources": self.sources,
        }


def decision_key(values: RowValues) -> str:
    """Stable key of a listing for reviewer decisions: the user's key column, else a hash of normalized
    brand + model + description (so "HIKVISION" and "Hikvision " share one decision)."""
    if values.key.strip():
        return f"key:{values.key.strip()}"
    return "h:" + key_digest(key_text(values.brand, values.model, values.description))


def key_text(brand: str, model: str, description: str) -> str:
    """The normalized text a decision key hashes (the engine builds the same text column-wise)."""
    return "\x1f".join((name_key(brand), compact(model), name_key(description)))


def key_digest(text: str) -> str:
    """16 hex digits (64 bits) of SHA-256; the engine computes the same digest in DuckDB (sha256)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def records(kb: Any, *names: str) -> list[Any]:
    """All records of one kind (entities, brands, ...) whatever container the knowledge base keeps them in."""
    for name in names:
        value = getattr(kb, name, None)
        if value is None:
            continue
        if callable(value):
            value = value()
        if isinstance(value, Mapping):
            return list(value.values())
        if isinstance(value, Iterable) and not isinstance(value, str | bytes):
            return list(value)
    return []


def sources_of(record: Any) -> tuple[Source, ...]:
    found = getattr(record, "sources", ()) or ()
    return tuple(s for s in found if isinstance(s, Source))


def join_sources(sources: Iterable[Source]) -> str:
    return " | ".join(dict.fromkeys(s.url for s in sources if s.url))
