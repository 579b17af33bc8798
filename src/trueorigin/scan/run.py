"""One network audit from start to finish: targets -> store scan -> engine -> store, resumable.

The store is written from one dedicated thread (all calls go through `StoreWriter`), so slow commits never
stall the event loop and the store's session is only ever used by one thread. Each finished host is written
as observations, then identification, then "host finished" — each call commits — so a process killed at
any point loses no finished host, and `--resume` re-does only hosts without their "finished" mark.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from trueorigin.errors import InputError
from trueorigin.model import Identification
from trueorigin.scan.credentials import CredentialBook, credentials_check, load_credentials
from trueorigin.scan.engine import DEFAULT_TCP_PORTS, HostResult, Identifier, Scanner, ScanOptions, ScanStats
from trueorigin.scan.targets import DEFAULT_MAX_HOSTS, TargetSet, parse_targets
from trueorigin.store import Store, open_store

T = TypeVar("T")
SCAN_KIND = "network"
SILENT_BATCH = 2048
SILENT_FLUSH_SECONDS = 2.0


@dataclass(slots=True)
class ScanRequest:
    """What the user asked for, as the CLI parsed it (credentials stay a path until loaded)."""

    targets: list[str]
    exclude: list[str] = field(default_factory=list)
    ports: tuple[int, ...] = DEFAULT_TCP_PORTS
    credentials_path: Path | None = None
    rate: float = 1000.0
    concurrency: int = 256
    per_host_concurrency: int = 8
    timeout: float = 2.0
    allow_public: bool = False
    max_hosts: int = DEFAULT_MAX_HOSTS
    multicast_iface: str | None = None
    udp_discovery: bool = True
    site: str | None = None

    def stored_options(self) -> dict[str, Any]:
        """Options saved with the scan so `--resume` repeats them; never the credentials themselves."""
        return {
            "exclude": list(self.exclude),
            "ports": list(self.ports),
            "rate": self.rate,
            "concurrency": self.concurrency,
            "per_host_concurrency": self.per_host_concurrency,
            "timeout": self.timeout,
            "allow_public": self.allow_public,
            "max_hosts": self.max_hosts,
            "multicast_iface": self.multicast_iface,
            "udp_discovery": self.udp_discovery,
            "credentials_file": self.credentials_path is not None,
        }

    @staticmethod
    def from_stored(targets: list[str], options: dict[str, Any], site: str | None) -> ScanRequest:
        try:
            return ScanRequest(
                targets=list(targets),
                exclude=list(options.get("exclude", [])),
                ports=tuple(int(p) for p in options.get("ports", DEFAULT_TCP_PORTS)),
                rate=float(options.get("rate", 1000.0)),
                concurrency=int(options.get("concurrency", 256)),
                per_host_concurrency=int(options.get("per_host_concurrency", 8)),
                timeout=float(options.get("timeout", 2.0)),
                allow_public=bool(options.get("allow_public", False)),
                max_hosts=int(options.get("max_hosts", DEFAULT_MAX_HOSTS)),
                multicast_iface=options.get("multicast_iface"),
                udp_discovery=bool(options.get("udp_discovery", True)),
                site=site,
            )
        except (TypeError, ValueError) as exc:
            raise InputError(f"the stored scan's options are unusable: {exc}") from exc


class StoreWriter:
    """Runs every store call on one worker thread, in submission order."""

    def __init__(self, url: str | None) -> None:
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="trueorigin-store")
        self._store: Store = self._pool.submit(open_store, url).result()

    @property
    def store(self) -> Store:
        return self._store

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args))

    def call_sync(self, fn: Callable[..., T], *args: Any) -> T:
        return self._pool.submit(fn, *args).result()

    def close(self) -> None:
        self._pool.submit(self._store.close).result()
        self._pool.shutdown(wait=True)


class StoreSink:
    """Result sink that records each finished host in the store before reporting it."""

    def __init__(
        self,
        writer: StoreWriter,
        scan_id: str,
        on_host: Callable[[HostResult], None] | None = None,
        partial: dict[str, set[str]] | None = None,
    ):
        self.writer = writer
        self.scan_id = scan_id
        self.on_host = on_host
        # digests already stored for hosts a killed run left unfinished: the redo does not store them twice
        self.partial = partial or {}
        # silent addresses are marked finished in batches: one commit per 65,536 dead addresses of a /16
        # would cost minutes; a batch lost to a kill only means re-knocking on silent addresses
        self.silent: list[str] = []
        self.last_flush = time.monotonic()

    async def flush(self) -> None:
        batch, self.silent = self.silent, []
        self.last_flush = time.monotonic()
        if batch:
            await self.writer.call(self.writer.store.finish_hosts, self.scan_id, batch)

    async def host_done(self, result: HostResult) -> None:
        store = self.writer.store
        if not result.observations and result.identification is None and result.address not in self.partial:
            self.silent.append(result.address)
            if len(self.silent) >= SILENT_BATCH or time.monotonic() - self.last_flush > SILENT_FLUSH_SECONDS:
                await self.flush()
            if self.on_host is not None:
                self.on_host(result)
            return
        already = self.partial.pop(result.address, set())
        fresh = [o for o in result.observations if o.sha256 not in already]
        if fresh:
            await self.writer.call(store.add_observations, self.scan_id, result.address, fresh)
        if result.identification is not None:
            await self.writer.call(store.add_identification, self.scan_id, result.identification)
        await self.writer.call(store.finish_host, self.scan_id, result.address)
        if self.on_host is not None:
            self.on_host(result)


@dataclass(slots=True)
class ScanOutcome:
    scan_id: str
    stats: ScanStats
    identifications: list[Identification]
    total_hosts: int
    skipped_hosts: int


def scope_record(targets: TargetSet, credentials_path: Path | None) -> dict[str, Any]:
    """What a scan stores at its start so `--resume` can prove it continues the same scan."""
    record: dict[str, Any] = {"targets_resolved": targets.ranges(), "targets_digest": targets.digest()}
    if credentials_path is not None:
        salt = os.urandom(16)
        record["credentials_check"] = {"salt": salt.hex(), "scrypt": credentials_check(credentials_path, salt)}
    return record


def check_resume(
    scan_id: str,
    stored: dict[str, Any],
    targets: TargetSet,
    credentials_path: Path | None,
    given: dict[str, Any],
) -> None:
    """Refuse a resume that would scan other addresses, with other options or other credentials.

    `given` holds the options the user named again with `--resume` (stored-option names); each must equal
    the stored value. Raises InputError naming every difference.
    """
    digest = stored.get("targets_digest")
    if not isinstance(digest, str):
        raise InputError(
            f"scan {scan_id} did not record its resolved targets (an older trueorigin started it), so a resume "
            "could not be checked; start a new scan"
        )
    problems: list[str] = []
    if digest != targets.digest():
        problems.append("its targets resolve to other addresses now (a target file was edited or a hostname moved)")
    check = stored.get("credentials_check")
    if stored.get("credentials_file"):
        if credentials_path is None:
            problems.append(
                "it was started with --credentials: give the same file again (credentials are never stored)"
            )
        elif not isinstance(check, dict) or credentials_check(
            credentials_path, bytes.fromhex(str(check.get("salt", "")))
        ) != check.get("scrypt"):
            problems.append("the --credentials file is not the one it was started with")
    elif credentials_path is not None:
        problems.append("it was started without --credentials")
    for key, value in sorted(given.items()):
        if stored.get(key) != value:
            problems.append(f"{key} was {stored.get(key)!r}, now {value!r}")
    if problems:
        raise InputError(f"refusing to resume scan {scan_id}: " + "; ".join(problems) + "; start a new scan instead")


def prepare(request: ScanRequest) -> tuple[TargetSet, CredentialBook]:
    """Parse targets and credentials; raises InputError/SafetyError before any packet is sent."""
    targets = parse_targets(
        request.targets, request.exclude, allow_public=request.allow_public, max_hosts=request.max_hosts
    )
    book = load_credentials(request.credentials_path) if request.credentials_path is not None else CredentialBook()
    return targets, book


def run_scan(
    request: ScanRequest | None,
    *,
    db_url: str | None,
    resume: str | None = None,
    credentials_path: Path | None = None,
    identifier: Identifier | None = None,
    modules: Sequence[Any] | None = None,
    on_start: Callable[[str, int, int], None] | None = None,
    on_progress: Callable[[ScanStats], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
    resume_options: dict[str, Any] | None = None,
) -> ScanOutcome:
    """Run (or resume) a scan and return its identifications, read back from the store.

    With `resume`, the targets and options come from the stored scan and must still resolve to the same
    addresses; `credentials_path` must be the same file it started with (credentials are never stored, a
    salted hash of the file is); `resume_options` are options the user named again, which must equal the
    stored ones. `on_start(scan_id, total, already_done)` is called once.
    """
    writer = StoreWriter(db_url)
    stored_options: dict[str, Any] = {}
    try:
        if resume is not None:
            record = writer.call_sync(writer.store.get_scan, resume)
            if record is None:
                raise InputError(f"no scan {resume!r} in the store")
            if record.kind != SCAN_KIND:
                raise InputError(f"scan {resume!r} is a {record.kind!r} scan, not a network scan")
            stored_options = {**record.options, "site": record.site}
            request = ScanRequest.from_stored(record.targets, record.options, record.site)
            request.credentials_path = credentials_path
            scan_id = resume
        elif request is None:
            raise InputError("nothing to scan")
        targets, book = prepare(request)
        for warning in book.warnings:
            if on_warning is not None:
                on_warning(warning)
        if resume is None:
            stored = {**request.stored_options(), **scope_record(targets, request.credentials_path)}
            scan_id = writer.call_sync(writer.store.create_scan, SCAN_KIND, list(request.targets), stored, request.site)
        else:
            check_resume(scan_id, stored_options, targets, credentials_path, resume_options or {})
        done = writer.call_sync(writer.store.done_hosts, scan_id)
        skip = {h for h in done if h in targets}
        if on_start is not None:
            on_start(scan_id, len(targets), len(skip))
        options = ScanOptions(
            ports=request.ports,
            rate=request.rate,
            concurrency=request.concurrency,
            per_host_concurrency=request.per_host_concurrency,
            timeout=request.timeout,
            udp_discovery=request.udp_discovery,
            credentials=book,
        )
        scanner = Scanner(options, modules=modules, identifier=identifier, hostnames=targets.hostnames)
        partial: dict[str, set[str]] = {}
        if resume is not None:
            stored = writer.call_sync(writer.store.observation_digests, scan_id)
            partial = {host: set(digests) for host, digests in stored.items() if host not in done}
        sink = StoreSink(writer, scan_id, partial=partial)

        async def main() -> ScanStats:
            if request.multicast_iface:
                from trueorigin.scan.multicast import multicast_discovery

                # answers are attributed to named targets only, then merged into their host's results
                scanner.preseeded = await multicast_discovery(
                    request.multicast_iface, targets, timeout=request.timeout, throttle=scanner.throttle
                )
            try:
                return await scanner.run(iter(targets), sink, skip=skip, on_progress=on_progress)
            finally:
                await sink.flush()

        stats = asyncio.run(main())
        writer.call_sync(writer.store.finish_scan, scan_id, "complete")
        identifications = writer.call_sync(writer.store.identifications, scan_id)
        return ScanOutcome(scan_id, stats, identifications, len(targets), len(skip))
    finally:
        writer.close()
