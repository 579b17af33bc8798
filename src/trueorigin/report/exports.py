"""Exports for the tools compliance officers already use: the FAR 52.204-25(d) report (PDF and CSV), OSCAL
assessment results (JSON), NetBox and Snipe-IT import CSVs. Each carries the tool, knowledge-base and fingerprint
versions, the scan id and the evidence hashes.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Sequence
from typing import Any

from trueorigin.model import Identification
from trueorigin.report.csvsafe import csv_bytes
from trueorigin.report.data import ReportData, ReportDevice
from trueorigin.report.far import FarStatus, item_description
from trueorigin.report.render import RenderOptions, _environment, html_to_pdf, manifest_document, script_safe_json
from trueorigin.safetext import visible
from trueorigin.store.api import iso_time

# Stable ids: the same scan and device give the same OSCAL uuid in every export.
UUID_NAMESPACE = uuid.UUID("6f1c1d2e-6a55-4f0b-9c1e-7472756f7269")
OSCAL_VERSION = "1.1.2"
OSCAL_NS = "https://github.com/trueorigin/trueorigin/ns/oscal"  # our own property names live in this namespace
MANIFEST_RESOURCE_TITLE = "trueorigin evidence manifest"


def _far_selection(data: ReportData, options: RenderOptions) -> list[FarStatus]:
    from trueorigin.errors import InputError

    if data.far_clause is None:
        raise InputError("the knowledge base used for this report does not describe FAR 52.204-25(d)")
    chosen = [data.far[k] for k in sorted(data.far)]
    if options.finding_ids:
        missing = sorted(set(options.finding_ids) - set(data.far))
        if missing:
            raise InputError(
                f"no covered finding {', '.join(map(str, missing))} in scan {data.scan.id} "
                "(a FAR 52.204-25(d) report is for covered equipment)"
            )
        chosen = [data.far[k] for k in options.finding_ids]
    return chosen


def _device_of(data: ReportData) -> dict[int, ReportDevice]:
    return {d.finding_id: d for d in data.devices}


def far_rows(data: ReportData, options: RenderOptions) -> list[dict[str, Any]]:
    """One FAR 52.204-25(d) record per covered finding: the clause's fields, the deadlines and the evidence."""
    devices = _device_of(data)
    rows = []
    for status in _far_selection(data, options):
        device = devices.get(status.finding_id)
        ident = device.identification if device else (status.finding.identification if status.finding else None)
        assert ident is not None
        contract = status.contract
        initial, *rest = status.deadlines
        further = rest[0] if rest else None
        rows.append(
            {
                "finding_id": status.finding_id,
                "contract_number": contract.contract_number,
                "order_numbers": contract.order_numbers,
                "supplier_name": contract.supplier_name,
                "supplier_uei": contract.supplier_uei,
                "supplier_cage": contract.supplier_cage,
                "brand": ident.brand or ident.vendor,
                "true_manufacturer": ident.vendor,
                "model_number": ident.model,
                "item_description": contract.item_description or item_description(ident),
                "item_description_derived": contract.item_description is None,
                "mitigation": contract.mitigation,
                "further_mitigation": contract.further_mitigation,
                "prevention": contract.prevention,
                "identified_on": status.identified_on.isoformat(),
                "initial_due": initial.due.isoformat(),
                "initial_sent_on": initial.sent_on.isoformat() if initial.sent_on else None,
                "further_due": further.due.isoformat() if further else None,
                "further_due_projected": further.projected if further else False,
                "further_sent_on": further.sent_on.isoformat() if further and further.sent_on else None,
                "state": status.state,
                "overdue": status.overdue,
                "missing": list(status.missing),
                "host": ident.host,
                "site": device.site if device else None,
                "mac": ident.mac,
                "serial": ident.serial,
                "firmware": ident.firmware,
                "remediation_status": device.status if device else None,
                "observation_sha256": list(dict.fromkeys(device.observation_sha256)) if device else [],
                "scan_id": data.scan.id,
                "tool_version": data.tool_version,
                "kb_version": data.kb_version,
                "fingerprint_version": data.fingerprint_version,
                "manifest_sha256": data.manifest_sha256,
            }
        )
    return rows


