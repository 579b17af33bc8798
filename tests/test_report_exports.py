"""FAR 52.204-25(d) reporting (business days, contract data, deadlines, PDF/CSV), OSCAL assessment results
(validated with compliance-trestle's models), NetBox and Snipe-IT import CSVs, and verification of each."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cleanliness import HOSTILE, HOSTILE_FORMULA, assert_csv_clean, assert_html_visible, assert_terminal_clean
from store_samples import sample_identifications
from test_report import fill_store
from trueorigin.cli import app
from trueorigin.errors import InputError
from trueorigin.knowledge import load
from trueorigin.knowledge.compliance import read_compliance
from trueorigin.report import (
    RenderOptions,
    build_report,
    far_status,
    render,
    render_html,
    verify_report,
    write_report,
)
from trueorigin.report.csvsafe import csv_bytes, safe_cell
from trueorigin.report.exports import FAR_CSV_COLUMNS, NETBOX_COLUMNS, SNIPEIT_COLUMNS, far_html
from trueorigin.report.far import add_business_days, business_days_between, federal_holidays
from trueorigin.store import open_store
from trueorigin.store.compliance import ComplianceStore, contract_from_json

pytestmark = pytest.mark.xdist_group("report")

D = dt.date


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        pytest.param(D(2026, 12, 4), 1, D(2026, 12, 7), id="friday-to-monday"),
        pytest.param(D(2026, 11, 25), 1, D(2026, 11, 27), id="over-thanksgiving"),
        pytest.param(D(2026, 12, 24), 1, D(2026, 12, 28), id="over-christmas-friday"),
        pytest.param(D(2026, 7, 2), 1, D(2026, 7, 6), id="independence-day-saturday-observed-friday"),
        pytest.param(D(2026, 12, 7), 10, D(2026, 12, 21), id="ten-business-days"),
        pytest.param(D(2027, 12, 30), 1, D(2028, 1, 3), id="new-year-2028-saturday-observed-dec-31"),
        pytest.param(D(2026, 12, 5), 1, D(2026, 12, 7), id="identified-on-saturday"),
    ],
)
def test_business_days(start: dt.date, days: int, due: dt.date) -> None:
    assert add_business_days(start, days) == due
    assert business_days_between(start, due) == days


def test_federal_holidays_2026() -> None:
    assert federal_holidays(2026) == {
        D(2026, 1, 1),
        D(2026, 1, 19),
        D(2026, 2, 16),
        D(2026, 5, 25),
        D(2026, 6, 19),
        D(2026, 7, 3),
        D(2026, 9, 7),
        D(2026, 10, 12),
        D(2026, 11, 11),
        D(2026, 11, 26),
        D(2026, 12, 25),
    }


@pytest.fixture
def filled(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'exports.db'}"
    with open_store(url) as store:
        fill_store(store)
    return url


def _covered_ids(url: str) -> list[int]:
    with open_store(url) as store:
        return [s.finding_id for s in far_status(store)]


def test_far_deadlines_contract_data_and_overdue(filled: str) -> None:
    with open_store(filled) as store:
        ids = [s.finding_id for s in far_status(store)]
        assert len(ids) == 5  # every covered finding; the review one has no FAR report yet
        compliance = ComplianceStore(store)
        compliance.set_contract(
            {"contract_number": "47QTCA22D0001", "supplier_name": "Acme Integrators", "supplier_cage": "1abc2"},
            site="hq",
        )
        compliance.set_contract({"supplier_name": "Other Supplier", "mitigation": "unplugged"}, finding_ids=[ids[0]])
        compliance.set_far_dates([ids[0]], identified_on=D(2026, 12, 4), initial_sent_on=D(2026, 12, 7))
        compliance.set_far_dates(ids[1:], identified_on=D(2026, 12, 4))
        states = {s.finding_id: s for s in far_status(store, today=D(2026, 12, 9))}
    first, second = states[ids[0]], states[ids[1]]
    assert first.contract.supplier_name == "Other Supplier"  # the finding's own value wins
    assert first.contract.contract_number == "47QTCA22D0001"  # inherited from the site
    assert first.contract.supplier_cage == "1ABC2"
    assert [d.due for d in first.deadlines] == [D(2026, 12, 7), D(2026, 12, 21)]  # (ii) counts from the sending
    assert not first.overdue and first.state == "further report due 2026-12-21"
    assert second.overdue and second.state == "initial report overdue 2026-12-07"
    assert second.deadlines[1].projected
    assert "Mitigation actions undertaken or recommended" in second.missing
    assert "Contract number" not in second.missing


@pytest.mark.parametrize(
    ("values", "message"),
    [
        pytest.param({"supplier_uei": "short"}, "12 letters", id="bad-uei"),
        pytest.param({"supplier_cage": "TOO-LONG"}, "5 letters", id="bad-cage"),
        pytest.param({"contract_number": "x" * 101}, "longer than", id="too-long"),
        pytest.param({"colour": "red"}, "unknown contract field", id="unknown-field"),
    ],
)
def test_contract_data_is_validated(filled: str, values: dict[str, str], message: str) -> None:
    with open_store(filled) as store, pytest.raises(InputError, match=message):
        ComplianceStore(store).set_contract(values, site="hq")


def test_contract_from_json_for_the_rest_api() -> None:
    data = contract_from_json({"contract_number": " W91 ", "supplier_cage": "1abc2", "mitigation": None})
    assert (data.contract_number, data.supplier_cage, data.mitigation) == ("W91", "1ABC2", None)
    with pytest.raises(InputError, match="unknown contract field"):
        contract_from_json({"contract": "x"})
    with pytest.raises(InputError, match="12 letters"):
        contract_from_json({"supplier_uei": "x"})


def test_contract_needs_exactly_one_target(filled: str) -> None:
    with open_store(filled) as store:
        compliance = ComplianceStore(store)
        with pytest.raises(InputError, match="either a site or finding ids"):
            compliance.set_contract({"contract_number": "1"}, site="hq", finding_ids=[1])
        with pytest.raises(InputError, match="no site"):
            compliance.set_contract({"contract_number": "1"}, site="nowhere")
        with pytest.raises(InputError, match="no finding 999"):
            compliance.set_far_dates([999], initial_sent_on=D(2026, 12, 7))
        with pytest.raises(InputError, match="initial report before"):
            compliance.set_far_dates([1], further_sent_on=D(2026, 12, 7))


def test_far_csv_and_pdf_per_finding(filled: str, tmp_path: Path) -> None:
    ids = _covered_ids(filled)
    with open_store(filled) as store:
        ComplianceStore(store).set_contract({"contract_number": "=cmd|' /C calc'!A0"}, site="hq")
        data = build_report(store)
    out = tmp_path / "far.csv"
    write_report(data, "far-csv", out, RenderOptions(finding_ids=(ids[0],)))
    rows = list(csv.DictReader(out.open(newline="", encoding="utf-8")))
    assert tuple(rows[0]) == FAR_CSV_COLUMNS
    assert len(rows) == 1 and rows[0]["finding_id"] == str(ids[0])
    assert rows[0]["contract_number"].startswith("'=")  # a formula typed by someone stays text
    assert rows[0]["kb_version"] == data.kb_version and rows[0]["tool_version"] == data.tool_version
    assert rows[0]["observation_sha256"]
    with open_store(filled) as store:
        assert verify_report(out, store).ok
    html = far_html(data, RenderOptions())
    assert html.count('class="finding"') == len(data.far) == 4  # covered in this scan (the ONT was removed)
    assert "Within one business day" in html and "dibnet.dod.mil" in html
    pdf = tmp_path / "far.pdf"
    write_report(data, "far", pdf)
    assert pdf.read_bytes().startswith(b"%PDF-")
    with open_store(filled) as store:
        assert verify_report(pdf, store).ok
    with pytest.raises(InputError, match="no covered finding 9999"):
        write_report(data, "far-csv", tmp_path / "x.csv", RenderOptions(finding_ids=(9999,)))


def test_oscal_assessment_results_validate_with_trestle(filled: str, tmp_path: Path) -> None:
    from trestle.oscal.assessment_results import AssessmentResults

    with open_store(filled) as store:
        data = build_report(store)
        document = json.loads(render(store, "oscal"))
    model = AssessmentResults.model_validate(document["assessment-results"])
    result = model.results[0]
    assert result.local_definitions is not None and result.local_definitions.inventory_items is not None
    assert len(result.local_definitions.inventory_items) == data.identified  # every assessed component
    manufacturers = {
        p.value
        for item in result.local_definitions.inventory_items
        for p in item.props or []
        if p.name == "vendor-name"
    }
    assert {"Hikvision", "Dahua"} <= manufacturers
    targets = {f.target.target_id: f.target.status.state.value for f in result.findings or []}
    kb_controls = {c.id for c in load().raw.compliance.controls}
    assert {"cm-8_obj", "sr-3_obj", "sr-4_obj", "sr-11_obj"} <= set(targets)
    assert {t.removesuffix("_obj") for t in targets} == kb_controls
    assert targets["sr-3_obj"] == "not-satisfied"
    assert len(result.observations or []) == len(data.devices)
    hashes = {h.value for r in model.back_matter.resources or [] for link in r.rlinks or [] for h in link.hashes or []}
    assert hashes and hashes <= {h for d in data.devices for h in d.observation_sha256}
    props = {p.name: p.value for p in result.props or []}
    assert props["kb-version"] == data.kb_version and props["scan-id"] == data.scan.id
    out = tmp_path / "oscal.json"
    out.write_text(json.dumps(document))
    with open_store(filled) as store:
        assert verify_report(out, store).ok


def test_netbox_and_snipeit_imports(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'assets.db'}"
    hostile = replace(
        sample_identifications()[1],
        host="198.18.9.9",
        mac="14:2f:fd:00:09:09",
        serial=None,
        brand='=HYPERLINK("http://x")',
        model="@SUM(1)",
    )
    with open_store(url) as store:
        scan_id = store.create_scan("network", ["198.18.0.0/24"], {}, site="hq")
        for ident in [*sample_identifications(), hostile]:
            store.add_identification(scan_id, ident)
        store.finish_scan(scan_id)
        netbox = render(store, "netbox", RenderOptions(evidence_url="https://audit.example/f/{finding_id}"))
        snipeit = render(store, "snipeit")
        data = build_report(store)
    rows = list(csv.DictReader(io.StringIO(netbox.decode("utf-8"))))
    assert tuple(rows[0]) == NETBOX_COLUMNS
    assert len(rows) == data.identified
    by_host = {r["name"]: r for r in rows}
    lts = next(d for d in data.devices if d.identification.brand == "LTS")
    row = by_host[lts.identification.host]
    assert (row["manufacturer"], row["cf_brand_shown"], row["tags"]) == ("Hikvision", "LTS", "trueorigin-covered")
    assert row["cf_evidence_link"] == f"https://audit.example/f/{lts.finding_id}"
    assert data.kb_version in row["comments"] and data.scan.id in row["comments"]
    assert all(not r["cf_brand_shown"].startswith(("=", "@")) for r in rows)
    assert any(r["cf_brand_shown"] == '\'=HYPERLINK("http://x")' for r in rows)
    assert {r["tags"] for r in rows} <= {"trueorigin-covered", "trueorigin-review", ""}
    assets = list(csv.DictReader(io.StringIO(snipeit.decode("utf-8"))))
    assert tuple(assets[0]) == SNIPEIT_COLUMNS
    assert len({a["Asset Tag"] for a in assets}) == len(assets)
    assert all(not a["Model"].startswith("@") for a in assets)
    assert {a["Manufacturer"] for a in assets} >= {"Hikvision", "Dahua"}


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        pytest.param("=1+1", "'=1+1", id="formula"),
        pytest.param("+1", "'+1", id="plus"),
        pytest.param(-2, "-2", id="minus-number"),
        pytest.param("@x", "'@x", id="at"),
        pytest.param("plain", "plain", id="plain"),
        pytest.param(None, "", id="none"),
    ],
)
def test_csv_cells_are_neutralised(value: object, cell: str) -> None:
    """Exports write CSV through the project's one writer (trueorigin.spreadsheet, tested on its own)."""
    assert safe_cell(value) == cell
    assert csv_bytes(["h"], [[value]]).decode().splitlines()[1].strip('"') == cell.replace('"', '""')


