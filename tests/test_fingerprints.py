"""Fingerprint data tests itself: generated from the rule files (recog's self-test, plus shadowing, counter-examples,
a generic-banner corpus and regex safety), and the loader, matcher and CLI are tested on their own."""

from __future__ import annotations

import json
import re
import string
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import trueorigin.fingerprints as fingerprints
from trueorigin.errors import DataError
from trueorigin.fingerprints import (
    FIELDS,
    backtracking_risk,
    is_known_field,
    load_rules,
    match,
    parse_rule,
    vendors,
)
from trueorigin.fingerprints.rules import DEFAULT_MAX_LENGTH, Rule, load_rule_files
from trueorigin.fingerprints.selftest import (
    GenericSample,
    check_counter_example,
    check_generic_sample,
    check_raw_example,
    check_value_example,
    load_generic_corpus,
)
from trueorigin.knowledge import load
from trueorigin.model import Match

ARCHITECTURE = Path(__file__).resolve().parents[1] / "docs" / "ARCHITECTURE.md"
RULES = load_rules()


def _value_examples() -> list[object]:
    return [
        pytest.param(rule, example, id=f"{rule.id}[{i}]")
        for rule in RULES
        for i, example in enumerate(rule.examples)
        if not example.is_raw
    ]


def _raw_examples() -> list[object]:
    return [
        pytest.param(rule, example, id=f"{rule.id}[{i}]-{example.protocol}")
        for rule in RULES
        for i, example in enumerate(rule.examples)
        if example.is_raw
    ]


def _counter_examples() -> list[object]:
    return [
        pytest.param(rule, text, id=f"{rule.id}[not {i}]")
        for rule in RULES
        for i, text in enumerate(rule.counter_examples)
    ]


# --------------------------------------------------------------------------- the data tests itself


@pytest.mark.parametrize(("rule", "example"), _value_examples())
def test_example_matches_its_rule_and_nothing_contradicts_it(rule: Rule, example: fingerprints.Example) -> None:
    assert check_value_example(rule, example, RULES) == []


@pytest.mark.parametrize(("rule", "example"), _raw_examples())
def test_raw_example_replays_through_the_protocol_parser(rule: Rule, example: fingerprints.Example) -> None:
    status, problems = check_raw_example(rule, example, RULES)
    assert status == "pass", problems


@pytest.mark.parametrize(("rule", "text"), _counter_examples())
def test_counter_example_does_not_match(rule: Rule, text: str) -> None:
    assert check_counter_example(rule, text) == []


@pytest.mark.parametrize("sample", [pytest.param(s, id=f"{s.field}={s.value[:40]}") for s in load_generic_corpus()])
def test_generic_banner_is_not_attributed_to_a_vendor(sample: object) -> None:
    assert check_generic_sample(sample, RULES) == []  # type: ignore[arg-type]


@pytest.mark.parametrize("rule", [pytest.param(r, id=r.id) for r in RULES])
def test_rule_is_well_formed(rule: Rule) -> None:
    assert rule.vendor is None or rule.vendor in vendors()
    assert is_known_field(rule.field)
    assert backtracking_risk(rule.pattern, rule.regex.flags) is None
    assert rule.examples, "a rule without a real example is not accepted"
    assert all(e.source.url and e.source.date for e in rule.examples)


def test_every_covered_vendor_named_in_the_task_has_rules() -> None:
    vendors = {r.vendor for r in RULES}
    for wanted in ("hikvision", "dahua", "huawei", "zte"):
        assert wanted in vendors, wanted


def test_rule_ids_are_unique_and_data_version_is_stable() -> None:
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    version = fingerprints.data_version()
    assert re.fullmatch(r"[0-9a-f]{12}", version)
    code = "from trueorigin import fingerprints; print(fingerprints.data_version())"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert other.stdout.strip() == version  # a digest of the data, not of the process or the clock


# ---------------------------------------------------------------- vocabularies stay in sync with the contract


def _architecture_section(start: str, end: str) -> str:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    return text[text.index(start) : text.index(end, text.index(start))]


def test_vendor_vocabulary_is_the_knowledge_base_one() -> None:
    """Vendors derive from entities.yaml; the ids the architecture document names must be among them."""
    assert vendors() == frozenset(load().entities)
    section = _architecture_section("Entity id -> display name", "Brands shown by OEM relabels")
    documented = set(re.findall(r"`([a-z][a-z0-9-]*)` [A-Z]", section))
    assert documented and documented <= vendors()



