"""Benchmark of `trueorigin screen`: generate a large inventory, screen it, report rows/s and peak memory.

    .venv/bin/python bench/screen.py                 # 10 million rows (the target: < 60 s, < 2 GB on 2 cores)
    .venv/bin/python bench/screen.py --rows 100000   # a quick run
    .venv/bin/python bench/screen.py --format parquet --keep /tmp/bench

The inventory is generated with DuckDB SQL from a fixed seed (hash of the row number), so every run with the
same --rows is the same file. It mixes covered makers and their OEM relabels, non-covered makers, misspellings,
Chinese names, compatibility accessories and rows with only a MAC address; the generator knows which rows a
correct screen must flag, and the report compares that known share with what the screen found.

Generation and screening run as separate child processes; the screening child (`trueorigin screen FILE --out
OUT.csv`) is reaped with os.wait4, whose rusage gives that process's own peak RSS and CPU time.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

# A product's description follows its model (as in a real register), with a few free-text variants, so the
# number of distinct (brand, model, description) values grows with the catalogue, not with the row count.
# (brand shown, model family, expected verdict, weight). Expected verdicts follow the knowledge base's
# records: covered makers and their sub-brands "yes"; OEM relabels and divested lines "yes"/"review";
# the rest "no". Weights make roughly a tenth of the inventory covered, as in a mixed enterprise estate.
BRANDS: list[tuple[str, str, str, int]] = [
    ("Hikvision", "hik", "yes", 30),
    ("HIKVISION", "hik", "yes", 5),
    ("Hikvison", "hik", "yes", 2),
    ("海康威视", "hik", "yes", 2),
    ("Dahua", "dahua", "yes", 20),
    ("Dahua Technology", "dahua", "yes", 3),
    ("浙江大华技术股份有限公司", "dahua", "yes", 1),
    ("Huawei", "huawei", "yes", 15),
    ("ZTE", "zte", "yes", 8),
    ("EZVIZ", "ezviz", "yes", 3),
    ("Amcrest", "amcrest", "flag", 6),
    ("LTS", "lts", "flag", 3),
    ("Lorex", "lorex", "flag", 3),
    ("Axis", "axis", "no", 60),
    ("Cisco", "cisco", "no", 120),
    ("HP", "hp", "no", 150),
    ("Dell", "dell", "no", 150),
    ("Lenovo", "lenovo", "no", 100),
    ("Ubiquiti", "ubnt", "no", 40),
    ("Bosch", "bosch", "no", 30),
    ("Hanwha Vision", "hanwha", "no", 20),
    ("Canon", "canon", "no", 40),
    ("Dahuang Foods", "misc", "no", 2),
    ("Hikari", "misc", "no", 2),
    ("Generic", "accessory", "no", 25),
    ("", "bare", "no", 10),
]

MODEL_SQL = """
CASE family
  WHEN 'hik' THEN 'DS-2CD' || (1000 + h2 % 2000)::VARCHAR || 'G0-I' || (CASE WHEN h3 % 2 = 0 THEN 'UF' ELSE '' END)
  WHEN 'dahua' THEN 'IPC-HDW' || (1000 + h2 % 4000)::VARCHAR || 'EM-AS'
  WHEN 'huawei' THEN 'AR' || (100 + h2 % 900)::VARCHAR
  WHEN 'zte' THEN 'ZXHN F' || (600 + h2 % 100)::VARCHAR
  WHEN 'ezviz' THEN 'CS-C' || (1 + h2 % 9)::VARCHAR || 'N'
  WHEN 'amcrest' THEN 'IP' || (2 + h2 % 7)::VARCHAR || 'M-' || (2000 + h2 % 600)::VARCHAR || 'EB'
  WHEN 'lts' THEN 'LTN' || (7600 + (h2 % 4) * 1000)::VARCHAR || '-P' || (4 + h2 % 13)::VARCHAR
  WHEN 'lorex' THEN 'LNB' || (4000 + h2 % 5000)::VARCHAR || 'B'
  WHEN 'axis' THEN 'P' || (3200 + h2 % 300)::VARCHAR || '-LVE'
  WHEN 'cisco' THEN 'C9' || (200 + h2 % 300)::VARCHAR || '-' || (24 + (h2 % 2) * 24)::VARCHAR || 'T'
  WHEN 'hp' THEN 'EliteBook ' || (800 + h2 % 100)::VARCHAR || ' G' || (1 + h2 % 9)::VARCHAR
  WHEN 'dell' THEN 'Latitude ' || (5000 + h2 % 600)::VARCHAR
  WHEN 'lenovo' THEN 'ThinkPad T' || (400 + h2 % 100)::VARCHAR
  WHEN 'ubnt' THEN 'UVC-G' || (3 + h2 % 3)::VARCHAR || '-PRO'
  WHEN 'bosch' THEN 'NDE-' || (3000 + h2 % 3000)::VARCHAR || '-AL'
  WHEN 'hanwha' THEN 'XNV-' || (6000 + h2 % 3000)::VARCHAR || 'RZ'
  WHEN 'canon' THEN 'imageRUNNER C' || (3000 + h2 % 900)::VARCHAR
  WHEN 'accessory' THEN 'MNT-' || (10 + h2 % 90)::VARCHAR
  ELSE ''
