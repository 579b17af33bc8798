"""`compliance.yaml`: reporting clauses with their deadlines (FAR 52.204-25(d)) and the NIST SP 800-53 controls
that an audit gives evidence for. Strict: a missing or unknown key is a problem, like every KB file.

    kb = trueorigin.knowledge.load()
    clause = kb.raw.compliance.reporting_clause("far-52.204-25-d")
    clause.deadline("initial").business_days      # 1
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from trueorigin.knowledge.loader import _Reader
from trueorigin.knowledge.types import Confidence, sources_json
from trueorigin.model import Source

COMPLIANCE_FILE = "compliance.yaml"
DEADLINE_FROM = ("identification", "initial")
CONTROL_TARGETS = ("inventory", "finding")


@dataclass(frozen=True, slots=True)
class ReportingDeadline:
    id: str
    paragraph: str
    business_days: int
    starts_from: str  # "identification" or the id of the deadline whose report starts the count
    what: str


@dataclass(frozen=True, slots=True)
class ReportingField:
    id: str
    label: str
    required: bool


@dataclass(frozen=True, slots=True)
class ReportingClause:
    id: str
    name: str
    regime: str
    clause: str  # the clause text as published
    recipient: str
    business_days: str  # what counts as a business day, as the report states it
    deadlines: tuple[ReportingDeadline, ...]
    fields: tuple[ReportingField, ...]
    confidence: Confidence
    sources: tuple[Source, ...]

    def deadline(self, deadline_id: str) -> ReportingDeadline:
        for item in self.deadlines:
            if item.id == deadline_id:
                return item
        raise KeyError(deadline_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "regime": self.regime,
            "clause": self.clause,
            "recipient": self.recipient,
            "business_days": self.business_days,
            "deadlines": [
                {"id": d.id, "paragraph": d.paragraph, "business_days": d.business_days, "from": d.starts_from}
                for d in self.deadlines
            ],
            "fields": [{"id": f.id, "label": f.label, "required": f.required} for f in self.fields],
            "sources": sources_json(self.sources),
        }


@dataclass(frozen=True, slots=True)
class Control:
    id: str  # OSCAL control id, lower case: "cm-8"
    title: str
    evidence: str  # what trueorigin's output shows for this control
    applies_to: str  # "inventory" (every component) or "finding" (covered / review components)

    @property
    def label(self) -> str:
        return self.id.upper()


@dataclass(frozen=True, slots=True)
class ComplianceData:
    reporting: tuple[ReportingClause, ...] = ()
    catalog_name: str = ""
    catalog_sources: tuple[Source, ...] = ()
    controls: tuple[Control, ...] = field(default_factory=tuple)

    def reporting_clause(self, clause_id: str) -> ReportingClause | None:
        return next((c for c in self.reporting if c.id == clause_id), None)


def _only(reader: _Reader, allowed: tuple[str, ...]) -> None:
    for key in reader.raw:
        if key not in allowed:
            reader.problem(f"unknown key {key!r} (allowed: {', '.join(allowed)})")


def _number(reader: _Reader, key: str) -> int:
    value = reader.raw.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        reader.problem(f"{key!r} must be a whole number of days")
        return 0
    return value


def _clause(problems: list[str], raw: object) -> ReportingClause:
    r = _Reader(problems, COMPLIANCE_FILE, raw)
    cid = r.slug()
    r.where = f"{COMPLIANCE_FILE}: reporting {cid}"
    _only(
        r,
        (
            "id",
            "name",
            "regime",
            "clause",
            "recipient",
            "business_days",
            "deadlines",
            "fields",
            "confidence",
            "sources",
        ),
    )
    deadlines: list[ReportingDeadline] = []
    for item in r.sub("deadlines"):
        d = _Reader(problems, f"{r.where}: deadline", item)
        _only(d, ("id", "paragraph", "business_days", "from", "what"))
        starts = d.text("from")
        known = (*DEADLINE_FROM, *(x.id for x in deadlines))
        if starts and starts not in known:
            d.problem(f"'from' must be one of {', '.join(known)} (got {starts!r})")
        deadlines.append(
            ReportingDeadline(
                id=d.slug(),
                paragraph=d.text("paragraph"),
                business_days=_number(d, "business_days"),
                starts_from=starts,
                what=d.text("what"),
            )
        )
    if not deadlines:
        r.problem("no 'deadlines'")
    fields = []
    for item in r.sub("fields"):
        f = _Reader(problems, f"{r.where}: field", item)
        _only(f, ("id", "label", "required"))
        fields.append(ReportingField(id=f.text("id"), label=f.text("label"), required=f.flag("required", True)))
    return ReportingClause(
        id=cid,
        name=r.text("name"),
        regime=r.slug("regime"),
        clause=r.text("clause"),
        recipient=r.text("recipient"),
        business_days=r.text("business_days"),
        deadlines=tuple(deadlines),
        fields=tuple(fields),
        confidence=r.confidence(),
        sources=r.sources(),
    )


def _control(problems: list[str], raw: object) -> Control:
    r = _Reader(problems, COMPLIANCE_FILE, raw)
    cid = r.slug()
    r.where = f"{COMPLIANCE_FILE}: control {cid}"
    _only(r, ("id", "title", "evidence", "applies_to"))
    target = r.text("applies_to")
    if target and target not in CONTROL_TARGETS:
        r.problem(f"'applies_to' must be one of {', '.join(CONTROL_TARGETS)} (got {target!r})")
    return Control(id=cid, title=r.text("title"), evidence=r.text("evidence"), applies_to=target)


def read_compliance(problems: list[str], document: object) -> ComplianceData:
    """Typed compliance data from the parsed YAML document; problems are appended, never raised."""
    top = _Reader(problems, COMPLIANCE_FILE, document)
    _only(top, ("reporting", "controls"))
    reporting = tuple(_clause(problems, item) for item in top.sub("reporting"))
    controls_raw = top.raw.get("controls")
    controls = _Reader(problems, f"{COMPLIANCE_FILE}: controls", controls_raw)
    _only(controls, ("catalog", "items"))
    catalog = _Reader(problems, f"{COMPLIANCE_FILE}: controls.catalog", controls.raw.get("catalog"))
    _only(catalog, ("name", "sources"))
    items = tuple(_control(problems, item) for item in controls.sub("items"))
    seen: set[str] = set()
    for control in items:
        if control.id in seen:
            problems.append(f"{COMPLIANCE_FILE}: control {control.id} appears twice")
        seen.add(control.id)
    if not isinstance(controls_raw, Mapping):
        return ComplianceData(reporting=reporting)
    return ComplianceData(
        reporting=reporting,
        catalog_name=catalog.text("name"),
        catalog_sources=catalog.sources(),
        controls=items,
    )