def test_field_vocabulary_covers_every_documented_key() -> None:
    section = _architecture_section("### Field vocabulary", "## Fingerprints")
    # dotted keys with a protocol prefix; file names such as `favicon.ico` and message names are not keys
    keys = {
        k for k in re.findall(r"`([a-z][a-z0-9_.<> -]*)`", section) if "." in k and not k.endswith((".ico", ".cgi"))
    }
    assert keys, "could not read the field vocabulary from ARCHITECTURE.md"
    for key in keys:
        if key == "snmp.community":  # documented as never emitted
            assert not is_known_field(key)
            continue
        concrete = key.replace("<lowercase-name>", "server").replace("<name>", "server")
        concrete = concrete.replace("<category>", "name").replace("<key>", "model")
        concrete = concrete.replace("<lowercased xml element>", "devicetype").replace(
            "<dotted json path lowercased>", "deviceinfo.vendor"
        )
        assert is_known_field(concrete), key
    for key in FIELDS:
        assert f"`{key}`" in section or key.startswith(("device.", "sadp.", "dhip.")), key


# --------------------------------------------------------------------------- the matcher


def test_match_returns_model_matches_with_interpolated_attributes_and_sources() -> None:
    found = match({"rtsp.realm": "Login to 4K01FD2PAJ6E3FF", "http.header.server": "DNVRS-Webs", "x": "y"})
    assert all(isinstance(m, Match) for m in found)
    by_rule = {m.rule_id: m for m in found}
    dahua = next(m for m in found if m.field == "rtsp.realm")
    assert dahua.attributes["vendor"] == "dahua"
    assert dahua.attributes["serial"] == "4K01FD2PAJ6E3FF"
    assert dahua.sources and all(s.url for s in dahua.sources)
    assert by_rule["hikvision.http.server.webs"].value == "DNVRS-Webs"
    assert 0 < by_rule["hikvision.http.server.webs"].certainty <= 1


def test_match_ignores_empty_and_non_text_values_and_keeps_rule_order() -> None:
    assert match({"http.header.server": ""}) == []
    assert match({"http.header.server": 42}) == []  # type: ignore[dict-item]
    found = match({"http.header.server": "DNVRS-Webs", "rtsp.realm": "Hikvision"})
    positions = [[r.id for r in RULES].index(m.rule_id) for m in found]
    assert positions == sorted(positions)


def test_placeholder_of_a_group_that_did_not_take_part_drops_the_attribute() -> None:
    rule = parse_rule(
        {
            "id": "test.optional.group",
            "description": "d",
            "field": "http.title",
            "pattern": "^Cam(?: (?P<model>\\w+))?$",
            "certainty": 0.5,
            "sets": {"vendor": "axis", "model": "{model}"},
            "examples": [{"value": "Cam X1", "expect": {"model": "X1"}, "source": {"url": "u", "date": "2026-01-01"}}],
        }
    )
    assert rule.apply("Cam") == {"vendor": "axis"}
    assert rule.apply("Cam X1") == {"vendor": "axis", "model": "X1"}


def test_load_rules_is_cached() -> None:
    assert load_rules() is load_rules()


def test_public_api_is_pinned() -> None:
    assert set(fingerprints.__all__) == {
        "ATTRIBUTES",
        "DATA_DIR",
        "FIELDS",
        "FIELD_FAMILIES",
        "KINDS",
        "covered_vendors",
        "vendors",
        "Example",
        "Rule",
        "backtracking_risk",
        "data_version",
        "is_known_field",
        "load_rules",
        "match",
        "match_field",
        "parse_rule",
        "parse_rule_file",
        "rule",
    }


# --------------------------------------------------------------------------- untrusted input: bounded, never raises

FIELD_NAMES = sorted({r.field for r in RULES})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    field=st.sampled_from(FIELD_NAMES),
    text=st.text(alphabet=st.characters(max_codepoint=0x2FF), max_size=DEFAULT_MAX_LENGTH),
)
def test_any_text_on_any_field_matches_safely(field: str, text: str) -> None:
    for hit in match({field: text}):
        assert hit.rule_id in {r.id for r in RULES}
        assert all(isinstance(v, str) for v in hit.attributes.values())
        assert hit.attributes.get("vendor") is None or hit.attributes["vendor"] in vendors()


@settings(max_examples=100, deadline=None)
@given(
    rule=st.sampled_from(RULES),
    padding=st.text(alphabet=string.printable, min_size=0, max_size=DEFAULT_MAX_LENGTH),
)
def test_only_the_first_max_length_characters_count(rule: Rule, padding: str) -> None:
    seed = next((e.value for e in rule.examples if e.value is not None), "")
    text = seed + padding
    assert rule.apply(text) == rule.apply(text[: rule.max_length])