FAR_CSV_COLUMNS = (
    "finding_id",
    "contract_number",
    "order_numbers",
    "supplier_name",
    "supplier_uei",
    "supplier_cage",
    "brand",
    "true_manufacturer",
    "model_number",
    "item_description",
    "mitigation",
    "further_mitigation",
    "prevention",
    "identified_on",
    "initial_due",
    "initial_sent_on",
    "further_due",
    "further_sent_on",
    "state",
    "overdue",
    "missing",
    "host",
    "site",
    "mac",
    "serial",
    "firmware",
    "remediation_status",
    "observation_sha256",
    "scan_id",
    "tool_version",
    "kb_version",
    "fingerprint_version",
    "manifest_sha256",
)


def _csv_value(value: Any) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return value


class FarCsvRenderer:
    format, suffix, media_type, embeds_manifest = "far-csv", ".csv", "text/csv; charset=utf-8", False

    def render_bytes(self, data: ReportData, options: RenderOptions) -> bytes:
        rows = far_rows(data, options)
        return csv_bytes(FAR_CSV_COLUMNS, [[_csv_value(row[c]) for c in FAR_CSV_COLUMNS] for row in rows])


class FarPdfRenderer:
    format, suffix, media_type, embeds_manifest = "far", ".pdf", "application/pdf", False

    def render_bytes(self, data: ReportData, options: RenderOptions) -> bytes:
        return html_to_pdf(far_html(data, options))


def far_html(data: ReportData, options: RenderOptions) -> str:
    assert data.far_clause is not None or not data.far
    rows = far_rows(data, options)
    return (
        _environment()
        .get_template("far.html.j2")
        .render(
            r=data,
            rows=rows,
            clause=data.far_clause,
            nums={s.url: n for n, s in enumerate(data.far_clause.sources, start=1)} if data.far_clause else {},
            manifest_json=script_safe_json(manifest_document(data)),
        )
    )


# ---------------------------------------------------------------------------------------------------- OSCAL
def _uuid(*parts: object) -> str:
    return str(uuid.uuid5(UUID_NAMESPACE, "/".join(str(p) for p in parts)))


def _prop(name: str, value: object, ns: str | None = OSCAL_NS) -> dict[str, str] | None:
    # OSCAL property values are one line without edge whitespace; device text is made visible (\n -> "\n").
    text = visible(str(value)).strip() if value is not None else ""
    if not text:
        return None
    prop = {"name": name, "value": text[:1000]}
    if ns:
        prop["ns"] = ns
    return prop


def _props(*items: dict[str, str] | None) -> list[dict[str, str]]:
    return [p for p in items if p is not None]


def _oscal_time(epoch: float | None, fallback: str) -> str:
    return iso_time(epoch) or fallback


def _inventory_item(data: ReportData, ident: Identification, finding_id: int | None) -> dict[str, Any]:
    ip_prop = "ipv6-address" if ":" in ident.host else "ipv4-address"
    item: dict[str, Any] = {
        "uuid": _uuid(data.scan.id, "inventory", ident.host),
        "description": f"{ident.kind or 'device'} at {ident.host}: made by {ident.vendor or 'unknown'}"
        + (f", shown as {ident.brand}" if ident.brand else ""),
        "props": _props(
            _prop("asset-type", "hardware", ns=None),
            _prop(ip_prop, ident.host, ns=None),
            _prop("mac-address", ident.mac, ns=None),
            _prop("vendor-name", ident.vendor, ns=None),
            _prop("model", ident.model, ns=None),
            _prop("serial-number", ident.serial, ns=None),
            _prop("version", ident.firmware, ns=None),
            _prop("brand-shown", ident.brand),
            _prop("true-origin", ident.vendor),
            _prop("covered", ident.covered),
            _prop("finding-id", finding_id),
            *(_prop("regime", r) for r in ident.regimes),
            *(_prop("known-exploited-cve", c) for c in ident.cves),
        ),
    }
    return item


