"""Ingest: a batch of observations for one stored scan (a site sensor's upload, the server's API).

Idempotent: a batch sent twice (a retried upload) stores nothing the second time, and each host it touches is
(re-)identified from everything stored about it, so the verdict is the same whichever batch arrived last, and a
batch redelivered after a crash between storing and identifying still gets its hosts identified.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from trueorigin.audit.session import AuditSession
from trueorigin.identify import group_by_host
from trueorigin.knowledge import KnowledgeBase
from trueorigin.model import Identification, Observation
from trueorigin.store import Store


@dataclass(slots=True)
class IngestResult:
    scan_id: str
    added: int = 0  # observations stored
    duplicates: int = 0  # observations already stored (same bytes, protocol, port, request, transport)
    identifications: list[Identification] = field(default_factory=list)  # of the hosts the batch touched


def ingest(
    store: Store | str | None,
    scan_id: str,
    observations: Iterable[Observation],
    *,
    finish_hosts: bool = False,
    kb: KnowledgeBase | None = None,
) -> IngestResult:
    """Store a batch for `scan_id` (created with `AuditSession.open`), then re-identify the hosts it added to.

    `finish_hosts=True` marks every host of the batch finished (a sensor's final batch for a sweep)."""
    result = IngestResult(scan_id)
    with AuditSession.attach(store, scan_id, kb=kb) as session:
        for host, batch in group_by_host(observations).items():
            fresh = session.add_observations(host, batch)
            result.added += len(fresh)
            result.duplicates += len(batch) - len(fresh)
            # identified even when nothing was new: a batch redelivered after a crash between storing its
            # observations and identifying them must still end with the host identified
            result.identifications.append(session.identify_host(host))
            if finish_hosts:
                session.finish_host(host)
    return result
