"""Everything a report shows, gathered from the store (and the knowledge base) into plain data.

Renderers only format a `ReportData`; nothing here touches the network. The evidence manifest lists, for every
finding, the sha256 of each raw observation stored for that host in the scan; its own sha256 is printed in the
report so that a later `trueorigin report verify` can prove neither the report nor the evidence changed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from trueorigin import __version__
from trueorigin.errors import InputError
from trueorigin.fingerprints.version import data_version
from trueorigin.model import Identification, Source
from trueorigin.store.api import REMEDIATION_STATUSES, FindingFilter, ScanRecord, Store, iso_time, status_at

MANIFEST_FORMAT = "trueorigin-evidence-manifest/1"
MAX_PROGRESS_SCANS = 12  # the remediation chart shows the most recent scans only, to stay legible

# What the method cannot do; printed in every report so the reader weighs the findings correctly.
LIMITS: tuple[str, ...] = (
    "A device is identified from what it answers on the network. A device that answers nothing, or only on "
    "ports that were not probed, is not in this report; absence of a finding is not proof of absence.",
    "Answers can be changed or spoofed by the device's owner or firmware; a relabeled device with rewritten "
    "firmware banners may be missed or attributed to its brand.",
    "OEM and relabel links come from public sources listed with each finding; they describe product lines and "
    "periods, not each serial number. A 'review' result means the sources do not settle the question.",
    "Coverage follows the knowledge-base version named on this report. Lists change: re-identify stored "
    "observations after a knowledge-base update before relying on an old report.",
    "This report identifies equipment; it is not legal advice and makes no determination of compliance under "
    "any regime. Regime texts are summaries with their sources.",
    "Known-exploited CVEs are matched by vendor and, where known, model and firmware; a listed CVE means the "
    "device family is affected, not that this device was tested or exploited (trueorigin never exploits).",
)


@dataclass(frozen=True, slots=True)
class ReportDevice:
    finding_id: int
    site: str | None
    status: str  # effective remediation status today
    recorded_status: str
    reason: str | None
    approver: str | None
    expires: str | None
    identification: Identification
    observation_sha256: tuple[str, ...]
    tags: tuple[str, ...] = ()

    @property
    def relabeled(self) -> bool:
        return is_relabeled(self.identification)

    def to_json(self) -> dict[str, Any]:
        return {
            "finding_id": self.finding_id,
            "site": self.site,
            "status": self.status,
            "recorded_status": self.recorded_status,
            "reason": self.reason,
            "approver": self.approver,
            "expires": self.expires,
            "relabeled": self.relabeled,
            "tags": list(self.tags),
            "identification": self.identification.to_json(),
            "observation_sha256": list(self.observation_sha256),
        }


@dataclass(frozen=True, slots=True)
class ReportRegime:
    id: str
    name: str
    requires: str
    jurisdiction: str = ""
    covers: str = ""
    instruments: tuple[str, ...] = ()
    sources: tuple[Source, ...] = ()
    known: bool = True  # False when the knowledge base does not describe this regime id
    devices: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "requires": self.requires,
            "jurisdiction": self.jurisdiction,
            "covers": self.covers,
            "instruments": list(self.instruments),
            "sources": [s.to_json() for s in self.sources],
            "known": self.known,
            "devices": self.devices,
        }


@dataclass(frozen=True, slots=True)
class ReportCve:
    id: str
    vendor: str
    devices: tuple[str, ...]  # hosts
    name: str = ""
    date_added: str = ""
    sources: tuple[Source, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "vendor": self.vendor,
            "devices": list(self.devices),
            "name": self.name,
            "date_added": self.date_added,
            "sources": [s.to_json() for s in self.sources],
        }


@dataclass(frozen=True, slots=True)
class ProgressPoint:
    """Remediation status of the findings seen in one scan, as it stood when that scan finished."""

    scan_id: str
    when: str
    counts: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {"scan_id": self.scan_id, "when": self.when, "counts": self.counts}


@dataclass(frozen=True, slots=True)
class ReportData:
    generated_at: str
    tool_version: str
    kb_version: str
    kb_data_dates: dict[str, str]
    fingerprint_version: str
    scan: ScanRecord
    identified: int  # hosts identified in the scan (covered or not)
    devices: list[ReportDevice]
    regimes: list[ReportRegime]
    cves: list[ReportCve]
    progress: list[ProgressPoint]
    limits: tuple[str, ...] = LIMITS
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def covered_devices(self) -> list[ReportDevice]:
        return [d for d in self.devices if d.identification.covered == "yes"]

    @property
    def review_devices(self) -> list[ReportDevice]:
        return [d for d in self.devices if d.identification.covered == "review"]

    def count_by(self, key: str) -> list[tuple[str, int]]:
        """Covered devices counted by vendor, brand or site, largest first."""
        values: Counter[str] = Counter()
        for device in self.covered_devices:
            if key == "site":
                values[device.site or "(no site)"] += 1
            else:
                values[getattr(device.identification, key) or "(not shown)"] += 1
        return sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))

    @property
    def status_counts(self) -> dict[str, int]:
        counts: dict[str, int] = dict.fromkeys(REMEDIATION_STATUSES, 0)
        for device in self.devices:
            counts[device.status] = counts.get(device.status, 0) + 1
        return counts

    @property
    def relabeled_count(self) -> int:
        return sum(1 for d in self.covered_devices if d.relabeled)

    @property
    def relabeled_share(self) -> float:
        covered = len(self.covered_devices)
        return self.relabeled_count / covered if covered else 0.0

    @property
    def manifest_sha256(self) -> str:
        return manifest_digest(self.manifest)

    def summary_json(self) -> dict[str, Any]:
        return {
            "covered_devices": len(self.covered_devices),
            "review_devices": len(self.review_devices),
            "identified_hosts": self.identified,
            "by_vendor": dict(self.count_by("vendor")),
            "by_brand": dict(self.count_by("brand")),
            "by_site": dict(self.count_by("site")),
            "relabeled": self.relabeled_count,
            "relabeled_share": round(self.relabeled_share, 4),
            "status": self.status_counts,
        }

    def to_json(self) -> dict[str, Any]:
        scan = self.scan
        return {
            "report": "trueorigin-compliance-report/1",
            "generated_at": self.generated_at,
            "tool_version": self.tool_version,
            "kb_version": self.kb_version,
            "kb_data_dates": self.kb_data_dates,
            "fingerprint_version": self.fingerprint_version,
            "scan": {
                "id": scan.id,
                "kind": scan.kind,
                "site": scan.site,
                "status": scan.status,
                "started_at": iso_time(scan.started_at),
                "finished_at": iso_time(scan.finished_at),
                "targets": scan.targets,
                "kb_version": scan.kb_version,
                "fingerprint_version": scan.fingerprint_version,
                "tool_version": scan.tool_version,
                "source_scan": scan.source_scan,
            },
            "summary": self.summary_json(),
            "devices": [d.to_json() for d in self.devices],
            "regimes": [r.to_json() for r in self.regimes],
            "known_exploited_cves": [c.to_json() for c in self.cves],
            "remediation_progress": [p.to_json() for p in self.progress],
            "limits": list(self.limits),
            "evidence_manifest": self.manifest,
            "evidence_manifest_sha256": self.manifest_sha256,
        }


def is_relabeled(ident: Identification) -> bool:
    """The brand shown differs from the true vendor (an OEM/white-label device)."""
    if not ident.brand or not ident.vendor:
        return False
    return _squash(ident.brand) != _squash(ident.vendor)


def _squash(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", text.casefold())


def manifest_digest(manifest: dict[str, Any]) -> str:
    canonical = json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def _entity_id(vendor: str) -> str:
    return re.sub(r"[^0-9a-z]+", "-", vendor.casefold()).strip("-")


def _load_kb() -> Any | None:
    """The knowledge base, or None when it cannot be loaded (the report then says so)."""
    try:
        from trueorigin.knowledge import load  # type: ignore[attr-defined,unused-ignore]

        return load()
    except Exception:  # any failure of an optional dependency only degrades the report
        return None


def _sources(obj: Any) -> tuple[Source, ...]:
    out: list[Source] = []
    for src in getattr(obj, "sources", ()) or ():
        url = getattr(src, "url", None)
        if url:
            out.append(Source(url=str(url), title=str(getattr(src, "title", "")), date=str(getattr(src, "date", ""))))
    return tuple(out)


def _regime(kb: Any | None, regime_id: str, devices: int) -> ReportRegime:
    regime = None
    if kb is not None:
        try:
            regime = kb.regime(regime_id)
        except Exception:
            regime = None
    if regime is None:
        return ReportRegime(
            id=regime_id,
            name=regime_id,
            requires="Not described by the knowledge base version used for this report.",
            known=False,
            devices=devices,
        )
    return ReportRegime(
        id=regime_id,
        name=str(getattr(regime, "name", regime_id)),
        requires=str(getattr(regime, "requires", "")),
        jurisdiction=str(getattr(regime, "jurisdiction", "")),
        covers=str(getattr(regime, "covers", "")),
        instruments=tuple(str(i) for i in getattr(regime, "instruments", ()) or ()),
        sources=_sources(regime),
        devices=devices,
    )


def _cves(kb: Any | None, devices: Sequence[ReportDevice]) -> list[ReportCve]:
    hosts_by_cve: dict[str, list[str]] = {}
    vendor_of: dict[str, str] = {}
    for device in devices:
        for cve in device.identification.cves:
            hosts_by_cve.setdefault(cve, []).append(device.identification.host)
            vendor_of.setdefault(cve, device.identification.vendor or "?")
    details: dict[str, Any] = {}
    if kb is not None:
        for vendor in sorted(set(vendor_of.values())):
            try:
                for cve in kb.cves(_entity_id(vendor)):
                    details[str(getattr(cve, "id", ""))] = cve
            except Exception:
                continue
    out = []
    for cve_id in sorted(hosts_by_cve):
        detail = details.get(cve_id)
        out.append(
            ReportCve(
                id=cve_id,
                vendor=vendor_of[cve_id],
                devices=tuple(hosts_by_cve[cve_id]),
                name=str(getattr(detail, "name", "")) if detail is not None else "",
                date_added=str(getattr(detail, "date_added", "")) if detail is not None else "",
                sources=_sources(detail) if detail is not None else (),
            )
        )
    return out


def _progress(store: Store, upto: ScanRecord) -> list[ProgressPoint]:
    history = store.history()
    finding_of_device = {f.device_id: f.id for f in store.findings()}
    scans = [s for s in store.scans() if s.started_at <= upto.started_at][-MAX_PROGRESS_SCANS:]
    points = []
    for scan in scans:
        moment = scan.finished_at if scan.finished_at is not None else dt.datetime.now(dt.UTC).timestamp()
        counts: dict[str, int] = dict.fromkeys(REMEDIATION_STATUSES, 0)
        for device_id, _ident in store.device_identifications(scan.id):
            finding_id = finding_of_device.get(device_id)
            status = status_at(history, finding_id, moment) if finding_id is not None else None
            if status is not None:
                counts[status] = counts.get(status, 0) + 1
        points.append(ProgressPoint(scan.id, iso_time(scan.started_at) or "", counts))
    return points


def build_report(store: Store, scan_id: str | None = None, today: dt.date | None = None, kb: Any = None) -> ReportData:
    """Gather a report for one scan (default: the latest) from the store."""
    chosen = scan_id or store.latest_scan_id()
    if chosen is None:
        raise InputError("the store holds no scan yet; run `trueorigin scan` (or import) first")
    scan = store.require_scan(chosen)
    knowledge = kb if kb is not None else _load_kb()
    day = today or dt.date.today()
    digests = store.observation_digests(scan.id)
    devices = [
        ReportDevice(
            finding_id=f.id,
            site=f.site,
            status=f.effective_status(day),
            recorded_status=f.status,
            reason=f.reason,
            approver=f.approver,
            expires=f.expires.isoformat() if f.expires else None,
            identification=f.identification,
            observation_sha256=tuple(digests.get(f.identification.host, ())),
            tags=f.tags,
        )
        for f in store.findings(FindingFilter(scan_id=scan.id), today=day)
    ]
    devices.sort(key=lambda d: (d.identification.covered != "yes", d.identification.vendor or "", d.finding_id))
    regime_counts: Counter[str] = Counter(r for d in devices for r in d.identification.regimes)
    regimes = [_regime(knowledge, rid, n) for rid, n in sorted(regime_counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    kb_version = str(getattr(knowledge, "version", "unavailable")) if knowledge is not None else "unavailable"
    dates = getattr(knowledge, "data_dates", {}) if knowledge is not None else {}
    manifest = {
        "format": MANIFEST_FORMAT,
        "scan_id": scan.id,
        "kb_version": kb_version,
        "findings": [
            {
                "finding_id": d.finding_id,
                "host": d.identification.host,
                "vendor": d.identification.vendor,
                "observation_sha256": list(d.observation_sha256),
                "evidence_sha256": sorted(
                    {e.observation_sha256 for e in d.identification.evidence if e.observation_sha256}
                ),
            }
            for d in devices
        ],
    }
    return ReportData(
        generated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        tool_version=__version__,
        kb_version=kb_version,
        kb_data_dates={str(k): str(v) for k, v in dict(dates).items()},
        fingerprint_version=data_version(),
        scan=scan,
        identified=scan.identifications,
        devices=devices,
        regimes=regimes,
        cves=_cves(knowledge, devices),
        progress=_progress(store, scan),
        manifest=manifest,
    )
