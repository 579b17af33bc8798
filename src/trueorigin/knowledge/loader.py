"""Read the data files under `knowledge/data/` into typed records, collecting every schema problem.

The loader never stops at the first problem: `kb validate` wants them all. Problems are strings of the
form "<file>: <record id>: <what is wrong>". `load()` refuses a base with problems (DataError).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import yaml
from pydantic import BaseModel

from trueorigin.errors import DataError
from trueorigin.knowledge.schema import (
    BrandKeys,
    CveKeys,
    DistinctNameKeys,
    EntityKeys,
    FccKeys,
    MetaKeys,
    ModelKeys,
    OuiOrganizationKeys,
    OuiOrganizationsFileKeys,
    RegimeKeys,
    unknown_keys,
)
from trueorigin.knowledge.types import (
    CONFIDENCE_VALUES,
    AffectedProduct,
    Brand,
    Confidence,
    Cve,
    DistinctName,
    Entity,
    FccGrantee,
    ModelExample,
    ModelPattern,
    OemLink,
    OuiRecord,
    Regime,
    RegimeEntry,
    ScopeRule,
)
from trueorigin.model import Source

DATA_DIR = Path(__file__).parent / "data"
SLUG = re.compile(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$|^[a-z0-9]$")
RECORD_ID = re.compile(r"^[a-z0-9][a-z0-9./-]*$")
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")

T = TypeVar("T")

# The C loader is several times faster; fall back when PyYAML was built without libyaml.
_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _YamlLoader(_BaseLoader):  # type: ignore[misc]
    """Dates stay text so `parse_date` reads them with the record they belong to: YAML's own date reading
    raises on an impossible date (2025-13-03) without saying where."""

    yaml_implicit_resolvers: ClassVar[dict[Any, Any]] = {
        first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
    }


@dataclass
class RawData:
    """Everything read from the data directory, before cross-record checks."""

    meta: dict[str, Any] = field(default_factory=dict)
    regimes: list[Regime] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    brands: list[Brand] = field(default_factory=list)
    distinct_names: list[DistinctName] = field(default_factory=list)
    oui_organizations: list[OuiOrganization] = field(default_factory=list)
    oui_excluded: list[str] = field(default_factory=list)
    oui_records: list[OuiRecord] = field(default_factory=list)
    oui_header: dict[str, str] = field(default_factory=dict)
    models: list[ModelPattern] = field(default_factory=list)
    fcc: list[FccGrantee] = field(default_factory=list)
    cves: list[Cve] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    digest: str = ""


@dataclass(frozen=True, slots=True)
class OuiOrganization:
    """Maps an IEEE organization string (compared case- and punctuation-insensitively) to an entity or brand."""

    organization: str
    entity: str | None
    brand: str | None
    note: str
    sources: tuple[Source, ...]


def parse_date(value: object) -> dt.date | None:
    """Accept YYYY, YYYY-MM, YYYY-MM-DD (string or YAML date); None stays None. Raise ValueError otherwise."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError(f"not a date: {value!r}")
    found = _DATE.match(value.strip())
    if not found:
        raise ValueError(f"not a date (YYYY, YYYY-MM or YYYY-MM-DD): {value!r}")
    year, month, day = found.group(1), found.group(2) or "01", found.group(3) or "01"
    return dt.date(int(year), int(month), int(day))


