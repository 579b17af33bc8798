"""Look at the report as its reader would: render HTML (headless Chromium) and PDF (WeasyPrint, pdftoppm) to
PNG images under artifacts/report/, and check what a program can check: tables paginate (pages grow with
rows), no box is wider than the page, the images are not blank. The PNGs are kept for a human to look at.
"""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from needs import missing, require_tool
from store_samples import sample_identifications
from test_report import FakeKnowledgeBase, fill_store
from trueorigin.model import Evidence, Source
from trueorigin.report import build_report, render_html
from trueorigin.store import open_store

pytestmark = pytest.mark.xdist_group("report")

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts" / "report"
# An unbreakable 300-character token: a table cell must wrap it, not push the table off the page.
LONG_TOKEN = "X" * 300


def _html(tmp_path: Path, extra_devices: int, hostile_lengths: bool = False) -> str:
    url = f"sqlite:///{tmp_path / f'visual-{extra_devices}.db'}"
    with open_store(url) as store:
        fill_store(store, extra_devices=extra_devices)
        if hostile_lengths:
            scan_id = store.latest_scan_id()
            assert scan_id is not None
            long_source = Source(url="https://example.org/" + LONG_TOKEN, title=LONG_TOKEN, date="2026-11-24")
            ident = replace(
                sample_identifications()[1],
                host="198.18.9.9",
                mac="14:2f:fd:00:09:09",
                model=LONG_TOKEN,
                serial=LONG_TOKEN,
                evidence=(Evidence(claim=LONG_TOKEN, field="http.title", value=LONG_TOKEN, sources=(long_source,)),),
            )
            store.add_identification(scan_id, ident)
        return render_html(build_report(store, kb=FakeKnowledgeBase()))


def _weasy() -> object:
    try:
        import weasyprint
    except ImportError:
        missing("WeasyPrint is not installed (pip install -e '.[pdf]')")
    return weasyprint


def _overflowing_boxes(document: object) -> list[str]:
    """Boxes whose right border edge lies beyond the page's content area (1 px tolerance)."""
    problems = []
    for number, page in enumerate(document.pages, start=1):  # type: ignore[attr-defined]
        page_box = page._page_box
        limit = page.width - page_box.margin_right + 1.0
        for box in page_box.descendants():
            if hasattr(box, "border_width"):
                right = box.border_box_x() + box.border_width()
                if right > limit:
                    problems.append(f"page {number}: {type(box).__name__} ends at {right:.0f} > {limit:.0f}")
    return problems


def _non_white_fraction(png: Path) -> float:
    from PIL import Image

    with Image.open(png) as image:
        grey = image.convert("L")
        histogram = grey.histogram()
    total = sum(histogram)
    return sum(histogram[:240]) / total if total else 0.0


@pytest.fixture(scope="module")
def large_document(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The report of 36 covered devices, laid out once by WeasyPrint for the tests below."""
    weasyprint = _weasy()
    return weasyprint.HTML(string=_html(tmp_path_factory.mktemp("large"), 30)).render()  # type: ignore[attr-defined]


def test_pdf_pages_grow_with_rows_and_nothing_overflows(tmp_path: Path, large_document: Any) -> None:
    weasyprint = _weasy()
    small = weasyprint.HTML(string=_html(tmp_path, 0)).render()  # type: ignore[attr-defined]
    assert len(large_document.pages) > len(small.pages) + 3
    assert _overflowing_boxes(small) == []
    assert _overflowing_boxes(large_document) == []


def test_long_unbreakable_values_wrap_inside_the_page(tmp_path: Path) -> None:
    weasyprint = _weasy()
    document = weasyprint.HTML(string=_html(tmp_path, 0, hostile_lengths=True)).render()  # type: ignore[attr-defined]
    assert _overflowing_boxes(document) == []


def test_pdf_pages_render_to_non_blank_images(large_document: Any) -> None:
    require_tool("pdftoppm", install="apt-get install -y poppler-utils")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pdf = ARTIFACTS / "report-large.pdf"
    large_document.write_pdf(str(pdf))
    for old in ARTIFACTS.glob("pdf-page-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "70", "-png", str(pdf), str(ARTIFACTS / "pdf-page")], check=True, timeout=120)
    pages = sorted(ARTIFACTS.glob("pdf-page-*.png"))
    assert len(pages) == len(large_document.pages)
    for page in pages:
        assert _non_white_fraction(page) > 0.01, f"{page.name} looks blank"


def test_html_screenshot_is_not_blank(tmp_path: Path) -> None:
    chromium = require_tool("chromium", "chromium-browser", install="apt-get install -y chromium")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = ARTIFACTS / "report.html"
    page.write_text(_html(tmp_path, 8), encoding="utf-8")
    shot = ARTIFACTS / "html.png"
    shot.unlink(missing_ok=True)
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--hide-scrollbars",
            "--window-size=1280,3000",
            f"--user-data-dir={tmp_path / 'chromium-profile'}",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        check=True,
        timeout=120,
        capture_output=True,
    )
    assert shot.exists()
    assert _non_white_fraction(shot) > 0.02
