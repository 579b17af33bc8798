"""A row's signals -> one verdict, with an explanation that adds up to the score.

Scoring follows the shape of the best sanctions screeners (OpenSanctions' nomenklatura "logic-v2", see
docs/screening.md; this is our own code): each *feature* of the row (brand column, model number, a name in
the description, MAC OUI, FCC grantee code) yields *signals* pointing at a maker entity with a score; an
entity's score is its strongest signal plus a small bonus per further independent feature; then *qualifiers*
subtract — a model number that follows another maker's convention, a brand that is not in the knowledge base.
The verdict is `yes` at or above YES_AT, `review` at or above REVIEW_AT, otherwise `no`. Certainties of
knowledge-base records come from the knowledge base's one table (knowledge.types.CERTAINTY).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import cache
from importlib import resources
from typing import Protocol

import yaml
from pydantic import BaseModel, ConfigDict

from trueorigin.model import Covered, Source
from trueorigin.screen.verdict import ScreenResult, Signal, join_sources

YES_AT = 0.80
REVIEW_AT = 0.50
CORROBORATION_BONUS = 0.05  # per further independent feature agreeing on the same maker
MAX_SCORE = 0.99
MODEL_MISMATCH_PENALTY = 0.30  # brand says one maker, the model number follows another's convention
UNKNOWN_BRAND_PENALTY = 0.15  # a brand column naming a brand the knowledge base does not know


class Coverage(Protocol):
    """What scoring needs to know about makers (the Matcher provides it, cached)."""

    def coverage(self, entity_id: str) -> tuple[Covered, tuple[str, ...]]: ...
    def entity_name(self, entity_id: str) -> str: ...


class _LineWords(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    generic: frozenset[str]
    vague: frozenset[str]


@cache
def _line_words() -> _LineWords:
    text = resources.files("trueorigin.screen").joinpath("data/product-lines.yaml").read_text(encoding="utf-8")
    return _LineWords.model_validate(yaml.safe_load(text))


def line_scope(lines: Sequence[str]) -> tuple[bool, frozenset[str]]:
    """(is the link limited to specific lines, words that name those lines) for OEM link product lines."""
    words_of = _line_words()
    words = [w for line in lines for w in str(line).lower().replace("_", "-").split("-") if w]
    specific = any(w not in words_of.generic for w in words)
    # Words of two letters ("an" of "DIVAR AN") are too common in free text to say a row names the line.
    naming = frozenset(
        w for w in words if w not in words_of.generic | words_of.vague and not w.isdigit() and len(w) > 2
    )
    return specific, naming


def scoped(signal: Signal, row_words: frozenset[str]) -> Signal:
    """An OEM-link signal limited to product lines, weighed against what the row says about the line."""
    if not signal.line_scope or signal.compat:
        return signal
    if signal.line_words & row_words:
        return signal
    cap = REVIEW_AT - 0.05 if signal.line_scope == "partial" else YES_AT - 0.05
    if signal.score <= cap:
        return signal
    why = signal.why + (
        "; the row does not name that line, and the brand's other products are not made by a covered vendor"
        if signal.line_scope == "partial"
        else "; only some lines are, and the row does not say which"
    )
    return replace(signal, score=round(cap, 3), why=why)


def combine(makers: Coverage, signals: Sequence[Signal], named_lines: frozenset[str] = frozenset()) -> ScreenResult:
    """Turn a row's signals into a verdict. `named_lines` are the product-line words the row itself contains
    (see `scoped`). The result's key is empty: the caller sets the row's decision key."""
    key = ""
    signals = [scoped(s, named_lines) for s in signals]
    evidence = [s for s in signals if not s.compat and s.entity is not None and s.score > 0]
    compat = [s for s in signals if s.compat]
    unknown_brand = any(s.unknown_brand for s in signals)
    brand_signal = next((s for s in signals if s.feature == "brand" and (s.brand or s.row_brand)), None)
    brand_from_row = brand_signal is not None and brand_signal.row_brand
    brand_shown = (
        (brand_signal.brand if brand_signal is not None and not brand_from_row else None)
        or next((s.brand for s in evidence if s.brand), None)
        or ""
    )
    if brand_from_row:
        brand_shown = ""

    by_entity: dict[str, list[Signal]] = {}
    for signal in evidence:
        by_entity.setdefault(str(signal.entity), []).append(signal)
    brand_makers = {s.entity for s in evidence if s.feature in ("brand", "oui")}
    model_makers = {s.entity for s in evidence if s.feature in ("model", "serial", "fcc")}

    scored: list[tuple[float, str, list[str], list[Signal]]] = []
    for entity_id, group in by_entity.items():
        group.sort(key=lambda s: -s.score)
        best = group[0]
        steps = [f"{best.score:.2f} {best.why}"]
        score = best.score
        features = {best.feature}
        for other in group[1:]:
            if other.feature not in features:
                features.add(other.feature)
                score += CORROBORATION_BONUS
                steps.append(f"+{CORROBORATION_BONUS:.2f} {other.why}")
        score = min(score, MAX_SCORE)
        if model_makers and entity_id not in model_makers and brand_makers:
            others = ", ".join(sorted(makers.entity_name(str(m)) for m in model_makers))
            score -= MODEL_MISMATCH_PENALTY
            steps.append(
                f"-{MODEL_MISMATCH_PENALTY:.2f} the model number follows {others}'s numbering, not this maker's"
            )
        if unknown_brand and not (brand_makers & {entity_id}):
            score -= UNKNOWN_BRAND_PENALTY
            steps.append(
                f"-{UNKNOWN_BRAND_PENALTY:.2f} the brand column names a brand the knowledge base does not know "
                "(relabel or data error?)"
            )
        scored.append((round(max(score, 0.0), 3), entity_id, steps, group))

    covered_rank = {"yes": 2, "review": 1, "no": 0}
    scored.sort(key=lambda item: (-covered_rank[makers.coverage(item[1])[0]] * (item[0] >= REVIEW_AT), -item[0]))

    notes: list[str] = [s.why for s in compat]
    if not scored:
        if unknown_brand:
            notes.append("the brand is not in the knowledge base")
        elif brand_signal is not None and brand_signal.why and brand_from_row:
            notes.append(brand_signal.why)
        matched = [s.matched for s in signals if s.matched]
        explanation = "; ".join(notes) if notes else "nothing in the row matched the knowledge base"
        return ScreenResult(
            "no",
            "",
            brand_shown,
            "; ".join(matched),
            0.0,
            join_sources(src for s in signals for src in s.sources),
            explanation,
            key,
            brand_from_row=brand_from_row,
        )

    score, entity_id, steps, group = scored[0]
    covered_by, regimes = makers.coverage(entity_id)
    vendor = makers.entity_name(entity_id)
    matched = [s.matched for s in group if s.matched]
    sources: list[Source] = [src for s in group for src in s.sources]
    conflicts: list[str] = []
    for other_score, other_id, _, _ in scored[1:]:
        if other_score >= REVIEW_AT and other_id != entity_id:
            other_covered = makers.coverage(other_id)[0]
            if other_covered != covered_by or covered_by != "no":
                conflicts.append(f"{makers.entity_name(other_id)} also scores {other_score:.2f}")

    if covered_by == "no":
        verdict: Covered = "no"
        # A non-covered maker that only a weak signal names still makes a "no"; but a covered candidate
        # scoring "review" elsewhere in the list must not be hidden.
        covered_others = [s for s in scored[1:] if makers.coverage(s[1])[0] != "no" and s[0] >= REVIEW_AT]
        if covered_others:
            verdict = "review"
            conflicts.append(f"{makers.entity_name(covered_others[0][1])} (covered) scores {covered_others[0][0]:.2f}")
    elif score >= YES_AT:
        verdict = "yes" if covered_by == "yes" else "review"
    elif score >= REVIEW_AT:
        verdict = "review"
    else:
        verdict = "no"
        notes.append(f"{vendor} scores only {score:.2f} (< {REVIEW_AT:.2f})")

    if verdict == "yes" and compat:
        strong = {s.feature for s in group} & {"model", "fcc"}
        only_text = {s.feature for s in group} <= {"description", "description model"}
        same = any(c.entity == entity_id for c in compat)
        if only_text or (same and not strong):
            verdict = "review"
            conflicts.append("the listing also mentions covered names as compatibility only")
    if verdict == "yes" and conflicts:
        verdict = "review"

    parts = [f"{vendor}: " + "; ".join(steps) + f" = {score:.2f}"]
    if covered_by != "no":
        parts.append(f"{vendor} is covered={covered_by} ({', '.join(regimes) or 'no regime listed'})")
    else:
        parts.append(f"{vendor} is not a covered vendor")
    parts.extend(f"conflict: {c}" for c in conflicts)
    parts.extend(notes)
    parts.append(f"verdict {verdict} (yes >= {YES_AT:.2f}, review >= {REVIEW_AT:.2f})")
    matched.extend(s.matched for s in compat)
    return ScreenResult(
        covered=verdict,
        vendor=vendor,
        brand=brand_shown,
        matched="; ".join(dict.fromkeys(matched)),
        confidence=round(score, 2),
        sources=join_sources(sources),
        explanation=" | ".join(parts),
        key=key,
        regimes=regimes if covered_by != "no" else (),
        brand_from_row=brand_from_row and not brand_shown,
    )
