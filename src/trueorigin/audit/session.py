"""The one place where evidence becomes a finding: an audit session.

Every source of observations (network scan, passive capture, nmap/asset import, inventory screening,
re-identification, and the server's and sensors' ingest) goes through `AuditSession`:

    session = AuditSession.open(db_url_or_store, kind, targets, options, site)   # records the versions
    session.add_observations(host, observations)      # append-only, idempotent by observation key
    ident = session.identify_host(host)               # stored observations -> identification -> finding
    session.finish_host(host)
    session.finish("complete")

`identify(host, observations)` is the pure step (no store), used where observations are still in memory
(the scan engine identifies a host the moment its probes end); `record_host` then stores all three facts.
A verdict is decided as the knowledge base stood on the day the observations were made, never "today", so
re-running an old capture gives the verdict it had then (with today's data).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from trueorigin.audit.versions import DataVersions, current_versions
from trueorigin.errors import InputError
from trueorigin.identify import group_by_host, identify_host
from trueorigin.knowledge import KnowledgeBase, load
from trueorigin.model import Identification, Observation
from trueorigin.store import ScanRecord, Store, open_store

ObservationKey = tuple[str, str, int | None, str | None, str]


def observation_key(obs: Observation) -> ObservationKey:
    """What makes two observations the same fact: the bytes' digest, and where and how they were asked for."""
    return (obs.sha256, obs.protocol, obs.port, obs.request, obs.transport)


def observed_on(observations: Iterable[Observation]) -> dt.date | None:
    """The (UTC) day of the latest observation, the day a verdict about them must hold on."""
    latest = max((obs.time for obs in observations), default=None)
    if latest is None:
        return None
    return dt.datetime.fromtimestamp(latest, dt.UTC).date()


def identify(host: str, observations: Sequence[Observation], kb: KnowledgeBase | None = None) -> Identification:
    """Observations of one host -> identification, as the knowledge base stood on the day they were made."""
    return identify_host(host, observations, kb or load(), at=observed_on(observations))


def identify_all(observations: Iterable[Observation], kb: KnowledgeBase | None = None) -> list[Identification]:
    """One identification per host (hosts in first-seen order), nothing stored: `trueorigin identify`."""
    kb = kb or load()
    return [identify(host, group, kb) for host, group in group_by_host(observations).items()]


class AuditSession:
    """One scan in the store, from its first observation to its last finding."""

    def __init__(
        self,
        store: Store,
        record: ScanRecord,
        kb: KnowledgeBase,
        versions: DataVersions,
        owns_store: bool,
        *,
        fresh: bool = False,
    ) -> None:
        self.store = store
        self.record = record
        self.scan_id = record.id
        self.kb = kb
        self.versions = versions
        self._owns_store = owns_store
        self._stored: dict[str, set[ObservationKey]] = {}  # per host, keys known to be stored
        self._seen = self.record.kind != "reidentify"
        self._fresh = fresh  # a scan this session created: nothing is stored that it does not know of

    # -- opening ----------------------------------------------------------------------------------

    @staticmethod
    def _store(store: Store | str | None) -> tuple[Store, bool]:
        if isinstance(store, Store):
            return store, False
        return open_store(store), True

    @classmethod
    def open(
        cls,
        store: Store | str | None,
        kind: str,
        targets: Sequence[str],
        options: dict[str, Any],
        site: str | None = None,
        *,
        kb: KnowledgeBase | None = None,
        source_scan: str | None = None,
    ) -> AuditSession:
        """Create a scan and record the tool, knowledge-base and fingerprint versions that will decide it.

        `store` is an open store (left open on `close()`) or a URL (None: the default store)."""
        kb = kb or load()
        versions = current_versions(kb)
        opened, owns = cls._store(store)
        try:
            scan_id = opened.create_scan(kind, list(targets), options, site=site)
            opened.set_scan_versions(
                scan_id,
                tool=versions.tool,
                knowledge=versions.knowledge,
                fingerprints=versions.fingerprints,
                source_scan=source_scan,
            )
            return cls(opened, opened.require_scan(scan_id), kb, versions, owns, fresh=True)
        except BaseException:
            if owns:
                opened.close()
            raise

    @classmethod
    def attach(
        cls, store: Store | str | None, scan_id: str, *, kind: str | None = None, kb: KnowledgeBase | None = None
    ) -> AuditSession:
        """Continue a stored scan (resume, ingest of a later batch); the versions now in use are recorded."""
        kb = kb or load()
        versions = current_versions(kb)
        opened, owns = cls._store(store)
        try:
            record = opened.get_scan(scan_id)
            if record is None:
                raise InputError(f"no scan {scan_id!r} in the store")
            if kind is not None and record.kind != kind:
                raise InputError(f"scan {scan_id!r} is a {record.kind!r} scan, not a {kind!r} scan")
            opened.set_scan_versions(
                scan_id, tool=versions.tool, knowledge=versions.knowledge, fingerprints=versions.fingerprints
            )
            return cls(opened, record, kb, versions, owns)
        except BaseException:
            if owns:
                opened.close()
            raise

    # -- the pipeline -----------------------------------------------------------------------------

    def identify(self, host: str, observations: Sequence[Observation]) -> Identification:
        """The pure step (reads nothing from the store): safe to call from any thread."""
        return identify(host, observations, self.kb)

    def _stored_keys(self, host: str) -> set[ObservationKey]:
        keys = self._stored.get(host)
        if keys is None:
            stored = [] if self._fresh else self.store.observations(self.scan_id, host)
            keys = {observation_key(obs) for obs in stored}
            self._stored[host] = keys
        return keys

    def add_observations(self, host: str, observations: Iterable[Observation]) -> list[Observation]:
        """Store the host's observations not stored before (same bytes, protocol, port, request); returns
        the ones added. Storing the same batch twice adds nothing."""
        known = self._stored_keys(host)
        fresh: list[Observation] = []
        for obs in observations:
            key = observation_key(obs)
            if key not in known:
                known.add(key)
                fresh.append(obs)
        if fresh:
            self.store.add_observations(self.scan_id, host, fresh)
        return fresh

    def record_identification(self, ident: Identification, actor: str | None = None) -> None:
        """Store an identification and open, refresh or reopen its device's finding."""
        self.store.add_identification(self.scan_id, ident, actor, seen=self._seen)

    def identify_host(self, host: str) -> Identification:
        """Identify the host from everything stored about it in this scan, and record the result."""
        ident = self.identify(host, self.store.observations(self.scan_id, host))
        self.record_identification(ident)
        return ident

    def record_host(self, host: str, observations: Sequence[Observation], ident: Identification | None) -> None:
        """A host whose observations were identified in memory: observations, identification, then finished —
        each committed, so a process killed at any point loses no finished host."""
        if observations:
            self.add_observations(host, observations)
        if ident is not None:
            self.record_identification(ident)
        self.finish_host(host)

    def finish_host(self, host: str) -> None:
        """The host is done: `--resume` never redoes it."""
        self.store.finish_host(self.scan_id, host)
        self._stored.pop(host, None)

    def finish_hosts(self, hosts: list[str]) -> None:
        self.store.finish_hosts(self.scan_id, hosts)

    def done_hosts(self) -> set[str]:
        return self.store.done_hosts(self.scan_id)

    def finish(self, status: str = "complete") -> None:
        self.store.finish_scan(self.scan_id, status)

    def identifications(self) -> list[Identification]:
        return self.store.identifications(self.scan_id)

    def close(self) -> None:
        if self._owns_store:
            self.store.close()

    def __enter__(self) -> AuditSession:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
