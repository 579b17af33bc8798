"""The background reader and writer of a screening run (order kept, errors raised where they belong) and the
engine's combination of per-column ids."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trueorigin.screen.overlap import BackgroundWriter, prefetch


def _numbers(count: int, fail_at: int | None = None) -> Iterator[int]:
    for number in range(count):
        if number == fail_at:
            raise ValueError(f"broken at {number}")
        yield number


@pytest.mark.parametrize("depth", [pytest.param(1, id="depth-1"), pytest.param(3, id="depth-3")])
def test_prefetch_keeps_order(depth: int) -> None:
    assert list(prefetch(_numbers(50), depth)) == list(range(50))


def test_prefetch_raises_at_the_failing_item() -> None:
    seen: list[int] = []
    with pytest.raises(ValueError, match="broken at 7"):
        for number in prefetch(_numbers(20, fail_at=7)):
            seen.append(number)
    assert seen == list(range(7))


def test_prefetch_closed_early_stops_its_thread() -> None:
    before = threading.active_count()
    items = prefetch(_numbers(10_000))
    assert next(items) == 0
    items.close()  # type: ignore[attr-defined]
    assert threading.active_count() == before


class _ListWriter:
    def __init__(self, fail_at: int | None = None) -> None:
        self.rows: list[Any] = []
        self.closed = False
        self.fail_at = fail_at

    def write(self, table: Any, row_numbers: list[int]) -> None:
        if table == self.fail_at:
            raise OSError("disk full")
        self.rows.append((table, row_numbers))

    def close(self) -> None:
        self.closed = True


def test_background_writer_writes_everything_in_order() -> None:
    inner = _ListWriter()
    writer = BackgroundWriter(inner)
    for number in range(30):
        writer.write(number, [number])
    writer.close()
    assert inner.rows == [(n, [n]) for n in range(30)]
    assert inner.closed


def test_background_writer_raises_the_error_and_still_closes() -> None:
    inner = _ListWriter(fail_at=3)
    writer = BackgroundWriter(inner)
    try:
        with pytest.raises(OSError, match="disk full"):
            for number in range(10):
                writer.write(number, [number])
            writer.close()
    finally:
        writer.close()  # as the CLI does in its finally: the inner writer is closed either way
    assert inner.rows == [(n, [n]) for n in range(3)]
    assert inner.closed


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3), st.integers(0, 2**31 - 1)), min_size=1, max_size=60))
def test_combination_ids_are_equal_exactly_when_the_rows_are(rows: list[tuple[int, int, int]]) -> None:
    """engine._combine: one id per row, the same id exactly for the same tuple of component ids, and the
    distinct combinations decode back to the tuples."""
    import pyarrow as pa

    from trueorigin.screen.engine import _combine

    columns = [pa.array([row[i] for row in rows], pa.int32()) for i in range(3)]
    index, combinations = _combine(columns)
    ids = index.to_pylist()
    for position, row in enumerate(rows):
        assert combinations[ids[position]] == row
    assert len(combinations) == len(set(rows))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(*[st.integers(0, 10**6)] * 12), min_size=60, max_size=120))
def test_combination_ids_across_packing_rounds(rows: list[tuple[int, ...]]) -> None:
    """Twelve components of ~100 distinct ids each do not fit one 63-bit packing: folded in rounds."""
    import pyarrow as pa

    from trueorigin.screen.engine import _combine

    columns = [pa.array([row[i] for row in rows], pa.int32()) for i in range(12)]
    index, combinations = _combine(columns)
    ids = index.to_pylist()
    for position, row in enumerate(rows):
        assert combinations[ids[position]] == row
    assert len(combinations) == len(set(rows))
