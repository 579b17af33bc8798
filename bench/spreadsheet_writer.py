"""Cost of the neutralising CSV writer (trueorigin.spreadsheet) against pyarrow's plain CSV writer, same table.

    .venv/bin/python bench/spreadsheet_writer.py [--rows 1000000] [--formula-share 0.125]

The table looks like a screened inventory: a brand column (a share of its cells start with "=" and must be
guarded), a dictionary-encoded model column, a free-text column and a float. Prints the best of three runs of
each writer and the ratio.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv

from trueorigin.spreadsheet import CsvWriter

SLICE = 32_768


def make_table(rows: int, formula_share: float) -> pa.Table:
    rng = random.Random(7)
    brands = ["Hikvision", "Dahua", "Axis", "Cisco", "LTS", "Amcrest", "Ubiquiti"]
    models = [f"DS-2CD{rng.randint(1000, 9999)}G0-I" for _ in range(5000)]
    return pa.table(
        {
            "brand": [("=1+1" if rng.random() < formula_share else rng.choice(brands)) for _ in range(rows)],
            "model": pa.array([rng.choice(models) for _ in range(rows)]).dictionary_encode(),
            "description": [f"camera {i} in building {i % 50}" for i in range(rows)],
            "confidence": [rng.random() for _ in range(rows)],
        }
    )


def plain(table: pa.Table, path: Path) -> None:
    writer = None
    for batch in table.to_batches(max_chunksize=SLICE):
        writer = writer or pa_csv.CSVWriter(str(path), batch.schema)
        writer.write_batch(batch)
    if writer is not None:
        writer.close()


def neutralising(table: pa.Table, path: Path) -> None:
    writer = CsvWriter(path, table.column_names)
    for batch in table.to_batches(max_chunksize=SLICE):
        writer.write_arrow(pa.Table.from_batches([batch]))
    writer.close()


def best_of(runs: int, write: object, table: pa.Table, path: Path) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        write(table, path)  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--formula-share", type=float, default=0.125)
    args = parser.parse_args()
    table = make_table(args.rows, args.formula_share)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "out.csv"
        peer = best_of(3, plain, table, path)
        ours = best_of(3, neutralising, table, path)
    print(f"{args.rows:,} rows x {table.num_columns} columns, {args.formula_share:.1%} of brand cells a formula")
    print(f"pyarrow CSVWriter (no neutralising): {peer:.2f} s")
    print(f"trueorigin.spreadsheet.CsvWriter:    {ours:.2f} s  ({ours / peer:.2f}x)")


if __name__ == "__main__":
    main()