def oscal_document(data: ReportData) -> dict[str, Any]:
    """OSCAL assessment results: the inventory of assessed components, one observation per covered or review
    device (its evidence chain and raw-answer hashes), and one finding per NIST SP 800-53 control it evidences."""
    now = data.generated_at
    scan = data.scan
    kb = _compliance(data)
    controls = list(kb.controls) if kb is not None else []
    finding_of_host = {d.identification.host: d.finding_id for d in data.devices}
    inventory_source = data.inventory or [d.identification for d in data.devices]
    inventory = [_inventory_item(data, ident, finding_of_host.get(ident.host)) for ident in inventory_source]
    observations = []
    resources: list[dict[str, Any]] = []
    for device in data.devices:
        ident = device.identification
        observation_uuid = _uuid(scan.id, "observation", device.finding_id)
        evidence = []
        for index, step in enumerate(ident.evidence):
            if step.observation_sha256:
                resource_uuid = _uuid(scan.id, "raw", ident.host, step.observation_sha256)
                if all(r["uuid"] != resource_uuid for r in resources):
                    resources.append(
                        {
                            "uuid": resource_uuid,
                            "title": f"raw answer of {ident.host} ({step.protocol or 'observation'})",
                            "rlinks": [
                                {
                                    "href": f"trueorigin:observation/{scan.id}/{ident.host}/{step.observation_sha256}",
                                    "hashes": [{"algorithm": "SHA-256", "value": step.observation_sha256}],
                                }
                            ],
                        }
                    )
                href = f"#{resource_uuid}"
            else:
                href = f"#{observation_uuid}-step-{index}"
            evidence.append(
                {
                    "href": href,
                    "description": step.claim
                    + (f" ({step.field} = {step.value})" if step.field else "")
                    + (f"; rule {step.rule}" if step.rule else ""),
                    "props": _props(
                        _prop("rule", step.rule),
                        _prop("certainty", f"{step.certainty:.2f}" if step.certainty is not None else None),
                        *(_prop("source", s.url) for s in step.sources),
                    ),
                }
            )
        observations.append(
            {
                "uuid": observation_uuid,
                "title": f"Finding {device.finding_id}: {ident.vendor or 'unknown'} device at {ident.host}",
                "description": f"{ident.host} identified as made by {ident.vendor or 'unknown'}"
                + (f", shown as {ident.brand}" if ident.brand else "")
                + f"; covered: {ident.covered}; remediation status: {device.status}.",
                "props": _props(
                    _prop("finding-id", device.finding_id),
                    _prop("remediation-status", device.status),
                    _prop("due", data.due_date(device)),
                    *(_prop("observation-sha256", h) for h in device.observation_sha256),
                ),
                "methods": ["TEST"],
                "types": ["finding"],
                "subjects": [
                    {"subject-uuid": _uuid(scan.id, "inventory", ident.host), "type": "inventory-item"},
                ],
                "collected": _oscal_time(scan.finished_at or scan.started_at, now),
                "relevant-evidence": evidence or [{"href": f"#{observation_uuid}", "description": "no evidence"}],
            }
        )
    covered = [d for d in data.devices if d.identification.covered == "yes"]
    findings = []
    for control in controls:
        if control.applies_to == "inventory":
            related = [o["uuid"] for o in observations]
            state = "satisfied"
            remark = (
                f"{len(inventory)} component(s) observed in this audit are inventoried with their true manufacturer "
                "(local-definitions); whether the system's own inventory matches them is not assessed here."
            )
        else:
            related = [_uuid(scan.id, "observation", d.finding_id) for d in covered]
            state = "not-satisfied" if covered else "satisfied"
            remark = (
                f"{len(covered)} covered component(s) found."
                if covered
                else "No covered component found in this audit; absence of a finding is not proof of absence."
            )
        finding: dict[str, Any] = {
            "uuid": _uuid(scan.id, "finding", control.id),
            "title": f"{control.label} {control.title}",
            "description": control.evidence,
            "props": _props(_prop("control-id", control.id)),
            "target": {
                "type": "objective-id",
                "target-id": f"{control.id}_obj",
                "title": f"{control.label} {control.title}",
                "status": {"state": state},
            },
            "remarks": remark,
        }
        if related:
            finding["related-observations"] = [{"observation-uuid": u} for u in related]
        findings.append(finding)
    manifest_b64 = base64.b64encode(json.dumps(manifest_document(data), sort_keys=True).encode("utf-8")).decode()
    resources.append(
        {
            "uuid": _uuid(scan.id, "manifest"),
            "title": MANIFEST_RESOURCE_TITLE,
            "description": "Evidence manifest; verify with `trueorigin report verify`.",
            "props": _props(_prop("manifest-sha256", data.manifest_sha256)),
            "base64": {"filename": "evidence-manifest.json", "media-type": "application/json", "value": manifest_b64},
        }
    )
    for number, source in enumerate(data.bibliography, start=1):
        resources.append(
            {
                "uuid": _uuid("source", source.url),
                "title": f"[{number}] {source.title or source.url}",
                "rlinks": [{"href": source.url}],
            }
        )
    if kb is not None:
        for source in kb.catalog_sources:
            if all(r.get("rlinks", [{}])[0].get("href") != source.url for r in resources):
                resources.append(
                    {"uuid": _uuid("source", source.url), "title": source.title, "rlinks": [{"href": source.url}]}
                )
    result: dict[str, Any] = {
        "uuid": _uuid(scan.id, "result"),
        "title": f"Covered-equipment audit, scan {scan.id}",
        "description": f"Devices made by covered vendors (relabeled or not), {data.audited['source']}; "
        f"ranges {', '.join(scan.targets) or 'n/a'}.",
        "start": _oscal_time(scan.started_at, now),
        "props": _props(
            _prop("scan-id", scan.id),
            _prop("tool-version", data.tool_version),
            _prop("kb-version", data.kb_version),
            _prop("fingerprint-version", data.fingerprint_version),
            _prop("manifest-sha256", data.manifest_sha256),
        ),
        "reviewed-controls": {
            "control-selections": [
                {"include-controls": [{"control-id": c.id} for c in controls]} if controls else {"include-all": {}}
            ]
        },
    }
    if scan.finished_at is not None:
        result["end"] = _oscal_time(scan.finished_at, now)
    if inventory:
        result["local-definitions"] = {"inventory-items": inventory}
    if observations:
        result["observations"] = observations
    if findings:
        result["findings"] = findings
    document: dict[str, Any] = _prune(
        {
            "assessment-results": {
                "uuid": str(uuid.uuid4()),
                "metadata": {
                    "title": f"trueorigin assessment results: covered equipment, scan {scan.id}",
                    "last-modified": now,
                    "version": data.tool_version,
                    "oscal-version": OSCAL_VERSION,
                    "props": _props(
                        _prop("tool-version", data.tool_version),
                        _prop("kb-version", data.kb_version),
                        _prop("fingerprint-version", data.fingerprint_version),
                    ),
                    "remarks": "Controls: " + (kb.catalog_name if kb is not None else "NIST SP 800-53 Rev. 5"),
                },
                "import-ap": {"href": f"trueorigin:assessment-plan/{scan.id}"},
                "results": [result],
                "back-matter": {"resources": resources},
            }
        }
    )
    return document


