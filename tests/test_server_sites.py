"""Sites through the server's API: sensor health and jobs for every role, schedules changed by an admin only,
each change in the audit log (before -> after)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from server_fixtures import Site, client, copy_site, make_site
from test_server import _token
from trueorigin.sites.messages import Heartbeat
from trueorigin.sites.service import Sites, audit_request

pytestmark = pytest.mark.xdist_group("server")


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sites-server-template")
    make_site(folder).store.close()
    return folder / "server.db"


@pytest.fixture
def site(tmp_path: Path, template_db: Path) -> Site:
    return copy_site(template_db, tmp_path)


def test_sensor_health_and_jobs_are_readable_by_a_viewer(site: Site) -> None:
    sites = Sites(site.store)
    sites.heartbeat(Heartbeat(site="north", sensor="s1", version="0.1.0", state="idle", time=time.time()))
    job = sites.create_job("north", audit_request("north", ["198.18.0.0/28"], ports=[80]))
    headers = {"Authorization": f"Bearer {_token(site, 'vic', 'read')}"}
    c = client(site)
    sensors = c.get("/api/v1/sites/sensors", headers=headers).json()["items"]
    assert [(s["site"], s["name"], s["healthy"]) for s in sensors] == [("north", "s1", True)]
    jobs = c.get("/api/v1/sites/jobs", params={"site": "north"}, headers=headers).json()["items"]
    assert [(j["id"], j["status"]) for j in jobs] == [(job.job_id, "queued")]


def test_schedules_are_an_admins_and_audited(site: Site) -> None:
    c = client(site)
    body = {"site": "north", "cron": "0 2 * * 1", "targets": ["198.18.0.0/28"]}
    viewer = {"Authorization": f"Bearer {_token(site, 'vic', 'write')}"}
    assert c.post("/api/v1/sites/schedules", json=body, headers=viewer).status_code == 403
    admin = {"Authorization": f"Bearer {_token(site, 'ada', 'write')}"}
    created = c.post("/api/v1/sites/schedules", json=body, headers=admin)
    assert created.status_code == 201, created.text
    schedule_id = created.json()["id"]
    bad = c.post("/api/v1/sites/schedules", json={**body, "cron": "every monday"}, headers=admin)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid"
    changed = c.patch(f"/api/v1/sites/schedules/{schedule_id}", json={"enabled": False}, headers=admin)
    assert changed.status_code == 200 and changed.json()["enabled"] is False
    assert c.patch("/api/v1/sites/schedules/999999", json={"enabled": True}, headers=admin).status_code == 404
    listed = c.get("/api/v1/sites/schedules", headers=viewer).json()["items"]
    assert [(s["id"], s["enabled"]) for s in listed] == [(schedule_id, False)]
    log = c.get("/api/v1/audit", headers=admin).json()["items"]
    actions = [entry["action"] for entry in log]
    assert "schedule.add" in actions and "schedule.change" in actions


def test_sites_page_shows_sensors_jobs_and_schedules_as_text(site: Site) -> None:
    sites = Sites(site.store)
    hostile = "<script>alert(1)</script>"
    sites.heartbeat(Heartbeat(site="north", sensor=hostile, version="0.1.0", state="idle", time=time.time()))
    sites.add_schedule("north", "0 2 * * 1", audit_request("north", ["198.18.0.0/28"], ports=[80]))
    c = client(site)
    from server_fixtures import login

    login(c, "vic")
    page = c.get("/sites")
    assert page.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and hostile not in page.text
    assert "0 2 * * 1" in page.text and "198.18.0.0/28" in page.text
