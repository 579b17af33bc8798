"""The store under real concurrent writers: several processes (multiprocessing, spawn) on one new database, on
SQLite and on a real PostgreSQL server. Before the fix, six processes opening a new SQLite store failed with
"table ... already exists" and concurrent imports of the same devices created duplicate devices and findings."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import IntegrityError

import pg_fixtures
import store_workers
from store_samples import sample_identifications
from trueorigin.store import open_store
from trueorigin.store.models import DeviceRow, FindingRow, IdentificationRow

pytestmark = pytest.mark.xdist_group("store-concurrency")  # long: runs beside the other store tests
pg_server = pg_fixtures.pg_server
store_url = pg_fixtures.store_url


def _run(workers: int, target: Any, *args: Any) -> list[tuple[str, str]]:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(workers)
    results = ctx.Queue()
    processes = [ctx.Process(target=target, args=(*args, barrier, results)) for _ in range(workers)]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=600) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    return outcomes


def test_six_processes_opening_a_new_store_create_the_schema_once(store_url: str) -> None:
    outcomes = _run(6, store_workers.open_only, store_url)
    assert [message for status, message in outcomes if status != "ok"] == []
    with open_store(store_url) as store:
        assert store.scans() == []


@pytest.mark.parametrize(
    ("workers", "site"),
    [pytest.param(3, None, id="3-imports-no-site"), pytest.param(4, "hq", id="4-scans-one-site")],
)
def test_concurrent_writers_of_the_same_devices_never_duplicate(store_url: str, workers: int, site: str | None) -> None:
    hosts = 150
    outcomes = _run(workers, store_workers.import_hosts, store_url, hosts, site)
    assert [message for status, message in outcomes if status != "ok"] == []
    engine = create_engine(store_url)
    with engine.connect() as connection:
        devices = connection.execute(select(func.count()).select_from(DeviceRow)).scalar_one()
        findings_per_device = Counter(connection.scalars(select(FindingRow.device_id)))
        idents = connection.execute(select(IdentificationRow.scan_id, IdentificationRow.device_id)).all()
    engine.dispose()
    assert devices == hosts, "one device per host, whatever the interleaving"
    assert len(findings_per_device) == hosts and set(findings_per_device.values()) == {1}
    # Every scan saw every host, each on its own device.
    devices_per_scan = Counter(scan_id for scan_id, _ in idents)
    assert sorted(devices_per_scan.values()) == [hosts] * workers
    assert len({device for _, device in idents}) == hosts


def _alembic(url: str, action: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(open_store.__code__.co_filename).parent / "migrations"))
    engine = create_engine(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)
    engine.dispose()


def test_migration_0002_merges_devices_that_concurrent_writers_duplicated(store_url: str) -> None:
    with open_store(store_url) as store:
        scans = [store.create_scan("import", [], {}, site="hq") for _ in range(3)]
        camera, nvr = sample_identifications()[:2]
        store.add_identification(scans[0], replace(camera, mac=None, serial=None))
        router_mac = "00:11:22:33:44:55"  # two devices behind one router's MAC in one scan: distinct on purpose
        store.add_identification(scans[0], replace(nvr, host="198.18.0.40", mac=router_mac, serial=None))
        store.add_identification(scans[0], replace(nvr, host="198.18.0.41", mac=router_mac, serial=None))
    _alembic(store_url, "downgrade", "0002_store_integrity-1")  # the store as it was before 0002
    engine = create_engine(store_url)
    with engine.begin() as connection:  # what the race left: the camera again as a new device in scans 1 and 2
        original = connection.execute(text("SELECT * FROM devices WHERE address = :a"), {"a": camera.host}).one()
        finding = connection.execute(text("SELECT * FROM findings WHERE device_id = :d"), {"d": original.id}).one()
        for number, scan_id in enumerate(scans[1:], start=1):
            device_id = connection.execute(
                text(
                    "INSERT INTO devices (mac, serial, address, site_id, first_seen, last_seen) "
                    "VALUES (NULL, NULL, :a, :s, :t, :t) RETURNING id"
                ),
                {"a": camera.host, "s": original.site_id, "t": original.first_seen + number},
            ).scalar_one()
            connection.execute(
                text(
                    "INSERT INTO identifications (scan_id, host, device_id, covered, confidence, identified_at, "
                    "ident_json) SELECT :scan, host, :device, covered, confidence, identified_at, ident_json "
                    "FROM identifications WHERE device_id = :original"
                ),
                {"scan": scan_id, "device": device_id, "original": original.id},
            )
            finding_id = connection.execute(
                text(
                    "INSERT INTO findings (device_id, status, first_scan_id, last_scan_id, created_at, updated_at) "
                    "VALUES (:d, :status, :scan, :scan, :t, :t) RETURNING id"
                ),
                {
                    "d": device_id,
                    "status": "open" if number == 1 else "remediated",
                    "scan": scan_id,
                    "t": finding.created_at + number,
                },
            ).scalar_one()
            connection.execute(
                text(
                    "INSERT INTO finding_history (finding_id, changed_at, actor, to_status) "
                    "VALUES (:f, :t, 'x', 'open')"
                ),
                {"f": finding_id, "t": finding.created_at + number},
            )
            connection.execute(text("INSERT INTO device_tags (device_id, tag) VALUES (:d, 'lobby')"), {"d": device_id})
    engine.dispose()
    with open_store(store_url) as store:  # upgrades to head: 0002 merges, then the unique indexes hold
        findings = store.findings()
        camera_findings = [f for f in findings if f.identification.host == camera.host]
        assert len(camera_findings) == 1
        merged = camera_findings[0]
        assert merged.status == "remediated"  # the most recently changed duplicate's status wins
        assert merged.tags == ("lobby",)
        assert {
            device
            for scan_id in scans
            for device, ident in store.device_identifications(scan_id)
            if ident.host == camera.host
        } == {merged.device_id}
        history = store.history([merged.id])
        assert len(history) == 1 + 2 + 1  # its own, the two merged ones', and the merge itself
        assert any("merged duplicate finding" in (entry.reason or "") for entry in history)
        router_devices = {device for device, ident in store.device_identifications(scans[0]) if ident.mac}
        assert len(router_devices) == 2
        # The database itself now refuses a second key-less device at the camera's address.
        engine = create_engine(store_url)
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO devices (mac, serial, address, site_id, first_seen, last_seen) "
                    "SELECT NULL, NULL, address, site_id, 0, 0 FROM devices WHERE id = :d"
                ),
                {"d": merged.device_id},
            )
        engine.dispose()


def test_six_trueorigin_imports_at_once_on_a_new_store(tmp_path: Path) -> None:
    """The reported case end to end: `trueorigin import` six times at once on a database that does not exist."""
    nmap = Path(__file__).parent / "data" / "passive" / "nmap-hikvision.xml"
    db = tmp_path / "new.db"
    cli = "from trueorigin.cli import main; main()"
    command = [sys.executable, "-c", cli, "import", str(nmap), "--json", "--db", str(db)]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(6)]
    outcomes = [(run.wait(timeout=600), run.stderr.read() if run.stderr else "") for run in runs]
    for run in runs:
        for stream in (run.stdout, run.stderr):
            if stream:
                stream.close()
    assert [(code, err) for code, err in outcomes if code not in (0, 1)] == []
    with open_store(str(db), create=False) as store:
        scans = store.scans()
        hosts = {ident.host for scan in scans for ident in store.identifications(scan.id)}
        assert len(scans) == 6
        devices = {device for scan in scans for device, _ in store.device_identifications(scan.id)}
        assert len(devices) == len(hosts)
        assert len(store.findings()) == len({f.device_id for f in store.findings()})
