"""Observations of one host -> one identification, with an evidence chain and a confidence.

How a verdict is reached:
1. Every observation is parsed by its protocol's parser and the fields are matched against the fingerprint
   rules. A rule that names a `vendor` is a *lineage signal*: relabeled devices keep their maker's firmware
   (web server, realms, discovery protocols, private ports, certificate defaults), so these outweigh names.
2. Knowledge signals are added: the MAC's IEEE assignment, the model number's convention, the brand shown and
   its OEM links. They are weaker: an OUI or a brand link says who *usually* makes such a thing.
3. Signals are grouped so that one fact seen twice is not counted twice (the same rule on ports 80 and 8080,
   the same brand link). Per vendor, confidence = 1 - prod(1 - strongest certainty of each group).
4. The strongest vendor is the true origin; its coverage and regimes come from the knowledge base; a covered
   verdict that rests on weak evidence becomes "review". Disagreements are reported in `conflicts`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from trueorigin import fingerprints, probes
from trueorigin.identify_names import FIELD_CERTAINTY, maker_claims
from trueorigin.knowledge import KnowledgeBase, load
from trueorigin.knowledge.types import CERTAINTY
from trueorigin.model import Covered, Evidence, Identification, Match, Observation, Parsed, Source

# A vendor needs at least this much combined confidence to be named at all.
MIN_VENDOR_CONFIDENCE = 0.35
# A covered verdict below this confidence is reported as "review": a human should confirm it.
MIN_COVERED_CONFIDENCE = 0.6
# Another vendor this strong is a conflict worth reporting.
CONFLICT_CONFIDENCE = 0.5

# Knowledge signals are discounted: they say what such a device usually is, not what this one runs.
OUI_CERTAINTY = 0.55
MODEL_PATTERN_WEIGHT = 0.75
BRAND_LINK_WEIGHT = 0.7
BRAND_IS_MAKER_CERTAINTY = 0.5
# A device naming its maker (brand shown = an entity, or a maker's name in free text) is one fact, counted once.
NAME_SHOWN_GROUP = "name-shown"

# Where a device's own description of itself is most trustworthy, best first.
_DEVICE_FACT_PRIORITY = (
    "mac",  # a MAC seen on the wire (ARP, DHCP, frame source) beats one a device reports about itself
    "onvif-device-info",
    "http",
    "sadp",
    "dhip",
    "ssdp",
    "ws-discovery",
    "snmp-sysdescr",
    "mdns",
    "asset-record",
    "nmap-service",
)


@dataclass(frozen=True, slots=True)
class _Signal:
    vendor: str  # knowledge-base entity id
    certainty: float
    group: str  # signals in one group are not independent: only the strongest counts
    evidence: Evidence


@dataclass(frozen=True, slots=True)
class _Fact:
    value: str
    protocol: str
    port: int | None
    field: str
    sha256: str


# Where a device shows its brand to people, best first. Device-info APIs (ISAPI, getVendor) come later: OEM
# firmware may keep the maker's name there while ONVIF and discovery show the reseller's.
_BRAND_PRIORITY = ("onvif-device-info", "ws-discovery", "ssdp", "mdns", "dhip", "http", "sadp", "asset-record")


def _brand_priority(protocol: str) -> int:
    return _BRAND_PRIORITY.index(protocol) if protocol in _BRAND_PRIORITY else len(_BRAND_PRIORITY)


def _priority(protocol: str) -> int:
    try:
        return _DEVICE_FACT_PRIORITY.index(protocol)
    except ValueError:
        return len(_DEVICE_FACT_PRIORITY)


def _observation_evidence(obs: Observation, match: Match, claim: str) -> Evidence:
    return Evidence(
        claim=claim,
        protocol=obs.protocol,
        port=obs.port,
        field=match.field,
        value=match.value[:200],
        rule=match.rule_id,
        certainty=round(match.certainty, 3),
        observation_sha256=obs.sha256,
        sources=match.sources,
    )


class _HostEvidence:
    """Everything learned about one host, before a verdict."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.signals: list[_Signal] = []
        self.facts: dict[str, list[_Fact]] = defaultdict(list)  # device.model -> values seen
        self.attributes: dict[str, list[tuple[str, float, Evidence]]] = defaultdict(list)  # from rules
        self.unparsed: list[str] = []

    def add_observation(self, obs: Observation) -> None:
        parsed: Parsed = probes.parse(obs)
        if not parsed.ok:
            self.unparsed.append(f"{obs.protocol}:{obs.port or '-'} {parsed.error}")
            return
        for key, value in parsed.fields.items():
            if key.startswith("device.") and value.strip():
                self.facts[key].append(_Fact(value.strip(), obs.protocol, obs.port, key, obs.sha256))
        if "mac.address" in parsed.fields:
            self.facts["device.mac"].append(
                _Fact(parsed.fields["mac.address"], obs.protocol, obs.port, "mac.address", obs.sha256)
            )
        for match in fingerprints.match(parsed.fields):
            self._add_match(obs, match)
        for key, certainty in FIELD_CERTAINTY.items():
            text = parsed.fields.get(key)
            if text:
                self._add_names(obs, key, text, certainty)

    def _add_names(self, obs: Observation, key: str, value: str, certainty: float) -> None:
        """The free-text maker signal: a knowledge-base name in a self-description field."""
        for mention in maker_claims(self.kb, key, value):
            if mention.kind == "entity":
                entity = self.kb.entity(mention.id)
                name = entity.name if entity else mention.id
                self.signals.append(
                    _Signal(
                        mention.id,
                        certainty,
                        NAME_SHOWN_GROUP,
                        _name_evidence(
                            obs, key, value, f"{key} names the maker {mention.alias!r} -> {name}", mention.id, certainty
                        ),
                    )
                )
                continue
            for link in self.kb.oem_links(mention.id):
                if link.ended:
                    continue
                maker = self.kb.entity(link.maker)
                linked = certainty * link.certainty
                claim = (
                    f"{key} names the brand {mention.alias!r}, a {link.relation} label of "
                    f"{maker.name if maker else link.maker}"
                )
                self.signals.append(
                    _Signal(link.maker, linked, "brand-link", _name_evidence(obs, key, value, claim, link.id, linked))
                )

    def _add_match(self, obs: Observation, match: Match) -> None:
        attrs = match.attributes
        vendor = attrs.get("vendor")
        if vendor:
            entity = self.kb.entity(vendor)
            name = entity.name if entity else vendor
            claim = f"{match.description or match.rule_id} -> made by {name}"
            evidence = _observation_evidence(obs, match, claim)
            self.signals.append(_Signal(vendor, match.certainty, f"rule:{match.rule_id}", evidence))
        else:
            evidence = _observation_evidence(obs, match, match.description or match.rule_id)
        for key in ("brand", "model", "firmware", "kind", "serial", "family", "os"):
            value = attrs.get(key)
            if value:
                self.attributes[key].append((value, match.certainty, evidence))

    # -- facts ------------------------------------------------------------------------------------
    def best_fact(self, key: str) -> _Fact | None:
        values = self.facts.get(key, [])
        return min(values, key=lambda f: _priority(f.protocol)) if values else None

    def best_attribute(self, key: str) -> str | None:
        values = self.attributes.get(key, [])
        if not values:
            return None
        return max(values, key=lambda item: item[1])[0]