@settings(max_examples=60, deadline=None)
@given(repeats=st.integers(min_value=1, max_value=DEFAULT_MAX_LENGTH // 2), tail=st.sampled_from(["!", "\n", "\x00"]))
def test_worst_case_shaped_inputs_are_handled(repeats: int, tail: str) -> None:
    # long runs of one character followed by a mismatch are what makes backtracking regexes explode
    for char in ("a", "0", " ", "-", "A"):
        for field in FIELD_NAMES:
            match({field: char * repeats + tail})


# --------------------------------------------------------------------------- the loader rejects bad data

_SOURCE = {"url": "https://example.org/capture", "title": "t", "date": "2026-01-01"}


def _rule(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": "acme.http.server.test",
        "description": "test rule",
        "field": "http.header.server",
        "pattern": "^Acme$",
        "certainty": 0.5,
        "sets": {"vendor": "axis"},
        "examples": [{"value": "Acme", "expect": {"vendor": "axis"}, "source": _SOURCE}],
    }
    base.update(overrides)
    return base


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        pytest.param({"sets": {"vendor": "acme"}}, "not an entity of the knowledge base", id="unknown-vendor"),
        pytest.param({"sets": {"vendor": "Hikvision"}}, "not an entity of the knowledge base", id="vendor-wrong-case"),
        pytest.param({"field": "http.servr"}, "field vocabulary", id="unknown-field"),
        pytest.param({"field": "snmp.community"}, "field vocabulary", id="secret-field"),
        pytest.param({"examples": []}, "at least one real example", id="no-example"),
        pytest.param({"examples": ["Acme"]}, "needs a source", id="example-without-source"),
        pytest.param({"examples": [{"value": "Acme", "source": {"url": "u"}}]}, "YYYY-MM-DD", id="source-without-date"),
        pytest.param({"sets": {"model": "{modle}"}}, "no such named group", id="bad-placeholder"),
        pytest.param({"sets": {"colour": "red"}}, "is not one of", id="unknown-attribute"),
        pytest.param({"sets": {"kind": "toaster"}}, "kind", id="unknown-kind"),
        pytest.param({"pattern": "^(a+)+$"}, "backtrack", id="nested-quantifier"),
        pytest.param({"pattern": "^(?:a|ab)*c$"}, "backtrack", id="alternation-in-repeat"),
        pytest.param({"pattern": "(\\w+)\\1"}, "back-reference", id="backreference"),
        pytest.param({"pattern": "^(unclosed"}, "does not compile", id="bad-regex"),
        pytest.param({"certainty": 0}, "certainty", id="zero-certainty"),
        pytest.param({"certainty": True}, "certainty", id="bool-certainty"),
        pytest.param({"max_length": 65536, "pattern": ".*Acme"}, "literal", id="long-input-without-literal"),
        pytest.param({"colour": "red"}, "unknown keys", id="unknown-key"),
        pytest.param({"id": "NoDots"}, "dotted", id="bad-id"),
        pytest.param({"counter_examples": [False]}, "quote it", id="yaml-bool-counter-example"),
        pytest.param(
            {"examples": [{"raw": "HTTP/1.0 200 OK\r\n\r\n", "source": _SOURCE}]},
            "needs `protocol`",
            id="raw-no-protocol",
        ),
        pytest.param(
            {"examples": [{"raw": "\xff\xfb\x01login:", "protocol": "banner", "source": _SOURCE}]},
            "raw_base64",
            id="raw-with-byte-escapes",
        ),
        pytest.param(
            {"examples": [{"value": "Acme", "expect": {"vendor": "acme"}, "source": _SOURCE}]},
            "not in the vocabulary",
            id="expect-unknown-vendor",
        ),
    ],
)
def test_loader_rejects_invalid_rule(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(DataError, match=re.escape(message)):
        parse_rule(_rule(**overrides), "test.yaml")


def test_loader_rejects_duplicate_ids_and_unknown_also_matched_by(tmp_path: Path) -> None:
    import yaml

    duplicate = tmp_path / "dup.yaml"
    duplicate.write_text(yaml.safe_dump([_rule(), _rule()]), encoding="utf-8")
    with pytest.raises(DataError, match="defined in"):
        load_rule_files([duplicate])
    dangling = tmp_path / "dangling.yaml"
    example = {"value": "Acme", "source": _SOURCE, "also_matched_by": ["no.such.rule"]}
    dangling.write_text(yaml.safe_dump([_rule(examples=[example])]), encoding="utf-8")
    with pytest.raises(DataError, match="unknown rule"):
        load_rule_files([dangling])


def test_loader_rejects_a_file_that_is_not_a_list(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\n", encoding="utf-8")
    with pytest.raises(DataError, match="YAML list"):
        load_rule_files([bad])


# --------------------------------------------------------------------------- CLI


@pytest.fixture(name="cli")
def _cli() -> typer.Typer:
    from trueorigin.fingerprints.cli import register

    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """test root"""

    register(app)
    return app


def test_cli_list_json_has_one_line_per_rule(cli: typer.Typer) -> None:
    result = CliRunner().invoke(cli, ["fingerprints", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["id"] for r in rows] == [r.id for r in RULES]


def test_cli_list_filters_by_vendor(cli: typer.Typer) -> None:
    result = CliRunner().invoke(cli, ["fingerprints", "list", "--json", "--vendor", "dahua"])
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert rows and all(r["sets"]["vendor"] == "dahua" for r in rows)


def test_cli_test_passes_on_shipped_data(cli: typer.Typer) -> None:
    result = CliRunner().invoke(cli, ["fingerprints", "test"])
    assert result.exit_code == 0, result.output
    assert "0 failed" in result.output


def test_cli_match_prints_the_rule_and_rejects_unknown_fields(cli: typer.Typer) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["fingerprints", "match", "http.header.server", "DVRDVS-Webs", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.output.splitlines()[0])["attributes"]["vendor"] == "hikvision"
    bad = runner.invoke(cli, ["fingerprints", "match", "http.nope", "x"])
    assert bad.exit_code == 2
    assert "field vocabulary" in bad.output
    assert "Traceback" not in bad.output


# --------------------------------------------------------------------------- the checks have teeth


def _mk(rule_id: str, vendor: str, pattern: str, value: str, **example: object) -> Rule:
    return parse_rule(
        _rule(
            id=rule_id,
            pattern=pattern,
            sets={"vendor": vendor},
            examples=[{"value": value, "expect": {"vendor": vendor}, "source": _SOURCE, **example}],
        )
    )


def test_shadowing_by_a_rule_with_another_vendor_is_reported_and_cannot_be_declared_away() -> None:
    hik = _mk("hik.http.server.a", "hikvision", "Webs$", "Webs")
    other = _mk("axis.http.server.b", "axis", "Webs", "GoAhead-Webs", also_matched_by=["hik.http.server.a"])
    problems = check_value_example(hik, hik.examples[0], [hik, other])
    assert any("axis" in p and "axis.http.server.b" in p for p in problems)
    assert any("hikvision" in p for p in check_value_example(other, other.examples[0], [hik, other]))


def test_same_vendor_overlap_must_be_declared() -> None:
    first = _mk("hik.http.server.a", "hikvision", "^DNVRS-Webs$", "DNVRS-Webs")
    second = _mk("hik.http.server.b", "hikvision", "Webs$", "DVRDVS-Webs")
    assert any("declare" in p for p in check_value_example(first, first.examples[0], [first, second]))
    declared = _mk(
        "hik.http.server.a", "hikvision", "^DNVRS-Webs$", "DNVRS-Webs", also_matched_by=["hik.http.server.b"]
    )
    assert check_value_example(declared, declared.examples[0], [declared, second]) == []


def test_wrong_expectation_is_reported() -> None:
    rule = parse_rule(
        _rule(
            pattern="^Acme (?P<model>\\w+)$",
            sets={"vendor": "axis", "model": "{model}"},
            examples=[{"value": "Acme X1", "expect": {"model": "X2"}, "source": _SOURCE}],
        )
    )
    assert check_value_example(rule, rule.examples[0], [rule]) == ["extracts model='X1', example expects 'X2'"]


def test_weak_matcher_on_generic_banner_is_reported_unless_it_is_the_rules_own_example() -> None:
    weak = _mk("hik.http.server.weak", "hikvision", "nginx", "nginx-hik")
    nginx = GenericSample("http.header.server", "nginx/1.18.0", "test")
    assert check_generic_sample(nginx, [weak]) == [
        "hik.http.server.weak attributes generic 'nginx/1.18.0' to hikvision (a covered vendor)"
    ]
    justified = _mk("hik.http.server.own", "hikvision", "nginx", "nginx/1.18.0")
    assert check_generic_sample(nginx, [justified]) == []


def test_counter_example_that_matches_is_reported() -> None:
    rule = _mk("hik.http.server.a", "hikvision", "Webs", "Hikvision-Webs")
    assert check_counter_example(rule, "GoAhead-Webs") == ["counter-example 'GoAhead-Webs' matches"]


def _raw_rule(field: str, pattern: str, protocol: str, raw: str) -> Rule:
    return parse_rule(
        _rule(
            field=field,
            pattern=pattern,
            sets={"vendor": "dahua"},
            examples=[{"raw": raw, "protocol": protocol, "expect": {"vendor": "dahua"}, "source": _SOURCE}],
        )
    )


def test_raw_example_of_a_protocol_without_parser_fails_with_the_reason() -> None:
    rule = _raw_rule("rtsp.header.server", "^Dahua", "rstp", "whatever")  # misspelled protocol
    status, reasons = check_raw_example(rule, rule.examples[0], [rule])
    assert status == "fail"
    assert reasons[0].startswith("no parser for protocol 'rstp' (known: ") and "rtsp" in reasons[0]


def test_raw_example_whose_parsed_field_does_not_match_fails() -> None:
    raw = "RTSP/1.0 200 OK\r\nServer: GStreamer RTSP server\r\nCSeq: 1\r\n\r\n"
    rule = _raw_rule("rtsp.header.server", "^Dahua Rtsp Server$", "rtsp", raw)
    status, problems = check_raw_example(rule, rule.examples[0], [rule])
    assert status == "fail"
    assert problems == ["does not match its own rule"]


def test_raw_example_contradicted_on_another_field_fails() -> None:
    raw = (
        "RTSP/1.0 401 Unauthorized\r\nServer: Dahua Rtsp Server\r\n"
        'WWW-Authenticate: Digest realm="Hikvision", nonce="1"\r\n\r\n'
    )
    rule = _raw_rule("rtsp.header.server", "^Dahua Rtsp Server$", "rtsp", raw)
    hik_realm = next(r for r in RULES if r.id == "hikvision.rtsp.realm.hikvision")
    status, problems = check_raw_example(rule, rule.examples[0], [rule, hik_realm])
    assert status == "fail"
    assert any("hikvision.rtsp.realm.hikvision" in p for p in problems)


# --------------------------------------------------------------------------- regex safety as a property

_ATOMS = ["a", "\\w", "[0-9A-Z]", ".", "\\d", "(?:ab)", "[^;]"]
_UNBOUNDED = ["+", "*", "{2,}", "{1,100}"]


@given(inner=st.sampled_from(_ATOMS), q1=st.sampled_from(_UNBOUNDED), q2=st.sampled_from(_UNBOUNDED))
def test_nested_unbounded_repeats_are_always_refused(inner: str, q1: str, q2: str) -> None:
    assert backtracking_risk(f"^(?:x{inner}{q1}){q2}$") is not None


# The stdlib parser turns single characters and shared prefixes into character sets (safe: `(?:ab|a\\w)+` runs
# as `(?:a[b\\w])+`), so the branches here start differently and are longer than one character.
_LEFT = ["ab", "a\\w", "a+b"]
_RIGHT = ["\\d\\d", "x[0-9]", "-\\w"]


@given(left=st.sampled_from(_LEFT), right=st.sampled_from(_RIGHT), q=st.sampled_from(_UNBOUNDED))
def test_alternation_under_an_unbounded_repeat_is_always_refused(left: str, right: str, q: str) -> None:
    assert backtracking_risk(f"(?:{left}|{right}){q}") is not None


@given(atom=st.sampled_from(_ATOMS), q=st.sampled_from(_UNBOUNDED), count=st.integers(1, 5))
def test_flat_and_bounded_patterns_are_accepted(atom: str, q: str, count: int) -> None:
    assert backtracking_risk("^" + "-".join(f"{atom}{q}" for _ in range(count)) + "(?:x|y){1,3}$") is None


LONG_RULES = [r for r in RULES if r.max_length > DEFAULT_MAX_LENGTH]


@pytest.mark.parametrize("rule", [pytest.param(r, id=r.id) for r in LONG_RULES])
def test_long_input_rules_handle_64k_worst_case_bodies(rule: Rule) -> None:
    # the start of the rule's own example, repeated over the whole input, maximises candidate start positions
    literal = rule.examples[0].value or ""
    head = literal[: max(4, len(literal) // 2)]
    repeated = (head * (rule.max_length // max(1, len(head)) + 1))[: rule.max_length]
    assert rule.apply("a" * rule.max_length) is None
    assert rule.apply(repeated) is None
