"""Fingerprint rules as data, with their loader and matcher.

Rules live in `fingerprints/data/*.yaml`, one file per matched field family, in the format of
docs/ARCHITECTURE.md ("Fingerprints"). Matching is a pure function of the parsed fields and the data:

    >>> from trueorigin.fingerprints import match
    >>> [m.attributes["vendor"] for m in match({"http.header.server": "DNVRS-Webs"})]
    ['hikvision']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cache, lru_cache

from trueorigin.fingerprints import vocabulary
from trueorigin.fingerprints.rules import (
    DATA_DIR,
    Example,
    Rule,
    backtracking_risk,
    data_files,
    load_rule_files,
    parse_rule,
    parse_rule_file,
)
from trueorigin.fingerprints.version import data_version
from trueorigin.fingerprints.vocabulary import (
    ATTRIBUTES,
    KINDS,
    covered_vendors,
    is_known_field,
    vendors,
)
from trueorigin.model import Match


def __getattr__(name: str) -> tuple[str, ...]:
    """`FIELDS` / `FIELD_FAMILIES`: the field vocabulary the parser modules declare, computed on first use."""
    if name in ("FIELDS", "FIELD_FAMILIES"):
        return getattr(vocabulary, name)  # type: ignore[no-any-return]
    raise AttributeError(name)


__all__ = [
    "ATTRIBUTES",
    "DATA_DIR",
    "FIELDS",
    "FIELD_FAMILIES",
    "KINDS",
    "Example",
    "Rule",
    "backtracking_risk",
    "covered_vendors",
    "data_version",
    "is_known_field",
    "load_rules",
    "match",
    "match_field",
    "parse_rule",
    "parse_rule_file",
    "rule",
    "vendors",
]


@cache
def load_rules() -> tuple[Rule, ...]:
    """All rules shipped with trueorigin, validated, in file-name then file order (cached)."""
    return load_rule_files(data_files(DATA_DIR))


# bounded: callers may pass their own rule lists (tests, tooling); the shipped tuple stays cached
@lru_cache(maxsize=16)
def _index(rules: tuple[Rule, ...]) -> dict[str, tuple[Rule, ...]]:
    by_field: dict[str, list[Rule]] = {}
    for item in rules:
        by_field.setdefault(item.field, []).append(item)
    return {name: tuple(items) for name, items in by_field.items()}


@lru_cache(maxsize=16)
def _order(rules: tuple[Rule, ...]) -> dict[str, int]:
    return {item.id: position for position, item in enumerate(rules)}


def rule(rule_id: str) -> Rule | None:
    """The shipped rule with this id, if any."""
    return next((r for r in load_rules() if r.id == rule_id), None)


def _match_one(item: Rule, field_name: str, value: str) -> Match | None:
    attributes = item.apply(value)
    if attributes is None:
        return None
    return Match(
        rule_id=item.id,
        field=field_name,
        value=value[: item.max_length],
        attributes=attributes,
        certainty=item.certainty,
        description=item.description,
        sources=item.sources,
    )


def match(fields: Mapping[str, str], rules: Sequence[Rule] | None = None) -> list[Match]:
    """Every rule that matches one of `fields`, in rule order; values that are not text are ignored."""
    index = _index(load_rules() if rules is None else tuple(rules))
    found: list[Match] = []
    for field_name in fields.keys() & index.keys():
        value = fields[field_name]
        if not isinstance(value, str) or not value:
            continue
        for item in index[field_name]:
            hit = _match_one(item, field_name, value)
            if hit is not None:
                found.append(hit)
    order = _order(load_rules() if rules is None else tuple(rules))
    found.sort(key=lambda hit: order[hit.rule_id])
    return found


def match_field(field_name: str, value: str, rules: Iterable[Rule] | None = None) -> list[Match]:
    """Matches of one value of one field (what `trueorigin fingerprints match` prints)."""
    candidates = load_rules() if rules is None else tuple(rules)
    return [
        hit
        for item in candidates
        if item.field == field_name and (hit := _match_one(item, field_name, value)) is not None
    ]
