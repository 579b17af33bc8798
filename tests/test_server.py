"""The server (`trueorigin serve`) through FastAPI's TestClient: headers and CSP, sign-in and throttling,
permissions at every boundary (viewer, auditor, admin, read and write tokens), CSRF, the audit log, the API's
objects, pagination and error bodies, and hostile device text shown as text."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from needs import missing
from server_fixtures import (
    HOSTILE_HOST,
    HOSTILE_TITLE,
    PASSWORD,
    Site,
    client,
    copy_site,
    csrf_of,
    login,
    make_site,
)
from trueorigin.report import RENDERERS
from trueorigin.server import ServerSettings
from trueorigin.server.accounts import Accounts
from trueorigin.store.accounts import ApiTokenRow

pytestmark = pytest.mark.xdist_group("server")

INVENTORY = Path(__file__).parent / "data" / "screen" / "inventory.csv"


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("server-template")
    make_site(folder).store.close()
    return folder / "server.db"


@pytest.fixture
def site(tmp_path: Path, template_db: Path) -> Site:
    return copy_site(template_db, tmp_path)


def _finding_ids(site: Site) -> dict[str, int]:
    return {f.identification.brand or "": f.id for f in site.store.findings()}


def _token(site: Site, user: str, scope: str) -> str:
    accounts = Accounts(site.store)
    from trueorigin.server.accounts import Principal
    from trueorigin.store.accounts import UserRow

    with accounts.session() as session:
        row = session.scalar(select(UserRow).where(UserRow.name == user))
        assert row is not None
        principal = Principal(row.id, row.name, row.role, "cli")
    return accounts.create_token(principal, f"{user}-{scope}", scope)[1]


def _error(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    document: dict[str, Any] = answer.json()
    assert set(document) == {"error"}
    assert set(document["error"]) == {"status", "code", "message"}
    assert document["error"]["status"] == status
    return document["error"]


# ---------------------------------------------------------------------------------------------- headers


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/login", id="page"),
        pytest.param("/api/v1/openapi.json", id="openapi"),
        pytest.param("/static/app.css", id="static"),
        pytest.param("/api/v1/devices", id="api-401"),
        pytest.param("/no-such-page", id="404"),
    ],
)
def test_every_response_carries_the_security_headers(site: Site, path: str) -> None:
    answer = client(site).get(path)
    csp = answer.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in csp


def test_pages_have_no_inline_script_or_style(site: Site) -> None:
    c = client(site)
    login(c, "ada")
    for path in (
        "/",
        "/devices",
        "/devices/1",
        "/findings",
        "/scans",
        "/screening",
        "/kb?q=Lorex",
        "/reports",
        "/audit",
        "/account",
    ):
        html = c.get(path).text
        assert "<script>" not in html.replace(HOSTILE_TITLE, ""), path
        assert " style=" not in html and "<style" not in html, path
        assert " onclick=" not in html and "javascript:" not in html, path


def test_vendored_htmx_ships_with_its_license(site: Site) -> None:
    c = client(site)
    assert c.get("/static/vendor/htmx/htmx.min.js").status_code == 200
    assert "Zero-Clause BSD" in c.get("/static/vendor/htmx/LICENSE").text


# ---------------------------------------------------------------------------------------------- sign-in


def test_login_sets_a_hardened_session_cookie_and_logout_ends_it(site: Site) -> None:
    c = client(site)
    assert c.get("/").headers["location"] == "/login"
    page = c.get("/login")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    answer = c.post("/login", data={"username": "vic", "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"]
    assert "trueorigin_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Secure" not in cookie  # plain HTTP in this test
    assert c.get("/").status_code == 200
    csrf = csrf_of(c)
    assert c.post("/logout", data={"csrf_token": csrf}).status_code == 303
    assert c.get("/").status_code == 303
    actions = [e["action"] for e in Accounts(site.store).audit_log()]
    assert actions[:2] == ["logout", "login"]


@pytest.mark.parametrize(
    ("trust", "forwarded", "secure"),
    [
        pytest.param(False, "https", False, id="untrusted-proxy-header-ignored"),
        pytest.param(True, "https", True, id="trusted-proxy-tls"),
        pytest.param(True, "http", False, id="trusted-proxy-plain"),
    ],
)
def test_secure_cookie_behind_tls_only_when_the_proxy_is_trusted(
    site: Site, trust: bool, forwarded: str, secure: bool
) -> None:
    c = client(site, ServerSettings(trust_proxy=trust))
    page = c.get("/login", headers={"X-Forwarded-Proto": forwarded})
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    # The login cookie may be Secure: this plain-HTTP client would not send it back, so the test does.
    answer = c.post(
        "/login",
        data={"username": "vic", "password": PASSWORD, "csrf_token": token},
        headers={"X-Forwarded-Proto": forwarded, "Cookie": f"trueorigin_login_csrf={token}"},
    )
    assert answer.status_code == 303
    assert ("Secure" in answer.headers["set-cookie"]) is secure
    assert ("strict-transport-security" in answer.headers) is secure


def test_login_form_needs_its_csrf_token(site: Site) -> None:
    c = client(site)
    c.get("/login")
    answer = c.post("/login", data={"username": "vic", "password": PASSWORD, "csrf_token": "forged"})
    assert answer.status_code == 403
    assert "trueorigin_session" not in answer.headers.get("set-cookie", "")


def test_wrong_password_then_throttled_even_with_the_right_one(site: Site) -> None:
    c = client(site)
    for _ in range(5):
        page = c.get("/login")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        answer = c.post("/login", data={"username": "aud", "password": "wrong password!", "csrf_token": token})
        assert answer.status_code == 401
        assert "Wrong user name or password" in answer.text
    page = c.get("/login")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    answer = c.post("/login", data={"username": "aud", "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 429
    assert "trueorigin_session" not in answer.headers.get("set-cookie", "")
    log = Accounts(site.store).audit_log()
    assert log[0]["action"] == "login.throttled"


def test_passwords_and_secrets_are_stored_hashed(site: Site) -> None:
    secret = _token(site, "aud", "write")
    with site.store.engine.connect() as connection:
        hashes = [row[0] for row in connection.execute(text("SELECT password_hash FROM users"))]
        tokens = [row[0] for row in connection.execute(text("SELECT token_hash FROM api_tokens"))]
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert secret not in tokens and all(len(t) == 64 for t in tokens)


def test_users_add_reads_the_password_from_stdin_never_argv(site: Site) -> None:
    cli = [sys.executable, "-c", "from trueorigin.cli import main; main()", "users", "add"]
    options = ["--role", "auditor", "--password-stdin", "--db", site.url]
    result = subprocess.run(
        [*cli, "eve", *options],
        input="another long password\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert Accounts(site.store).login("eve", "another long password").principal is not None
    short = subprocess.run(
        [*cli, "shorty", *options],
        input="short\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert short.returncode == 2 and "at least" in short.stderr


# ---------------------------------------------------------------------------------------------- permissions


# Every state-changing page form and API route, with a body that would succeed for an auditor.
def _changes(site: Site) -> list[tuple[str, str, dict[str, Any]]]:
    lts = _finding_ids(site)["LTS"]
    return [
        ("form", f"/findings/{lts}/status", {"status": "replaced", "note": "swapped for Axis"}),
        ("form", f"/findings/{lts}/waiver", {"reason": "air-gapped", "expires": "2099-12-31"}),
        ("json", f"/api/v1/findings/{lts}/status", {"status": "replaced", "note": "swapped for Axis"}),
        ("json", f"/api/v1/findings/{lts}/waiver", {"reason": "air-gapped", "expires": "2099-12-31"}),
    ]


def test_viewer_cannot_change_anything(site: Site) -> None:
    c = client(site)
    csrf = login(c, "vic")
    before = [f.to_json() for f in site.store.findings()]
    for kind, path, payload in _changes(site):
        if kind == "form":
            answer = c.post(path, data={**payload, "csrf_token": csrf})
            assert answer.status_code == 403, path
        else:
            _error(c.post(path, json=payload, headers={"X-CSRF-Token": csrf}), 403)
    _error(
        c.post(
            "/api/v1/screening", files={"file": ("inv.csv", INVENTORY.read_bytes())}, headers={"X-CSRF-Token": csrf}
        ),
        403,
    )
    assert (
        c.post("/screening", files={"file": ("inv.csv", INVENTORY.read_bytes())}, data={"csrf_token": csrf}).status_code
        == 403
    )
    assert c.get("/audit").status_code == 403
    _error(c.get("/api/v1/users"), 403)
    assert [f.to_json() for f in site.store.findings()] == before
    # The pages do not even offer the forms.
    assert "Change status" not in c.get("/findings").text
    assert 'action="/screening"' not in c.get("/screening").text


def test_forged_cross_site_post_is_rejected(site: Site) -> None:
    c = client(site)
    csrf = login(c, "aud")
    lts = _finding_ids(site)["LTS"]
    form = {"status": "replaced", "note": "forged"}
    assert c.post(f"/findings/{lts}/status", data=form).status_code == 403  # no token
    assert c.post(f"/findings/{lts}/status", data={**form, "csrf_token": "x" * 43}).status_code == 403
    evil = c.post(
        f"/findings/{lts}/status", data={**form, "csrf_token": csrf}, headers={"Origin": "https://evil.example"}
    )
    assert evil.status_code == 403
    _error(c.post(f"/api/v1/findings/{lts}/status", json=form), 403)
    assert site.store.findings(None)[0] is not None
    assert {f.id: f.status for f in site.store.findings()}[lts] == "scheduled"
    ok = c.post(f"/findings/{lts}/status", data={**form, "csrf_token": csrf}, headers={"Origin": "http://testserver"})
    assert ok.status_code == 303
    assert {f.id: f.status for f in site.store.findings()}[lts] == "replaced"


def test_auditor_changes_a_finding_and_the_audit_log_shows_before_and_after(site: Site) -> None:
    c = client(site)
    csrf = login(c, "aud")
    lts = _finding_ids(site)["LTS"]
    answer = c.post(
        f"/findings/{lts}/status?back=/findings", data={"status": "replaced", "note": "PO 99 done", "csrf_token": csrf}
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/findings?done=status"
    entry = next(e for e in Accounts(site.store).audit_log() if e["action"] == "finding.status")
    assert entry["actor"] == "aud" and entry["target"] == f"finding:{lts}"
    assert entry["before"]["status"] == "scheduled" and entry["after"]["status"] == "replaced"
    page = c.get("/audit").text
    assert "finding.status" in page and "scheduled" in page and "replaced" in page
    history = site.store.history([lts])
    assert (history[-1].actor, history[-1].to_status, history[-1].reason) == ("aud", "replaced", "PO 99 done")


def test_waiver_needs_reason_and_future_expiry_and_reminds(site: Site) -> None:
    import datetime as dt

    c = client(site)
    csrf = login(c, "aud")
    lts = _finding_ids(site)["LTS"]
    headers = {"X-CSRF-Token": csrf}
    _error(
        c.post(f"/api/v1/findings/{lts}/waiver", json={"reason": "x", "expires": "2001-01-01"}, headers=headers), 400
    )
    _error(c.post(f"/api/v1/findings/{lts}/waiver", json={"reason": "", "expires": "2099-01-01"}, headers=headers), 422)
    soon = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    done = c.post(
        f"/api/v1/findings/{lts}/waiver", json={"reason": "vendor swap in Q1", "expires": soon}, headers=headers
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "waived" and done.json()["approver"] == "aud"
    overview = c.get("/").text
    assert "Waivers expiring within 30 days" in overview and "vendor swap in Q1" in overview
    findings = c.get("/api/v1/findings?status=waived").json()["items"]
    reminded = next(f for f in findings if f["id"] == lts)
    assert reminded["reminder"] is True and reminded["days_left"] == 10
    assert "expires in 10 days" in c.get("/findings").text


@pytest.mark.parametrize(
    ("user", "scope", "read", "write"),
    [
        pytest.param("aud", "read", 200, 403, id="auditor-read-token"),
        pytest.param("aud", "write", 200, 200, id="auditor-write-token"),
        pytest.param("vic", "write", 200, 403, id="viewer-write-token"),
        pytest.param("ada", "write", 200, 200, id="admin-write-token"),
    ],
)
def test_token_scopes(site: Site, user: str, scope: str, read: int, write: int) -> None:
    secret = _token(site, user, scope)
    c = client(site)
    headers = {"Authorization": f"Bearer {secret}"}
    assert c.get("/api/v1/devices", headers=headers).status_code == read
    lts = _finding_ids(site)["LTS"]
    answer = c.post(
        f"/api/v1/findings/{lts}/status", json={"status": "replaced", "note": "by script"}, headers=headers
    )  # no CSRF token: a bearer token is not sent by browsers on their own
    assert answer.status_code == write, answer.text
    with site.store.engine.connect() as connection:
        used = connection.execute(select(ApiTokenRow.last_used_at)).scalars().all()
    assert any(u is not None for u in used)


def test_revoked_or_unknown_token_is_refused(site: Site) -> None:
    secret = _token(site, "aud", "write")
    c = client(site)
    headers = {"Authorization": f"Bearer {secret}"}
    me = c.get("/api/v1/me", headers=headers).json()
    assert me == {"name": "aud", "role": "auditor", "via": "token", "scope": "write", "may": ["decide", "read"]}
    tokens = c.get("/api/v1/tokens", headers=headers).json()["items"]
    assert c.delete(f"/api/v1/tokens/{tokens[0]['id']}", headers=headers).status_code == 204
    _error(c.get("/api/v1/me", headers=headers), 401)
    _error(c.get("/api/v1/me", headers={"Authorization": "Bearer to_nope_nope"}), 401)
    _error(c.get("/api/v1/me", headers={"Authorization": "Basic YTpi"}), 401)


def test_tokens_created_in_the_account_page_are_shown_once(site: Site) -> None:
    c = client(site)
    csrf = login(c, "vic")
    answer = c.post("/account/tokens", data={"name": "laptop", "scope": "read", "csrf_token": csrf})
    assert answer.status_code == 201
    secret = answer.text.split('id="new-token">')[1].split("<")[0]
    assert secret.startswith("to_")
    assert secret not in c.get("/account").text
    assert c.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).json()["name"] == "vic"


# ---------------------------------------------------------------------------------------------- API objects


def test_device_pages_cover_every_device_once_in_order(site: Site) -> None:
    c = client(site)
    login(c, "vic")
    first = c.get("/api/v1/devices?limit=3&sort=host").json()
    total = first["total"]
    seen = [d["host"] for d in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = c.get("/api/v1/devices", params={"limit": 3, "sort": "host", "cursor": cursor}).json()
        seen += [d["host"] for d in page["items"]]
        cursor = page["next_cursor"]
    assert len(seen) == total == len(set(seen)) and seen == sorted(seen)
    desc = c.get("/api/v1/devices?sort=confidence&order=desc").json()["items"]
    assert [d["confidence"] for d in desc] == sorted((d["confidence"] for d in desc), reverse=True)


@pytest.mark.parametrize(
    ("query", "check"),
    [
        pytest.param("covered=yes", lambda d: d["covered"] == "yes", id="covered"),
        pytest.param("vendor=dahua", lambda d: d["vendor"] == "Dahua", id="vendor-case-insensitive"),
        pytest.param("relabeled=true", lambda d: d["relabeled"], id="relabeled"),
        pytest.param(
            "q=lts", lambda d: "lts" in (d["brand"] or "").lower() or "lt" in (d["model"] or "").lower(), id="search"
        ),
        pytest.param("status=scheduled", lambda d: d["status"] == "scheduled", id="status"),
    ],
)
def test_device_filters(site: Site, query: str, check: Any) -> None:
    c = client(site)
    login(c, "vic")
    items = c.get(f"/api/v1/devices?{query}").json()["items"]
    assert items and all(check(d) for d in items)


def test_device_detail_has_evidence_observations_history_and_kev(site: Site) -> None:
    c = client(site)
    login(c, "vic")
    hik = next(d for d in c.get("/api/v1/devices?q=198.18.0.10").json()["items"])
    device = c.get(f"/api/v1/devices/{hik['id']}").json()
    assert device["identification"]["evidence"][0]["rule"] == "hikvision.http.server.webs"
    assert any(o["cited"] for o in device["observations"])
    assert "\\x00" in next(o["text"] for o in device["observations"] if o["protocol"] == "hikvision-private")
    assert len(device["history"]) == 2
    assert [c["id"] for c in device["cves"]] == ["CVE-2017-7921"]
    page = c.get(f"/devices/{hik['id']}").text
    assert "Evidence chain" in page and "nmap-service-probes" in page and "CVE-2017-7921" in page


def test_hostile_device_text_is_shown_as_text(site: Site) -> None:
    c = client(site)
    login(c, "vic")
    device = c.get("/api/v1/devices", params={"q": HOSTILE_HOST}).json()["items"][0]
    for path in (f"/devices/{device['id']}", f"/devices?q={HOSTILE_HOST}", "/findings", "/devices"):
        html = c.get(path).text
        assert "<script>document.title" not in html, path
        assert "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;" in html, path


def test_scans_list_and_diff(site: Site) -> None:
    c = client(site)
    login(c, "vic")
    scans = c.get("/api/v1/scans").json()["items"]
    assert [s["id"] for s in scans] == [site.second_scan, site.first_scan]
    diff = c.get("/api/v1/scans/diff", params={"a": site.first_scan, "b": site.second_scan}).json()
    assert [i["host"] for i in diff["disappeared"]] == ["198.18.0.30"]
    assert HOSTILE_HOST in [i["host"] for i in diff["appeared"]]
    _error(c.get("/api/v1/scans/diff", params={"a": "nope", "b": site.second_scan}), 404)
    assert "198.18.0.30" in c.get("/scans/diff", params={"a": site.first_scan, "b": site.second_scan}).text


def test_kb_explain(site: Site) -> None:
    c = client(site)
    login(c, "vic")
    answer = c.get("/api/v1/kb/explain", params={"q": "LTS"}).json()
    assert answer["covered"] == "yes" and answer["vendor"] == "Hikvision" and answer["records"]
    assert "link:lts/hikvision" in [r["id"] for r in answer["records"]]
    page = c.get("/kb", params={"q": "LTS"}).text
    assert "link:lts/hikvision" in page and "ipvm" in page.lower()


@pytest.mark.parametrize("fmt", [pytest.param(name, id=name) for name in RENDERERS])
def test_reports_download_in_every_format(site: Site, fmt: str) -> None:
    c = client(site)
    login(c, "vic")
    answer = c.get(f"/api/v1/reports/{fmt}", params={"scan": site.second_scan})
    if fmt == "pdf" and answer.status_code == 400 and "WeasyPrint" in answer.text:
        missing("WeasyPrint's system libraries are missing (pango, harfbuzz)")
    assert answer.status_code == 200, answer.text
    assert "attachment" in answer.headers["content-disposition"]
    assert site.second_scan in answer.headers["content-disposition"]
    if fmt == "json":
        assert answer.json()["scan"]["id"] == site.second_scan
    if fmt in ("pdf", "far"):
        assert answer.content.startswith(b"%PDF")
    assert answer.headers["content-type"].split(";")[0] == RENDERERS[fmt].media_type.split(";")[0]


def test_screening_upload_review_and_decide(site: Site) -> None:
    c = client(site)
    csrf = login(c, "aud")
    headers = {"X-CSRF-Token": csrf}
    answer = c.post("/api/v1/screening", files={"file": ("assets.csv", INVENTORY.read_bytes())}, headers=headers)
    assert answer.status_code == 201, answer.text
    upload = answer.json()
    assert upload["summary"]["rows"] == 24 and upload["summary"]["covered"]["yes"] > 0
    assert upload["scan_id"] and any(s["id"] == upload["scan_id"] for s in c.get("/api/v1/scans").json()["items"])
    review = c.get(f"/api/v1/screening/{upload['id']}", params={"only": "review"}).json()["rows"]
    assert review and all(r["covered"] == "review" and r["decision"] is None for r in review)
    row = review[0]
    decided = c.post(
        f"/api/v1/screening/{upload['id']}/decisions",
        headers=headers,
        json={"key": row["key"], "covered": "no", "reason": "compatible accessory, not a camera"},
    )
    assert decided.status_code == 201, decided.text
    after = c.get(f"/api/v1/screening/{upload['id']}").json()["rows"]
    assert next(r for r in after if r["key"] == row["key"])["decision"]["covered"] == "no"
    assert row["key"] not in [r["key"] for r in c.get(f"/api/v1/screening/{upload['id']}?only=review").json()["rows"]]
    log = Accounts(site.store).audit_log()
    assert [e["action"] for e in log[:2]] == ["screening.decide", "screening.upload"]
    # A second upload of the same inventory applies the decision during screening.
    again = c.post("/api/v1/screening", files={"file": ("assets.csv", INVENTORY.read_bytes())}, headers=headers)
    assert again.json()["summary"]["decided"] >= 1
    _error(c.post("/api/v1/screening", files={"file": ("notes.exe", b"MZ")}, headers=headers), 400)


# ---------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("path", "status"),
    [
        pytest.param("/api/v1/devices/999999", 404, id="unknown-device"),
        pytest.param("/api/v1/devices?limit=0", 422, id="bad-limit"),
        pytest.param("/api/v1/devices?cursor=%%%", 400, id="bad-cursor"),
        pytest.param("/api/v1/devices?covered=maybe", 422, id="bad-enum"),
        pytest.param("/api/v1/findings/999999", 404, id="unknown-finding"),
        pytest.param("/api/v1/screening/nope", 404, id="unknown-upload"),
        pytest.param("/api/v1/nothing-here", 404, id="unknown-route"),
    ],
)
def test_errors_have_one_body(site: Site, path: str, status: int) -> None:
    c = client(site)
    login(c, "vic")
    _error(c.get(path), status)


def test_unauthenticated_api_gets_401_body(site: Site) -> None:
    error = _error(TestClient(client(site).app).get("/api/v1/devices"), 401)
    assert error["code"] == "unauthorized"


def test_openapi_documents_the_api(site: Site) -> None:
    document = client(site).get("/api/v1/openapi.json").json()
    paths = set(document["paths"])
    for wanted in (
        "/api/v1/devices",
        "/api/v1/devices/{device_id}",
        "/api/v1/findings/{finding_id}/status",
        "/api/v1/findings/{finding_id}/waiver",
        "/api/v1/scans",
        "/api/v1/scans/diff",
        "/api/v1/kb/explain",
        "/api/v1/reports/{fmt}",
        "/api/v1/screening",
        "/api/v1/screening/{upload_id}/decisions",
        "/api/v1/audit",
        "/api/v1/tokens",
    ):
        assert wanted in paths
    assert not any(p.startswith("/devices") for p in paths)  # pages are not part of the API document
    assert json.dumps(document)


def test_hidden_characters_in_device_text_are_made_visible(site: Site) -> None:
    from trueorigin.model import Identification

    sneaky = "Axis\u202e\u0007 camera"  # a right-to-left override and a bell, as a device could send them
    site.store.add_identification(
        site.second_scan, Identification(host="198.18.0.77", vendor="Axis", brand=sneaky, covered="no")
    )
    c = client(site)
    login(c, "vic")
    html = c.get("/devices", params={"q": "198.18.0.77"}).text
    assert "\u202e" not in html and "\u0007" not in html
    assert "Axis&lt;U+202E&gt;\\x07 camera" in html