class _Reader:
    """Typed access to one YAML mapping; every problem is recorded with its file and record id."""

    def __init__(self, problems: list[str], where: str, raw: object) -> None:
        self.problems = problems
        self.where = where
        self.raw: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        if not isinstance(raw, Mapping):
            self.problem(f"expected a mapping, got {type(raw).__name__}")

    def problem(self, text: str) -> None:
        self.problems.append(f"{self.where}: {text}")

    def known_keys(self, schema: type[BaseModel]) -> None:
        """Every key of the record (nested ones included) must be one the schema names."""
        for text in unknown_keys(schema, self.raw):
            self.problem(text)

    def text(self, key: str, required: bool = True, default: str = "") -> str:
        value = self.raw.get(key)
        if value is None:
            if required:
                self.problem(f"missing {key!r}")
            return default
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            self.problem(f"{key!r} must be text")
            return default
        if required and not value.strip():
            self.problem(f"{key!r} is empty")
        return value.strip()

    def opt(self, key: str) -> str | None:
        value = self.text(key, required=False)
        return value or None

    def strs(self, key: str, required: bool = False) -> tuple[str, ...]:
        value = self.raw.get(key)
        if value is None:
            if required:
                self.problem(f"missing {key!r}")
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
            self.problem(f"{key!r} must be a list of text")
            return ()
        out = tuple(str(v).strip() for v in value if str(v).strip())
        if required and not out:
            self.problem(f"{key!r} is empty")
        return out

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.raw.get(key, default)
        if not isinstance(value, bool):
            self.problem(f"{key!r} must be true or false")
            return default
        return value

    def date(self, key: str) -> dt.date | None:
        try:
            return parse_date(self.raw.get(key))
        except ValueError as exc:
            self.problem(f"{key!r}: {exc}")
            return None

    def confidence(self) -> Confidence:
        value = self.raw.get("confidence")
        for label in CONFIDENCE_VALUES:
            if value == label:
                return label
        self.problem(f"'confidence' must be one of {', '.join(CONFIDENCE_VALUES)} (got {value!r})")
        return "low"

    def sources(self, key: str = "sources", required: bool = True) -> tuple[Source, ...]:
        value = self.raw.get(key)
        if value is None:
            if required:
                self.problem(f"no {key!r}: every record needs at least one source")
            return ()
        if not isinstance(value, list) or (required and not value):
            self.problem(f"{key!r} must be a non-empty list")
            return ()
        return tuple(s for s in (self.source(item) for item in value) if s is not None)

    def source(self, item: object) -> Source | None:
        if not isinstance(item, Mapping):
            self.problem("a source must be a mapping with url (or repo and path), title and date")
            return None
        url = item.get("url")
        if url is None and item.get("repo") and item.get("path"):
            commit = item.get("commit") or "HEAD"
            url = f"https://github.com/{item['repo']}/blob/{commit}/{item['path']}"
        title, date = item.get("title"), item.get("date")
        if not isinstance(url, str) or not url.strip():
            self.problem("a source has no url (or repo and path)")
            return None
        if not isinstance(title, str) or not title.strip():
            self.problem(f"source {url} has no title")
            return None
        try:
            parsed = parse_date(date)
        except ValueError as exc:
            self.problem(f"source {url}: {exc}")
            return None
        if parsed is None:
            self.problem(f"source {url} has no date")
            return None
        date_text = date.isoformat() if isinstance(date, dt.date) else str(date)
        return Source(url=url.strip(), title=title.strip(), date=date_text)

    def slug(self, key: str = "id") -> str:
        value = self.text(key)
        if value and not SLUG.match(value):
            self.problem(f"{key!r} {value!r} must be a lowercase slug (a-z, 0-9, '-', '.')")
        return value

    def sub(self, key: str) -> list[Any]:
        value = self.raw.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(f"{key!r} must be a list")
            return []
        return value


def _items(problems: list[str], name: str, document: object, key: str | None = None) -> list[Any]:
    if key is not None:
        document = document.get(key) if isinstance(document, Mapping) else None
    if not isinstance(document, list):
        problems.append(f"{name}: expected a list{' under ' + repr(key) if key else ''}")
        return []
    return document


def _read_yaml(path: Path, problems: list[str], hasher: Any) -> object:
    try:
        data = path.read_bytes()
    except OSError as exc:
        problems.append(f"{path.name}: cannot read: {exc.strerror or exc}")
        return None
    hasher.update(path.name.encode() + b"\0" + data)
    try:
        return yaml.load(data, Loader=_YamlLoader)
    except yaml.YAMLError as exc:
        problems.append(f"{path.name}: not valid YAML: {exc}")
        return None


