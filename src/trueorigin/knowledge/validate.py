"""`kb validate`: schema problems (from the loader: unknown keys, bad values and dates) plus cross-record checks,
one function per data file.

Checks: every reference resolves (parents, regime entries, links, OUI organizations, models, FCC, CVEs);
no parent loops; ids are unique; model examples match their own pattern and no earlier one, and
counter-examples match nothing; no two links of one brand claim different makers for the same product line
over overlapping periods with medium or high confidence; every covered entity is named by a regime entry.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path

from trueorigin.knowledge.base import KnowledgeBase
from trueorigin.knowledge.loader import DATA_DIR, RawData, read_data
from trueorigin.knowledge.names import normalize
from trueorigin.knowledge.types import ModelPattern, OemLink
from trueorigin.model import PRODUCT_KINDS

KINDS = frozenset(PRODUCT_KINDS)


def validate(data_dir: Path = DATA_DIR) -> list[str]:
    """Every problem found, as readable lines; an empty list means the data is valid."""
    raw = read_data(data_dir)
    problems = list(raw.problems)
    problems.extend(_check_unique_ids(raw))
    entities, brands = {e.id for e in raw.entities}, {b.id for b in raw.brands}
    problems.extend(_check_entities(raw))
    named, regime_problems = _check_regimes(raw, entities)
    problems.extend(regime_problems)
    problems.extend(_check_brands(raw, entities))
    problems.extend(_check_distinct_names(raw, entities))
    problems.extend(_check_oui(raw, entities, brands))
    problems.extend(_check_models(raw.models, entities, brands))
    problems.extend(_check_fcc(raw, entities))
    problems.extend(
        f"cves.yaml: {c.id}: entity {c.entity!r} is not an entity" for c in raw.cves if c.entity not in entities
    )
    if not problems:
        kb = KnowledgeBase(raw)
        for entity in kb.entities.values():
            if entity.covered == "yes" and entity.parent is None and entity.id not in named:
                problems.append(f"entities.yaml: {entity.id}: covered but named by no regime entry")
    return problems


def _check_unique_ids(raw: RawData) -> list[str]:
    out: list[str] = []
    for label, ids in (
        ("entity", [e.id for e in raw.entities]),
        ("brand", [b.id for b in raw.brands]),
        ("regime", [r.id for r in raw.regimes]),
    ):
        out.extend(f"duplicate {label} id {value!r}" for value, count in Counter(ids).items() if count > 1)
    return out


def _check_entities(raw: RawData) -> list[str]:
    """entities.yaml: parents exist and do not loop, periods are ordered, kinds are canonical."""
    out: list[str] = []
    by_id = {e.id: e for e in raw.entities}
    for entity in raw.entities:
        where = f"entities.yaml: {entity.id}"
        if entity.parent and entity.parent not in by_id:
            out.append(f"{where}: parent {entity.parent!r} is not an entity")
        if entity.parent and not entity.relationship:
            out.append(f"{where}: a parent needs a 'relationship'")
        if entity.since and entity.until and entity.until <= entity.since:
            out.append(f"{where}: 'until' is not after 'since'")
        out.extend(f"{where}: kind {k!r} is not in the canonical vocabulary" for k in entity.kinds if k not in KINDS)
        seen, current = {entity.id}, entity.parent
        while current:
            if current in seen:
                out.append(f"{where}: parent chain loops through {current!r}")
                break
            seen.add(current)
            current = by_id[current].parent if current in by_id else None
    return out


def _check_regimes(raw: RawData, entities: set[str]) -> tuple[set[str], list[str]]:
    """regimes.yaml: entries name entities and scopes that exist; returns the entities entries name."""
    out: list[str] = []
    named: set[str] = set()
    for regime in raw.regimes:
        scope_ids = {s.id for s in regime.scopes}
        for entry in regime.entries:
            if entry.entity is not None and entry.entity not in entities:
                out.append(f"regimes.yaml: {entry.id}: entity {entry.entity!r} is not an entity")
            if entry.entity:
                named.add(entry.entity)
            if entry.scope is not None and entry.scope not in scope_ids:
                out.append(f"regimes.yaml: {entry.id}: scope {entry.scope!r} is not a scope of {regime.id}")
            if entry.added and entry.removed and entry.removed <= entry.added:
                out.append(f"regimes.yaml: {entry.id}: 'removed' is not after 'added'")
    return named, out


def _check_brands(raw: RawData, entities: set[str]) -> list[str]:
    """brands.yaml: owners and makers exist, link ids are unique, periods are ordered, no contradictions."""
    out: list[str] = []
    for brand in raw.brands:
        where = f"brands.yaml: {brand.id}"
        if brand.owner is not None and brand.owner not in entities:
            out.append(f"{where}: owner {brand.owner!r} is not an entity")
        link_ids = Counter(link.id for link in brand.links)
        out.extend(f"{where}: duplicate link id {link_id!r}" for link_id, n in link_ids.items() if n > 1)
        for link in brand.links:
            if link.maker not in entities:
                out.append(f"{where}: link {link.id}: maker {link.maker!r} is not an entity")
            if link.since and link.until and link.until <= link.since:
                out.append(f"{where}: link {link.id}: 'until' is not after 'since'")
            if set(link.basis) <= {"marketing"} and link.confidence != "low":
                out.append(f"{where}: link {link.id}: marketing-only evidence needs low confidence")
        out.extend(_contradictions(brand.id, list(brand.links)))
    return out


def _check_distinct_names(raw: RawData, entities: set[str]) -> list[str]:
    return [
        f"distinct-names.yaml: {d.name}: resembles {d.resembles!r} is not an entity"
        for d in raw.distinct_names
        if d.resembles not in entities
    ]


def _check_oui(raw: RawData, entities: set[str], brands: set[str]) -> list[str]:
    """oui-organizations.yaml and oui.tsv: every organization mapped once, to an entity or brand that exists."""
    out: list[str] = []
    org_keys = Counter(normalize(o.organization) for o in raw.oui_organizations)
    out.extend(
        f"oui-organizations.yaml: organization {key!r} is mapped {n} times" for key, n in org_keys.items() if n > 1
    )
    for org in raw.oui_organizations:
        if org.entity is not None and org.entity not in entities:
            out.append(f"oui-organizations.yaml: {org.organization}: entity {org.entity!r} is not an entity")
        if org.brand is not None and org.brand not in brands:
            out.append(f"oui-organizations.yaml: {org.organization}: brand {org.brand!r} is not a brand")
    excluded = {normalize(name) for name in raw.oui_excluded}
    mapped = set(org_keys)
    out.extend(f"oui-organizations.yaml: {key!r} is both mapped and excluded" for key in sorted(excluded & mapped))
    for record in raw.oui_records:
        if record.entity is not None and record.entity not in entities:
            out.append(f"oui.tsv: {record.prefix}: entity {record.entity!r} is not an entity")
        if record.brand is not None and record.brand not in brands:
            out.append(f"oui.tsv: {record.prefix}: brand {record.brand!r} is not a brand")
        if normalize(record.organization) not in mapped:
            out.append(f"oui.tsv: {record.prefix}: organization {record.organization!r} is not in the mapping")
    if not raw.oui_header.get("registry-date"):
        out.append("oui.tsv: no '# registry-date:' header")
    return out


def _check_fcc(raw: RawData, entities: set[str]) -> list[str]:
    out: list[str] = []
    for grantee in raw.fcc:
        if grantee.entity not in entities:
            out.append(f"fcc.yaml: {grantee.code}: entity {grantee.entity!r} is not an entity")
        for example in grantee.example_fcc_ids:
            if not example.upper().startswith(grantee.code):
                out.append(f"fcc.yaml: {grantee.code}: example {example!r} does not start with the code")
    return out


def _overlap(a: OemLink, b: OemLink) -> bool:
    start = max(a.since or dt.date.min, b.since or dt.date.min)
    end = min(a.until or dt.date.max, b.until or dt.date.max)
    return start < end


def _contradictions(brand_id: str, links: list[OemLink]) -> list[str]:
    out: list[str] = []
    firm = [k for k in links if k.confidence in ("high", "medium") and k.relation != "alleged"]
    for i, a in enumerate(firm):
        for b in firm[i + 1 :]:
            shared = set(a.product_lines) & set(b.product_lines)
            if a.maker != b.maker and shared and _overlap(a, b):
                out.append(
                    f"brands.yaml: {brand_id}: links {a.id} ({a.maker}) and {b.id} ({b.maker}) claim "
                    f"{', '.join(sorted(shared))} over overlapping periods"
                )
    return out


def _check_models(models: list[ModelPattern], entities: set[str], brands: set[str]) -> list[str]:
    out: list[str] = []
    compiled: list[tuple[str, re.Pattern[str]]] = []
    ids = Counter(m.id for m in models)
    for model_id, count in ids.items():
        if count > 1:
            out.append(f"models.yaml: duplicate id {model_id!r}")
    for m in models:
        where = f"models.yaml: {m.id}"
        if m.entity not in entities:
            out.append(f"{where}: entity {m.entity!r} is not an entity")
        if m.brand is not None and m.brand not in brands:
            out.append(f"{where}: brand {m.brand!r} is not a brand")
        if m.kind not in KINDS:
            out.append(f"{where}: kind {m.kind!r} is not in the canonical vocabulary")
        try:
            pattern = re.compile(m.pattern, re.IGNORECASE)
        except re.error:
            continue  # reported by the loader
        for example in m.examples:
            if not pattern.fullmatch(example.model):
                out.append(f"{where}: example {example.model!r} does not match its pattern")
            for earlier_id, earlier in compiled:
                if earlier.fullmatch(example.model):
                    out.append(f"{where}: example {example.model!r} is shadowed by earlier pattern {earlier_id}")
                    break
        for counter in m.counter_examples:
            if pattern.fullmatch(counter):
                out.append(f"{where}: counter-example {counter!r} matches")
        compiled.append((m.id, pattern))
    return out
