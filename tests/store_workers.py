"""Workers for the store's concurrency tests: each runs in its own process (multiprocessing, spawn) and writes
through the public Store API, as concurrent `trueorigin import` / `scan` runs do."""

from __future__ import annotations

import importlib
from dataclasses import replace
from typing import Any

from store_samples import sample_identifications
from trueorigin.store import open_store


def device_fields(index: int) -> dict[str, Any]:
    """The identity a host shows: a third with a MAC, a third with only a serial, a third with neither."""
    kind = index % 3
    if kind == 0:
        return {"mac": f"02:00:00:00:{index // 256:02x}:{index % 256:02x}", "serial": None}
    if kind == 1:
        return {"mac": None, "serial": f"SN{index:06d}"}
    return {"mac": None, "serial": None}


def host_of(index: int) -> str:
    return f"198.18.{index // 250}.{index % 250 + 1}"


def import_hosts(url: str, hosts: int, site: str | None, barrier: Any, results: Any) -> None:
    """Open the store (a new database: the schema is created here, racing the other workers), then record one
    scan identifying `hosts` covered devices, the same devices every worker sees."""
    try:
        barrier.wait(timeout=120)
        store = open_store(url)
        barrier.wait(timeout=120)  # all open, then all write at once
        scan_id = store.create_scan("import", ["hosts.xml"], {}, site=site)
        base = replace(sample_identifications()[0], covered="yes")
        for index in range(hosts):
            store.add_identification(scan_id, replace(base, host=host_of(index), **device_fields(index)))
            store.finish_host(scan_id, host_of(index))
        store.finish_scan(scan_id)
        store.close()
        results.put(("ok", scan_id))
    except BaseException as exc:  # reported to the parent, which fails the test with the message
        results.put(("error", f"{type(exc).__name__}: {exc}"))


def open_only(url: str, barrier: Any, results: Any) -> None:
    """Just open a new store at the same moment as the others (the migration race)."""
    # Imported before the barrier so every worker reaches the migration at the same moment.
    importlib.import_module("alembic.command")
    try:
        barrier.wait(timeout=120)
        open_store(url).close()
        results.put(("ok", ""))
    except BaseException as exc:
        results.put(("error", f"{type(exc).__name__}: {exc}"))