def _prune(value: Any) -> Any:
    """OSCAL has no empty lists: a list with nothing in it is left out (props of a step without rule or source)."""
    if isinstance(value, dict):
        return {k: _prune(v) for k, v in value.items() if not (isinstance(v, list) and not v)}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def _compliance(data: ReportData) -> Any:
    """The compliance data (controls) of the knowledge base this report used; None when it has none."""
    return data.compliance


class OscalRenderer:
    format, suffix, media_type, embeds_manifest = "oscal", ".json", "application/json", True

    def render_bytes(self, data: ReportData, options: RenderOptions) -> bytes:
        return json.dumps(oscal_document(data), indent=2).encode("utf-8")


# ---------------------------------------------------------------------------------------------------- assets
def _asset_rows(data: ReportData) -> list[tuple[Identification, ReportDevice | None]]:
    by_host = {d.identification.host: d for d in data.devices}
    idents: Sequence[Identification] = data.inventory or [d.identification for d in data.devices]
    return [(ident, by_host.get(ident.host)) for ident in idents]


def _evidence_link(options: RenderOptions, device: ReportDevice | None, ident: Identification) -> str:
    if device is None:
        return ""
    return options.evidence_url.format(finding_id=device.finding_id, host=ident.host)


def _provenance_note(data: ReportData) -> str:
    return (
        f"trueorigin {data.tool_version}; knowledge base {data.kb_version}; fingerprints {data.fingerprint_version}; "
        f"scan {data.scan.id}; manifest sha256 {data.manifest_sha256}"
    )


