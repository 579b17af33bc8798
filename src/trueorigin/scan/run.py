"""One network audit from start to finish: targets -> store scan -> engine -> store, resumable.

Opening the scan, identification and storing go through the audit session (`trueorigin.audit`), run on
one dedicated thread (`SessionThread`) so slow commits never stall the event loop. Each finished host is
written as observations, then identification, then "host finished" — each call commits — so a process
killed at any point loses no finished host, and `--resume` re-does only hosts without their "finished" mark.
"""

from __future__ import annotations

import asyncio
import functools
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trueorigin.audit import AuditSession, SessionThread
from trueorigin.errors import InputError
from trueorigin.model import Identification
from trueorigin.scan.credentials import CredentialBook, credentials_check, load_credentials
from trueorigin.scan.engine import DEFAULT_TCP_PORTS, HostResult, Identifier, Scanner, ScanOptions, ScanStats
from trueorigin.scan.targets import DEFAULT_MAX_HOSTS, TargetSet, parse_targets

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


class StoreSink:
    """Result sink that records each finished host through the audit session before reporting it."""

    def __init__(
        self,
        thread: SessionThread,
        on_host: Callable[[HostResult], None] | None = None,
        partial: set[str] | None = None,
    ):
        self.thread = thread
        self.session = thread.session
        self.on_host = on_host
        # hosts a killed run left unfinished: their redo is stored even if it found nothing, and the session
        # does not store an observation twice
        self.partial = partial or set()
        # silent addresses are marked finished in batches: one commit per 65,536 dead addresses of a /16
        # would cost minutes; a batch lost to a kill only means re-knocking on silent addresses
        self.silent: list[str] = []
        self.last_flush = time.monotonic()

    async def flush(self) -> None:
        batch, self.silent = self.silent, []
        self.last_flush = time.monotonic()
        if batch:
            await self.thread.call(self.session.finish_hosts, batch)

    async def host_done(self, result: HostResult) -> None:
        if not result.observations and result.identification is None and result.address not in self.partial:
            self.silent.append(result.address)
            if len(self.silent) >= SILENT_BATCH or time.monotonic() - self.last_flush > SILENT_FLUSH_SECONDS:
                await self.flush()
            if self.on_host is not None:
                self.on_host(result)
            return
        self.partial.discard(result.address)
        await self.thread.call(self.session.record_host, result.address, result.observations, result.identification)
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
    if resume is None and request is None:
        raise InputError("nothing to scan")
    if resume is not None:
        thread = SessionThread(functools.partial(AuditSession.attach, db_url, resume, kind=SCAN_KIND))
    else:
        assert request is not None
        targets, book = prepare(request)  # bad input fails before the scan is created
        stored = {**request.stored_options(), **scope_record(targets, request.credentials_path)}
        thread = SessionThread(
            functools.partial(AuditSession.open, db_url, SCAN_KIND, list(request.targets), stored, request.site)
        )
    try:
        session = thread.session
        scan_id = session.scan_id
        if resume is not None:
            record = session.record
            request = ScanRequest.from_stored(record.targets, record.options, record.site)
            request.credentials_path = credentials_path
            targets, book = prepare(request)
            stored_options = {**record.options, "site": record.site}
            check_resume(scan_id, stored_options, targets, credentials_path, resume_options or {})
        assert request is not None
        for warning in book.warnings:
            if on_warning is not None:
                on_warning(warning)
        done = thread.call_sync(session.done_hosts)
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
        scanner = Scanner(
            options, modules=modules, identifier=identifier or session.identify, hostnames=targets.hostnames
        )
        partial: set[str] = set()
        if resume is not None:
            stored = thread.call_sync(session.store.observation_digests, scan_id)
            partial = {host for host in stored if host not in done}
        sink = StoreSink(thread, partial=partial)

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
        thread.call_sync(session.finish, "complete")
        identifications = thread.call_sync(session.identifications)
        return ScanOutcome(scan_id, stats, identifications, len(targets), len(skip))
    finally:
        thread.close()
