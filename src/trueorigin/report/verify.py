"""Check a report against the store: the evidence manifest is intact, and every raw answer it lists is
still stored with bytes that hash to the recorded sha256.

Accepts a JSON, HTML or OSCAL report (the manifest is inside), or any other export (PDF, CSV, FAR, NetBox,
Snipe-IT: the manifest is the `<report>.manifest.json` sidecar written next to it), or the sidecar itself.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trueorigin.errors import InputError
from trueorigin.limits import MAX_REPORT_BYTES, loads_json, read_bounded
from trueorigin.report.data import MANIFEST_FORMAT, manifest_digest
from trueorigin.store.api import Store

_SCRIPT = re.compile(
    rb"<script type=\"application/json\" id=\"trueorigin-manifest\">(.*?)</script>", re.DOTALL | re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class VerifyResult:
    scan_id: str
    kb_version: str
    manifest_intact: bool  # the manifest still hashes to the sha256 printed in the report
    checked: int  # raw answers checked
    failed: list[dict[str, Any]] = field(default_factory=list)  # finding_id, host, sha256 not verified

    @property
    def ok(self) -> bool:
        return self.manifest_intact and not self.failed

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "scan_id": self.scan_id,
            "kb_version": self.kb_version,
            "manifest_intact": self.manifest_intact,
            "checked": self.checked,
            "failed": self.failed,
        }


def _read(path: Path) -> bytes:
    """The report, read whole but never past the limit (a report is read whole; /dev/zero has no size)."""
    try:
        with path.open("rb") as handle:
            return read_bounded(handle, MAX_REPORT_BYTES, f"{path}: not a trueorigin report: it")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc


def load_manifest(path: Path) -> tuple[dict[str, Any], str]:
    """(manifest, sha256 recorded in the report) from any report format."""
    sidecar = path.with_name(path.name + ".manifest.json")
    embeds = path.suffix.lower() in (".html", ".htm", ".json")
    if (
        (not embeds and sidecar.exists())
        or path.suffix.lower() in (".pdf", ".csv")
        or (not path.exists() and sidecar.exists())
    ):
        path = sidecar
    raw = _read(path)
    if path.suffix.lower() in (".html", ".htm"):
        found = _SCRIPT.search(raw)
        if found is None:
            raise InputError(f"{path} holds no trueorigin evidence manifest")
        raw = found.group(1)
    try:
        document = loads_json(raw.decode("utf-8"), f"{path} is not a trueorigin report")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not a trueorigin report: {exc}") from exc
    if not isinstance(document, dict):
        raise InputError(f"{path} is not a trueorigin report")
    if "assessment-results" in document:
        document = _oscal_manifest(path, document)
    manifest, recorded = document.get("evidence_manifest"), document.get("evidence_manifest_sha256")
    if not isinstance(manifest, dict) or not isinstance(recorded, str) or manifest.get("format") != MANIFEST_FORMAT:
        raise InputError(f"{path} holds no {MANIFEST_FORMAT} evidence manifest")
    return manifest, recorded


def _oscal_manifest(path: Path, document: dict[str, Any]) -> dict[str, Any]:
    """The manifest an OSCAL export carries as a base64 back-matter resource."""
    from trueorigin.report.exports import MANIFEST_RESOURCE_TITLE

    results = document.get("assessment-results")
    resources = results.get("back-matter", {}).get("resources", []) if isinstance(results, dict) else []
    for resource in resources if isinstance(resources, list) else []:
        if isinstance(resource, dict) and resource.get("title") == MANIFEST_RESOURCE_TITLE:
            encoded = resource.get("base64", {}).get("value") if isinstance(resource.get("base64"), dict) else None
            try:
                text = base64.b64decode(str(encoded), validate=True).decode("utf-8")
            except (ValueError, UnicodeDecodeError) as exc:
                raise InputError(f"{path}: the evidence manifest resource is not valid base64 JSON") from exc
            inner = loads_json(text, f"{path}: the evidence manifest resource is not valid JSON")
            if isinstance(inner, dict):
                return inner
    raise InputError(f"{path} holds no trueorigin evidence manifest")


def verify_report(path: Path, store: Store) -> VerifyResult:
    manifest, recorded = load_manifest(path)
    findings = manifest.get("findings", [])
    if not isinstance(findings, list):
        raise InputError(f"{path}: the manifest's findings are not a list")
    scan_id = str(manifest.get("scan_id", ""))
    checked = 0
    failed: list[dict[str, Any]] = []
    for finding in findings:
        if not isinstance(finding, dict):
            raise InputError(f"{path}: a manifest entry is not an object")
        observed, evidence = finding.get("observation_sha256", []), finding.get("evidence_sha256", [])
        if not isinstance(observed, list) or not isinstance(evidence, list):
            raise InputError(f"{path}: a manifest entry's digests are not lists")
        digests = [*observed, *evidence]
        unique = list(dict.fromkeys(str(d) for d in digests))
        host = finding.get("host")
        # Scoped to the scan and host: the evidence must be *this* device's answer, not any stored answer.
        verified = store.verify_digests(unique, scan_id=scan_id, host=str(host) if host is not None else None)
        checked += len(unique)
        failed.extend(
            {"finding_id": finding.get("finding_id"), "host": host, "sha256": digest}
            for digest in unique
            if not verified.get(digest, False)
        )
    return VerifyResult(
        scan_id=scan_id,
        kb_version=str(manifest.get("kb_version", "")),
        manifest_intact=manifest_digest(manifest) == recorded,
        checked=checked,
        failed=failed,
    )
