"""Rule model, YAML loader and validator for fingerprint data files (`fingerprints/data/*.yaml`).

A rule file is a YAML list of rules in the format of docs/ARCHITECTURE.md ("Fingerprints"). Loading is
strict: unknown keys, vendors outside the closed vocabulary, fields outside the field vocabulary,
placeholders without a named group, rules without a sourced example and patterns that can backtrack
catastrophically are all `DataError`s naming the file and the rule.
"""

from __future__ import annotations

import base64
import binascii
import importlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from trueorigin.errors import DataError
from trueorigin.fingerprints.vocabulary import ATTRIBUTES, KINDS, is_known_field, vendors
from trueorigin.model import Source

DATA_DIR = Path(__file__).parent / "data"

# Inputs longer than this are cut before matching; long fields (HTTP bodies) may raise it per rule.
DEFAULT_MAX_LENGTH = 4096
MAX_MAX_LENGTH = 64 * 1024
# Above this input length a pattern must start with a literal, so `search` only tries a few start points.
LONG_INPUT = 4096
MIN_LITERAL_PREFIX = 4

FLAG_NAMES: dict[str, re.RegexFlag] = {
    "ignorecase": re.IGNORECASE,
    "multiline": re.MULTILINE,
    "dotall": re.DOTALL,
}

_RULE_KEYS = frozenset(
    {
        "id",
        "description",
        "field",
        "pattern",
        "flags",
        "certainty",
        "sets",
        "examples",
        "counter_examples",
        "references",
        "max_length",
        "notes",
    }
)
_REQUIRED_RULE_KEYS = ("id", "description", "field", "pattern", "certainty", "sets", "examples")
_EXAMPLE_KEYS = frozenset(
    {"value", "raw", "raw_base64", "protocol", "request", "expect", "source", "also_matched_by", "note"}
)
_SOURCE_KEYS = frozenset({"url", "title", "date"})
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*(?:\.[a-z0-9][a-z0-9_-]*)+$")
_PLACEHOLDER_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True, slots=True, eq=False)
class Example:
    """A real string (`value`) or raw protocol answer (`raw` + `protocol`) the rule must match."""

    source: Source
    expect: Mapping[str, str] = field(default_factory=dict)
    value: str | None = None
    raw: bytes | None = None
    protocol: str | None = None
    request: str | None = None
    # other rules allowed to match this same example (they must agree on the vendor)
    also_matched_by: tuple[str, ...] = ()
    note: str = ""

    @property
    def is_raw(self) -> bool:
        return self.raw is not None

    def label(self) -> str:
        """Short printable form for test ids and reports."""
        text = self.value if self.value is not None else f"raw {self.protocol}: {self.raw!r}"
        return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True, slots=True, eq=False)  # identity equality: rules are hashable (cache keys)
class Rule:
    """One fingerprint: a pattern over one parsed field and the attributes a match proves."""

    id: str
    description: str
    field: str
    pattern: str
    regex: re.Pattern[str]
    certainty: float
    sets: Mapping[str, str]
    examples: tuple[Example, ...]
    counter_examples: tuple[str, ...] = ()
    references: tuple[Source, ...] = ()
    flags: tuple[str, ...] = ()
    max_length: int = DEFAULT_MAX_LENGTH
    file: str = ""

    @property
    def vendor(self) -> str | None:
        return self.sets.get("vendor")

    def apply(self, value: str) -> dict[str, str] | None:
        """Attributes this rule extracts from `value`, or None when it does not match.

        Only the first `max_length` characters are examined, which bounds the work on any input.
        An attribute whose placeholder names a group that did not take part in the match is left out.
        """
        found = self.regex.search(value[: self.max_length])
        if found is None:
            return None
        groups = found.groupdict()
        attributes: dict[str, str] = {}
        for name, template in self.sets.items():
            text = _interpolate(template, groups)
            if text is not None and text != "":
                attributes[name] = text
        return attributes

    @property
    def sources(self) -> tuple[Source, ...]:
        """References first, then the sources of the examples, without duplicates."""
        seen: set[tuple[str, str]] = set()
        out: list[Source] = []
        for source in (*self.references, *(e.source for e in self.examples)):
            key = (source.url, source.date)
            if key not in seen:
                seen.add(key)
                out.append(source)
        return tuple(out)


