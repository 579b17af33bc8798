"""The dashboard in a real browser: Playwright (Python) driving Debian's Chromium headless against
`trueorigin serve` (uvicorn) on 127.0.0.1. No browser is downloaded: Playwright starts /usr/bin/chromium.

One user journey (sign in, overview charts, filter devices, evidence chain, change a finding, waive one, upload
an inventory and decide a row, sign out), a hostile device title shown as text, and no CSP violation anywhere
(htmx must work under the strict policy). Screenshots of the main pages go to artifacts/server/ and are checked:
not blank, and the overview shows its charts' bars.
"""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from needs import missing, require_tool
from server_fixtures import HOSTILE_HOST, HOSTILE_TITLE, PASSWORD, Site, make_site

pytestmark = pytest.mark.xdist_group("server-browser")

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts" / "server"
INVENTORY = Path(__file__).parent / "data" / "screen" / "inventory.csv"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str:
    """Debian's chromium and the playwright package: skipped locally when missing, a failure under CI."""
    found = require_tool("chromium", "chromium-browser", install="apt-get install -y chromium")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing("the playwright package is not installed (pip install playwright)")
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Site]]:
    folder = tmp_path_factory.mktemp("server-browser")
    site = make_site(folder)
    port = _free_port()
    log = (folder / "server.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from trueorigin.cli import main; main()",
            "serve",
            "--db",
            site.url,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if process.poll() is not None:
                raise AssertionError((folder / "server.log").read_text())
            time.sleep(0.2)
        else:
            raise AssertionError("the server did not start in 60 s")
        yield f"http://127.0.0.1:{port}", site
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            yield instance
        finally:
            instance.close()


def _non_white_fraction(png: Path) -> float:
    from PIL import Image

    with Image.open(png) as image:
        gray = image.convert("L")
        histogram = gray.histogram()
    return 1.0 - sum(histogram[245:]) / max(sum(histogram), 1)


def _red_pixels(png: Path) -> int:
    """Pixels of the bar colour of the charts (#b3261e), i.e. drawn bars."""
    from PIL import Image

    with Image.open(png) as image:
        rgb = image.convert("RGB")
        return sum(1 for r, g, b in rgb.getdata() if abs(r - 0xB3) < 12 and abs(g - 0x26) < 12 and abs(b - 0x1E) < 12)


def _shot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert _non_white_fraction(path) > 0.02, f"{name}.png looks blank"
    return path


def _sign_in(page: Any, base: str, user: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_auditor_journey(server: tuple[str, Site], browser: Any) -> None:
    base, site = server
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: violations.append(str(e)))

    # Sign in; the overview shows its six charts.
    _sign_in(page, base, "aud")
    assert page.locator("#charts svg.chart").count() == 6
    assert page.locator("#charts svg rect").count() > 10
    shot = _shot(page, "overview")
    assert _red_pixels(shot) > 500, "no chart bars drawn on the overview"

    # Filter devices: choosing "covered yes" reloads the table through htmx (no full page load).
    page.goto(f"{base}/devices")
    total_before = page.locator("#devices tbody tr").count()
    page.select_option("#f-covered", "yes")
    page.wait_for_url("**covered=yes**")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#devices tbody tr')].every(r => r.classList.contains('covered-yes'))"
    )
    covered_rows = page.locator("#devices tbody tr").count()
    assert 0 < covered_rows < total_before
    _shot(page, "devices")

    # Open an evidence chain.
    page.click("#devices a:text('198.18.0.10')")
    page.wait_for_selector("#evidence")
    assert "hikvision.http.server.webs" in page.inner_text("#evidence")
    assert "nmap-service-probes" in page.inner_text("#evidence")
    assert page.locator("details.observation").count() >= 2
    _shot(page, "device")

    # Change a finding's status with a note.
    lts = next(f.id for f in site.store.findings() if f.identification.brand == "LTS")
    page.goto(f"{base}/findings")
    row = page.locator(f"#finding-{lts}")
    row.locator(".status-form select").select_option("replaced")
    row.locator(".status-form input[name=note]").fill("replaced by an Axis P3245 on 2026-12-01")
    row.locator(".status-form button").click()
    page.wait_for_selector("text=Finding status changed.")
    assert "replaced" in page.inner_text(f"#finding-{lts}")

    # Record a waiver with a reason and an expiry.
    hik = next(f.id for f in site.store.findings() if f.identification.brand == "Hikvision")
    row = page.locator(f"#finding-{hik}")
    row.locator(".waiver-form input[name=reason]").fill("lab network, no Internet; replacement funded FY27")
    row.locator(".waiver-form input[name=expires]").fill((dt.date.today() + dt.timedelta(days=20)).isoformat())
    row.locator(".waiver-form button").click()
    page.wait_for_selector("text=Waiver recorded.")
    assert "expires in 20 days" in page.inner_text(f"#finding-{hik}")
    _shot(page, "findings")

    # Upload an inventory and decide a row.
    page.goto(f"{base}/screening")
    page.set_input_files("#inventory-file", str(INVENTORY))
    page.click("#upload-form button")
    page.wait_for_selector("#rows")
    page.click("text=Show only undecided rows to review")
    page.wait_for_url("**only=review**")
    first = page.locator("#rows tbody tr").first
    first.locator("select[name=covered]").select_option("no")
    first.locator("input[name=reason]").fill("accessory that only works with such cameras")
    first.locator("button").click()
    page.wait_for_selector("text=Decision recorded.")
    assert page.locator("#rows .pill.no:text('decided no')").count() >= 1
    _shot(page, "screening")

    # The audit log shows what was done; then sign out.
    page.goto(f"{base}/audit")
    log = page.inner_text("#audit")
    for action in ("finding.status", "finding.waive", "screening.upload", "screening.decide", "login"):
        assert action in log
    _shot(page, "audit")
    page.click("#logout")
    page.wait_for_url(f"{base}/login")
    page.goto(f"{base}/findings")
    assert page.url == f"{base}/login"
    assert violations == []
    context.close()


def test_hostile_title_is_shown_as_text(server: tuple[str, Site], browser: Any) -> None:
    base, _site = server
    context = browser.new_context()
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    _sign_in(page, base, "vic")
    page.goto(f"{base}/devices?q={HOSTILE_HOST}")
    page.click(f"#devices a:text('{HOSTILE_HOST}')")
    page.wait_for_selector("#evidence")
    assert page.inner_text("#brand-shown").startswith(HOSTILE_TITLE)
    assert HOSTILE_TITLE in page.inner_text("pre.raw")
    assert page.evaluate("() => document.title") != "pwned"
    assert page.evaluate("() => document.querySelectorAll('main script').length") == 0
    assert dialogs == []
    context.close()


def test_viewer_sees_no_forms_that_change_data(server: tuple[str, Site], browser: Any) -> None:
    base, _site = server
    context = browser.new_context()
    page = context.new_page()
    _sign_in(page, base, "vic")
    page.goto(f"{base}/findings")
    assert page.locator(".status-form, .waiver-form").count() == 0
    page.goto(f"{base}/screening")
    assert page.locator("#upload-form").count() == 0
    page.goto(f"{base}/audit")
    assert "Error 403" in page.inner_text("main")
    context.close()