END
"""

DESCRIPTION_SQL = """
CASE family
  WHEN 'accessory' THEN (['Wall mount for Hikvision dome cameras', 'Junction box compatible with Dahua IPC-HDW series',
                          'Power supply, works with Hikvision NVR', 'PoE injector', 'Cable tray'])[1 + h3 % 5]
  WHEN 'bare' THEN 'Unlabeled network device'
  WHEN 'misc' THEN (['Snack vending machine', 'LED bulb', 'Coffee machine'])[1 + h3 % 3]
  ELSE (['network camera', 'dome camera', 'bullet camera', 'NVR', 'router', 'switch', 'laptop', 'printer'])[1 + h2 % 8]
       || ' ' || (2 + h2 % 7)::VARCHAR || 'MP' || (['', ' outdoor', ' (spare)', ' - replaced 2024'])[1 + h3 % 4]
END
"""

# Real IEEE MA-L blocks (from docs/research/oui-covered.tsv: IEEE Registration Authority listings via
# github.com/aburrido/ieee-mac-new, 2026-05-21): Hikvision 04:03:12, Huawei 00:18:82, Dahua 40:7A:A4 (as given
# there); the others are random locally administered addresses (second hex digit 2), which no registry lists.
MAC_SQL = """
CASE
  WHEN h4 % 10 >= 6 THEN ''
  WHEN family = 'hik' THEN '04:03:12'
  WHEN family = 'huawei' THEN '00:18:82'
  WHEN family = 'dahua' THEN '40:7A:A4'
  WHEN family = 'bare' AND h4 % 2 = 0 THEN '00:18:82'
  ELSE '02:' || printf('%02X:%02X', h4 % 256, (h4 >> 8) % 256)
END || CASE WHEN h4 % 10 >= 6 THEN '' ELSE printf(':%02X:%02X:%02X', (h4 >> 16) % 256, (h4 >> 24) % 256,
                                                                        (h4 >> 32) % 256) END