def _knowledge_signals(
    state: _HostEvidence, brand_id: str | None, brand_shown: str | None, at: dt.date | None = None
) -> None:
    kb = state.kb
    mac = state.best_fact("device.mac")
    if mac is not None:
        record = kb.oui(mac.value)
        if record is not None and record.entity:
            entity = kb.entity(record.entity)
            name = entity.name if entity else record.entity
            state.signals.append(
                _Signal(
                    record.entity,
                    OUI_CERTAINTY,
                    "oui",
                    Evidence(
                        claim=f"MAC {mac.value} is in IEEE {record.registry} {record.prefix_colon} "
                        f"assigned to {record.organization} ({name})",
                        protocol=mac.protocol,
                        port=mac.port,
                        field=mac.field,
                        value=mac.value,
                        rule=f"oui:{record.prefix_colon}",
                        certainty=OUI_CERTAINTY,
                        observation_sha256=mac.sha256,
                        sources=_oui_sources(record.registry_date),
                    ),
                )
            )
    model = _model_text(state)
    if model is not None:
        found = kb.model(model.value)
        if found is not None:
            pattern = found.pattern
            certainty = CERTAINTY[pattern.confidence] * MODEL_PATTERN_WEIGHT
            entity = kb.entity(pattern.entity)
            state.signals.append(
                _Signal(
                    pattern.entity,
                    certainty,
                    "model-pattern",
                    Evidence(
                        claim=f"model {model.value} follows the {pattern.family} numbering ({pattern.kind}) of "
                        f"{entity.name if entity else pattern.entity}",
                        protocol=model.protocol,
                        port=model.port,
                        field=model.field,
                        value=model.value,
                        rule=f"model:{pattern.id}",
                        certainty=round(certainty, 3),
                        observation_sha256=model.sha256 or None,
                        sources=pattern.sources,
                    ),
                )
            )
    if brand_id is not None:
        day = at or dt.date.today()
        for link in kb.oem_links(brand_id):
            if not link.active_at(day) and not link.ended:
                continue
            weight = BRAND_LINK_WEIGHT * (0.5 if link.ended else 1.0)
            certainty = link.certainty * weight
            maker = kb.entity(link.maker)
            status = "former " if link.ended else ""
            lines = f" ({', '.join(link.product_lines)})" if link.product_lines else ""
            state.signals.append(
                _Signal(
                    link.maker,
                    certainty,
                    "brand-link",
                    Evidence(
                        claim=f"brand {brand_shown} is a {status}{link.relation} label of "
                        f"{maker.name if maker else link.maker}{lines}",
                        rule=f"oem-link:{link.id}",
                        certainty=round(certainty, 3),
                        sources=link.sources,
                    ),
                )
            )
    elif brand_shown is not None:
        resolution = kb.resolve(brand_shown)
        if resolution.kind == "entity" and resolution.entity and resolution.match in ("exact", "alias"):
            state.signals.append(
                _Signal(
                    resolution.entity,
                    BRAND_IS_MAKER_CERTAINTY,
                    NAME_SHOWN_GROUP,
                    Evidence(
                        claim=f"the device names its maker as {resolution.resolved}",
                        rule=f"entity:{resolution.entity}",
                        certainty=BRAND_IS_MAKER_CERTAINTY,
                        sources=resolution.sources,
                    ),
                )
            )


