"""Dashboard latency at scale: N devices and M raw observations in PostgreSQL, 20 concurrent users.

    .venv/bin/python bench/serve.py [--devices 100000] [--observations 1000000] [--users 20] [--requests 30]

Creates a throwaway database on the PostgreSQL server at 127.0.0.1:5432 (trust auth; `--pg` to change), builds
the schema with `open_store`, bulk-loads synthetic devices (two scans: every device in the first, half of them
again in the second, so "latest identification" is real work), their observations, findings and history,
then starts `trueorigin serve` on 127.0.0.1 and runs a bounded request loop: each simulated user signs in
and requests the overview, a filtered device list and a device page in turn, `--requests` times each. It
prints p50/p95/max per page, and the same for a static file served by the same server as the peer baseline
(the ratio shows what the page's queries and rendering cost on top of the HTTP stack). The database is
dropped at the end. Traffic: 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from trueorigin.server.accounts import Accounts  # noqa: E402
from trueorigin.store.api import open_store  # noqa: E402

VENDORS = [
    ("Hikvision", "yes", "camera", ["Hikvision", "LTS", "Annke", None]),
    ("Dahua", "yes", "nvr", ["Dahua", "Lorex", "Amcrest", None]),
    ("Huawei", "yes", "ont", ["Huawei"]),
    ("Axis", "no", "camera", ["Axis"]),
    ("Hanwha Vision", "no", "camera", ["Hanwha"]),
    ("Ubiquiti", "no", "switch", ["Ubiquiti"]),
    (None, "no", "unknown", [None]),
]
SITES = [f"site-{i:02d}" for i in range(20)]
PASSWORD = "bench password 1234"


def _copy(cursor: object, sql: str, rows: list[tuple[object, ...]]) -> None:
    with cursor.copy(sql) as copy:  # type: ignore[attr-defined]
        for row in rows:
            copy.write_row(row)


def load(url: str, devices: int, observations: int, seed: int = 7) -> None:
    import psycopg

    rng = random.Random(seed)
    store = open_store(url)  # schema through the migrations, as in production
    Accounts(store).add_user("bench", "viewer", PASSWORD)
    store.close()
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    now = time.time()
    per_device = max(1, observations // devices)
    with psycopg.connect(dsn) as connection, connection.cursor() as cursor:
        _copy(cursor, "COPY sites (id, name, description) FROM STDIN", [(i + 1, s, "") for i, s in enumerate(SITES)])
        scans = [("bench-scan-1", now - 86400 * 7), ("bench-scan-2", now - 3600)]
        _copy(
            cursor,
            "COPY scans (id, kind, targets_json, options_json, site_id, status, started_at, finished_at, kb_version)"
            " FROM STDIN",
            [(sid, "network", '["198.18.0.0/15"]', "{}", None, "complete", t, t + 600, "bench") for sid, t in scans],
        )
        device_rows, ident_rows, obs_rows, finding_rows, history_rows = [], [], [], [], []
        ident_id = 0
        obs_id = 0
        for device_id in range(1, devices + 1):
            vendor, covered, kind, brands = VENDORS[rng.randrange(len(VENDORS))]
            if rng.random() < 0.05:
                covered = "review"
            brand = rng.choice(brands)
            host = f"10.{device_id // 65536}.{device_id // 256 % 256}.{device_id % 256}"
            mac = f"44:19:b6:{device_id // 65536 % 256:02x}:{device_id // 256 % 256:02x}:{device_id % 256:02x}"
            site_id = rng.randrange(len(SITES)) + 1
            device_rows.append((device_id, mac, None, host, site_id, now - 86400 * 7, now - 3600))
            seen_in = ["bench-scan-1"] + (["bench-scan-2"] if device_id % 2 == 0 else [])
            for scan_id in seen_in:
                ident_id += 1
                model = f"DS-2CD{rng.randrange(1000, 9999)}G0-I" if vendor == "Hikvision" else f"M{rng.randrange(100)}"
                doc = {
                    "host": host,
                    "vendor": vendor,
                    "brand": brand,
                    "covered": covered,
                    "regimes": ["ndaa-889", "fcc-covered-list"] if covered == "yes" else [],
                    "model": model,
                    "firmware": "V5.5.0",
                    "kind": kind,
                    "cves": [],
                    "confidence": 0.9,
                    "mac": mac,
                    "evidence": [
                        {
                            "claim": "web server is the vendor's embedded server",
                            "protocol": "http",
                            "port": 80,
                            "field": "http.header.server",
                            "value": "App-webs/",
                            "rule": "hikvision.http.server.webs",
                            "certainty": 0.85,
                            "sources": [{"url": "https://github.com/nmap/nmap", "title": "nmap", "date": ""}],
                        }
                    ],
                }
                ident_rows.append(
                    (
                        ident_id,
                        scan_id,
                        host,
                        device_id,
                        vendor,
                        brand,
                        covered,
                        model,
                        "V5.5.0",
                        kind,
                        mac,
                        None,
                        0.9,
                        now,
                        json.dumps(doc),
                    )
                )
            for index in range(per_device):
                obs_id += 1
                data = (
                    f"HTTP/1.1 200 OK\r\nServer: App-webs/\r\n\r\n<title>{brand or 'camera'} {index}</title>"
                ).encode()
                obs_rows.append(
                    (
                        obs_id,
                        seen_in[index % len(seen_in)],
                        host,
                        "http",
                        80,
                        "GET /",
                        "tcp",
                        "ok",
                        now,
                        data,
                        f"{obs_id:064x}",
                    )
                )
            if covered in ("yes", "review"):
                status = rng.choice(["open", "open", "open", "scheduled", "replaced", "waived"])
                finding_rows.append(
                    (
                        len(finding_rows) + 1,
                        device_id,
                        status,
                        None,
                        None,
                        None,
                        "bench-scan-1",
                        seen_in[-1],
                        now - 86400 * 7,
                        now,
                    )
                )
                history_rows.append((len(finding_rows), now - 86400 * 7, "scan", None, "open", None))
                if status != "open":
                    history_rows.append((len(finding_rows), now - 86400 * 3, "bench", "open", status, "bench"))
            if len(obs_rows) >= 200_000:
                _flush(cursor, device_rows, ident_rows, obs_rows)
        _flush(cursor, device_rows, ident_rows, obs_rows)
        _copy(
            cursor,
            "COPY findings (id, device_id, status, reason, approver, expires, first_scan_id, last_scan_id,"
            " created_at, updated_at) FROM STDIN",
            finding_rows,
        )
        _copy(
            cursor,
            "COPY finding_history (finding_id, changed_at, actor, from_status, to_status, reason) FROM STDIN",
            history_rows,
        )
        for table in ("sites", "devices", "identifications", "observations", "findings"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        connection.commit()
        connection.autocommit = True
        cursor.execute("VACUUM ANALYZE")


def _flush(cursor: object, device_rows: list, ident_rows: list, obs_rows: list) -> None:  # type: ignore[type-arg]
    _copy(cursor, "COPY devices (id, mac, serial, address, site_id, first_seen, last_seen) FROM STDIN", device_rows)
    _copy(
        cursor,
        "COPY identifications (id, scan_id, host, device_id, vendor, brand, covered, model, firmware, kind,"
        " mac, serial, confidence, identified_at, ident_json) FROM STDIN",
        ident_rows,
    )
    _copy(
        cursor,
        "COPY observations (id, scan_id, host, protocol, port, request, transport, status, observed_at,"
        " data, sha256) FROM STDIN",
        obs_rows,
    )
    device_rows.clear()
    ident_rows.clear()
    obs_rows.clear()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


OVERVIEW = "/"
DEVICE_LIST = "/devices?covered=yes&vendor=Hikvision&site=site-03&sort=last_seen&order=desc"
DEVICE_PAGE = "/devices/{id}"
STATIC = "/static/app.css"


async def _user(
    base: str, paths: list[str], requests: int, times: dict[str, list[float]], device_ids: list[int] | None = None
) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60, follow_redirects=False) as client:
        page = await client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        answer = await client.post(
            "/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token.group(1)}
        )
        assert answer.status_code == 303, answer.text
        for round_no in range(requests):
            for path in paths:
                started = time.perf_counter()
                answer = await client.get(path.format(id=device_ids[round_no]) if device_ids else path)
                elapsed = time.perf_counter() - started
                assert answer.status_code == 200, (path, answer.status_code)
                times.setdefault(path, []).append(elapsed)


def measure(url: str, users: int, requests: int, devices: int) -> dict[str, list[float]]:
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from trueorigin.cli import main; main()",
            "serve",
            "--db",
            url,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        rng = random.Random(11)
        device_ids = [rng.randrange(1, devices + 1) for _ in range(users * requests)]
        times: dict[str, list[float]] = {}
        # The overview is computed once per change of the data, then served from memory: time that first
        # computation on its own (one user), then the steady state under load.
        cold: dict[str, list[float]] = {}
        asyncio.run(_user(base, ["/"], 1, cold))
        print(f"overview, first computation after a data change (one user): {cold['/'][0] * 1000:.0f} ms")
        single: dict[str, list[float]] = {}
        asyncio.run(_user(base, [OVERVIEW, DEVICE_LIST, DEVICE_PAGE, STATIC], requests, single, device_ids))
        _table(f"1 user, {requests} requests per page (service time)", single)

        async def run() -> None:
            await asyncio.gather(
                *(
                    _user(base, [OVERVIEW, DEVICE_LIST, DEVICE_PAGE, STATIC], requests, times, device_ids[u::users])
                    for u in range(users)
                )
            )

        asyncio.run(run())
        _table(f"{users} concurrent users, {requests} requests per page each, one uvicorn process", times)
        return times
    finally:
        process.terminate()
        process.wait(timeout=30)


def _table(title: str, times: dict[str, list[float]]) -> None:
    out = io.StringIO()
    baseline = statistics.quantiles(times[STATIC], n=20, method="inclusive")[18]
    print(title, file=out)
    print(f"{'page':<78} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'p95/static':>10}", file=out)
    for path, values in times.items():
        p50 = statistics.median(values) * 1000
        p95 = statistics.quantiles(values, n=20, method="inclusive")[18] * 1000
        print(f"{path:<78} {p50:8.0f} {p95:8.0f} {max(values) * 1000:8.0f} {p95 / (baseline * 1000):10.1f}", file=out)
    print(out.getvalue(), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--observations", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--requests", type=int, default=30, help="requests per page per user")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--keep", action="store_true", help="keep the database (prints its name)")
    parser.add_argument("--reuse", default=None, help="measure on a database kept by an earlier --keep run")
    args = parser.parse_args()
    import psycopg

    name = args.reuse or "trueorigin_bench_serve_" + uuid.uuid4().hex[:8]
    if not re.fullmatch(r"trueorigin_bench_serve_[0-9a-f]{8}", name):
        raise SystemExit("--reuse takes a database name printed by an earlier --keep run")
    url = args.pg.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
    try:
        if args.reuse is None:
            with psycopg.connect(args.pg, autocommit=True) as admin:
                admin.execute(f"CREATE DATABASE {name}")
            started = time.perf_counter()
            load(url, args.devices, args.observations)
            print(
                f"loaded {args.devices:,} devices, {args.observations:,} observations in "
                f"{time.perf_counter() - started:.0f} s (database {name})"
            )
        measure(url, args.users, args.requests, args.devices)
        print(f"load average at the end: {' '.join(f'{v:.1f}' for v in os.getloadavg())} on {os.cpu_count()} CPUs")
    finally:
        if not args.keep:
            with psycopg.connect(args.pg, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


if __name__ == "__main__":
    main()
