"""The one audit pipeline every source uses: observe -> identify -> store (docs/ARCHITECTURE.md).

- `AuditSession`: one scan in the store; records tool/knowledge/fingerprint versions, stores observations
  (idempotent), identifies with the observations' own day, writes identifications and findings.
- `identify`: the pure step (observations of one host -> identification), for callers that hold
  observations in memory.
- `SessionThread`: a session for asynchronous callers, all store calls on one worker thread.
- `audit_collected`: a stream of collected observations (capture, nmap XML, asset export) as one scan.
- `ingest`: a batch of observations for a stored scan (server, sensors), idempotent.
- `reidentify`: a stored scan's observations through today's data, as a new scan.
"""

from trueorigin.audit.collected import audit_collected
from trueorigin.audit.ingest import IngestResult, ingest
from trueorigin.audit.reidentify import REIDENTIFY_KIND, reidentify
from trueorigin.audit.session import AuditSession, identify, identify_all, observation_key, observed_on
from trueorigin.audit.threaded import SessionThread
from trueorigin.audit.versions import DataVersions, current_versions

__all__ = [
    "REIDENTIFY_KIND",
    "AuditSession",
    "DataVersions",
    "IngestResult",
    "SessionThread",
    "audit_collected",
    "current_versions",
    "identify",
    "identify_all",
    "ingest",
    "observation_key",
    "observed_on",
    "reidentify",
]
