"""Re-identification: a stored scan's observations through today's knowledge base and fingerprints.

The result is a new scan of kind "reidentify" that names the scan it came from; what changed is what
`trueorigin diff` shows between the two. Findings are refreshed (and opened where a verdict became covered),
but a finding marked replaced or removed is not reopened: re-reading old observations is not seeing the
device again.
"""

from __future__ import annotations

from trueorigin.audit.session import AuditSession
from trueorigin.errors import InputError
from trueorigin.store import Store

REIDENTIFY_KIND = "reidentify"


def reidentify(store: Store, source_scan: str) -> str:
    """Re-run every host of `source_scan`; returns the new scan's id."""
    source = store.require_scan(source_scan)
    hosts = list(store.observation_digests(source.id))  # hosts in the order their observations were stored
    if not hosts:
        raise InputError(f"scan {source.id!r} holds no observations to re-identify")
    options = {"source_scan": source.id, "source_kind": source.kind}
    with AuditSession.open(store, REIDENTIFY_KIND, source.targets, options, source.site, source_scan=source.id) as s:
        try:
            for host in hosts:
                observations = store.observations(source.id, host)
                s.add_observations(host, observations)
                s.identify_host(host)
                s.finish_host(host)
        except BaseException:
            s.finish("failed")
            raise
        s.finish("complete")
    return s.scan_id
