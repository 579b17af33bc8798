"""Screening one inventory row: who really made it, is that vendor covered, and why.

Each screened field is read on its own into `Signal`s (evidence about a kind of value, never quoting the cell):
the brand column and the description through the one name index (trueorigin.names: word boundaries, aliases,
Chinese names, misspellings, compatibility cues, legal-form and ordinary-word names), the model number against
the knowledge base's numbering patterns, the MAC address by its IEEE block, the FCC ID by its grantee code.
scoring.combine turns a row's signals into a verdict. Everything is a pure function of (value, knowledge base),
cached by value, so an inventory with millions of rows is read once per distinct value and decided once per
distinct combination of evidence (engine.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache
from typing import Any

from trueorigin.knowledge.types import CERTAINTY
from trueorigin.model import Covered, Source
from trueorigin.names import CJK_HOW, Mention, NameIndex, NameTarget, index_records, tokens
from trueorigin.screen.normalize import fcc_grantee_code, mac_colon, mac_hex, model_candidates, model_variants
from trueorigin.screen.scoring import REVIEW_AT, YES_AT, combine, line_scope
from trueorigin.screen.verdict import (
    KnowledgeBase,
    RowValues,
    ScreenResult,
    Signal,
    decision_key,
    records,
    sources_of,
)

BRAND_EXACT = 0.95  # the brand column is exactly a known name
BRAND_CONTAINS = 0.92  # the brand column contains a known name ("HIKVISION USA Inc.")
TEXT_NAME = 0.85  # a description names a maker or brand
SHORT_NAME_PENALTY = 0.10  # a 1-3 letter name written in lower case in free text ("lts", "zte")
TEXT_MODEL_FACTOR = 0.9  # a model number found in a description, not in its own column
OUI_SCORE = 0.70  # an OUI names who bought the address block; modules and OEM boards blur it
OWNER_FACTOR = 0.9  # a brand whose owner we know but no OEM link
CJK_SCORES = dict(zip(CJK_HOW, (0.85, 0.80, 0.75), strict=True))
LOW = CERTAINTY["low"]
FIELDS = ("brand", "model", "description", "mac", "fcc_id")


class Matcher:
    """Screens rows against one knowledge base. Not thread-safe (caches); cheap to build."""

    def __init__(self, kb: KnowledgeBase, names: NameIndex | None = None, cache_size: int = 200_000) -> None:
        self.kb = kb
        own = getattr(kb, "names", None)
        self.names: NameIndex = names or (
            own
            if isinstance(own, NameIndex)
            else index_records(
                records(kb, "entities", "all_entities"),
                records(kb, "brands", "all_brands"),
                records(kb, "distinct_names", "distinct"),
            )
        )
        self._coverage: dict[str, tuple[Covered, tuple[str, ...]]] = {}
        self._entity_names: dict[str, str] = {}
        self._cache_size = cache_size
        self._verdicts: dict[tuple[object, ...], ScreenResult] = {}
        # Per-field caches: a 10 M row inventory has far fewer distinct brands, models and descriptions.
        self.brand_signals: Callable[[str], tuple[Signal, ...]] = lru_cache(maxsize=cache_size)(self._brand_signals)
        self.model_signals: Callable[[str], tuple[Signal, ...]] = lru_cache(maxsize=cache_size)(self._model_signals)
        self.text_signals: Callable[[str], tuple[Signal, ...]] = lru_cache(maxsize=cache_size)(self._text_signals)
        self.oui_signals: Callable[[str], tuple[Signal, ...]] = lru_cache(maxsize=cache_size)(self._oui_signals)
        self.fcc_signals: Callable[[str], tuple[Signal, ...]] = lru_cache(maxsize=cache_size)(self._fcc_signals)
        self.line_words = frozenset(self._all_line_words())
        self._any_model = _any_model(self.kb)

    # ------------------------------------------------------------------ knowledge helpers

    def coverage(self, entity_id: str) -> tuple[Covered, tuple[str, ...]]:
        if entity_id not in self._coverage:
            try:
                self._coverage[entity_id] = self.kb.coverage(entity_id)
            except (KeyError, LookupError, ValueError):
                self._coverage[entity_id] = ("no", ())
        return self._coverage[entity_id]

    def entity_name(self, entity_id: str) -> str:
        if entity_id not in self._entity_names:
            entity = self.kb.entity(entity_id)
            self._entity_names[entity_id] = entity.name if entity is not None else entity_id
        return self._entity_names[entity_id]

    def _all_line_words(self) -> set[str]:
        words: set[str] = set()
        for brand in records(self.kb, "brands", "all_brands"):
            for link in getattr(brand, "links", ()) or ():
                words |= line_scope(tuple(getattr(link, "product_lines", ()) or ()))[1]
        return words

    def prime_fuzzy(self, words: list[str]) -> None:
        """Resolve many candidate words against the names at once (see NameIndex.prime_fuzzy)."""
        self.names.prime_fuzzy(words)

    def find_names(self, text: str, allow_fuzzy: bool = True) -> list[Mention]:
        """Names in `text` (NameIndex.find for a brand cell: ordinary-word names count however written)."""
        return self.names.find(text, fuzzy=allow_fuzzy, free_text=False)

    # ------------------------------------------------------------------ one row

    def screen(self, values: RowValues) -> ScreenResult:
        """The verdict for one row. Serial numbers are carried through but not matched (they are unique per
        device, and no maker's serial format is in the knowledge base)."""
        verdict, key = self.screen_parts(values)
        return replace(verdict, key=key, brand=values.brand.strip() if verdict.brand_from_row else verdict.brand)

    def screen_parts(self, values: RowValues) -> tuple[ScreenResult, str]:
        """(verdict without a key, the row's decision key). The verdict's `brand` is empty when
        `brand_from_row`: the row's own brand cell is shown (the engine does this column-wise)."""
        parts = self.signals(values)
        named = self.named_lines(values.model) | self.named_lines(values.description)
        return self.verdict(parts, named), decision_key(values)

    def signals(self, values: RowValues) -> tuple[tuple[Signal, ...], ...]:
        """The row's signals, one tuple per screened field (FIELDS order)."""
        mac = mac_hex(values.mac.strip())
        return (
            self.brand_signals(values.brand.strip()),
            self.model_signals(values.model.strip()),
            self.text_signals(values.description.strip()),
            self.oui_signals(mac[:9] if mac else ""),
            self.fcc_signals(values.fcc_id.strip().upper()),
        )

    def named_lines(self, text: str) -> frozenset[str]:
        """Product-line words (of any OEM link in the knowledge base) that `text` contains."""
        if not self.line_words or not text:
            return frozenset()
        return frozenset(self.line_words.intersection(tokens(text)))

    def verdict(self, parts: tuple[tuple[Signal, ...], ...], named_lines: frozenset[str]) -> ScreenResult:
        """The verdict for a combination of field signals; the same combination gets the same object."""
        line_words: set[str] = set()
        for part in parts:
            for signal in part:
                line_words |= signal.line_words
        named = named_lines & line_words
        cache_key = (*parts, named)
        found = self._verdicts.get(cache_key)
        if found is None:
            found = combine(self, [s for part in parts for s in part], frozenset(named))
            if len(self._verdicts) >= self._cache_size:
                self._verdicts.clear()
            self._verdicts[cache_key] = found
        return found

    # ------------------------------------------------------------------ field signals

    def _target_signals(self, target: NameTarget, base: float, feature: str, how: str) -> list[Signal]:
        """Signals for an entity or brand that a field named, following OEM links for brands."""
        if target.kind == "entity":
            name = self.entity_name(target.id)
            entity = self.kb.entity(target.id)
            return [
                Signal(
                    feature,
                    target.id,
                    base,
                    f"{feature} {name}",
                    f"{feature} names {name} ({how})",
                    brand=name,
                    sources=sources_of(entity),
                )
            ]
        brand = self.kb.brand(target.id) or self.kb.brand(target.alias)
        if brand is None:
            return []
        signals: list[Signal] = []
        try:
            links = list(self.kb.oem_links(brand.id))
        except (KeyError, LookupError):
            links = []
        links = links or list(getattr(brand, "links", ()))
        # A brand that is also a non-covered maker's own label (Bosch, Panasonic) relabels only some lines.
        own_maker = any(
            str(getattr(link, "relation", "")) == "own-brand" and self.coverage(link.maker)[0] == "no" for link in links
        )
        for link in links:
            maker = self.entity_name(link.maker)
            certainty = CERTAINTY.get(str(getattr(link, "confidence", "low")), LOW)
            relation = str(getattr(link, "relation", "oem"))
            current = bool(link.active_at()) if hasattr(link, "active_at") else True
            score = base * certainty
            period = _period(link)
            if relation == "own-brand":
                score = base * max(certainty, 0.9)
                what = f"{brand.name} is {maker}'s own brand"
            elif relation == "alleged":
                score = min(score, REVIEW_AT + 0.1)
                what = f"{brand.name} is alleged to be made by {maker}"
            else:
                what = f"{brand.name} is a {maker} OEM ({getattr(link, 'confidence', '?')} confidence)"
            lines = tuple(getattr(link, "product_lines", ()) or ())
            if not current:
                score = min(score, REVIEW_AT + 0.1)
                what += f", formerly{period}: only products of that period"
            elif period:
                what += period
            if lines:
                what += f"; lines: {', '.join(lines[:4])}"
            specific, line_words = line_scope(lines) if relation != "own-brand" else (False, frozenset())
            signals.append(
                Signal(
                    feature,
                    link.maker,
                    round(score, 3),
                    f"{feature} {brand.name} -> {maker} ({link.id})",
                    f"{feature} is brand {brand.name} ({how}); {what}",
                    brand=brand.name,
                    sources=sources_of(link) or sources_of(brand),
                    line_words=line_words,
                    line_scope="partial" if specific and own_maker else "specific" if specific else "",
                )
            )
        owner = getattr(brand, "owner", None)
        if not signals and owner:
            name = self.entity_name(owner)
            signals.append(
                Signal(
                    feature,
                    owner,
                    base * OWNER_FACTOR,
                    f"{feature} {brand.name} (owner {name})",
                    f"{feature} is brand {brand.name}, owned by {name}; no OEM link known",
                    brand=brand.name,
                    sources=sources_of(brand),
                )
            )
        if not signals:
            signals.append(
                Signal(
                    feature,
                    None,
                    0.0,
                    f"{feature} {brand.name}",
                    f"{feature} is brand {brand.name}; its maker is not known",
                    brand=brand.name,
                    sources=sources_of(brand),
                )
            )
        return signals

    def _brand_signals(self, cell: str) -> tuple[Signal, ...]:
        if not cell.strip():
            return ()
        if self.names.is_distinct(cell):
            why = "the brand is a different company from any screened one"
            return (Signal("brand", None, 0.0, "", why, row_brand=True),)
        targets = self.names.exact(cell)
        how = "exact"
        base = BRAND_EXACT
        if not targets:
            mentions = [m for m in self.find_names(cell) if m.compat_cue is None]
            if mentions:
                best = mentions[0]
                targets = [m.target for m in mentions if (m.start, m.end) == (best.start, best.end)]
                how = "name within the brand cell" if best.how == "exact" else best.how
                base = BRAND_CONTAINS if best.how == "exact" else BRAND_EXACT * best.fuzzy_ratio
        if not targets:
            why = "the brand is not in the knowledge base"
            return (Signal("brand", None, 0.0, "", why, unknown_brand=True, row_brand=True),)
        out: list[Signal] = []
        for target in targets:
            out.extend(self._target_signals(target, base, "brand", how))
        return tuple(out)

    def _model_signals(self, cell: str) -> tuple[Signal, ...]:
        if not cell.strip():
            return ()
        for variant in model_variants(cell):
            hit = self._model(variant)
            if hit is not None:
                return (self._model_signal(hit, "model"),)
        return ()

    def _model(self, text: str) -> Any:
        """kb.model(text), skipped when no pattern at all can match (one combined regex instead of each)."""
        if self._any_model is not None and not self._any_model.fullmatch(text.strip()):
            return None
        return self.kb.model(text)

    def _model_signal(self, hit: Any, feature: str) -> Signal:
        pattern = hit.pattern
        maker = self.entity_name(hit.entity)
        certainty = CERTAINTY.get(str(pattern.confidence), LOW)
        brand_line = hit.brand
        brand_name = None
        if brand_line:
            brand = self.kb.brand(brand_line)
            brand_name = brand.name if brand is not None else brand_line
        return Signal(
            feature,
            hit.entity,
            certainty,
            f"{feature} ~ {pattern.id} ({maker})",
            f"{feature} follows {maker}'s {pattern.family or pattern.kind} numbering "
            f"({pattern.id}, {pattern.confidence})",
            brand=brand_name,
            sources=tuple(pattern.sources),
        )

    def _text_signals(self, cell: str) -> tuple[Signal, ...]:
        if not cell.strip():
            return ()
        out: list[Signal] = []
        for mention in self.names.find(cell):
            base = CJK_SCORES.get(mention.how) or TEXT_NAME * mention.fuzzy_ratio
            if len(mention.target.alias) <= 3 and mention.how == "exact" and not mention.target.alias.isupper():
                base -= SHORT_NAME_PENALTY
            for signal in self._target_signals(mention.target, base, "description", mention.how):
                if mention.compat_cue is not None:
                    name = signal.brand or mention.target.alias
                    signal = Signal(
                        "description",
                        signal.entity,
                        0.0,
                        f"compatibility mention of {name}",
                        f"description mentions {name} after {mention.compat_cue!r}: a compatibility mention, "
                        "not the maker",
                        brand=signal.brand,
                        compat=True,
                        sources=signal.sources,
                    )
                out.append(signal)
        words = tokens(cell)
        for word in model_candidates(cell):
            for variant in model_variants(word):
                hit = self._model(variant)
                if hit is None:
                    continue
                first = tokens(word)[:1]
                cue = None
                if first and first[0] in words:
                    at = words.index(first[0])
                    cue = self.names.compat_cue(words, at, at + len(tokens(word)))
                signal = self._model_signal(hit, "description model")
                if cue is not None:
                    maker = self.entity_name(hit.entity)
                    signal = Signal(
                        "description model",
                        signal.entity,
                        0.0,
                        f"compatibility mention of a {maker} model",
                        f"description names a {maker} model number after {cue!r}: compatibility, not origin",
                        compat=True,
                        sources=signal.sources,
                    )
                else:
                    signal = replace(signal, score=round(signal.score * TEXT_MODEL_FACTOR, 3))
                out.append(signal)
                break
        return tuple(out)

    def _oui_signals(self, prefix: str) -> tuple[Signal, ...]:
        """Signals of a MAC address's first 6 or 9 hex digits (the engine passes the IEEE block's prefix)."""
        if len(prefix) < 6:
            return ()
        record = self.kb.oui(mac_colon(prefix.ljust(12, "0")[:12]))
        if record is None:
            return ()
        shown = getattr(record, "prefix_colon", getattr(record, "prefix", ""))
        entity = getattr(record, "entity", None)
        brand_id = getattr(record, "brand", None)
        brand_name = None
        if brand_id:
            brand = self.kb.brand(brand_id)
            brand_name = brand.name if brand is not None else brand_id
        if entity:
            who = self.entity_name(entity)
            return (
                Signal(
                    "oui",
                    entity,
                    OUI_SCORE,
                    f"OUI {shown} {record.organization}",
                    f"MAC address in block {shown}, registered to {record.organization!r} ({who})",
                    brand=brand_name,
                    sources=_oui_sources(record),
                ),
            )
        if brand_id:
            return tuple(
                Signal(
                    "oui",
                    s.entity,
                    round(min(s.score, OUI_SCORE), 3),
                    f"OUI {shown} {record.organization}",
                    f"MAC address in block {shown}, registered to {record.organization!r}; {s.why}",
                    brand=brand_name,
                    sources=_oui_sources(record) + s.sources,
                )
                for s in self._target_signals(NameTarget("brand", brand_id, brand_id), 1.0, "oui", "IEEE")
            )
        return ()

    def _fcc_signals(self, cell: str) -> tuple[Signal, ...]:
        code = fcc_grantee_code(cell)
        if code is None:
            return ()
        grantee = self.kb.fcc_grantee(cell.strip().upper())
        if grantee is None:
            grantee = self.kb.fcc_grantee(code)
        if grantee is None:
            return ()
        maker = self.entity_name(grantee.entity)
        certainty = CERTAINTY.get(str(grantee.confidence), LOW)
        return (
            Signal(
                "fcc",
                grantee.entity,
                round(certainty, 3),
                f"FCC grantee {code} ({maker})",
                f"FCC ID has grantee code {code}: {grantee.grantee} ({maker})",
                sources=tuple(grantee.sources),
            ),
        )


def _any_model(kb: Any) -> re.Pattern[str] | None:
    """One regex matching whatever any of the knowledge base's model patterns matches (they are tried
    case-insensitively, whole text), or None when the patterns cannot be combined."""
    patterns = [getattr(m, "pattern", None) for m in records(kb, "models", "patterns")]
    if not patterns or not all(isinstance(p, str) and p for p in patterns):
        return None
    try:
        return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)
    except re.error:
        return None


def _period(link: Any) -> str:
    since = getattr(link, "since", None)
    until = getattr(link, "until", None)
    if since and until:
        return f" ({since.year}-{until.year})"
    if since:
        return f" (since {since.year})"
    if until:
        return f" (until {until.year})"
    return ""


def _oui_sources(record: Any) -> tuple[Source, ...]:
    found = sources_of(record)
    if found:
        return found
    date = str(getattr(record, "registry_date", "") or "")
    return (Source("https://standards-oui.ieee.org/", "IEEE Registration Authority public listing", date),)


__all__ = [
    "FIELDS",
    "REVIEW_AT",
    "YES_AT",
    "KnowledgeBase",
    "Matcher",
    "RowValues",
    "ScreenResult",
    "Signal",
    "combine",
    "decision_key",
]
