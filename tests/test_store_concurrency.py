"""The store under real concurrent writers: several processes (multiprocessing, spawn) on one new database, on
SQLite and on a real PostgreSQL server. Before the fix, six processes opening a new SQLite store failed with
"table ... already exists" and concurrent imports of the same devices created duplicate devices and findings."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select

import pg_fixtures
import store_workers
from trueorigin.store import open_store
from trueorigin.store.models import DeviceRow, FindingRow, IdentificationRow

pytestmark = pytest.mark.xdist_group("store")
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