def _regime(problems: list[str], raw: object) -> Regime:
    r = _Reader(problems, "regimes.yaml", raw)
    rid = r.slug()
    r.where = f"regimes.yaml: {rid}"
    r.known_keys(RegimeKeys)
    scopes: list[ScopeRule] = []
    for item in r.sub("scopes"):
        s = _Reader(problems, f"{r.where}: scope", item)
        sid = s.slug()
        s.where = f"{r.where}: scope {sid}"
        scopes.append(ScopeRule(sid, s.text("text"), s.strs("uses", True), s.strs("equipment", True), s.sources()))
    entries: list[RegimeEntry] = []
    for item in r.sub("entries"):
        e = _Reader(problems, f"{r.where}: entry", item)
        slug = e.slug()
        e.where = f"{r.where}: entry {slug}"
        entries.append(
            RegimeEntry(
                id=f"{rid}/{slug}",
                regime=rid,
                subject=e.text("subject"),
                entity=e.opt("entity"),
                equipment=e.strs("equipment", True),
                added=e.date("added"),
                removed=e.date("removed"),
                scope=e.opt("scope"),
                sources=e.sources(),
                confidence=e.confidence(),
                notes=e.text("notes", required=False),
            )
        )
        if entries[-1].added is None:
            e.problem("missing 'added' (the date the entry took effect)")
    return Regime(
        id=rid,
        name=r.text("name"),
        jurisdiction=r.text("jurisdiction"),
        kind=r.text("kind"),
        requires=r.text("requires"),
        covers=r.text("covers"),
        effective=r.date("effective"),
        determines_coverage=r.flag("determines_coverage"),
        extends_to_affiliates=r.flag("extends_to_affiliates"),
        scopes=tuple(scopes),
        entries=tuple(entries),
        instruments=r.strs("instruments"),
        sources=r.sources(),
        confidence=r.confidence(),
    )


def _entity(problems: list[str], raw: object) -> Entity:
    r = _Reader(problems, "entities.yaml", raw)
    eid = r.slug()
    r.where = f"entities.yaml: {eid}"
    r.known_keys(EntityKeys)
    return Entity(
        id=eid,
        name=r.text("name"),
        legal_names=r.strs("legal_names"),
        aliases=r.strs("aliases"),
        country=r.text("country"),
        parent=r.opt("parent"),
        relationship=r.opt("relationship"),
        since=r.date("since"),
        until=r.date("until"),
        review_reason=r.text("review_reason", required=False),
        kinds=r.strs("kinds"),
        confidence=r.confidence(),
        sources=r.sources(),
        notes=r.text("notes", required=False),
    )


def _brand(problems: list[str], raw: object) -> Brand:
    r = _Reader(problems, "brands.yaml", raw)
    bid = r.slug()
    r.where = f"brands.yaml: {bid}"
    r.known_keys(BrandKeys)
    links: list[OemLink] = []
    for item in r.sub("links"):
        k = _Reader(problems, f"{r.where}: link", item)
        lid = k.slug()
        k.where = f"{r.where}: link {lid}"
        relation = k.text("relation")
        if relation and relation not in ("own-brand", "oem", "alleged"):
            k.problem(f"'relation' must be own-brand, oem or alleged (got {relation!r})")
        status = k.text("status", required=False, default="current")
        if status not in ("current", "former"):
            k.problem(f"'status' must be current or former (got {status!r})")
        until = k.date("until")
        links.append(
            OemLink(
                id=lid,
                brand=bid,
                maker=k.text("maker"),
                relation=relation,
                basis=k.strs("basis", True),
                product_lines=k.strs("product_lines", True),
                since=k.date("since"),
                until=until,
                confidence=k.confidence(),
                evidence=k.text("evidence"),
                sources=k.sources(),
                ended=status == "former" or until is not None,
            )
        )
    if not links:
        r.problem("a brand needs at least one link to its maker")
    return Brand(
        id=bid,
        name=r.text("name"),
        aliases=r.strs("aliases"),
        owner=r.opt("owner"),
        owner_name=r.text("owner_name"),
        links=tuple(links),
        sources=r.sources(required=False),
        notes=r.text("notes", required=False),
    )


