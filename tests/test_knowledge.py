"""Knowledge base: data validity, coverage rules, resolution of names/MACs/models/FCC IDs, CVEs, OUI import, CLI."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from trueorigin.cli import app
from trueorigin.errors import DataError, InputError
from trueorigin.knowledge import entity_ids, load, load_from
from trueorigin.knowledge.loader import DATA_DIR
from trueorigin.knowledge.names import normalize
from trueorigin.knowledge.oui import import_registry, mac_hex, read_oui_tsv, read_registry_file
from trueorigin.knowledge.ouimap import load_mapping
from trueorigin.knowledge.validate import validate
from trueorigin.knowledge.versions import is_older

KB = load()
runner = CliRunner()


def test_shipped_data_validates() -> None:
    assert validate() == []


def test_load_is_cached() -> None:
    assert load() is KB


@pytest.mark.parametrize(
    ("entity_id", "name", "covered"),
    [
        pytest.param("hikvision", "Hikvision", "yes", id="hikvision"),
        pytest.param("dahua", "Dahua", "yes", id="dahua"),
        pytest.param("huawei", "Huawei", "yes", id="huawei"),
        pytest.param("zte", "ZTE", "yes", id="zte"),
        pytest.param("hytera", "Hytera", "yes", id="hytera"),
        pytest.param("ezviz", "EZVIZ", "yes", id="ezviz-subsidiary"),
        pytest.param("hikmicro", "HIKMICRO", "yes", id="hikmicro"),
        pytest.param("hisilicon", "HiSilicon", "yes", id="hisilicon"),
        pytest.param("sepura", "Sepura", "yes", id="sepura"),
        pytest.param("teltronic", "Teltronic", "yes", id="grandchild-via-sepura"),
        pytest.param("huacheng", "Imou", "review", id="huacheng-divested"),
        pytest.param("honor", "Honor", "review", id="honor-sold"),
        pytest.param("axis", "Axis", "no", id="axis"),
        pytest.param("uniview", "Uniview", "no", id="uniview"),
        pytest.param("sensetime", "SenseTime", "no", id="entity-list-only"),
    ],
)
def test_canonical_entities(entity_id: str, name: str, covered: str) -> None:
    entity = KB.entity(entity_id)
    assert entity is not None
    assert entity.name == name
    assert entity.covered == covered
    assert KB.coverage(entity_id)[0] == covered


def test_entity_ids_are_read_from_entities_yaml_alone() -> None:
    assert entity_ids() == frozenset(KB.entities)


def test_coverage_follows_dates() -> None:
    assert KB.coverage("hikvision", at=dt.date(2019, 1, 1)) == ("no", ())
    covered, regimes = KB.coverage("hikvision", at=dt.date(2020, 1, 1))
    assert covered == "yes"
    assert "ndaa-889" in regimes
    assert "fcc-covered-list" not in regimes  # listed 2021-03-12
    assert "fcc-covered-list" in KB.coverage("hikvision", at=dt.date(2021, 3, 12))[1]
    # Imou while Dahua held it, and after the announced sale
    assert KB.coverage("huacheng", at=dt.date(2022, 1, 1))[0] == "yes"
    assert KB.coverage("huacheng", at=dt.date(2025, 6, 1))[0] == "review"


def test_subsidiaries_inherit_only_affiliate_regimes() -> None:
    _, regimes = KB.coverage("ezviz")
    assert set(regimes) == {"ndaa-889", "fcc-covered-list"}  # not the Entity List, which names legal entities


def test_scope_qualifier_is_a_rule_in_outputs() -> None:
    scopes = KB.scope_of("hikvision")
    qualifiers = {s["regime"]: s["qualifier"] for s in scopes}
    assert "public safety" in qualifiers["fcc-covered-list"]
    assert "critical infrastructure" in qualifiers["ndaa-889"]
    assert "critical-infrastructure" in next(s for s in scopes if s["regime"] == "ndaa-889")["uses"]
    assert all(s["qualifier"] is None for s in KB.scope_of("huawei"))


def test_fcc_covered_list_has_every_entry_dated() -> None:
    regime = KB.regime("fcc-covered-list")
    assert regime is not None
    entries = {e.id.split("/")[1]: e for e in regime.entries}
    for key in (
        "kaspersky",
        "china-mobile-international-usa",
        "china-telecom-americas",
        "pacific-networks-comnet",
        "china-unicom-americas",
        "dji",
        "autel",
        "huawei",
        "zte",
        "hytera",
        "hikvision",
        "dahua",
    ):
        assert entries[key].added is not None, key
    assert entries["kaspersky"].added == dt.date(2022, 3, 25)


def test_required_regimes_exist() -> None:
    for regime_id in (
        "ndaa-889",
        "fcc-covered-list",
        "bis-entity-list",
        "dod-1260h",
        "uk-sensitive-sites-2022",
        "au-commonwealth-2023",
    ):
        regime = KB.regime(regime_id)
        assert regime is not None and regime.sources, regime_id


def test_at_least_forty_sourced_brand_links() -> None:
    links = [link for brand in KB.brands.values() for link in brand.links]
    assert len(links) >= 40
    assert all(link.sources for link in links)


def test_oem_links_respect_periods() -> None:
    during = KB.oem_links("lorex", at=dt.date(2020, 6, 1))
    after = KB.oem_links("lorex", at=dt.date(2024, 1, 1))
    assert {k.relation for k in during} == {"own-brand", "oem"}
    assert [k.relation for k in after] == ["alleged"]
    assert KB.oem_links("lorex", at=dt.date(2010, 1, 1)) == []


@pytest.mark.parametrize(
    ("query", "kind", "resolved", "vendor", "covered"),
    [
        pytest.param("Hikvision", "entity", "Hikvision", "Hikvision", "yes", id="exact"),
        pytest.param("  hik-vision  ", "entity", "Hikvision", "Hikvision", "yes", id="punctuation"),
        pytest.param("HIKVISION DIGITAL TECHNOLOGY CO., LTD.", "entity", "Hikvision", "Hikvision", "yes", id="legal"),
        pytest.param("海康威视", "entity", "Hikvision", "Hikvision", "yes", id="zh-hikvision"),
        pytest.param("大华", "entity", "Dahua", "Dahua", "yes", id="zh-dahua"),
        pytest.param("华为", "entity", "Huawei", "Huawei", "yes", id="zh-huawei"),
        pytest.param("中兴", "entity", "ZTE", "ZTE", "yes", id="zh-zte"),
        pytest.param("海能达", "entity", "Hytera", "Hytera", "yes", id="zh-hytera"),
        pytest.param("萤石", "entity", "EZVIZ", "Hikvision", "yes", id="zh-ezviz"),
        pytest.param("杭州海康威视数字技术股份有限公司", "entity", "Hikvision", "Hikvision", "yes", id="zh-legal"),
        pytest.param("Hikvison", "entity", "Hikvision", "Hikvision", "yes", id="typo-hikvison"),
        pytest.param("Hickvision", "entity", "Hikvision", "Hikvision", "yes", id="typo-hickvision"),
        pytest.param("Dahau", "entity", "Dahua", "Dahua", "yes", id="typo-dahau"),
        pytest.param("Huwei", "entity", "Huawei", "Huawei", "yes", id="typo-huwei"),
        pytest.param("Ｈｉｋｖｉｓｉｏｎ", "entity", "Hikvision", "Hikvision", "yes", id="fullwidth"),
        pytest.param("Hikvision USA Inc.", "entity", "Hikvision", "Hikvision", "yes", id="contains"),
        pytest.param("Amcrest", "brand", "Amcrest", "Dahua", "yes", id="brand-amcrest"),
        pytest.param("LTS", "brand", "LTS", "Hikvision", "yes", id="brand-lts"),
        pytest.param("Lorex", "brand", "Lorex", "Dahua", "review", id="brand-lorex-former"),
        pytest.param("Imou", "entity", "Imou", "Dahua", "review", id="imou"),
        pytest.param("Bosch", "brand", "Bosch", "Dahua", "review", id="bosch-divar-line"),
        pytest.param("Axis", "entity", "Axis", None, "no", id="axis"),
        pytest.param(
            "4c:bd:8f:01:02:03",
            "oui",
            "Hangzhou Hikvision Digital Technology Co.,Ltd.",
            "Hikvision",
            "yes",
            id="mac-hikvision",
        ),
        pytest.param(
            "4CBD.8F01.0203",
            "oui",
            "Hangzhou Hikvision Digital Technology Co.,Ltd.",
            "Hikvision",
            "yes",
            id="mac-cisco-notation",
        ),
        pytest.param("08-ED-ED", "oui", "Zhejiang Dahua Technology Co., Ltd.", "Dahua", "yes", id="oui-dahua"),
        pytest.param("00:40:8c:00:00:01", "oui", "Axis Communications AB", None, "no", id="mac-axis"),
        pytest.param("DS-2CD2143G0-I", "model", "DS-2CD2143G0-I", "Hikvision", "yes", id="model-hik"),
        pytest.param("DH-IPC-HDBW4631R-S", "model", "DH-IPC-HDBW4631R-S", "Dahua", "yes", id="model-dahua"),
        pytest.param("IP8M-2796E", "model", "IP8M-2796E", "Dahua", "yes", id="model-amcrest"),
        pytest.param("FCC ID: 2ADTD-5604SD", "fcc_id", "2ADTD-5604SD", "Hikvision", "yes", id="fcc-hik"),
        pytest.param("QISVOG-LX9", "fcc_id", "QISVOG-LX9", "Huawei", "yes", id="fcc-huawei"),
        pytest.param("2AVYF", "fcc_id", "2AVYF", "Dahua", "review", id="fcc-huacheng-code"),
    ],
)
def test_resolve(query: str, kind: str, resolved: str, vendor: str | None, covered: str) -> None:
    result = KB.resolve(query)
    assert (result.kind, result.resolved, result.vendor, result.covered) == (kind, resolved, vendor, covered)
    assert result.sources, "every answer carries its sources"


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("Dahuang", id="covered-name-inside-word"),
        pytest.param("Zteam", id="zte-inside-word"),
        pytest.param("Shikvisionary", id="hikvision-inside-word"),
        pytest.param("YAMAHA", id="fcc-code-lookalike"),
        pytest.param("Shanghai Dahua Scale Factory", id="distinct-company"),
        pytest.param("Teltronic AG", id="distinct-teltronic"),
        pytest.param("acme widgets", id="unrelated"),
        pytest.param("", id="empty"),
    ],
)
def test_resolve_unknown(query: str) -> None:
    result = KB.resolve(query)
    assert result.kind == "unknown"
    assert result.vendor is None


def test_unassigned_mac_is_an_oui_answer_without_maker() -> None:
    result = KB.resolve("02:00:00:00:00:01")
    assert result.kind == "oui" and result.resolved is None and result.covered == "no"
    assert any("locally administered" in note for note in result.notes)


def test_every_covered_entity_and_brand_and_model_example_resolves() -> None:
    for entity in KB.entities.values():
        if entity.covered != "no":
            result = KB.resolve(entity.name)
            assert result.kind in ("entity", "brand") and result.covered != "no", entity.id
    for brand in KB.brands.values():
        result = KB.resolve(brand.name)
        assert result.kind in ("brand", "entity") and result.sources, brand.id
    for pattern in KB.models:
        for example in pattern.examples:
            result = KB.resolve(example.model)
            assert result.kind == "model", example.model
            assert result.entity == pattern.entity
            assert result.extra["model"]["pattern"] == pattern.id


def test_model_patterns_examples_and_counter_examples() -> None:
    for pattern in KB.models:
        for example in pattern.examples:
            found = KB.model(example.model)
            assert found is not None and found.pattern.id == pattern.id, example.model
        for counter in pattern.counter_examples:
            found = KB.model(counter)
            assert found is None or found.pattern.id != pattern.id, counter


def test_fcc_grantees_verified_codes() -> None:
    expected = {"2ADTD": "hikvision", "2AVYF": "huacheng", "QIS": "huawei", "SRQ": "zte", "YAM": "hytera"}
    for code, entity in expected.items():
        grantee = KB.fcc_grantee(code)
        assert grantee is not None and grantee.entity == entity
    assert KB.fcc_grantee("FCC ID: srq-mf296c") is not None
    assert KB.fcc_grantee("ABC-123") is None


def test_oui_longest_prefix_over_registries() -> None:
    record = KB.oui("B0:B3:53:60:00:01")  # Hikrobot MA-M B0B3536 (2026 registry) is absent in 2022: MA-L wins
    assert record is None or record.prefix.startswith("B0B353")
    hik = KB.oui("4C-BD-8F-AA-BB-CC")
    assert hik is not None and hik.entity == "hikvision" and hik.bits == 24
    for record in KB.oui_table.by_prefix.values():
        if record.bits > 24:
            mac = (record.prefix + "0" * 12)[:12]
            found = KB.oui(mac)
            assert found is not None and found.prefix == record.prefix


def test_oui_table_covers_every_mapped_covered_organization() -> None:
    orgs = {normalize(r.organization) for r in KB.oui_table.by_prefix.values()}
    mapping, _, _ = load_mapping()
    present_2022 = {
        "hangzhou hikvision digital technology co ltd",
        "zhejiang dahua technology co ltd",
        "huawei technologies co ltd",
        "zte corporation",
        "hangzhou ezviz software co ltd",
    }
    assert present_2022 <= orgs
    counts = {e: sum(1 for r in KB.oui_table.by_prefix.values() if r.entity == e) for e in ("hikvision", "dahua")}
    assert counts == {"hikvision": 83, "dahua": 31}  # IEEE registry snapshot of 2026-05-21 (2022: 50 and 24)
    assert set(mapping) >= orgs


def test_cves_model_and_firmware_filters() -> None:
    ids = [c.id for c in KB.cves("hikvision")]
    assert "CVE-2021-36260" in ids
    assert [c.id for c in KB.cves("hikvision", model="DS-K1101")] == []  # access control is not on the list
    assert "CVE-2020-5735" in [c.id for c in KB.cves("dahua", model="IP8M-2796E")]

    def ids_for(firmware: str) -> list[str]:
        return [c.id for c in KB.cves("hikvision", model="DS-2CD2143G0-I", firmware=firmware)]

    # The researcher confirmed the fix in IPC_G3 / IPC_H5 V5.5.800 build 210628.
    assert "CVE-2021-36260" not in ids_for("IPC_G3_EN_STD_5.5.800_210628")
    assert "CVE-2021-36260" not in ids_for("IPC_H5 V5.6.0 build 211010")
    assert "CVE-2021-36260" in ids_for("IPC_G3_EN_STD_5.5.160_210416")  # older than the fix
    assert "CVE-2021-36260" in ids_for("IPCP_H5_EN_STD_5.5.85_201120")  # listed as vulnerable
    assert "CVE-2021-36260" in ids_for("V5.5.800 build 210628")  # platform unknown: cannot tell
    assert "CVE-2021-36260" in ids_for("IPC_G5_EN_STD_5.5.113_210317")  # no published fix for G5
    assert "CVE-2021-36260" in ids_for("no version here")


@pytest.mark.parametrize(
    ("firmware", "fixed", "older"),
    [
        pytest.param("V5.5.0 build 170725", "V5.5.800 build 210628", True, id="hik-older"),
        pytest.param("V5.5.800 build 210628", "V5.5.800 build 210628", False, id="hik-same"),
        pytest.param("V5.6.0 build 190101", "V5.5.800 build 210628", False, id="hik-newer-version"),
        pytest.param(
            "V2.800.0000016.0.R, Build Date 2021-06-02",
            "V2.800.0000016.0.R, Build Date 2021-07-01",
            True,
            id="dahua-build-date",
        ),
        pytest.param("garbage", "V1.0", None, id="unreadable"),
    ],
)
def test_version_comparison(firmware: str, fixed: str, older: bool | None) -> None:
    assert is_older(firmware, fixed) is older


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120))
def test_resolve_never_raises(text: str) -> None:
    result = KB.resolve(text)
    assert result.kind in ("entity", "brand", "oui", "model", "fcc_id", "unknown")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60), st.text(max_size=60))
def test_version_parser_never_raises(a: str, b: str) -> None:
    assert is_older(a, b) in (True, False, None)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_mac_parser_returns_hex_or_none(text: str) -> None:
    digits = mac_hex(text)
    assert digits is None or (len(digits) in (6, 12) and all(c in "0123456789ABCDEF" for c in digits))


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=400))
def test_registry_reader_rejects_garbage_cleanly(tmp_path_factory: pytest.TempPathFactory, blob: bytes) -> None:
    path = tmp_path_factory.mktemp("reg") / "oui.csv"
    path.write_bytes(b"Registry,Assignment,Organization Name,Organization Address\n" + blob)
    with contextlib.suppress(InputError):
        read_registry_file(path)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_oui_tsv_reader_raises_only_data_error(text: str) -> None:
    with contextlib.suppress(DataError):
        read_oui_tsv(text)


REGISTRY_SAMPLE = (
    "Registry,Assignment,Organization Name,Organization Address\n"
    'MA-L,4CBD8F,"Hangzhou Hikvision Digital Technology Co.,Ltd.","No.555 Qianmo Road Hangzhou CN 310052 "\n'
    "MA-L,112233,Shanghai Dahua Scale Factory,Shanghai CN\n"
    "MA-L,445566,Dahua Dreams Ltd,Somewhere\n"
    "MA-L,00408C,AXIS COMMUNICATIONS AB,Lund SE\n"
)


def test_import_registry_from_a_directory(tmp_path: Path) -> None:
    (tmp_path / "oui.csv").write_text(REGISTRY_SAMPLE, encoding="utf-8")
    (tmp_path / ".lastupdate").write_text("1661630937\n", encoding="ascii")
    mapping, excluded, _ = load_mapping()
    result = import_registry(tmp_path, mapping, excluded)
    assert result.registry_date == "2022-08-27"
    assert sorted((r.prefix, r.entity) for r in result.records) == [("00408C", "axis"), ("4CBD8F", "hikvision")]
    assert result.unmapped_suspicious == ["Dahua Dreams Ltd"]  # the excluded scale factory is not flagged


def test_shipped_oui_table_is_reproducible_from_the_shipped_ieee_snapshot(tmp_path: Path) -> None:
    """The shipped IEEE snapshot (four registry CSVs, gzip) rebuilds the shipped table byte for byte."""
    registry = DATA_DIR / "ieee"
    assert {p.name for p in registry.iterdir()} >= {
        "oui.csv.gz",
        "mam.csv.gz",
        "oui36.csv.gz",
        "iab.csv.gz",
        "SNAPSHOT",
    }
    out = tmp_path / "oui.tsv"
    result = runner.invoke(app, ["kb", "import-oui", str(registry), "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "registry date 2026-05-21" in result.output
    shipped = (DATA_DIR / "oui.tsv").read_text(encoding="utf-8")
    assert out.read_text(encoding="utf-8") == shipped


def test_import_reads_gzip_and_refuses_a_bad_one(tmp_path: Path) -> None:
    import gzip

    (tmp_path / "oui.csv.gz").write_bytes(gzip.compress(REGISTRY_SAMPLE.encode()))
    (tmp_path / "SNAPSHOT").write_text("2026-05-21\nsample\n", encoding="utf-8")
    mapping, excluded, _ = load_mapping()
    result = import_registry(tmp_path, mapping, excluded)
    assert result.registry_date == "2026-05-21"
    assert sorted((r.prefix, r.entity) for r in result.records) == [("00408C", "axis"), ("4CBD8F", "hikvision")]
    (tmp_path / "oui.csv.gz").write_bytes(b"not gzip at all")
    with pytest.raises(InputError, match="not a gzip file"):
        import_registry(tmp_path, mapping, excluded)


def test_registry_age_warning_after_a_year() -> None:
    from trueorigin.knowledge.oui import registry_age_warning

    assert registry_age_warning("2026-05-21", today=dt.date(2027, 5, 21)) is None
    warning = registry_age_warning("2026-05-21", today=dt.date(2027, 5, 22))
    assert warning is not None and "366 days old" in warning and "import-oui" in warning
    assert registry_age_warning("", today=dt.date(2027, 1, 1)) is not None


def test_cli_explain_text_and_unknown() -> None:
    ok = runner.invoke(app, ["kb", "explain", "Amcrest"])
    assert ok.exit_code == 1 and "Dahua" in ok.output and "sources:" in ok.output  # covered (a Dahua relabel)
    unknown = runner.invoke(app, ["kb", "explain", "acme widgets"])
    assert unknown.exit_code == 3 and "not known" in unknown.output  # unknown: a person must review


def test_cli_stats_and_validate() -> None:
    stats = runner.invoke(app, ["kb", "stats", "--json"])
    assert stats.exit_code == 0
    data = json.loads(stats.output)
    assert data["brand_links"] >= 40 and data["data_dates"]["oui_registry"] == "2026-05-21"
    assert isinstance(data["warnings"], list)
    assert runner.invoke(app, ["kb", "stats"]).exit_code == 0
    valid = runner.invoke(app, ["kb", "validate"])
    assert valid.exit_code == 0 and "valid" in valid.output


@pytest.mark.parametrize(
    ("file", "old", "new", "problem"),
    [
        pytest.param(
            "entities.yaml",
            "  parent: hikvision\n  relationship: subsidiary\n  since: 2015",
            "  parent: nobody\n  relationship: subsidiary\n  since: 2015",
            "is not an entity",
            id="dangling",
        ),
        pytest.param(
            "fcc.yaml",
            '  sources:\n    - {url: "https://fcc.report/FCC-ID/YAMPD79XISU1/3268172"',
            '  nosources:\n    - {url: "https://fcc.report/FCC-ID/YAMPD79XISU1/3268172"',
            "every record needs at least one source",
            id="unsourced",
        ),
        pytest.param(
            "brands.yaml",
            "      product_lines: [ip-line]\n",
            "      product_lines: [ip-line, earlier-dahua-products]\n",
            "",
            id="no-contradiction-when-one-link-is-former",
        ),
        pytest.param(
            "brands.yaml",
            "      product_lines: [divar-an-hybrid-network-recorders]\n",
            "      product_lines: [divar-an-hybrid-network-recorders, cameras]\n",
            "overlapping periods",
            id="contradiction",
        ),
        pytest.param(
            "brands.yaml",
            "      since: 2018-02\n      until: 2022-11-24\n      confidence: high\n      evidence: \"FLIR sold",
            "      since: 2018-02\n      untill: 2022-11-24\n      confidence: high\n      evidence: \"FLIR sold",
            "brands.yaml: lorex: unknown key 'links[0].untill' (did you mean 'until'?)",
            id="misspelt-until-on-an-ended-link",
        ),
        pytest.param(
            "entities.yaml",
            "  since: 2015\n  until: 2025-03-03\n",
            "  since: 2015\n  until: 2025-03-03\n  owner: dahua\n",
            "entities.yaml: huacheng: unknown key 'owner'",
            id="unknown-entity-key",
        ),
        pytest.param(
            "brands.yaml",
            '{url: "https://lawinsider.com/zh/contracts/jqz6YO3VXCn", title:',
            '{url: "https://lawinsider.com/zh/contracts/jqz6YO3VXCn", tittle:',
            "unknown key 'links[0].sources[1].tittle' (did you mean 'title'?)",
            id="unknown-source-key",
        ),
        pytest.param(
            "entities.yaml",
            "  since: 2015\n  until: 2025-03-03\n",
            "  since: 2015\n  until: 2025-13-03\n",
            "entities.yaml: huacheng: 'until': month must be in 1..12",
            id="impossible-date",
        ),
        pytest.param(
            "entities.yaml",
            "  since: 2015\n  until: 2025-03-03\n",
            "  since: 2015\n  until: soon\n",
            "entities.yaml: huacheng: 'until': not a date (YYYY, YYYY-MM or YYYY-MM-DD): 'soon'",
            id="not-a-date",
        ),
        pytest.param(
            "entities.yaml",
            "  since: 2015\n  until: 2025-03-03\n",
            "  since: 2015\n  until: 2014-03-03\n",
            "entities.yaml: huacheng: 'until' is not after 'since'",
            id="period-ends-before-it-starts",
        ),
        pytest.param(
            "brands.yaml",
            "      maker: dahua\n      relation: own-brand\n      basis: [ownership]",
            "      maker: dauha\n      relation: own-brand\n      basis: [ownership]",
            "brands.yaml: lorex: link dahua-ownership: maker 'dauha' is not an entity",
            id="dangling-link-maker",
        ),
        pytest.param(
            "models.yaml",
            "    - {model: DS-K1101, source: *hikarchive}",
            "    - {model: DS-X1101, source: *hikarchive}",
            "does not match its pattern",
            id="bad-example",
        ),
    ],
)
def test_validate_finds_problems(tmp_path: Path, file: str, old: str, new: str, problem: str) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    text = (data / file).read_text(encoding="utf-8")
    assert old in text
    (data / file).write_text(text.replace(old, new, 1), encoding="utf-8")
    problems = validate(data)
    if problem:
        assert any(problem in p for p in problems), problems
    else:
        assert problems == []


def test_load_from_broken_data_raises_data_error(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    (data / "regimes.yaml").write_text("- id: [unclosed\n", encoding="utf-8")
    with pytest.raises(DataError):
        load_from(data)


@pytest.mark.parametrize(
    ("name", "brand_id"),
    [
        pytest.param("乐橙", "imou", id="zh-lechange"),
        pytest.param("hi-look", "hilook", id="punctuation"),
        pytest.param("AMCREST TECHNOLOGIES", "amcrest", id="alias-case"),
        pytest.param("Lechange", "imou", id="alias"),
        pytest.param("Hikvision", None, id="entity-is-not-a-brand"),
        pytest.param("Zzyzx Cameras", None, id="unknown"),
    ],
)
def test_brand_lookup(name: str, brand_id: str | None) -> None:
    brand = KB.brand(name)
    assert (brand.id if brand else None) == brand_id


def test_model_matches_are_bounded_and_exact() -> None:
    assert KB.model("DS-2CD2143G0-I" * 10) is None  # longer than any model number: not tried
    assert KB.model("xDS-2CD2143G0-I") is None  # whole-string match only
    assert KB.model("") is None
