"""The keys every knowledge-base record may have, enforced with pydantic (`extra="forbid"`).

A misspelt key is not ignored: `untill:` on an ended OEM link would otherwise leave the link without an end
and make it active again. The loader (`loader.py`) checks values (types, dates, slugs, required fields) and
builds the typed records; this module only says which keys exist, for each file and each nested record,
so a problem is reported once.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)


class SourceKeys(_Strict):
    url: Any = None
    repo: Any = None
    path: Any = None
    commit: Any = None
    title: Any = None
    date: Any = None


class _Sourced(_Strict):
    sources: list[SourceKeys] | None = None


class ScopeKeys(_Sourced):
    id: Any = None
    text: Any = None
    uses: Any = None
    equipment: Any = None


class EntryKeys(_Sourced):
    id: Any = None
    subject: Any = None
    entity: Any = None
    equipment: Any = None
    added: Any = None
    removed: Any = None
    scope: Any = None
    confidence: Any = None
    notes: Any = None


class RegimeKeys(_Sourced):
    id: Any = None
    name: Any = None
    jurisdiction: Any = None
    kind: Any = None
    requires: Any = None
    covers: Any = None
    effective: Any = None
    determines_coverage: Any = None
    extends_to_affiliates: Any = None
    scopes: list[ScopeKeys] | None = None
    entries: list[EntryKeys] | None = None
    instruments: Any = None
    confidence: Any = None


class EntityKeys(_Sourced):
    id: Any = None
    name: Any = None
    legal_names: Any = None
    aliases: Any = None
    country: Any = None
    parent: Any = None
    relationship: Any = None
    since: Any = None
    until: Any = None
    review_reason: Any = None
    kinds: Any = None
    confidence: Any = None
    notes: Any = None


class LinkKeys(_Sourced):
    id: Any = None
    maker: Any = None
    relation: Any = None
    basis: Any = None
    product_lines: Any = None
    since: Any = None
    until: Any = None
    status: Any = None
    confidence: Any = None
    evidence: Any = None


class BrandKeys(_Sourced):
    id: Any = None
    name: Any = None
    aliases: Any = None
    owner: Any = None
    owner_name: Any = None
    links: list[LinkKeys] | None = None
    notes: Any = None


class DistinctNameKeys(_Sourced):
    name: Any = None
    resembles: Any = None
    note: Any = None


class OuiOrganizationKeys(_Sourced):
    organization: Any = None
    entity: Any = None
    brand: Any = None
    note: Any = None


class OuiExcludedKeys(_Strict):
    organization: Any = None
    note: Any = None


class OuiOrganizationsFileKeys(_Strict):
    organizations: list[OuiOrganizationKeys] | None = None
    excluded: list[OuiExcludedKeys] | None = None


class ModelExampleKeys(_Strict):
    model: Any = None
    source: SourceKeys | None = None


class ModelKeys(_Sourced):
    id: Any = None
    entity: Any = None
    brand: Any = None
    kind: Any = None
    family: Any = None
    pattern: Any = None
    examples: list[ModelExampleKeys] | None = None
    counter_examples: Any = None
    confidence: Any = None


class FccKeys(_Sourced):
    code: Any = None
    grantee: Any = None
    entity: Any = None
    example_fcc_ids: Any = None
    confidence: Any = None


class AffectedKeys(_Strict):
    product: Any = None
    models: Any = None
    fixed_firmware: Any = None
    firmware_lineage: Any = None


class CveKeys(_Sourced):
    id: Any = None
    entity: Any = None
    kev_vendor: Any = None
    kev_product: Any = None
    name: Any = None
    description: Any = None
    cwe: Any = None
    date_added: Any = None
    due_date: Any = None
    affected: list[AffectedKeys] | None = None
    confidence: Any = None
    notes: Any = None


class MetaKeys(_Strict):
    version: Any = None
    data_dates: Any = None
    dates_policy: Any = None


def _where(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.endswith("Keys"):
            continue  # pydantic may name the schema it tried; the path is enough
        else:
            out += f".{part}" if out else part
    return out


def _allowed(schema: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The keys allowed where the unknown key was found (walks the nested schema along `loc`)."""
    current: Any = schema
    for part in loc[:-1]:
        if isinstance(part, int) or not isinstance(current, type) or not issubclass(current, BaseModel):
            continue
        if part in current.model_fields:
            annotation = current.model_fields[part].annotation
            nested = [a for a in _members(annotation) if isinstance(a, type) and issubclass(a, BaseModel)]
            current = nested[0] if nested else None
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _members(annotation: Any) -> list[Any]:
    args = list(getattr(annotation, "__args__", ()) or ())
    out: list[Any] = []
    for arg in args:
        out.extend(_members(arg) if getattr(arg, "__args__", None) else [arg])
    return out or [annotation]


def unknown_keys(schema: type[BaseModel], raw: object) -> list[str]:
    """Every key of `raw` (nested records included) that `schema` does not know, with a suggestion."""
    if not isinstance(raw, Mapping):
        return []  # the loader reports the wrong shape
    try:
        schema.model_validate(raw)
    except ValidationError as exc:
        out: list[str] = []
        for error in exc.errors():
            if error["type"] != "extra_forbidden":
                continue
            loc = tuple(error["loc"])
            key = str(loc[-1])
            allowed = _allowed(schema, loc)
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (allowed: {', '.join(allowed)})"
            out.append(f"unknown key {_where(loc)!r}{hint}")
        return list(dict.fromkeys(out))
    return []