def _name_evidence(obs: Observation, key: str, value: str, claim: str, target: str, certainty: float) -> Evidence:
    return Evidence(
        claim=claim,
        protocol=obs.protocol,
        port=obs.port,
        field=key,
        value=value[:200],
        rule=f"name:{key}:{target}",
        certainty=round(certainty, 3),
        observation_sha256=obs.sha256,
    )


def _oui_sources(registry_date: str) -> tuple[Source, ...]:
    return (Source(url="https://standards-oui.ieee.org/", title="IEEE Registration Authority", date=registry_date),)


def _model_text(state: _HostEvidence) -> _Fact | None:
    fact = state.best_fact("device.model")
    if fact is not None:
        return fact
    values = state.attributes.get("model", [])
    if values:
        value, _, evidence = max(values, key=lambda item: item[1])
        return _Fact(
            value, evidence.protocol or "", evidence.port, evidence.field or "", evidence.observation_sha256 or ""
        )
    return None


# Names firmware shows where the reseller left the maker field generic: they name no brand.
GENERIC_NAMES = frozenset(
    {
        "general",
        "private",
        "onvif",
        "ipc",
        "ip camera",
        "ipcamera",
        "nvr",
        "dvr",
        "network camera",
        "camera",
        "manufacturer",
        "unknown",
        "default",
        "oem",
        "none",
        "null",
        "n/a",
        "device",
        "webcam",
    }
)


def _canonical_name(kb: KnowledgeBase, text: str) -> tuple[str, str | None] | None:
    """(display name, brand id) of a shown name: the whole text, then its first word ("HIKVISION DS-2CD...")."""
    candidates = [text.strip()]
    first = re.split(r"[\s_/(]+", text.strip(), maxsplit=1)[0]
    if first and first != candidates[0]:
        candidates.append(first)
    for candidate in candidates:
        if candidate.casefold() in GENERIC_NAMES or len(candidate) < 2:
            continue
        brand = kb.brand(candidate)
        if brand is not None:
            return brand.name, brand.id
        resolution = kb.resolve(candidate)
        if resolution.kind == "entity" and resolution.resolved and resolution.match in ("exact", "alias"):
            return resolution.resolved, None
    return None