def test_far_cli(filled: str, tmp_path: Path) -> None:
    runner = CliRunner()
    ids = _covered_ids(filled)
    steps = [
        ["far", "contract", "--site", "hq", "--contract-number", "W91-26-C-0001", "--supplier-name", "Acme"],
        ["far", "contract", str(ids[0]), "--mitigation", "disconnected", "--uei", "ABCDEF123456"],
        ["far", "sent", str(ids[0]), "--identified", "2026-12-04", "--initial", "2026-12-07"],
    ]
    for args in steps:
        result = runner.invoke(app, [*args, "--db", filled])
        assert result.exit_code == 0, result.output
    status = runner.invoke(app, ["far", "status", "--json", "--db", filled])
    assert status.exit_code == 0, status.output
    first = next(s for s in json.loads(status.output) if s["finding_id"] == ids[0])
    assert first["contract"]["supplier_uei"] == "ABCDEF123456"
    assert first["deadlines"][0]["sent_on"] == "2026-12-07"
    bad = runner.invoke(app, ["far", "contract", "--site", "hq", "--cage", "x", "--db", filled])
    assert bad.exit_code == 2 and "CAGE" in bad.output
    review = runner.invoke(app, ["far", "sent", "999", "--initial", "today", "--db", filled])
    assert review.exit_code == 2
    wrong = runner.invoke(app, ["report", "--db", filled, "--format", "html", "--finding", "1", "--out", "x.html"])
    assert wrong.exit_code == 2 and "far and far-csv only" in wrong.output
    for fmt in ("far", "far-csv", "oscal", "netbox", "snipeit"):
        out = tmp_path / f"r-{fmt}.out"
        made = runner.invoke(app, ["report", "--db", filled, "--format", fmt, "--out", str(out)])
        assert made.exit_code == 0, made.output
        verified = runner.invoke(app, ["report", "verify", str(out), "--db", filled, "--json"])
        assert verified.exit_code == 0, verified.output