NETBOX_COLUMNS = (
    "name",
    "role",
    "manufacturer",
    "device_type",
    "site",
    "status",
    "serial",
    "description",
    "comments",
    "tags",
    "cf_brand_shown",
    "cf_evidence_link",
)
# trueorigin remediation status -> NetBox device status
NETBOX_STATUS = {"open": "active", "scheduled": "decommissioning", "waived": "active", "replaced": "offline"}
NETBOX_TAG = {"yes": "trueorigin-covered", "review": "trueorigin-review"}


class NetboxRenderer:
    """NetBox bulk import (Devices → Import, CSV): manufacturer is the true origin."""

    format, suffix, media_type, embeds_manifest = "netbox", ".csv", "text/csv; charset=utf-8", False

    def render_bytes(self, data: ReportData, options: RenderOptions) -> bytes:
        note = _provenance_note(data)
        rows = []
        for ident, device in _asset_rows(data):
            status = NETBOX_STATUS.get(device.status, "offline") if device else "active"
            tag = NETBOX_TAG.get(ident.covered, "")
            evidence = ";".join(device.observation_sha256) if device else ""
            rows.append(
                [
                    ident.host,
                    ident.kind or "unknown",
                    ident.vendor or "Unknown",
                    ident.model or "Unknown",
                    device.site if device and device.site else (data.scan.site or ""),
                    status,
                    ident.serial or "",
                    f"{ident.vendor or 'unknown'} device at {ident.host}"
                    + (f", shown as {ident.brand}" if ident.brand else ""),
                    note + (f"; raw answers sha256 {evidence}" if evidence else ""),
                    tag,
                    ident.brand or "",
                    _evidence_link(options, device, ident),
                ]
            )
        return csv_bytes(NETBOX_COLUMNS, rows)


SNIPEIT_COLUMNS = (
    "Name",
    "Asset Tag",
    "Category",
    "Manufacturer",
    "Model",
    "Model Number",
    "Serial Number",
    "Location",
    "Status",
    "Asset Notes",
    "MAC Address",
    "Brand Shown",
    "Covered",
    "Evidence Link",
)
# Snipe-IT's default status labels: a covered device awaiting remediation is Pending; gone ones are Archived.
SNIPEIT_STATUS = {"open": "Pending", "scheduled": "Pending", "waived": "Pending", "replaced": "Archived"}


class SnipeitRenderer:
    """Snipe-IT asset import CSV (Assets → Import); custom fields map by their name (MAC Address, Brand Shown, ...)."""

    format, suffix, media_type, embeds_manifest = "snipeit", ".csv", "text/csv; charset=utf-8", False

    def render_bytes(self, data: ReportData, options: RenderOptions) -> bytes:
        note = _provenance_note(data)
        rows = []
        for ident, device in _asset_rows(data):
            tag_key = (ident.mac or ident.serial or ident.host).replace(":", "").upper()
            rows.append(
                [
                    f"{ident.vendor or 'Unknown'} {ident.kind or 'device'} {ident.host}",
                    f"TO-{tag_key}",
                    ident.kind or "Network device",
                    ident.vendor or "Unknown",
                    ident.model or "Unknown",
                    ident.model or "",
                    ident.serial or "",
                    device.site if device and device.site else (data.scan.site or ""),
                    SNIPEIT_STATUS.get(device.status, "Archived") if device else "Ready to Deploy",
                    note,
                    ident.mac or "",
                    ident.brand or "",
                    ident.covered,
                    _evidence_link(options, device, ident),
                ]
            )
        return csv_bytes(SNIPEIT_COLUMNS, rows)
