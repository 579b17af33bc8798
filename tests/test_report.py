"""The compliance report: contents gathered from a realistic store, every format, and verification later."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

import pytest
from defusedxml import ElementTree
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import escape
from typer.testing import CliRunner

from store_samples import IPVM_OEM, sample_identifications, sample_observations
from trueorigin import fingerprints
from trueorigin.cli import app
from trueorigin.errors import InputError
from trueorigin.knowledge import load
from trueorigin.model import Observation, Source
from trueorigin.report import RENDERERS, build_report, render_html, renderer_for, verify_report
from trueorigin.report.charts import bar_chart, stacked_chart
from trueorigin.report.data import ReportData, is_relabeled
from trueorigin.report.verify import load_manifest
from trueorigin.store import Store, open_store

pytestmark = pytest.mark.xdist_group("report")

NDAA_SOURCE = Source(
    url="https://www.eac.gov/what-section-889-fy-2019-ndaa", title="EAC: What is Section 889", date="2026-11-24"
)


@dataclass(frozen=True)
class FakeRegime:
    name: str
    requires: str
    jurisdiction: str
    sources: tuple[Source, ...]


class FakeKnowledgeBase:
    """Stands in for trueorigin.knowledge: knows one regime, so the other must degrade gracefully."""

    version = "test-kb-1+abc"
    data_dates: ClassVar[dict[str, str]] = {"regimes": "2026-11-01"}

    def regime(self, regime_id: str) -> FakeRegime | None:
        if regime_id == "ndaa-889":
            return FakeRegime(
                name="NDAA FY2019 §889",
                requires="Agencies may not procure or use covered telecommunications or video surveillance equipment.",
                jurisdiction="US",
                sources=(NDAA_SOURCE,),
            )
        return None

    def cves(self, entity_id: str) -> list[object]:
        raise RuntimeError("knowledge base without KEV data")  # must not break the report


def fill_store(store: Store, extra_devices: int = 0) -> tuple[str, str]:
    """Two scans of site hq; between them the LTS NVR is scheduled for replacement and the ONT removed."""
    first = store.create_scan("network", ["198.18.0.0/24"], {"ports": [80, 554]}, site="hq")
    idents = sample_identifications()
    for index in range(extra_devices):
        idents.append(replace(idents[0], host=f"198.18.3.{index}", mac=f"44:19:b6:00:03:{index:02x}", serial=None))

    def answers(host: str) -> list[Observation]:
        known = sample_observations(host)
        # The extra cameras answer like the first one (same firmware), each from its own address.
        return (
            known
            if not host.startswith("198.18.3.")
            else [replace(o, host=host) for o in sample_observations("198.18.0.10")]
        )

    for ident in idents:
        store.add_observations(first, ident.host, answers(ident.host))
        store.add_identification(first, ident)
        store.finish_host(first, ident.host)
    store.finish_scan(first)
    by_brand = {f.identification.brand: f.id for f in store.findings()}
    store.set_status([by_brand["LTS"]], "scheduled", actor="alice", reason="PO 4711")
    store.set_status([by_brand["Huawei"]], "removed", actor="bob", reason="ONT returned to ISP")
    store.set_status(
        [by_brand["Imou"]], "waived", actor="alice", reason="isolated lab", approver="ciso", expires="2099-01-01"
    )
    second = store.create_scan("network", ["198.18.0.0/24"], {"ports": [80, 554]}, site="hq")
    for ident in idents:
        if ident.brand == "Huawei":
            continue
        store.add_observations(second, ident.host, answers(ident.host))
        store.add_identification(second, ident)
        store.finish_host(second, ident.host)
    store.finish_scan(second)
    return first, second


@pytest.fixture
def filled(tmp_path: Path) -> tuple[str, str, str]:
    url = f"sqlite:///{tmp_path / 'report.db'}"
    with open_store(url) as store:
        first, second = fill_store(store)
    return url, first, second


def _report(url: str, scan_id: str | None = None) -> ReportData:
    with open_store(url) as store:
        return build_report(store, scan_id, kb=FakeKnowledgeBase())


def test_summary_counts_and_relabeled_share(filled: tuple[str, str, str]) -> None:
    url, first, second = filled
    data = _report(url)
    assert data.scan.id == second  # latest by default
    assert len(data.covered_devices) == 4  # Huawei ONT removed before the second scan
    assert [d.identification.host for d in data.review_devices] == ["198.18.0.14"]
    assert dict(data.count_by("vendor")) == {"Hikvision": 2, "Dahua": 2}
    assert dict(data.count_by("brand")) == {"Dahua": 1, "Hikvision": 1, "LTS": 1, "Lorex": 1}
    assert dict(data.count_by("site")) == {"hq": 4}
    assert (data.relabeled_count, data.relabeled_share) == (2, 0.5)
    assert data.status_counts == {"open": 3, "scheduled": 1, "replaced": 0, "removed": 0, "waived": 1}
    assert data.identified == 6
    first_data = _report(url, first)
    assert len(first_data.covered_devices) == 5


def test_remediation_progress_replays_history_per_scan(filled: tuple[str, str, str]) -> None:
    url, first, second = filled
    progress = _report(url).progress
    assert [p.scan_id for p in progress] == [first, second]
    assert progress[0].counts == {"open": 6, "scheduled": 0, "replaced": 0, "removed": 0, "waived": 0}
    assert progress[1].counts == {"open": 3, "scheduled": 1, "replaced": 0, "removed": 0, "waived": 1}


def test_regimes_from_knowledge_base_and_graceful_unknown(filled: tuple[str, str, str]) -> None:
    regimes = {r.id: r for r in _report(filled[0]).regimes}
    assert regimes["ndaa-889"].known and regimes["ndaa-889"].sources == (NDAA_SOURCE,)
    assert regimes["ndaa-889"].devices == 4
    assert not regimes["fcc-covered-list"].known
    assert "Not described" in regimes["fcc-covered-list"].requires
    cves = {c.id: c.devices for c in _report(filled[0]).cves}
    assert cves == {"CVE-2017-7921": ("198.18.0.10",), "CVE-2021-33044": ("198.18.0.12",)}


def test_manifest_lists_every_raw_answer(filled: tuple[str, str, str]) -> None:
    url, _, second = filled
    data = _report(url)
    with open_store(url) as store:
        stored = store.observation_digests(second)
    assert data.manifest["kb_version"] == "test-kb-1+abc"
    for entry in data.manifest["findings"]:
        assert entry["observation_sha256"] == stored.get(entry["host"], [])
        assert set(entry["evidence_sha256"]) <= set(entry["observation_sha256"])


def test_html_is_self_contained_and_complete(filled: tuple[str, str, str]) -> None:
    data = _report(filled[0])
    html = render_html(data)
    assert not re.search(r"<(?:link|img|iframe)\b|<script\s+src|@import|url\(\s*['\"]?https?:", html, re.I)
    for device in data.devices:
        assert device.identification.host in html
        for evidence in device.identification.evidence:
            for source in evidence.sources:
                assert source.url in html
        for digest in device.observation_sha256:
            assert digest in html
    assert IPVM_OEM.url in html
    assert "test-kb-1+abc" in html and data.manifest_sha256 in html
    assert html.count("<svg") == 5
    for limit in data.limits:
        assert str(escape(limit)) in html


def test_html_escapes_device_supplied_text(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    hostile = replace(sample_identifications()[1], brand="<script>alert(1)</script>", model="</script><b>x")
    with open_store(url) as store:
        scan_id = store.create_scan("network", [], {})
        store.add_identification(scan_id, hostile)
        html = render_html(build_report(store, kb=FakeKnowledgeBase()))
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count("</script>") == 1  # only the manifest's own closing tag


@pytest.mark.parametrize("fmt", [pytest.param(f, id=f) for f in RENDERERS])
def test_every_format_writes_and_verifies(filled: tuple[str, str, str], tmp_path: Path, fmt: str) -> None:
    url = filled[0]
    out = tmp_path / f"report.{fmt}"
    data = _report(url)
    renderer_for(fmt).render(data, out)
    assert out.stat().st_size > 0
    with open_store(url) as store:
        result = verify_report(out, store)
    assert result.ok, result.to_json()
    assert result.checked == sum(len(set(d.observation_sha256)) for d in data.devices)
    if fmt == "json":
        doc = json.loads(out.read_text())
        assert doc["kb_version"] == "test-kb-1+abc"
        assert doc["summary"]["relabeled_share"] == 0.5
    if fmt == "csv":
        rows = list(csv.DictReader(out.open(newline="")))
        assert [r["host"] for r in rows] == [d.identification.host for d in data.devices]
        assert {r["kb_version"] for r in rows} == {"test-kb-1+abc"}
    if fmt == "pdf":
        assert out.read_bytes().startswith(b"%PDF-")


def test_verify_detects_altered_evidence_and_altered_manifest(filled: tuple[str, str, str], tmp_path: Path) -> None:
    url = filled[0]
    out = tmp_path / "report.json"
    renderer_for("json").render(_report(url), out)
    doc = json.loads(out.read_text())
    doc["evidence_manifest"]["findings"][0]["observation_sha256"] = ["0" * 64]
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(doc))
    with open_store(url) as store:
        result = verify_report(edited, store)
        assert not result.manifest_intact and not result.ok
        assert {f["sha256"] for f in result.failed} >= {"0" * 64}
        with store.engine.begin() as connection:
            connection.exec_driver_sql("UPDATE observations SET data = X'00'")
        altered = verify_report(out, store)
    assert altered.manifest_intact and not altered.ok
    assert len(altered.failed) == altered.checked


def test_report_cli_end_to_end(filled: tuple[str, str, str], tmp_path: Path) -> None:
    url = filled[0]
    runner = CliRunner()
    out = tmp_path / "r.html"
    result = runner.invoke(app, ["report", "--db", url, "--format", "html", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "<html" in out.read_text()
    verified = runner.invoke(app, ["report", "verify", str(out), "--db", url, "--json"])
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.output)["ok"] is True
    with open_store(url) as store, store.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE observations SET data = X'00'")
    failed = runner.invoke(app, ["report", "verify", str(out), "--db", url])
    assert failed.exit_code == 1
    assert "VERIFICATION FAILED" in failed.output


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["report", "--format", "docx", "--out", "x.docx"], id="unknown-format"),
        pytest.param(["report", "--format", "html"], id="no-out"),
        pytest.param(["report", "--scan", "nope", "--out", "r.html"], id="unknown-scan"),
        pytest.param(["report", "--out", "/nonexistent-dir/r.html"], id="missing-directory"),
        pytest.param(["report", "verify", "/nonexistent-file.json"], id="verify-missing-file"),
    ],
)
def test_report_cli_bad_input(filled: tuple[str, str, str], args: list[str]) -> None:
    result = CliRunner().invoke(app, [*args, "--db", filled[0]])
    assert result.exit_code == 2, result.output
    assert "error:" in result.output


def test_report_on_empty_store_is_input_error(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'e.db'}") as store, pytest.raises(InputError, match="no scan"):
        build_report(store)


@pytest.mark.parametrize(
    ("vendor", "brand", "relabeled"),
    [
        pytest.param("Hikvision", "Hikvision", False, id="same"),
        pytest.param("Hikvision", "HIKVISION", False, id="case"),
        pytest.param("Hikvision", "LTS", True, id="oem"),
        pytest.param("Dahua", None, False, id="no-brand-shown"),
        pytest.param("Hanwha Vision", "Hanwha-Vision", False, id="punctuation"),
    ],
)
def test_is_relabeled(vendor: str, brand: str | None, relabeled: bool) -> None:
    assert is_relabeled(replace(sample_identifications()[0], vendor=vendor, brand=brand)) is relabeled


@given(
    st.lists(st.tuples(st.text(max_size=40), st.integers(min_value=0, max_value=10**6)), max_size=20),
    st.text(max_size=60),
)
@settings(max_examples=150)
def test_bar_chart_is_well_formed_svg_for_any_labels(items: list[tuple[str, int]], title: str) -> None:
    clean = [("".join(ch for ch in label if ch.isprintable()), n) for label, n in items]
    svg = bar_chart("".join(ch for ch in title if ch.isprintable()), clean)
    root = ElementTree.fromstring(svg)
    assert root.tag.endswith("svg")
    assert len(root.findall("{http://www.w3.org/2000/svg}rect")) == len(clean[:12]) + (len(clean) > 12)


@given(
    st.lists(
        st.tuples(
            st.text(max_size=20),
            st.dictionaries(st.sampled_from(["open", "scheduled", "waived"]), st.integers(0, 500)),
        ),
        max_size=15,
    )
)
@settings(max_examples=100)
def test_stacked_chart_is_well_formed_svg(points: list[tuple[str, dict[str, int]]]) -> None:
    clean = [("".join(ch for ch in label if ch.isprintable()), counts) for label, counts in points]
    root = ElementTree.fromstring(stacked_chart("progress", clean, ["open", "scheduled", "waived"]))
    bars = [r for r in root.iter("{http://www.w3.org/2000/svg}rect") if r.find("{*}title") is not None]
    assert len(bars) == sum(1 for _, counts in clean for v in counts.values() if v)


@given(st.binary(max_size=2000), st.sampled_from([".json", ".html", ".manifest.json"]))
@settings(max_examples=200)
def test_load_manifest_rejects_any_garbage_cleanly(
    tmp_path_factory: pytest.TempPathFactory, raw: bytes, suffix: str
) -> None:
    path = tmp_path_factory.mktemp("m") / f"r{suffix}"
    path.write_bytes(raw)
    try:
        manifest, recorded = load_manifest(path)
    except InputError:
        return
    assert isinstance(manifest, dict) and isinstance(recorded, str)


def test_waiver_status_as_of_report_day(filled: tuple[str, str, str]) -> None:
    url = filled[0]
    with open_store(url) as store:
        later = build_report(store, today=dt.date(2099, 1, 2), kb=FakeKnowledgeBase())
    imou = next(d for d in later.devices if d.identification.brand == "Imou")
    assert (imou.recorded_status, imou.status) == ("waived", "open")


def test_verify_requires_evidence_to_be_this_hosts_own_answer(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'scope.db'}"
    hikvision, lts = sample_identifications()[:2]
    with open_store(url) as store:
        scan_id = store.create_scan("network", [], {})
        store.add_observations(scan_id, hikvision.host, sample_observations(hikvision.host))
        store.add_identification(scan_id, hikvision)
        # The LTS identification cites an answer that only the Hikvision host gave in this store.
        borrowed = replace(lts, evidence=hikvision.evidence[:1])
        store.add_identification(scan_id, borrowed)
        out = tmp_path / "r.json"
        renderer_for("json").render(build_report(store, kb=FakeKnowledgeBase()), out)
        result = verify_report(out, store)
    assert result.manifest_intact
    assert [(f["host"], f["sha256"]) for f in result.failed] == [(lts.host, hikvision.evidence[0].observation_sha256)]


def test_report_with_the_real_knowledge_base(filled: tuple[str, str, str]) -> None:
    kb = load()  # a knowledge base that fails to load fails this test
    with open_store(filled[0]) as store:
        data = build_report(store)  # loads the knowledge base itself
    assert data.kb_version == kb.version
    ndaa = next(r for r in data.regimes if r.id == "ndaa-889")
    assert ndaa.known and ndaa.requires and ndaa.sources
    assert data.manifest["kb_version"] == kb.version


def test_report_never_imports_the_network_layer() -> None:
    code = (
        "import sys, trueorigin.report, trueorigin.report.cli, trueorigin.store.cli\n"
        "bad = sorted(m for m in sys.modules if m.startswith(('trueorigin.probes', 'trueorigin.scan', "
        "'trueorigin.lab', 'trueorigin.passive')))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == ""


def test_report_names_the_knowledge_base_the_scan_used(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kbv.db'}"
    with open_store(url) as store:
        scan_id = store.create_scan("network", [], {})
        store.set_scan_versions(scan_id, tool="0.0.1", knowledge="older-kb-0", fingerprints="0123456789ab")
        store.add_identification(scan_id, sample_identifications()[0])
        data = build_report(store, kb=FakeKnowledgeBase())
    scan = data.to_json()["scan"]
    assert (scan["kb_version"], scan["fingerprint_version"], scan["tool_version"]) == (
        "older-kb-0",
        "0123456789ab",
        "0.0.1",
    )
    assert data.fingerprint_version == fingerprints.data_version()
    html = render_html(data)
    assert "the scan identified with older-kb-0" in html
    assert "the scan identified with 0123456789ab" in html


@pytest.mark.parametrize(
    ("when", "short", "label"),
    [
        pytest.param("2026-11-24T04:05:00+00:00", False, "2026-11-24\n04:05", id="full"),
        pytest.param("2026-11-24T04:05:00+00:00", True, "11-24\n04:05", id="short"),
        pytest.param("", False, "", id="unknown-time"),
    ],
)
def test_progress_labels(when: str, short: bool, label: str) -> None:
    from trueorigin.report.render import _progress_label

    assert _progress_label(when, short) == label
