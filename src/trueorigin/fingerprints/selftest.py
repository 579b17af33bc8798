"""The data tests itself: every check the test suite and `trueorigin fingerprints test` run.

- each example matches its own rule and extracts what it states;
- no other rule on the same field matches it with a different vendor (shadowing), and any other rule
  that matches it must be declared in the example's `also_matched_by`;
- each counter-example matches nothing in its rule;
- a corpus of generic banners (Apache, nginx, GoAhead, busybox ...) matches no rule that names a vendor,
  unless that very string is one of the rule's own examples (nuclei's weak-matcher check);
- raw examples (`raw` + `protocol`) are replayed through `trueorigin.probes.parse`; they are skipped,
  with the reason, only while no parser exists for their protocol.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml

from trueorigin.errors import DataError
from trueorigin.fingerprints.rules import Example, Rule
from trueorigin.fingerprints.vocabulary import covered_vendors, is_known_field
from trueorigin.model import Observation

GENERIC_CORPUS_FILE = Path(__file__).parent / "generic_corpus.yaml"

CheckStatus = Literal["pass", "fail", "skip"]


@dataclass(frozen=True, slots=True)
class CheckResult:
    check: str  # example | raw-example | counter-example | generic
    rule_id: str
    subject: str
    status: CheckStatus
    problems: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "rule": self.rule_id,
            "subject": self.subject,
            "status": self.status,
            "problems": list(self.problems),
        }


@dataclass(frozen=True, slots=True)
class GenericSample:
    """A string that generic software sends; it proves nothing about a manufacturer."""

    field: str
    value: str
    source: str
    maker: str | None = None  # KB entity id of the gear that sends it, when the string names its own maker


def _expectation_problems(example: Example, attributes: dict[str, str] | None) -> list[str]:
    if attributes is None:
        return ["does not match its own rule"]
    return [
        f"extracts {key}={attributes.get(key)!r}, example expects {expected!r}"
        for key, expected in example.expect.items()
        if attributes.get(key) != expected
    ]


def _expected_vendor(rule: Rule, example: Example) -> str | None:
    return example.expect.get("vendor", rule.vendor)


def check_value_example(rule: Rule, example: Example, rules: Sequence[Rule]) -> list[str]:
    """Problems of one string example: own match, extraction, and shadowing by other rules."""
    assert example.value is not None
    problems = _expectation_problems(example, rule.apply(example.value))
    expected_vendor = _expected_vendor(rule, example)
    for other in rules:
        if other.id == rule.id or other.field != rule.field:
            continue
        attributes = other.apply(example.value)
        if attributes is None:
            continue
        other_vendor = attributes.get("vendor")
        if other_vendor is not None and other_vendor != expected_vendor:
            problems.append(f"also matched by {other.id} with vendor {other_vendor!r} (expected {expected_vendor!r})")
        elif other.id not in example.also_matched_by:
            problems.append(f"also matched by {other.id}; declare it in also_matched_by if that is intended")
    return problems


@cache
def _parsers() -> tuple[dict[str, Any], str | None]:
    try:
        from trueorigin.probes import parsers

        return dict(parsers()), None
    except Exception as exc:  # another area's module failing to import must not hide the rest of the report
        return {}, f"probe modules failed to import: {type(exc).__name__}: {exc}"


def check_raw_example(rule: Rule, example: Example, rules: Sequence[Rule]) -> tuple[CheckStatus, list[str]]:
    """Replay raw protocol bytes through the protocol's parser, then the rules. A parser that fails to import
    or a protocol with no parser (a misspelled name) fails the example: a check must not pass by not running."""
    from trueorigin.fingerprints import match
    from trueorigin.probes import parse

    assert example.raw is not None and example.protocol is not None
    table, import_error = _parsers()
    if import_error:
        return "fail", [import_error]
    if example.protocol not in table:
        return "fail", [f"no parser for protocol {example.protocol!r} (known: {', '.join(sorted(table))})"]
    parsed = parse(Observation(host="example", protocol=example.protocol, data=example.raw, request=example.request))
    if not parsed.ok:
        return "fail", [f"parser says unparseable: {parsed.error}"]
    value = parsed.fields.get(rule.field)
    if value is None:
        return "fail", [f"parser gave no {rule.field!r} (fields: {sorted(parsed.fields)[:20]})"]
    problems = _expectation_problems(example, rule.apply(value))
    expected_vendor = _expected_vendor(rule, example)
    for hit in match(parsed.fields, rules):
        other_vendor = hit.attributes.get("vendor")
        if other_vendor is not None and other_vendor != expected_vendor:
            problems.append(f"{hit.rule_id} on {hit.field} says vendor {other_vendor!r} (expected {expected_vendor!r})")
    return ("fail" if problems else "pass"), problems


def check_counter_example(rule: Rule, text: str) -> list[str]:
    return [] if rule.apply(text) is None else [f"counter-example {text!r} matches"]


def load_generic_corpus(path: Path = GENERIC_CORPUS_FILE) -> tuple[GenericSample, ...]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise DataError(f"{path.name}: expected a list of {{field, value, source}}")
    samples: list[GenericSample] = []
    for entry in data:
        if not isinstance(entry, dict) or not {"field", "value", "source"} <= set(entry):
            raise DataError(f"{path.name}: every entry needs field, value and source: {entry!r}")
        unknown = set(entry) - {"field", "value", "source", "maker"}
        if unknown:
            raise DataError(f"{path.name}: unknown keys {sorted(unknown)} in {entry!r}")
        if not is_known_field(str(entry["field"])):
            raise DataError(f"{path.name}: unknown field {entry['field']!r}")
        maker = str(entry["maker"]) if entry.get("maker") else None
        if maker is not None and maker in covered_vendors():
            raise DataError(f"{path.name}: the generic corpus holds gear of non-covered makers only: {entry!r}")
        samples.append(GenericSample(str(entry["field"]), str(entry["value"]), str(entry["source"]), maker))
    return tuple(samples)


def check_generic_sample(sample: GenericSample, rules: Iterable[Rule]) -> list[str]:
    """A generic banner must not be attributed to a manufacturer, unless a rule lists it as its own example."""
    problems = []
    for item in rules:
        if item.field != sample.field:
            continue
        attributes = item.apply(sample.value)
        if attributes is None or "vendor" not in attributes or attributes["vendor"] == sample.maker:
            continue
        if any(example.value == sample.value for example in item.examples):
            continue
        covered = " (a covered vendor)" if attributes["vendor"] in covered_vendors() else ""
        problems.append(f"{item.id} attributes generic {sample.value!r} to {attributes['vendor']}{covered}")
    return problems


def run_selftest(rules: Sequence[Rule], corpus: Sequence[GenericSample] | None = None) -> list[CheckResult]:
    """Every check over every rule; what `trueorigin fingerprints test` reports."""
    results: list[CheckResult] = []
    for item in rules:
        for example in item.examples:
            if example.is_raw:
                status, problems = check_raw_example(item, example, rules)
                results.append(CheckResult("raw-example", item.id, example.label(), status, tuple(problems)))
            else:
                problems = check_value_example(item, example, rules)
                results.append(
                    CheckResult("example", item.id, example.label(), "fail" if problems else "pass", tuple(problems))
                )
        for text in item.counter_examples:
            problems = check_counter_example(item, text)
            results.append(
                CheckResult("counter-example", item.id, text, "fail" if problems else "pass", tuple(problems))
            )
    for sample in load_generic_corpus() if corpus is None else corpus:
        problems = check_generic_sample(sample, rules)
        subject = f"{sample.field}={sample.value}"
        results.append(CheckResult("generic", "-", subject, "fail" if problems else "pass", tuple(problems)))
    return results