def test_compliance_kb_is_strict() -> None:
    problems: list[str] = []
    read_compliance(
        problems,
        {
            "reporting": [{"id": "x", "deadlnes": []}],
            "controls": {
                "catalog": {"name": "n", "sources": []},
                "items": [{"id": "cm-8", "applies_to": "everything"}],
            },
        },
    )
    text = "\n".join(problems)
    assert "unknown key 'deadlnes'" in text
    assert "no 'deadlines'" in text
    assert "'applies_to' must be one of" in text
    clause = load().raw.compliance.reporting_clause("far-52.204-25-d")
    assert clause is not None
    assert [d.business_days for d in clause.deadlines] == [1, 10]
    assert "Within one business day" in clause.clause and clause.sources


def test_far_and_summary_html_escape_hostile_text(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hostile.db'}"
    hostile = replace(
        sample_identifications()[0], brand="<script>alert(1)</script>", model="</td><img src=x onerror=1>"
    )
    with open_store(url) as store:
        scan_id = store.create_scan("network", ["198.18.0.0/24"], {}, site="hq")
        store.add_identification(scan_id, hostile)
        store.finish_scan(scan_id)
        ComplianceStore(store).set_contract({"supplier_name": "<b>Acme</b>", "mitigation": "a & b"}, site="hq")
        data = build_report(store)
    for html in (far_html(data, RenderOptions()), render_html(data), render_html(data, "full")):
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>Acme" not in html
        assert html.count("</script>") == 1  # the manifest's own
    far = far_html(data, RenderOptions())
    assert "&lt;b&gt;Acme&lt;/b&gt;" in far and "a &amp; b" in far


def test_every_export_is_clean_of_hostile_device_and_user_text(tmp_path: Path) -> None:
    """Device answers and typed contract data that try terminal escapes, markup, bidi tricks and formulas come
    out of every CSV export as inert, visible text, and out of the HTML and the terminal the same way."""
    url = f"sqlite:///{tmp_path / 'hostile.db'}"
    hostile = replace(
        sample_identifications()[0],
        brand=HOSTILE_FORMULA,
        model=HOSTILE,
        firmware=" two\nlines " + HOSTILE_FORMULA,
        kind=HOSTILE,
    )
    with open_store(url) as store:
        scan_id = store.create_scan("network", ["198.18.0.0/24"], {}, site=f"site{HOSTILE}")
        store.add_identification(scan_id, hostile)
        store.finish_scan(scan_id)
        ComplianceStore(store).set_contract(
            {"supplier_name": HOSTILE_FORMULA, "mitigation": HOSTILE, "contract_number": "=1+1"},
            site=f"site{HOSTILE}",
        )
        data = build_report(store)
    for fmt in ("csv", "far-csv", "netbox", "snipeit"):
        out = tmp_path / f"hostile-{fmt}.csv"
        write_report(data, fmt, out, RenderOptions(evidence_url="https://x.example/{host}"))
        rows = assert_csv_clean(out)
        assert len(rows) == 2, fmt
    for html in (render_html(data), render_html(data, "full"), far_html(data, RenderOptions())):
        assert_html_visible(html)
    result = CliRunner().invoke(app, ["far", "status", "--db", url], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert_terminal_clean(result.output, "far status")
    from trestle.oscal.assessment_results import AssessmentResults

    with open_store(url) as store:
        oscal = json.loads(render(store, "oscal"))
    model = AssessmentResults.model_validate(oscal["assessment-results"])  # one-line property values stay valid
    items = model.results[0].local_definitions.inventory_items  # type: ignore[union-attr]
    values = {p.name: p.value for p in items[0].props or []}  # type: ignore[index]
    assert "\n" not in values["version"] and "\\n" in values["version"]
    assert_terminal_clean(values["brand-shown"], "OSCAL property")
