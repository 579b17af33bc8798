"""The knowledge base: who makes what, under which law, and on which sources.

    from trueorigin.knowledge import load
    kb = load()
    kb.resolve("Amcrest").vendor        # 'Dahua'
    kb.coverage("ezviz")                # ('yes', ('ndaa-889', 'fcc-covered-list'))

Data files live in `knowledge/data/` (see docs/knowledge.md for the format). `load()` is cached: every
command calls it, and the data does not change while the process runs.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from trueorigin.errors import DataError
from trueorigin.knowledge.base import KnowledgeBase
from trueorigin.knowledge.loader import DATA_DIR, read_data, read_entity_ids
from trueorigin.knowledge.types import (
    AffectedProduct,
    Brand,
    Cve,
    Entity,
    FccGrantee,
    ModelMatch,
    ModelPattern,
    OemLink,
    OuiRecord,
    Record,
    Regime,
    RegimeEntry,
    Resolution,
    ScopeRule,
)

__all__ = [
    "AffectedProduct",
    "Brand",
    "Cve",
    "Entity",
    "FccGrantee",
    "KnowledgeBase",
    "ModelMatch",
    "ModelPattern",
    "OemLink",
    "OuiRecord",
    "Record",
    "Regime",
    "RegimeEntry",
    "Resolution",
    "ScopeRule",
    "entity_ids",
    "load",
    "load_from",
]


def load_from(data_dir: Path) -> KnowledgeBase:
    """Load a knowledge base from a data directory; DataError when its files have schema problems."""
    raw = read_data(data_dir)
    if raw.problems:
        shown = "\n  ".join(raw.problems[:10])
        more = f"\n  ... and {len(raw.problems) - 10} more" if len(raw.problems) > 10 else ""
        raise DataError(f"knowledge base in {data_dir} has {len(raw.problems)} problem(s):\n  {shown}{more}")
    return KnowledgeBase(raw)


@lru_cache(maxsize=1)
def load() -> KnowledgeBase:
    """The shipped knowledge base, loaded once per process."""
    return load_from(DATA_DIR)


@lru_cache(maxsize=1)
def entity_ids() -> frozenset[str]:
    """Ids of the shipped knowledge base's entities, read from entities.yaml alone (no full load): the one
    vendor vocabulary that fingerprint rules, lab profiles and outputs name."""
    return read_entity_ids(DATA_DIR)
