"""A filled store with three users for the server tests, and helpers to sign in and read CSRF tokens.

The data: the report tests' two scans of site hq (`test_report.fill_store`: direct and relabeled covered
devices, a waiver, a removed ONT) plus one hostile device whose web page title is a script element, as a device
could send it (the store keeps it byte for byte; the server must show it as text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from fastapi.testclient import TestClient

from test_report import fill_store
from trueorigin.model import Evidence, Identification, Observation
from trueorigin.server import ServerSettings, create_app
from trueorigin.server.accounts import Accounts
from trueorigin.store import Store, open_store

PASSWORD = "correct horse battery"
HOSTILE_TITLE = "<script>document.title='pwned'</script>"
HOSTILE_HTTP = (
    b"HTTP/1.1 200 OK\r\nServer: App-webs/\r\nContent-Type: text/html\r\n\r\n<html><head><title>"
    + HOSTILE_TITLE.encode()
    + b"</title></head></html>"
)
HOSTILE_HOST = "198.18.0.66"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_hostile_device(store: Store, scan_id: str) -> None:
    observation = Observation(host=HOSTILE_HOST, protocol="http", data=HOSTILE_HTTP, port=80)
    store.add_observations(scan_id, HOSTILE_HOST, [observation])
    store.add_identification(
        scan_id,
        Identification(
            host=HOSTILE_HOST,
            vendor="Hikvision",
            brand=HOSTILE_TITLE,
            covered="yes",
            regimes=("ndaa-889",),
            model=HOSTILE_TITLE,
            kind="camera",
            confidence=0.85,
            evidence=(
                Evidence(
                    claim="web title shows brand " + HOSTILE_TITLE,
                    protocol="http",
                    port=80,
                    field="http.title",
                    value=HOSTILE_TITLE,
                    rule="hikvision.http.server.webs",
                    certainty=0.85,
                    observation_sha256=observation.sha256,
                ),
            ),
            mac="44:19:b6:00:00:66",
        ),
    )


@dataclass
class Site:
    url: str
    store: Store
    first_scan: str
    second_scan: str


def make_site(tmp_path: Path, url: str | None = None) -> Site:
    store_url = url or f"sqlite:///{tmp_path / 'server.db'}"
    store = open_store(store_url)
    first, second = fill_store(store)
    add_hostile_device(store, second)
    accounts = Accounts(store)
    for name, role in (("ada", "admin"), ("aud", "auditor"), ("vic", "viewer")):
        accounts.add_user(name, role, PASSWORD)
    return Site(store_url, store, first, second)


def copy_site(template: Path, tmp_path: Path) -> Site:
    """A copy of a store made by `make_site` (hashing passwords and filling the store once per module)."""
    import shutil

    from sqlalchemy import text

    engine_url = f"sqlite:///{template}"
    with open_store(engine_url) as store, store.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        scans = [r[0] for r in connection.execute(text("SELECT id FROM scans ORDER BY started_at, id"))]
    target = tmp_path / "server.db"
    shutil.copyfile(template, target)
    url = f"sqlite:///{target}"
    return Site(url, open_store(url), scans[0], scans[1])


def client(site: Site, settings: ServerSettings | None = None) -> TestClient:
    return TestClient(create_app(site.store, settings), follow_redirects=False)


def login(test_client: TestClient, name: str, password: str = PASSWORD) -> str:
    """Sign in through the form; returns the session's CSRF token (from a page's form)."""
    page = test_client.get("/login")
    token = CSRF_INPUT.search(page.text)
    assert token is not None
    answer = test_client.post("/login", data={"username": name, "password": password, "csrf_token": token.group(1)})
    assert answer.status_code == 303, answer.text
    return csrf_of(test_client)


def csrf_of(test_client: TestClient) -> str:
    page = test_client.get("/account")
    assert page.status_code == 200, page.text
    found = CSRF_INPUT.search(page.text)
    assert found is not None
    return found.group(1)