def _interpolate(template: str, groups: Mapping[str, str | None]) -> str | None:
    missing = False

    def fill(found: re.Match[str]) -> str:
        nonlocal missing
        value = groups.get(found.group(1))
        if value is None:
            missing = True
            return ""
        return value.strip()

    text = _PLACEHOLDER_RE.sub(fill, template)
    return None if missing else text


# --------------------------------------------------------------------------- regex safety


_sre: Any = importlib.import_module("re._parser")  # the stdlib's own regex parser, to inspect the pattern tree
_sre_constants: Any = importlib.import_module("re._constants")


def backtracking_risk(pattern: str, flags: int = 0) -> str | None:
    """Why `pattern` may backtrack catastrophically, or None when it is safe by construction.

    Exponential backtracking needs an unbounded repeat that can match the same text in more than one way:
    a repeat nested in another unbounded repeat (`(a+)+`), or an alternation inside one (`(a|ab)*`).
    Back-references are refused too: they take Python's engine out of regular-language territory.
    Polynomial cases (`.*x.*y`) remain possible, which is why every rule also has a maximum input length.
    """
    tree = _sre.parse(pattern, flags)
    return _walk(tree, inside_unbounded=False)


def _walk(subpattern: Any, inside_unbounded: bool) -> str | None:
    c = _sre_constants
    for op, av in subpattern:
        problem: str | None = None
        if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            _low, high, body = av
            unbounded = high == c.MAXREPEAT or high > 64
            if unbounded and inside_unbounded:
                return "an unbounded repeat nested inside another unbounded repeat"
            problem = _walk(body, inside_unbounded or unbounded)
        elif op == c.SUBPATTERN:
            problem = _walk(av[-1], inside_unbounded)
        elif op == c.ATOMIC_GROUP:
            problem = _walk(av, inside_unbounded)
        elif op == c.BRANCH:
            if inside_unbounded:
                return "an alternation inside an unbounded repeat"
            for branch in av[1]:
                problem = problem or _walk(branch, inside_unbounded)
        elif op in (c.ASSERT, c.ASSERT_NOT):
            problem = _walk(av[1], inside_unbounded)
        elif op == c.GROUPREF_EXISTS:
            problem = _walk(av[1], inside_unbounded) or (_walk(av[2], inside_unbounded) if av[2] else None)
        elif op == c.GROUPREF:
            return "a back-reference"
        if problem:
            return problem
    return None


def literal_prefix_length(pattern: str, flags: int = 0) -> int:
    """How many literal characters every match starts with (after an optional `^`)."""
    c = _sre_constants
    count = 0
    for op, _av in _sre.parse(pattern, flags):
        if op == c.AT and count == 0:
            continue
        if op != c.LITERAL:
            break
        count += 1
    return count


# --------------------------------------------------------------------------- loading


def _fail(where: str, message: str) -> DataError:
    return DataError(f"{where}: {message}")


def _text(value: Any, where: str, what: str) -> str:
    """Scalars as text. YAML turns 39165 into an int (fine) and `no` into False (a mistake)."""
    if isinstance(value, bool) or value is None:
        raise _fail(where, f"{what} must be a string, got {value!r} (quote it in YAML)")
    if isinstance(value, (int, float)):
        return str(value)
    if not isinstance(value, str):
        raise _fail(where, f"{what} must be a string, got {type(value).__name__}")
    return value


def _source(data: Any, where: str) -> Source:
    if not isinstance(data, dict):
        raise _fail(where, "a source must be a mapping with url, title and date")
    unknown = set(data) - _SOURCE_KEYS
    if unknown:
        raise _fail(where, f"unknown source keys {sorted(unknown)}")
    url = _text(data.get("url"), where, "source url")
    date = _text(data.get("date", ""), where, "source date") if "date" in data else ""
    if not url.strip():
        raise _fail(where, "source url is empty")
    if not date or not _DATE_RE.match(date):
        raise _fail(where, f"source date must be YYYY-MM-DD, got {date!r}")
    return Source(url=url, title=_text(data.get("title", ""), where, "source title"), date=date)


def _string_map(data: Any, where: str, what: str) -> dict[str, str]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise _fail(where, f"{what} must be a mapping")
    return {str(k): _text(v, where, f"{what}.{k}") for k, v in data.items()}


