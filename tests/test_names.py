"""The one name index (trueorigin.names): whole-value lookup, free-text mentions, the word-list data."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from trueorigin.names import NameIndex, index_records, parse_rules, text_rules, tokens
from trueorigin.names.index import plausible_misspelling


@pytest.fixture(scope="module")
def index() -> NameIndex:
    names = NameIndex()
    names.add("entity:hikvision", ["Hikvision", "hikvision", "海康威视", "Hangzhou Hikvision Digital Technology"])
    names.add("entity:dahua", ["Dahua", "大华", "浙江大华", "Zhejiang Dahua Technology"])
    names.add("entity:zte", ["ZTE", "中兴"])
    names.add("entity:honor", ["Honor", "荣耀"])
    names.add("entity:axis", ["Axis", "Axis Communications"])
    names.add("entity:face", ["Face++"])
    names.add("entity:nobody", ["Co., Ltd."])
    names.add("brand:lts", ["LTS"])
    names.add("distinct:shanghai dahua scale factory", ["Shanghai Dahua Scale Factory"])
    return names


def _found(index: NameIndex, text: str) -> list[tuple[str, str | None]]:
    return [(m.target.key, m.compat_cue) for m in index.find(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("Hikvision 4MP dome", [("entity:hikvision", None)], id="word"),
        pytest.param("HIKVISION-DS-2CD", [("entity:hikvision", None)], id="punctuation-boundary"),
        pytest.param("Dahuang Foods snack machine", [], id="longer-word-is-not-the-name"),
        pytest.param("ZTEC Instruments", [], id="zte-inside-ztec"),
        pytest.param("Hikari LED bulb", [], id="hikari-is-not-a-misspelling"),
        pytest.param("Lorexa Lighting", [], id="unknown-word"),
        pytest.param("Hikvison dome", [("entity:hikvision", None)], id="misspelling"),
        pytest.param("Wall mount for Hikvision dome cameras", [("entity:hikvision", "mount for")], id="mount-for"),
        pytest.param("works with Hikvision NVR", [("entity:hikvision", "works with")], id="works-with"),
        pytest.param(
            "Replacement for Hikvision and Dahua power supplies",
            [("entity:hikvision", "replacement for"), ("entity:dahua", "replacement for")],
            id="cue-governs-a-list",
        ),
        pytest.param("NDAA compliant, Hikvision-free camera", [("entity:hikvision", "free")], id="name-free"),
        pytest.param("兼容海康威视录像机", [("entity:hikvision", "兼容")], id="chinese-compat"),
        pytest.param("海康威视摄像机", [("entity:hikvision", None)], id="chinese-name-in-run"),
        pytest.param("浙江大华技术股份有限公司", [("entity:dahua", None)], id="chinese-legal-name"),
        pytest.param("大华银行", [], id="short-chinese-name-inside-another-word"),
        pytest.param("中兴", [("entity:zte", None)], id="short-chinese-name-at-end"),
        pytest.param("Shanghai Dahua Scale Factory scale", [], id="distinct-company-hides-its-words"),
        pytest.param("honor roll plaque", [], id="ordinary-word-lower-case"),
        pytest.param("Honor 90 phone", [("entity:honor", None)], id="ordinary-word-written-as-name"),
        pytest.param("3-axis gimbal", [], id="axis-as-a-word"),
        pytest.param("face plate", [], id="face-plus-plus-is-not-face"),
        pytest.param("Co., Ltd.", [], id="legal-forms-name-nobody"),
    ],
)
def test_find(index: NameIndex, text: str, expected: list[tuple[str, str | None]]) -> None:
    assert _found(index, text) == expected


def test_ordinary_word_names_count_in_a_brand_cell(index: NameIndex) -> None:
    assert [m.target.id for m in index.find("honor", free_text=False)] == ["honor"]


def test_misspelling_is_reported_with_its_ratio(index: NameIndex) -> None:
    (mention,) = index.find("Hikvison")
    assert mention.how.startswith("fuzzy")
    assert 0.86 <= mention.fuzzy_ratio < 1.0


@pytest.mark.parametrize(
    ("query", "target", "how"),
    [
        pytest.param("HIKVISION", "entity:hikvision", "exact", id="exact"),
        pytest.param("Hikvision USA Inc.", "entity:hikvision", "contains", id="contains"),
        pytest.param("Hangzhou Hikvision Digital Technology Co., Ltd.", "entity:hikvision", "contains", id="legal"),
        pytest.param("海康威视数字技术", "entity:hikvision", "contains", id="chinese-contains"),
        pytest.param("Hikvisoin", "entity:hikvision", "fuzzy", id="fuzzy"),
        pytest.param("lts", "brand:lts", "exact", id="brand"),
    ],
)
def test_lookup(index: NameIndex, query: str, target: str, how: str) -> None:
    hit = index.lookup(query)
    assert hit is not None
    assert (hit.target, hit.how) == (target, how)


def test_lookup_misses(index: NameIndex) -> None:
    assert index.lookup("Dahuang Foods") is None
    assert index.lookup("zteam") is None
    assert index.lookup("") is None


def test_priming_gives_the_same_answers() -> None:
    words = ["hikvison", "hikivision", "lorexa", "dahuang", "camera", "hikari"]
    primed, single = NameIndex(), NameIndex()
    for names in (primed, single):
        names.add("entity:hikvision", ["Hikvision"])
        names.add("entity:lorex", ["Lorex"])
    primed.prime_fuzzy(words)
    for word in words:
        assert primed.find(word) == single.find(word), word


def test_index_records_uses_knowledge_base_targets() -> None:
    class Record:
        def __init__(self, ident: str, name: str, aliases: tuple[str, ...] = ()) -> None:
            self.id, self.name, self.aliases, self.legal_names = ident, name, aliases, ()

    index = index_records([Record("dahua", "Dahua", ("大华",))], [Record("amcrest", "Amcrest")], [])
    assert index.targets_of("AMCREST") == ["brand:amcrest"]
    assert [m.target.key for m in index.find("Amcrest and 大华")] == ["brand:amcrest", "entity:dahua"]


def test_plausible_misspelling() -> None:
    assert plausible_misspelling("hikvison", "hikvision")
    assert not plausible_misspelling("lorexa", "lorex")
    assert not plausible_misspelling("ikvision", "hikvision")


def test_packaged_rules_load() -> None:
    rules = text_rules()
    assert ("compatible", "with") in rules.compat_before
    assert "ltd" in rules.legal_forms


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"compat_aftr": ["free"]}, id="unknown-key"),
        pytest.param({"connectors": []}, id="empty-list"),
        pytest.param({"legal_forms": ["Co Ltd"]}, id="not-a-single-lower-case-word"),
        pytest.param({"compat_before": [["Works", "With"]]}, id="phrase-not-normalized"),
    ],
)
def test_rules_are_strict(change: dict[str, object]) -> None:
    data = text_rules().model_dump(mode="json")
    data.update(change)
    with pytest.raises(ValidationError):
        parse_rules(yaml.safe_dump(data, allow_unicode=True))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_find_never_raises_and_spans_are_tokens(text: str) -> None:
    index = NameIndex()
    index.add("entity:hikvision", ["Hikvision", "海康威视"])
    words = tokens(text)
    for mention in index.find(text):
        assert 0 <= mention.start < mention.end <= len(words)