"""


def generate(path: Path, rows: int, fmt: str) -> None:
    """Write the inventory (CSV or Parquet) with DuckDB, deterministically."""
    connection = duckdb.connect()
    connection.execute("SET preserve_insertion_order = true")
    connection.execute("CREATE TABLE brands (id INTEGER, name VARCHAR, family VARCHAR, expected VARCHAR)")
    weighted: list[tuple[int, str, str, str]] = []
    for brand, family, expected, weight in BRANDS:
        weighted.extend((len(weighted), brand, family, expected) for _ in range(weight))
    connection.executemany("INSERT INTO brands VALUES (?, ?, ?, ?)", weighted)
    count = len(weighted)
    query = f"""
        WITH r AS (
            SELECT i, (hash(i * 31 + 1) >> 1)::BIGINT AS h1, (hash(i * 31 + 2) >> 1)::BIGINT AS h2,
                   (hash(i * 31 + 3) >> 1)::BIGINT AS h3, (hash(i * 31 + 4) >> 1)::BIGINT AS h4
            FROM range({rows}) t(i)
        ), rows AS (
            SELECT r.i, b.name, b.family, b.expected, r.h2, r.h3, r.h4
            FROM r JOIN brands b ON b.id = r.h1 % {count}
        )
        SELECT 'A-' || lpad(i::VARCHAR, 9, '0') AS "Asset Tag", name AS "Manufacturer",
               {MODEL_SQL} AS "Model Number", {DESCRIPTION_SQL} AS "Description", {MAC_SQL} AS "MAC Address",
               'Site ' || (h4 % 97)::VARCHAR AS "Location"
        FROM rows ORDER BY i
    """
    if fmt == "parquet":
        connection.execute(f"COPY ({query}) TO '{path}' (FORMAT PARQUET)")
    else:
        connection.execute(f"COPY ({query}) TO '{path}' (HEADER, DELIMITER ',')")
    connection.close()


def confusion(screened: Path) -> list[tuple[str, str, int]]:
    """(expected, screened verdict, rows): what a correct screen must say, from the generator's brand table,
    against what the screen said. Rows with no brand but a Huawei MAC are expected as "review" (OUI only)."""
    connection = duckdb.connect()
    connection.execute("CREATE TABLE brands (name VARCHAR, expected VARCHAR)")
    connection.executemany("INSERT INTO brands VALUES (?, ?)", [(b, e) for b, _, e, _ in BRANDS])
    rows = connection.execute(f"""
        SELECT CASE WHEN coalesce(s."Manufacturer", '') = '' AND s."MAC Address" LIKE '00:18:82%' THEN 'flag'
                    ELSE b.expected END AS expected, s.covered, count(*)
        FROM read_csv('{screened}', header = true, all_varchar = true) s
        LEFT JOIN brands b ON b.name = coalesce(s."Manufacturer", '')
        GROUP BY ALL ORDER BY ALL
    """).fetchall()
    connection.close()
    return [(str(e), str(c), int(n)) for e, c, n in rows]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    parser.add_argument("--keep", type=Path, help="directory to keep the generated inventory and output in")
    parser.add_argument("--generate-only", type=Path, help=argparse.SUPPRESS)  # used by main() itself
    args = parser.parse_args()
    if args.rows < 1:
        parser.error("--rows must be positive")
    if args.generate_only:
        generate(args.generate_only, args.rows, args.format)
        return 0

    with tempfile.TemporaryDirectory(prefix="trueorigin-bench-") as temp:
        folder = args.keep or Path(temp)
        folder.mkdir(parents=True, exist_ok=True)
        inventory = folder / f"inventory-{args.rows}.{args.format}"
        out = folder / f"screened-{args.rows}.csv"
        # The generator runs in its own process: a child forked from a process that had just used DuckDB's
        # memory would count that memory in its own peak RSS until it execs.
        started = time.perf_counter()
        generator = [sys.executable, __file__, "--rows", str(args.rows), "--format", args.format]
        subprocess.run([*generator, "--generate-only", str(inventory)], check=True)
        generated = time.perf_counter() - started
        print(f"generated {args.rows:,} rows in {generated:.1f} s: {inventory} ({inventory.stat().st_size >> 20} MiB)")

        peer = _duckdb_scan(inventory, args.format)
        print(
            f"DuckDB's own scan of the same file (read every column, {peer['threads']:.0f} threads): "
            f"{peer['seconds']:.1f} s, peak RSS {peer['peak_mib']:,.0f} MiB"
        )

        trueorigin = str(Path(sys.executable).parent / "trueorigin")
        command = [trueorigin, "screen", str(inventory), "--out", str(out), "--no-decisions"]
        log = folder / f"screen-{args.rows}.log"
        started = time.perf_counter()
        with log.open("w", encoding="utf-8") as output:
            child = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=_env())
            _, status, usage = os.wait4(child.pid, 0)  # this child's own resource usage
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        report = log.read_text(encoding="utf-8")
        if child.returncode not in (0, 1, 3):  # completed: clean, covered rows, rows to review (README)
            print(report)
            print(f"screening failed with exit code {child.returncode}")
            return 1
        peak_bytes = usage.ru_maxrss * 1024  # Linux reports KiB
        cpu_seconds = usage.ru_utime + usage.ru_stime

        print(report[-3000:])
        print(
            f"screened {args.rows:,} rows in {seconds:.1f} s (whole process, including start-up): "
            f"{args.rows / seconds:,.0f} rows/s, peak RSS {peak_bytes / 2**20:,.0f} MiB, "
            f"CPU {cpu_seconds:.1f} s (user + system; wall time also depends on other load: {_load()})"
        )
        print(
            f"ratio screen / DuckDB scan: {seconds / peer['seconds']:.1f}x wall, "
            f"{cpu_seconds / max(peer['cpu'], 1e-9):.1f}x CPU"
        )
        print("expected (yes: covered maker; flag: yes or review; no) x screened verdict:")
        for expected, covered, count in confusion(out):
            print(f"  expected {expected:<5} screened {covered:<7} {count:>12,}")
    return 0


_SCAN = """
import sys, time, duckdb
path, fmt = sys.argv[1], sys.argv[2]
source = f"read_parquet('{path}')" if fmt == "parquet" else f"read_csv('{path}', header = true, all_varchar = true)"
connection = duckdb.connect()
connection.execute("SET enable_progress_bar = false")
threads = int(str(connection.execute("SELECT current_setting('threads')").fetchone()[0]).split()[0])
columns = [row[0] for row in connection.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
total = " + ".join(f'coalesce(length("{c}"), 0)' for c in columns)
started = time.perf_counter()
connection.execute(f"SELECT count(*), sum({total}) FROM {source}").fetchall()
print(time.perf_counter() - started, threads)
"""


def _duckdb_scan(path: Path, fmt: str) -> dict[str, float]:
    """DuckDB reading every column of the same file (the peer the screen is measured against), in a child
    process so that its peak RSS and CPU are its own."""
    child = subprocess.Popen([sys.executable, "-c", _SCAN, str(path), fmt], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("the DuckDB scan failed")
    seconds, threads = output.split()[-2:]
    return {
        "seconds": float(seconds),
        "threads": float(threads),
        "peak_mib": usage.ru_maxrss / 1024,
        "cpu": usage.ru_utime + usage.ru_stime,
    }


def _load() -> str:
    try:
        return "load average " + Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "load unknown"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["COLUMNS"] = "120"
    return env


if __name__ == "__main__":
    raise SystemExit(main())