def _distinct(problems: list[str], raw: object) -> DistinctName:
    r = _Reader(problems, "distinct-names.yaml", raw)
    name = r.text("name")
    r.where = f"distinct-names.yaml: {name}"
    r.known_keys(DistinctNameKeys)
    return DistinctName(name=name, resembles=r.text("resembles"), note=r.text("note"), sources=r.sources())


def _oui_org(problems: list[str], raw: object) -> OuiOrganization:
    r = _Reader(problems, "oui-organizations.yaml", raw)
    org = r.text("organization")
    r.where = f"oui-organizations.yaml: {org}"
    r.known_keys(OuiOrganizationKeys)
    entity, brand = r.opt("entity"), r.opt("brand")
    if (entity is None) == (brand is None):
        r.problem("name exactly one of 'entity' or 'brand'")
    return OuiOrganization(org, entity, brand, r.text("note", required=False), r.sources())


def _model(problems: list[str], raw: object) -> ModelPattern:
    r = _Reader(problems, "models.yaml", raw)
    pid = r.text("id")
    if pid and not RECORD_ID.match(pid):
        r.problem(f"'id' {pid!r} must be lowercase, dotted")
    r.where = f"models.yaml: {pid}"
    r.known_keys(ModelKeys)
    pattern = r.text("pattern")
    try:
        re.compile(pattern)
    except re.error as exc:
        r.problem(f"'pattern' is not a valid regex: {exc}")
    examples: list[ModelExample] = []
    for item in r.sub("examples"):
        x = _Reader(problems, f"{r.where}: example", item)
        source = x.source(x.raw.get("source"))
        if source is not None:
            examples.append(ModelExample(x.text("model"), source))
    if not examples:
        r.problem("needs at least one real example model with its source")
    return ModelPattern(
        id=pid,
        entity=r.text("entity"),
        brand=r.opt("brand"),
        kind=r.text("kind"),
        family=r.text("family"),
        pattern=pattern,
        examples=tuple(examples),
        counter_examples=r.strs("counter_examples"),
        confidence=r.confidence(),
        sources=r.sources(),
    )


def _fcc(problems: list[str], raw: object) -> FccGrantee:
    r = _Reader(problems, "fcc.yaml", raw)
    code = r.text("code").upper()
    r.where = f"fcc.yaml: {code}"
    r.known_keys(FccKeys)
    if code and not re.fullmatch(r"[A-Z0-9]{3}|2[A-Z0-9]{4}", code):
        r.problem("grantee code must be 3 characters, or 5 starting with '2'")
    return FccGrantee(code, r.text("grantee"), r.text("entity"), r.strs("example_fcc_ids"), r.confidence(), r.sources())


def _cve(problems: list[str], raw: object) -> Cve:
    r = _Reader(problems, "cves.yaml", raw)
    cid = r.text("id")
    r.where = f"cves.yaml: {cid}"
    r.known_keys(CveKeys)
    if cid and not re.fullmatch(r"CVE-\d{4}-\d{4,}", cid):
        r.problem("'id' must look like CVE-YYYY-NNNN")
    affected: list[AffectedProduct] = []
    for item in r.sub("affected"):
        a = _Reader(problems, f"{r.where}: affected", item)
        models = a.opt("models")
        lineage = a.opt("firmware_lineage")
        for label, regex in (("models", models), ("firmware_lineage", lineage)):
            if regex is not None:
                try:
                    re.compile(regex)
                except re.error as exc:
                    a.problem(f"{label!r} is not a valid regex: {exc}")
        affected.append(AffectedProduct(a.text("product"), models, a.opt("fixed_firmware"), lineage))
    added = r.date("date_added")
    if added is None:
        r.problem("missing 'date_added'")
        added = dt.date(1970, 1, 1)
    return Cve(
        id=cid,
        entity=r.text("entity"),
        kev_vendor=r.text("kev_vendor"),
        kev_product=r.text("kev_product"),
        name=r.text("name"),
        description=r.text("description"),
        cwe=r.strs("cwe"),
        date_added=added,
        due_date=r.date("due_date"),
        affected=tuple(affected),
        confidence=r.confidence(),
        sources=r.sources(),
        notes=r.text("notes", required=False),
    )


