"""The knowledge base: typed records plus the questions the rest of trueorigin asks of them.

Coverage rules (what `kb.coverage` answers):
- an entity named by an active entry of a regime that determines coverage (NDAA §889, FCC Covered List) is
  covered ("yes") under that regime;
- a subsidiary or affiliate inherits the regimes of its parent that reach "any subsidiary or affiliate",
  for as long as the link holds;
- a link that ended (unit sold, stake divested) is never dropped and never silently covered: the entity is
  "review", and so is any entity whose record carries a `review_reason`;
- regimes that only list (BIS Entity List, DoD §1260H, UK/AU removals) are reported but do not by themselves
  make equipment "covered".
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from trueorigin.knowledge.loader import RawData
from trueorigin.knowledge.names import NameIndex, normalize
from trueorigin.knowledge.oui import OuiTable
from trueorigin.knowledge.types import (
    CONFIDENCE_VALUES,
    Brand,
    Cve,
    DistinctName,
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
    active,
)
from trueorigin.knowledge.versions import is_older
from trueorigin.model import Covered

_FCC_PREFIX = re.compile(r"^\s*fcc\s*(?:id)?\s*[:#]?\s*", re.IGNORECASE)
_FCC_ID = re.compile(r"^(?:2[A-Z0-9]{4}|[A-Z0-9]{3})[A-Z0-9-]{1,14}$")
_MAX_DEPTH = 8  # parent chains are short; a longer one is a data loop (validate reports it)


def _dedupe(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


class KnowledgeBase:
    """Read-only view of the loaded data. Build it with `trueorigin.knowledge.load()`."""

    def __init__(self, raw: RawData) -> None:
        self.raw = raw
        self.meta = raw.meta
        self.version: str = f"{raw.meta.get('version', '0')}+{raw.digest[:12]}"
        dates = raw.meta.get("data_dates", {})
        self.data_dates: dict[str, str] = {str(k): str(v) for k, v in dates.items()} if isinstance(dates, dict) else {}
        if raw.oui_header.get("registry-date"):
            self.data_dates["oui_registry"] = raw.oui_header["registry-date"]
        self.regimes: dict[str, Regime] = {r.id: r for r in raw.regimes}
        self._regime_order = {r.id: i for i, r in enumerate(raw.regimes)}
        self.entries_by_entity: dict[str, list[RegimeEntry]] = {}
        for regime in raw.regimes:
            for entry in regime.entries:
                if entry.entity:
                    self.entries_by_entity.setdefault(entry.entity, []).append(entry)
        self._raw_entities: dict[str, Entity] = {e.id: e for e in raw.entities}
        self.entities: dict[str, Entity] = {}
        for entity in raw.entities:
            covered, regimes = self.coverage(entity.id)
            self.entities[entity.id] = _with_coverage(entity, covered, regimes)
        self.brands: dict[str, Brand] = {b.id: b for b in raw.brands}
        self.models: tuple[ModelPattern, ...] = tuple(raw.models)
        self._model_res = [(m, re.compile(m.pattern, re.IGNORECASE)) for m in raw.models if _compiles(m.pattern)]
        self.fcc: dict[str, FccGrantee] = {g.code: g for g in raw.fcc}
        self.cve_list: tuple[Cve, ...] = tuple(raw.cves)
        self.oui_table = OuiTable({r.prefix: r for r in raw.oui_records})
        self.distinct: dict[str, DistinctName] = {normalize(d.name): d for d in raw.distinct_names}
        self.names = NameIndex()
        for entity in raw.entities:
            self.names.add(f"entity:{entity.id}", (entity.name, entity.id, *entity.legal_names, *entity.aliases))
        for brand in raw.brands:
            self.names.add(f"brand:{brand.id}", (brand.name, brand.id, *brand.aliases))
        for distinct in raw.distinct_names:
            self.names.add(f"distinct:{normalize(distinct.name)}", (distinct.name,))

    # ----------------------------------------------------------------------------------------- lookups
    def entity(self, entity_id: str) -> Entity | None:
        return self.entities.get(entity_id)

    def regime(self, regime_id: str) -> Regime | None:
        return self.regimes.get(regime_id)

    def brand(self, name: str) -> Brand | None:
        """A brand by id, name or alias (case-, punctuation-insensitive; Chinese names; small misspellings)."""
        if name in self.brands:
            return self.brands[name]
        for target in self.names.targets_of(name):
            if target.startswith("brand:"):
                return self.brands[target[6:]]
        hit = self.names.lookup(name)
        if hit is not None and hit.target.startswith("brand:"):
            return self.brands[hit.target[6:]]
        return None

    def oem_links(self, brand_id: str, at: dt.date | None = None) -> list[OemLink]:
        """The brand's links to makers; with `at`, only those that held on that day. Strongest first."""
        brand = self.brands.get(brand_id) or self.brand(brand_id)
        if brand is None:
            return []
        links = [link for link in brand.links if at is None or link.active_at(at)]
        return sorted(links, key=lambda k: (k.ended, CONFIDENCE_VALUES.index(k.confidence)))

    def oui(self, mac: str) -> OuiRecord | None:
        return self.oui_table.lookup(mac)

    def model(self, model_text: str) -> ModelMatch | None:
        text = model_text.strip()
        if not text or len(text) > 80:
            return None
        for pattern, compiled in self._model_res:
            if compiled.fullmatch(text):
                return ModelMatch(model=text, pattern=pattern)
        return None

    def fcc_grantee(self, fcc_id: str) -> FccGrantee | None:
        """Grantee of an FCC ID ("2ADTD-5604SD", "FCC ID: QISVOG-LX9") or of a bare grantee code."""
        text = _FCC_PREFIX.sub("", fcc_id.strip()).upper().replace(" ", "")
        if not text:
            return None
        code = text[:5] if text.startswith("2") else text[:3]
        return self.fcc.get(code)

    def cves(self, entity_id: str, model: str | None = None, firmware: str | None = None) -> list[Cve]:
        """Known-exploited CVEs of the entity's devices.

        With a model, only CVEs whose affected products could include it (or that do not say by model).
        With a firmware, a CVE is left out only when the fix is known to be in it: the firmware names its
        platform (an affected product's lineage regex matches) and is not older than that platform's fixed
        version, or every affected product it could be has a fixed version it is not older than.
        Unreadable or unknown versions keep the CVE.
        """
        out: list[Cve] = []
        for cve in self.cve_list:
            if cve.entity != entity_id:
                continue
            candidates = list(cve.affected)
            if model and candidates:
                candidates = [a for a in candidates if a.models is None or re.search(a.models, model, re.IGNORECASE)]
                if not candidates:
                    continue
            if firmware and candidates:
                # When the firmware string names its platform (a lineage regex matches), only that platform's
                # fix applies; otherwise every candidate must already be fixed.
                named = [a for a in candidates if a.firmware_lineage and _lineage_matches(a.firmware_lineage, firmware)]
                if all(_fixed_in(a.fixed_firmware, a.firmware_lineage, firmware) for a in (named or candidates)):
                    continue
            out.append(cve)
        return out

    # ---------------------------------------------------------------------------------------- coverage
    def coverage(self, entity_id: str, at: dt.date | None = None) -> tuple[Covered, tuple[str, ...]]:
        """Whether equipment of the entity is covered on `at` (today when None), and under which regimes.

        The regimes list also names listing-only regimes (Entity List, §1260H) that name the entity.
        """
        covered, regimes, _ = self._coverage(entity_id, at, 0)
        order = self._regime_order
        return covered, tuple(sorted(_dedupe(regimes), key=lambda r: order.get(r, 999)))

    def _coverage(self, entity_id: str, at: dt.date | None, depth: int) -> tuple[Covered, list[str], list[RegimeEntry]]:
        entity = self._raw_entities.get(entity_id)
        if entity is None or depth > _MAX_DEPTH:
            return "no", [], []
        entries = [e for e in self.entries_by_entity.get(entity_id, []) if active(e.added, e.removed, at)]
        regimes = [e.regime for e in entries]
        covering = [e for e in entries if self._determines(e.regime)]
        status: Covered = "yes" if covering else "no"
        chain: list[RegimeEntry] = list(covering)
        if entity.parent:
            parent_status, parent_regimes, parent_chain = self._coverage(entity.parent, at, depth + 1)
            inherited = [r for r in parent_regimes if self._inherits(r)]
            link_holds = active(entity.since, entity.until, at)
            link_ended = entity.until is not None and not link_holds and (at is None or at >= entity.until)
            if inherited and parent_status != "no" and (link_holds or link_ended):
                regimes.extend(inherited)
                chain.extend(e for e in parent_chain if e.regime in inherited)
                if status != "yes":
                    status = "review" if link_ended or parent_status == "review" else "yes"
        # A review reason about a link that ended does not apply to days when the link still held.
        held_then = entity.until is not None and active(entity.since, entity.until, at)
        if entity.review_reason and not held_then and not covering:
            status = "review"
        return status, regimes, chain

    def _determines(self, regime_id: str) -> bool:
        regime = self.regimes.get(regime_id)
        return regime is not None and regime.determines_coverage

    def _inherits(self, regime_id: str) -> bool:
        regime = self.regimes.get(regime_id)
        return regime is not None and regime.determines_coverage and regime.extends_to_affiliates

    def covering_entries(self, entity_id: str, at: dt.date | None = None) -> list[RegimeEntry]:
        """The regime entries (own or of the parents it inherits from) that make the entity covered."""
        return self._coverage(entity_id, at, 0)[2]

    def covered_vendor(self, entity_id: str) -> Entity | None:
        """The named entity a covered (or review) entity leads to: itself if listed, else its listed ancestor."""
        entries = self.covering_entries(entity_id)
        if entries and entries[0].entity:
            return self.entities.get(entries[0].entity)
        entity = self.entities.get(entity_id)
        if entity is not None and entity.covered != "no":
            return entity
        return None

    def scope_of(self, entity_id: str) -> tuple[dict[str, Any], ...]:
        """The qualifiers under which the entity is covered (None text = the entry is unqualified)."""
        out: list[dict[str, Any]] = []
        for entry in self.covering_entries(entity_id):
            regime = self.regimes[entry.regime]
            rule = regime.scope_rule(entry.scope)
            out.append(
                {
                    "regime": entry.regime,
                    "entry": entry.id,
                    "subject": entry.subject,
                    "equipment": list(entry.equipment),
                    "qualifier": rule.text if rule else None,
                    "uses": list(rule.uses) if rule else [],
                    "added": entry.added.isoformat() if entry.added else None,
                }
            )
        return tuple(out)

    # ------------------------------------------------------------------------------------- resolution
    def resolve(self, text: str) -> Resolution:
        """What a name, MAC/OUI, model number or FCC ID leads to, with the chain of records and sources."""
        from trueorigin.knowledge.resolve import resolve

        return resolve(self, text)

    # --------------------------------------------------------------------------------------- counting
    def stats(self) -> dict[str, Any]:
        links = [link for b in self.brands.values() for link in b.links]
        covered = [e for e in self.entities.values() if e.covered == "yes"]
        review = [e for e in self.entities.values() if e.covered == "review"]
        ouis: dict[str, int] = {}
        for record in self.oui_table.by_prefix.values():
            ouis[record.registry] = ouis.get(record.registry, 0) + 1
        return {
            "version": self.version,
            "data_dates": self.data_dates,
            "regimes": len(self.regimes),
            "regime_entries": sum(len(r.entries) for r in self.regimes.values()),
            "entities": len(self.entities),
            "entities_covered": len(covered),
            "entities_review": len(review),
            "brands": len(self.brands),
            "brand_links": len(links),
            "brand_links_to_covered": sum(1 for k in links if self.coverage(k.maker)[0] != "no"),
            "oui_assignments": sum(ouis.values()),
            "oui_by_registry": dict(sorted(ouis.items())),
            "model_patterns": len(self.models),
            "model_examples": sum(len(m.examples) for m in self.models),
            "fcc_grantees": len(self.fcc),
            "cves": len(self.cve_list),
        }

    def entity_record(self, entity: Entity) -> Record:
        claim = f"{entity.name}"
        if entity.legal_names:
            claim += f" ({entity.legal_names[0]})"
        if entity.parent:
            parent = self.entities.get(entity.parent)
            parent_name = parent.name if parent else entity.parent
            period = _period(entity.since, entity.until)
            relation = entity.relationship or "subsidiary"
            if entity.until:
                claim += f" was a {relation} of {parent_name} {period}".rstrip()
            else:
                claim += f" is a {relation} of {parent_name} {period}".rstrip()
        if entity.review_reason:
            claim += f"; review: {entity.review_reason}"
        return Record(f"entity:{entity.id}", claim, entity.sources, entity.confidence)

    def entry_record(self, entry: RegimeEntry) -> Record:
        regime = self.regimes[entry.regime]
        rule = regime.scope_rule(entry.scope)
        claim = f"{regime.name}: {entry.subject} (since {entry.added.isoformat() if entry.added else '?'})"
        if rule is not None:
            claim += f"; only {rule.text}"
        return Record(f"entry:{entry.id}", claim, entry.sources or regime.sources, entry.confidence)

    def link_record(self, link: OemLink) -> Record:
        brand = self.brands.get(link.brand)
        maker = self.entities.get(link.maker)
        brand_name = brand.name if brand else link.brand
        maker_name = maker.name if maker else link.maker
        verb = {"own-brand": "is a brand of", "oem": "products are made by", "alleged": "is alleged to source from"}
        lines = ", ".join(link.product_lines)
        claim = f"{brand_name} {verb.get(link.relation, 'is linked to')} {maker_name} ({lines}; {link.status}"
        period = _period(link.since, link.until)
        claim += f", {period})" if period else ")"
        claim += f": {link.evidence}"
        return Record(f"link:{link.brand}/{link.id}", claim, link.sources, link.confidence)


def _period(since: dt.date | None, until: dt.date | None) -> str:
    if since and until:
        return f"from {since.isoformat()} until {until.isoformat()}"
    if since:
        return f"since {since.isoformat()}"
    if until:
        return f"until {until.isoformat()}"
    return ""


def _compiles(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


def _lineage_matches(lineage: str, firmware: str) -> bool:
    return re.search(lineage, firmware[:200], re.IGNORECASE) is not None


def _fixed_in(fixed: str | None, lineage: str | None, firmware: str) -> bool:
    """True only when we can tell `firmware` already has the fix."""
    if fixed is None:
        return False
    if lineage is not None and not _lineage_matches(lineage, firmware):
        return False
    older = is_older(firmware, fixed)
    return older is False


def _with_coverage(entity: Entity, covered: Covered, regimes: tuple[str, ...]) -> Entity:
    from dataclasses import replace

    return replace(entity, covered=covered, regimes=regimes)


__all__ = ["KnowledgeBase"]
