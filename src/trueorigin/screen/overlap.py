"""Overlapping the stages of a screening run: reading the next batch and writing the last one happen in
background threads while the current batch is screened. pyarrow's CSV/Parquet reading and writing release
the GIL, so on a machine with two or more cores the run takes about as long as its slowest stage instead of
the sum. Queues are bounded (a few batches), so memory stays bounded by the batch size.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
DEPTH = 2  # batches waiting in each queue
_DONE = object()


def prefetch(source: Iterator[T], depth: int = DEPTH) -> Iterator[T]:
    """The items of `source`, produced by a background thread up to `depth` items ahead. An exception in
    `source` is raised here, at the item where it happened. Closing the iterator early stops the thread."""
    items: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in source:
                while not stop.is_set():
                    try:
                        items.put(("item", item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            items.put(("done", _DONE))
        except BaseException as exc:  # handed to the consumer, raised there
            items.put(("error", exc))

    thread = threading.Thread(target=produce, name="screen-read", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = items.get()
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                items.get_nowait()
            except queue.Empty:
                thread.join(timeout=0.1)


class Writer(Protocol):
    def write(self, table: Any, row_numbers: list[int]) -> None: ...
    def close(self) -> None: ...


class BackgroundWriter:
    """Wraps a writer: `write` queues the batch and returns; a thread writes batches in order. An error in
    the thread is raised by the next `write` or by `close`, which waits until everything is written."""

    def __init__(self, writer: Writer, depth: int = DEPTH) -> None:
        self._writer = writer
        self._items: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._failed = False  # once a write fails, later batches are dropped (the run is failing)
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="screen-write", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._items.get()
            if item is _DONE:
                return
            if not self._failed:
                try:
                    self._writer.write(*item)
                except BaseException as exc:  # raised in the caller's thread
                    self._error = exc
                    self._failed = True

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def write(self, table: Any, row_numbers: list[int]) -> None:
        self._raise()
        if self._failed:
            raise OSError("an earlier batch could not be written")
        self._items.put((table, row_numbers))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._items.put(_DONE)
        self._thread.join()
        try:
            self._raise()
        finally:
            self._writer.close()