def _example(data: Any, where: str) -> Example:
    if isinstance(data, (str, int)) and not isinstance(data, bool):
        raise _fail(where, "an example needs a source: write {value: ..., expect: ..., source: {...}}")
    if not isinstance(data, dict):
        raise _fail(where, "an example must be a mapping")
    unknown = set(data) - _EXAMPLE_KEYS
    if unknown:
        raise _fail(where, f"unknown example keys {sorted(unknown)}")
    if "source" not in data:
        raise _fail(where, "every example needs a source (where this string was seen)")
    forms = [key for key in ("value", "raw", "raw_base64") if key in data]
    if len(forms) != 1:
        raise _fail(where, "an example has exactly one of value, raw, raw_base64")
    value: str | None = None
    raw: bytes | None = None
    if forms[0] == "value":
        value = _text(data["value"], where, "example value")
    elif forms[0] == "raw":
        # raw text is the protocol answer as seen, encoded as UTF-8; escape CR/LF in a double-quoted YAML string.
        # YAML's "\xff" is the character U+00FF, which UTF-8 would turn into two bytes: binary needs raw_base64.
        text = _text(data["raw"], where, "example raw")
        if any("\x80" <= char <= "\xff" for char in text):
            raise _fail(where, "raw holds characters U+0080-U+00FF (YAML \\x escapes?): write binary as raw_base64")
        raw = text.encode("utf-8")
    else:
        try:
            raw = base64.b64decode(_text(data["raw_base64"], where, "example raw_base64"), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _fail(where, f"raw_base64 is not base64: {exc}") from exc
    protocol = _text(data["protocol"], where, "protocol") if "protocol" in data else None
    if raw is not None and not protocol:
        raise _fail(where, "a raw example needs `protocol` (an observation protocol name)")
    if value is not None and protocol is not None:
        raise _fail(where, "`protocol` only applies to raw examples")
    also = data.get("also_matched_by", [])
    if not isinstance(also, list):
        raise _fail(where, "also_matched_by must be a list of rule ids")
    return Example(
        source=_source(data["source"], where),
        expect=_string_map(data.get("expect"), where, "expect"),
        value=value,
        raw=raw,
        protocol=protocol,
        request=_text(data["request"], where, "request") if "request" in data else None,
        also_matched_by=tuple(_text(x, where, "also_matched_by") for x in also),
        note=_text(data.get("note", ""), where, "note") if "note" in data else "",
    )


def parse_rule(data: Any, file: str = "<memory>") -> Rule:
    """Validate one rule mapping and compile it; raises DataError naming the file and rule."""
    if not isinstance(data, dict):
        raise _fail(file, "each rule must be a mapping")
    rule_id = str(data.get("id", "<no id>"))
    where = f"{file}: rule {rule_id}"
    unknown = set(data) - _RULE_KEYS
    if unknown:
        raise _fail(where, f"unknown keys {sorted(unknown)}")
    for key in _REQUIRED_RULE_KEYS:
        if key not in data:
            raise _fail(where, f"missing `{key}`")
    if not _ID_RE.match(rule_id):
        raise _fail(where, "id must be lowercase and dotted, e.g. hikvision.http.server.webs")
    description = _text(data["description"], where, "description").strip()
    if not description:
        raise _fail(where, "description is empty")
    field_name = _text(data["field"], where, "field")
    if not is_known_field(field_name):
        raise _fail(where, f"field {field_name!r} is not in the field vocabulary of docs/ARCHITECTURE.md")

    flag_names = data.get("flags") or []
    if not isinstance(flag_names, list) or any(f not in FLAG_NAMES for f in flag_names):
        raise _fail(where, f"flags must be a list drawn from {sorted(FLAG_NAMES)}")
    flags = 0
    for name in flag_names:
        flags |= FLAG_NAMES[name]
    pattern = _text(data["pattern"], where, "pattern")
    try:
        regex = re.compile(pattern, flags)
    except re.error as exc:
        raise _fail(where, f"pattern does not compile: {exc}") from exc
    risk = backtracking_risk(pattern, flags)
    if risk:
        raise _fail(where, f"pattern may backtrack catastrophically: {risk}")

    max_length = data.get("max_length", DEFAULT_MAX_LENGTH)
    if not isinstance(max_length, int) or isinstance(max_length, bool) or not 1 <= max_length <= MAX_MAX_LENGTH:
        raise _fail(where, f"max_length must be an integer in [1, {MAX_MAX_LENGTH}]")
    if max_length > LONG_INPUT and literal_prefix_length(pattern, flags) < MIN_LITERAL_PREFIX:
        raise _fail(
            where,
            f"a rule reading more than {LONG_INPUT} characters must start with a literal of "
            f">= {MIN_LITERAL_PREFIX} characters",
        )

    certainty = data["certainty"]
    if isinstance(certainty, bool) or not isinstance(certainty, (int, float)) or not 0 < certainty <= 1:
        raise _fail(where, "certainty must be a number in (0, 1]")

    sets = _string_map(data["sets"], where, "sets")
    if not sets:
        raise _fail(where, "sets is empty: a rule must prove at least one attribute")
    groups = set(regex.groupindex)
    for name, template in sets.items():
        if name not in ATTRIBUTES:
            raise _fail(where, f"attribute {name!r} is not one of {list(ATTRIBUTES)}")
        for placeholder in _PLACEHOLDER_RE.findall(template):
            if placeholder not in groups:
                raise _fail(where, f"sets.{name} uses {{{placeholder}}} but the pattern has no such named group")
    vendor = sets.get("vendor")
    if vendor is not None and vendor not in vendors():
        raise _fail(where, f"vendor {vendor!r} is not an entity of the knowledge base (knowledge/data/entities.yaml)")
    kind = sets.get("kind")
    if kind is not None and "{" not in kind and kind not in KINDS:
        raise _fail(where, f"kind {kind!r} is not one of {list(KINDS)}")

    raw_examples = data["examples"]
    if not isinstance(raw_examples, list) or not raw_examples:
        raise _fail(where, "a rule needs at least one real example with its source")
    examples = tuple(_example(e, f"{where} example {i}") for i, e in enumerate(raw_examples))
    for i, example in enumerate(examples):
        for key, expected in example.expect.items():
            if key not in ATTRIBUTES:
                raise _fail(f"{where} example {i}", f"expect.{key} is not an attribute")
            if key == "vendor" and expected not in vendors():
                raise _fail(f"{where} example {i}", f"expected vendor {expected!r} is not in the vocabulary")

    counter = data.get("counter_examples") or []
    if not isinstance(counter, list):
        raise _fail(where, "counter_examples must be a list of strings")
    references = data.get("references") or []
    if not isinstance(references, list):
        raise _fail(where, "references must be a list of sources")

    return Rule(
        id=rule_id,
        description=description,
        field=field_name,
        pattern=pattern,
        regex=regex,
        certainty=float(certainty),
        sets=sets,
        examples=examples,
        counter_examples=tuple(_text(c, where, "counter example") for c in counter),
        references=tuple(_source(r, f"{where} reference") for r in references),
        flags=tuple(flag_names),
        max_length=max_length,
        file=file,
    )


def parse_rule_file(text: str, file: str) -> tuple[Rule, ...]:
    """Rules of one YAML document (a list of rule mappings)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _fail(file, f"invalid YAML: {exc}") from exc
    if data is None:
        return ()
    if not isinstance(data, list):
        raise _fail(file, "a rule file is a YAML list of rules")
    return tuple(parse_rule(item, file) for item in data)


def load_rule_files(paths: Iterable[Path]) -> tuple[Rule, ...]:
    """Load, validate and cross-check rule files: ids unique, `also_matched_by` names existing rules."""
    rules: list[Rule] = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise _fail(str(path), f"cannot read: {exc}") from exc
        rules.extend(parse_rule_file(text, path.name))
    by_id: dict[str, Rule] = {}
    for rule in rules:
        if rule.id in by_id:
            raise DataError(f"rule id {rule.id!r} is defined in {by_id[rule.id].file} and {rule.file}")
        by_id[rule.id] = rule
    for rule in rules:
        for example in rule.examples:
            for other in example.also_matched_by:
                if other not in by_id or other == rule.id:
                    raise DataError(f"{rule.file}: rule {rule.id}: also_matched_by names unknown rule {other!r}")
    return tuple(rules)


def data_files(directory: Path = DATA_DIR) -> list[Path]:
    return sorted(directory.glob("*.yaml"))
