"""Observations collected without scanning (packet captures, nmap XML, asset exports), audited as one scan.

Observations are written to the store as they stream in (a temporary SQLite file when nothing is to be kept),
then read back one host at a time for identification, so memory stays bounded by the largest host, not by
the input.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from trueorigin.audit.session import AuditSession
from trueorigin.model import Identification, Observation

FLUSH_EVERY = 2000  # observations buffered before they are written


def _spill(session: AuditSession, observations: Iterable[Observation]) -> list[str]:
    """Write observations grouped by host in batches; returns hosts in first-seen order."""
    hosts: dict[str, None] = {}
    buffer: dict[str, list[Observation]] = {}
    count = 0
    for obs in observations:
        hosts.setdefault(obs.host, None)
        buffer.setdefault(obs.host, []).append(obs)
        count += 1
        if count >= FLUSH_EVERY:
            for host, batch in buffer.items():
                session.add_observations(host, batch)
            buffer, count = {}, 0
    for host, batch in buffer.items():
        session.add_observations(host, batch)
    return list(hosts)


def audit_collected(
    observations: Iterable[Observation],
    *,
    kind: str,
    targets: list[str],
    options: dict[str, Any],
    db_url: str | None,
    site: str | None = None,
    store_results: bool = True,
) -> tuple[str | None, list[Identification]]:
    """Store, identify host by host; returns (scan id, or None when not kept; identifications)."""
    with tempfile.TemporaryDirectory(prefix="trueorigin-audit-") as scratch:
        url = db_url if store_results else f"sqlite:///{Path(scratch) / 'audit.db'}"
        with AuditSession.open(url, kind, targets, options, site) as session:
            idents = []
            for host in _spill(session, observations):
                idents.append(session.identify_host(host))
                session.finish_host(host)
            session.finish("complete")
    return (session.scan_id if store_results else None), idents