def _each(problems: list[str], items: list[Any], build: Callable[[list[str], object], T]) -> list[T]:
    return [build(problems, item) for item in items]


def read_entity_ids(data_dir: Path = DATA_DIR) -> frozenset[str]:
    """The `id` of every record of entities.yaml (for vocabularies that need only the ids)."""
    document = yaml.load((data_dir / "entities.yaml").read_bytes(), Loader=_YamlLoader)
    if not isinstance(document, list):
        raise DataError("entities.yaml: expected a list")
    return frozenset(str(item["id"]) for item in document if isinstance(item, Mapping) and item.get("id"))


def read_data(data_dir: Path = DATA_DIR) -> RawData:
    """Read every data file. Never raises for bad content: problems are collected in `.problems`."""
    from trueorigin.knowledge.oui import read_oui_tsv  # circular: oui imports loader for OuiOrganization

    raw = RawData()
    problems = raw.problems
    hasher = hashlib.sha256()

    def doc(name: str) -> object:
        return _read_yaml(data_dir / name, problems, hasher)

    meta = doc("meta.yaml")
    raw.meta = dict(meta) if isinstance(meta, Mapping) else {}
    if not isinstance(meta, Mapping):
        problems.append("meta.yaml: expected a mapping")
    problems.extend(f"meta.yaml: {text}" for text in unknown_keys(MetaKeys, meta))
    raw.regimes = _each(problems, _items(problems, "regimes.yaml", doc("regimes.yaml")), _regime)
    raw.entities = _each(problems, _items(problems, "entities.yaml", doc("entities.yaml")), _entity)
    raw.brands = _each(problems, _items(problems, "brands.yaml", doc("brands.yaml")), _brand)
    raw.distinct_names = _each(problems, _items(problems, "distinct-names.yaml", doc("distinct-names.yaml")), _distinct)
    orgs = doc("oui-organizations.yaml")
    if isinstance(orgs, Mapping):  # the organizations are checked one by one below, with their names
        rest = {key: value for key, value in orgs.items() if key != "organizations"}
        problems.extend(f"oui-organizations.yaml: {text}" for text in unknown_keys(OuiOrganizationsFileKeys, rest))
    raw.oui_organizations = _each(problems, _items(problems, "oui-organizations.yaml", orgs, "organizations"), _oui_org)
    excluded = orgs.get("excluded", []) if isinstance(orgs, Mapping) else []
    raw.oui_excluded = [str(e.get("organization", "")) for e in excluded if isinstance(e, Mapping)]
    raw.models = _each(problems, _items(problems, "models.yaml", doc("models.yaml")), _model)
    raw.fcc = _each(problems, _items(problems, "fcc.yaml", doc("fcc.yaml")), _fcc)
    raw.cves = _each(problems, _items(problems, "cves.yaml", doc("cves.yaml")), _cve)
    tsv = data_dir / "oui.tsv"
    try:
        tsv_bytes = tsv.read_bytes()
    except OSError as exc:
        problems.append(f"oui.tsv: cannot read: {exc.strerror or exc}")
        tsv_bytes = b""
    hasher.update(b"oui.tsv\0" + tsv_bytes)
    if tsv_bytes:
        try:
            raw.oui_header, raw.oui_records = read_oui_tsv(tsv_bytes.decode("utf-8"))
        except (DataError, UnicodeDecodeError) as exc:
            problems.append(f"oui.tsv: {exc}")
    raw.digest = hasher.hexdigest()
    return raw