def _brand_shown(state: _HostEvidence) -> tuple[str | None, str | None, Evidence | None]:
    """(brand display name, brand id in the knowledge base, evidence). Firmware OEM codes beat names."""
    kb = state.kb
    for value, _, evidence in sorted(state.attributes.get("brand", []), key=lambda item: -item[1]):
        named = _canonical_name(kb, value)
        if named is not None:
            return named[0], named[1], evidence
    facts = sorted(state.facts.get("device.manufacturer", []), key=lambda f: _brand_priority(f.protocol))
    shown = [f for f in facts if f.value.casefold() not in GENERIC_NAMES]
    for fact in shown:
        named = _canonical_name(kb, fact.value)
        if named is not None:
            return named[0], named[1], _shown_evidence(fact)
    if shown:  # a name the knowledge base does not know ("Acme"): report it as shown
        return shown[0].value, None, _shown_evidence(shown[0])
    return None, None, None


def _shown_evidence(fact: _Fact) -> Evidence:
    return Evidence(
        claim=f"the device shows the brand {fact.value!r}",
        protocol=fact.protocol,
        port=fact.port,
        field=fact.field,
        value=fact.value,
        observation_sha256=fact.sha256,
    )


# Fields where a device displays a name to people (titles, realms, descriptions, certificates), unlike
# software names such as "Dahua Rtsp Server", which OEM firmware keeps under the reseller's label.
_BRAND_DISPLAY_FIELDS = frozenset(
    {
        "http.title",
        "http.realm",
        "snmp.sysdescr",
        "upnp.manufacturer",
        "upnp.friendly_name",
        "onvif.scope.name",
        "onvif.manufacturer",
        "mdns.names",
        "mdns.services",
        "banner.text",
        "banner.first_line",
        "http.header.server",
        "nmap.product",
        *FIELD_CERTAINTY,
    }
)


def _names_word(name: str, text: str) -> bool:
    """`name` stands in `text` as a word or a CamelCase part ("HuaweiHomeGateway"), not inside another word."""
    for found in re.finditer(re.escape(name), text, re.IGNORECASE):
        before = text[found.start() - 1] if found.start() else " "
        after = text[found.end()] if found.end() < len(text) else " "
        if not before.isalnum() and not after.islower() and not after.isdigit():
            return True
    return False


def _maker_name_shown(kb: KnowledgeBase, vendor_id: str, signals: Sequence[_Signal]) -> Evidence | None:
    """A lineage signal whose own text names the maker ("Hikvision-Webs", realm "AXIS_...") shows that brand."""
    entity = kb.entity(vendor_id)
    if entity is None:
        return None
    names = [entity.name, *entity.aliases]
    for signal in signals:
        value = signal.evidence.value or ""
        if signal.evidence.field not in _BRAND_DISPLAY_FIELDS:
            continue
        if any(len(name) >= 2 and name.isascii() and _names_word(name, value) for name in names):
            return signal.evidence
    return None


# A lineage signal this strong, from the firmware itself, decides coverage whatever the brand (docs/relabels.md).
STRONG_LINEAGE_CERTAINTY = 0.8
# Fields that carry a name people chose rather than what the firmware is: never lineage.
_NOT_LINEAGE_FIELDS = frozenset({"device.manufacturer", "onvif.manufacturer", "upnp.manufacturer", "nmap.product"})


def _strong_lineage(kb: KnowledgeBase, signals: Iterable[_Signal], at: dt.date | None = None) -> _Signal | None:
    """The strongest firmware-lineage signal (discovery protocol, OEM firmware code, web server family, private
    port ...) naming a vendor covered "yes", or None. Names, brands, OUIs and model numbers never qualify."""
    best: _Signal | None = None
    for signal in signals:
        if not signal.group.startswith("rule:") or signal.certainty < STRONG_LINEAGE_CERTAINTY:
            continue
        if signal.evidence.field in _NOT_LINEAGE_FIELDS or kb.coverage(signal.vendor, at=at)[0] != "yes":
            continue
        if best is None or signal.certainty > best.certainty:
            best = signal
    return best


def _combine(signals: Iterable[_Signal]) -> dict[str, tuple[float, list[_Signal]]]:
    strongest: dict[str, dict[str, _Signal]] = defaultdict(dict)
    for signal in signals:
        group = strongest[signal.vendor]
        current = group.get(signal.group)
        if current is None or signal.certainty > current.certainty:
            group[signal.group] = signal
    out: dict[str, tuple[float, list[_Signal]]] = {}
    for vendor, groups in strongest.items():
        doubt = 1.0
        for signal in groups.values():
            doubt *= 1.0 - min(max(signal.certainty, 0.0), 0.99)
        out[vendor] = (1.0 - doubt, sorted(groups.values(), key=lambda s: -s.certainty))
    return out


