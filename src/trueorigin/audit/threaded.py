"""An audit session for asynchronous callers (the scan engine, later the server): every store call runs on
one dedicated worker thread, in submission order, so slow commits never stall the event loop and the store's
session is only ever used by one thread."""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
from collections.abc import Callable
from typing import Any, TypeVar

from trueorigin.audit.session import AuditSession

T = TypeVar("T")


class SessionThread:
    """Opens an `AuditSession` on its own worker thread (`opener` builds it) and runs calls there."""

    def __init__(self, opener: Callable[[], AuditSession]) -> None:
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="trueorigin-audit")
        try:
            self.session: AuditSession = self._pool.submit(opener).result()
        except BaseException:
            self._pool.shutdown(wait=True)
            raise

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args))

    def call_sync(self, fn: Callable[..., T], *args: Any) -> T:
        return self._pool.submit(fn, *args).result()

    def close(self) -> None:
        try:
            self._pool.submit(self.session.close).result()
        finally:
            self._pool.shutdown(wait=True)
