"""Closed vocabularies the rule files are validated against (docs/ARCHITECTURE.md, "Canonical vocabulary").

Vendors are the knowledge base's entity ids (derived, never copied): a rule naming a vendor the knowledge
base does not know is a data error, so a typo cannot silently create a new manufacturer (recog's `AXIS` vs
`Axis` problem).
"""

from __future__ import annotations

from functools import cache

from trueorigin.knowledge import entity_ids
from trueorigin.model import PRODUCT_KINDS


def vendors() -> frozenset[str]:
    """Entity ids a rule may set as `vendor` (true origin: maker of hardware/firmware): every entity of the
    knowledge base (`knowledge/data/entities.yaml`), the one source of this vocabulary."""
    return entity_ids()


def covered_vendors() -> frozenset[str]:
    """The vendors the knowledge base says are covered (or to review) today."""
    from trueorigin.knowledge import load

    kb = load()
    return frozenset(entity_id for entity_id, entity in kb.entities.items() if entity.covered != "no")


KINDS: tuple[str, ...] = PRODUCT_KINDS

# Attributes a rule may set (ARCHITECTURE "Fingerprints").
ATTRIBUTES: tuple[str, ...] = ("vendor", "brand", "family", "kind", "model", "firmware", "serial", "os")


@cache
def declared_fields() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Every key and key family the parser modules declare they emit (`FIELDS`, `FIELD_FAMILIES` of each
    `trueorigin.probes.<module>`), plus the shared `device.*` keys: the one source of the field vocabulary."""
    from trueorigin.probes import modules
    from trueorigin.probes.base import DEVICE_FIELDS

    fields: dict[str, None] = dict.fromkeys(DEVICE_FIELDS)
    families: dict[str, None] = {}
    for module in modules():
        fields.update(dict.fromkeys(getattr(module, "FIELDS", ())))
        families.update(dict.fromkeys(getattr(module, "FIELD_FAMILIES", ())))
    return tuple(fields), tuple(families)


def __getattr__(name: str) -> tuple[str, ...]:
    """`FIELDS` (exact keys) and `FIELD_FAMILIES` (prefixes whose next component is open, `http.header.<name>`),
    computed on first use so importing the fingerprints does not import the parsers."""
    if name == "FIELDS":
        return declared_fields()[0]
    if name == "FIELD_FAMILIES":
        return declared_fields()[1]
    raise AttributeError(name)


# `snmp.community` is never emitted (ARCHITECTURE); a rule on it would be a secret-matching rule.
FORBIDDEN_FIELDS: tuple[str, ...] = ("snmp.community",)


def is_known_field(name: str) -> bool:
    """True when `name` is a key of the ARCHITECTURE field vocabulary."""
    if name in FORBIDDEN_FIELDS:
        return False
    fields, families = declared_fields()
    if name in fields:
        return True
    return any(name.startswith(prefix) and len(name) > len(prefix) for prefix in families)