def _ancestors(kb: KnowledgeBase, entity_id: str) -> list[str]:
    out: list[str] = []
    entity = kb.entity(entity_id)
    while entity is not None and entity.parent and entity.parent not in out and len(out) < 8:
        out.append(entity.parent)
        entity = kb.entity(entity.parent)
    return out


def _prefer_subsidiary(
    kb: KnowledgeBase, ranked: list[tuple[str, tuple[float, list[_Signal]]]]
) -> list[tuple[str, tuple[float, list[_Signal]]]]:
    """A subsidiary's products run its parent's firmware: when the lineage points to a parent and other signals
    (brand, model numbering) to one of its subsidiaries, the subsidiary is the more exact answer (e.g. Imou
    cameras made by Hangzhou Huacheng run Dahua firmware)."""
    top = ranked[0][0]
    for candidate, (score, _) in ranked[1:]:
        if score >= CONFLICT_CONFIDENCE and top in _ancestors(kb, candidate):
            return [item for item in ranked if item[0] == candidate] + [item for item in ranked if item[0] != candidate]
    return ranked


def identify_host(
    host: str, observations: Sequence[Observation], kb: KnowledgeBase | None = None, at: dt.date | None = None
) -> Identification:
    """Combine every observation of one host into one identification, as the knowledge base stood on `at`
    (the day the observations were made; today when None)."""
    kb = kb or load()
    state = _HostEvidence(kb)
    for obs in observations:
        state.add_observation(obs)
    brand_shown, brand_id, brand_evidence = _brand_shown(state)
    _knowledge_signals(state, brand_id, brand_shown, at)

    scores = _combine(state.signals)
    ranked = sorted(scores.items(), key=lambda item: -item[1][0])
    vendor_id: str | None = None
    confidence = 0.0
    chosen: list[_Signal] = []
    if ranked and ranked[0][1][0] >= MIN_VENDOR_CONFIDENCE:
        vendor_id, (confidence, chosen) = ranked[0][0], ranked[0][1]
        ranked = _prefer_subsidiary(kb, ranked)
        if ranked[0][0] != vendor_id:
            lineage = chosen
            vendor_id, (confidence, chosen) = ranked[0][0], ranked[0][1]
            confidence = max(confidence, scores[ranked[1][0]][0] if len(ranked) > 1 else 0.0)
            chosen = chosen + [s for s in lineage if s not in chosen]

    conflicts: list[str] = []
    vendor_entity = kb.entity(vendor_id) if vendor_id else None
    vendor_name = vendor_entity.name if vendor_entity else vendor_id
    if brand_shown is None and vendor_id is not None and vendor_name:
        shown_by = _maker_name_shown(kb, vendor_id, chosen)
        if shown_by is not None:
            brand_shown = vendor_name
    family = set(_ancestors(kb, vendor_id)) if vendor_id else set()
    for other, (score, other_signals) in ranked[1:]:
        related = other in family or (vendor_id is not None and vendor_id in _ancestors(kb, other))
        if score >= CONFLICT_CONFIDENCE and not related:
            other_entity = kb.entity(other)
            basis = ", ".join(s.evidence.rule or s.group for s in other_signals[:3])
            conflicts.append(
                f"signals also point to {other_entity.name if other_entity else other} "
                f"(confidence {score:.2f}: {basis})"
            )
    if brand_shown and vendor_name and brand_shown.casefold() != vendor_name.casefold():
        linked = brand_id is not None and any(link.maker == vendor_id for link in kb.oem_links(brand_id))
        if not linked:
            where = f" ({brand_evidence.protocol})" if brand_evidence and brand_evidence.protocol else ""
            conflicts.append(
                f"the device shows brand {brand_shown!r}{where} but its firmware/hardware signals are "
                f"{vendor_name}'s: relabeled or misreported"
            )

    covered: Covered = "no"
    regimes: tuple[str, ...] = ()
    coverage_evidence: list[Evidence] = []
    coverage_subject = vendor_id
    if vendor_id is not None:
        covered, regimes = kb.coverage(vendor_id, at=at)
        weak = covered == "yes" and confidence < MIN_COVERED_CONFIDENCE
        if weak:
            covered = "review"
        # "review" (a divested subsidiary, weak evidence) or "no" on names alone yields to strong covered lineage;
        # a non-covered maker with strong lineage of its own keeps its verdict (the conflict is reported).
        own_lineage = any(
            s.vendor == vendor_id and s.group.startswith("rule:") and s.certainty >= STRONG_LINEAGE_CERTAINTY
            for s in state.signals
        )
        strong = None
        if covered == "review" or (covered == "no" and not own_lineage):
            strong = _strong_lineage(kb, state.signals, at)
        if strong is not None:
            # The firmware itself is the covered maker's: what runs on the device does not change with the label
            # on its case or with who owns the reseller (docs/relabels.md).
            coverage_subject = strong.vendor
            covered, regimes = kb.coverage(strong.vendor, at=at)
            strong_entity = kb.entity(strong.vendor)
            conflicts.append(
                f"covered by firmware lineage: {strong.evidence.rule} ({strong.evidence.protocol}) is "
                f"{strong_entity.name if strong_entity else strong.vendor}'s firmware, whatever the brand"
            )
            if strong not in chosen:
                chosen = [*chosen, strong]
        elif weak:
            conflicts.append(f"covered vendor {vendor_name} rests on weak evidence ({confidence:.2f}): confirm")
    if coverage_subject is not None:
        for entry in kb.covering_entries(coverage_subject, at=at):
            regime = kb.regime(entry.regime)
            rule = regime.scope_rule(entry.scope) if regime else None
            qualifier = f" — {rule.text}" if rule else ""
            coverage_evidence.append(
                Evidence(
                    claim=f"{entry.subject} is listed under {regime.name if regime else entry.regime}"
                    f" since {entry.added.isoformat() if entry.added else 'unknown date'}{qualifier}",
                    rule=f"regime:{entry.id}",
                    sources=entry.sources,
                )
            )
        if vendor_entity is not None and vendor_entity.parent and covered != "no" and coverage_subject == vendor_id:
            parent = kb.entity(vendor_entity.parent)
            coverage_evidence.insert(
                0,
                Evidence(
                    claim=f"{vendor_entity.name} is a {vendor_entity.relationship or 'subsidiary'} of "
                    f"{parent.name if parent else vendor_entity.parent}",
                    rule=f"entity:{vendor_entity.id}",
                    sources=vendor_entity.sources,
                ),
            )

    model_fact = _model_text(state)
    firmware_fact = state.best_fact("device.firmware")
    firmware = firmware_fact.value if firmware_fact else state.best_attribute("firmware")
    model = model_fact.value if model_fact else None
    kind = state.best_attribute("kind")
    if kind is None and model:
        found = kb.model(model)
        kind = found.pattern.kind if found else None
    if kind is None:
        kind_fact = state.best_fact("device.kind")
        kind = kind_fact.value if kind_fact else None
    cves: tuple[str, ...] = ()
    if vendor_id is not None:
        cves = tuple(cve.id for cve in kb.cves(vendor_id, model=model, firmware=firmware))
    mac_fact = state.best_fact("device.mac")
    serial_fact = state.best_fact("device.serial")

    evidence: list[Evidence] = [s.evidence for s in chosen]
    if brand_evidence is not None and brand_evidence not in evidence:
        evidence.insert(0, brand_evidence)
    evidence.extend(coverage_evidence)
    return Identification(
        host=host,
        vendor=vendor_name,
        brand=brand_shown,
        covered=covered,
        regimes=regimes if covered != "no" else (),
        model=model,
        firmware=firmware,
        kind=kind,
        cves=cves,
        confidence=confidence,
        evidence=tuple(evidence),
        conflicts=tuple(conflicts),
        mac=mac_fact.value if mac_fact else None,
        serial=serial_fact.value if serial_fact else None,
    )


def group_by_host(observations: Iterable[Observation]) -> OrderedDict[str, list[Observation]]:
    hosts: OrderedDict[str, list[Observation]] = OrderedDict()
    for obs in observations:
        hosts.setdefault(obs.host, []).append(obs)
    return hosts


def identify_all(observations: Iterable[Observation], kb: KnowledgeBase | None = None) -> list[Identification]:
    """One identification per host, in the order hosts were first seen."""
    kb = kb or load()
    return [identify_host(host, group, kb) for host, group in group_by_host(observations).items()]
