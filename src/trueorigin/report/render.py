"""Report renderers: one small class per output format, all satisfying the `Renderer` protocol.

    from trueorigin.report import render, RenderOptions
    pdf = render(store, "pdf")                                   # bytes; the dashboard offers them as downloads
    far = render(store, "far", RenderOptions(finding_ids=(12,)))

HTML and PDF come from Jinja2 templates (inline CSS and SVG: the file is self-contained and never loads anything
from the network). Every format records the tool, knowledge-base and fingerprint versions and the evidence
manifest: inside the file where the format can hold it (html, json, oscal), otherwise in a
`<report>.manifest.json` sidecar written next to it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from trueorigin.errors import InputError
from trueorigin.report.charts import STATUS_COLORS, bar_chart, stacked_chart
from trueorigin.report.csvsafe import csv_bytes
from trueorigin.report.data import ReportData, build_report
from trueorigin.safetext import html_visible
from trueorigin.store.api import REMEDIATION_STATUSES, Store, iso_time

Detail = Literal["summary", "full"]
SUMMARY_VALUE_LIMIT = 100  # characters of an observed value shown in the summary report's evidence appendix


@dataclass(frozen=True, slots=True)
class RenderOptions:
    detail: Detail = "summary"  # "full": every device with its whole evidence chain and sources inline
    finding_ids: tuple[int, ...] = ()  # far / far-csv: only these findings (default: every covered one)
    # Link from an asset tool back to a device's evidence; {finding_id} and {host} are filled in.
    evidence_url: str = "report.html#evidence-{finding_id}"


class Renderer(Protocol):
    """Turns a ReportData into one format's bytes."""

    format: str
    suffix: str  # file suffix, with the dot
    media_type: str
    embeds_manifest: bool  # False: the manifest goes into a `.manifest.json` sidecar

    def render_bytes(self, data: ReportData, options: RenderOptions) -> bytes: ...


def manifest_document(data: ReportData) -> dict[str, Any]:
    return {"evidence_manifest": data.manifest, "evidence_manifest_sha256": data.manifest_sha256}


def manifest_sidecar(data: ReportData) -> bytes:
    """The `<report>.manifest.json` written beside formats that cannot hold the manifest themselves."""
    return json.dumps(manifest_document(data), indent=2, sort_keys=True).encode("utf-8")


def script_safe_json(document: Any) -> str:
    """JSON that cannot close the <script> element it is embedded in."""
    text = json.dumps(document, sort_keys=True, indent=1)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("trueorigin.report", "templates"),
        autoescape=select_autoescape(["html", "j2"], default=True),
        undefined=StrictUndefined,
        finalize=html_visible,  # every {{ value }}: control/bidi characters shown, then autoescaped
    )
    env.filters["visible"] = html_visible
    return env


def render_html(data: ReportData, detail: Detail = "summary") -> str:
    env = _environment()
    # Dates without the year when many bars share the width, so neighbouring labels cannot overlap.
    short = len(data.progress) > 8
    progress = [(_progress_label(p.when, short), p.counts) for p in data.progress]
    common = {
        "r": data,
        "started": iso_time(data.scan.started_at),
        "finished": iso_time(data.scan.finished_at),
        "manifest_json": script_safe_json(manifest_document(data)),
    }
    if detail == "full":
        charts = {
            "vendor": bar_chart("Covered devices by true vendor", data.count_by("vendor")),
            "brand": bar_chart("Covered devices by brand shown", data.count_by("brand")),
            "site": bar_chart("Covered devices by site", data.count_by("site")),
            "status": bar_chart(
                "Findings by remediation status", [(s, data.status_counts.get(s, 0)) for s in REMEDIATION_STATUSES]
            ),
            "progress": stacked_chart("Remediation progress across scans", progress, list(STATUS_COLORS)),
        }
        return env.get_template("report-full.html.j2").render(charts=charts, **common)
    far_rule = data.far_clause.business_days if data.far_clause is not None else "Monday to Friday"
    claims, claim_keys = shared_claims(data)
    return env.get_template("report.html.j2").render(
        audited=data.audited,
        nums=data.citation_numbers(),
        bibliography=data.bibliography,
        counts=[
            ("True origin", data.count_by("vendor")),
            ("Brand shown", data.count_by("brand")),
            ("Site", data.count_by("site")),
        ],
        far_overdue=sum(1 for s in data.far.values() if s.overdue),
        shared=claims,
        VALUE_LIMIT=SUMMARY_VALUE_LIMIT,
        STEPS_PER_ROW=3,
        claim_key=lambda step: claim_keys.get((step.rule or "", step.claim), ""),
        far_rule=far_rule,
        progress_chart=stacked_chart(
            "Remediation progress across scans", progress, list(STATUS_COLORS), width=1000, height=170
        ),
        **common,
    )


@dataclass(frozen=True, slots=True)
class SharedClaim:
    """A claim (with its rule and sources) that several devices' chains share: printed once, cited by key."""

    key: str  # "R12"
    rule: str
    claim: str
    sources: tuple[Any, ...]


def shared_claims(data: ReportData) -> tuple[list[SharedClaim], dict[tuple[str, str], str]]:
    """Claims repeated across devices (the same rule saying the same thing), numbered R1, R2, ... in order of
    first use; the map goes from (rule, claim) to its key. Claims seen once stay inline in their chain."""
    uses: dict[tuple[str, str], int] = {}
    first: dict[tuple[str, str], Any] = {}
    for device in data.devices:
        for step in device.identification.evidence:
            pair = (step.rule or "", step.claim)
            uses[pair] = uses.get(pair, 0) + 1
            first.setdefault(pair, step)
    shared: list[SharedClaim] = []
    keys: dict[tuple[str, str], str] = {}
    for pair, count in uses.items():
        if count > 1:
            key = f"R{len(shared) + 1}"
            keys[pair] = key
            shared.append(SharedClaim(key=key, rule=pair[0], claim=pair[1], sources=tuple(first[pair].sources)))
    return shared, keys


def _progress_label(when: str, short: bool = False) -> str:
    # "2026-11-24T04:05:00+00:00" -> "2026-11-24\n04:05" (two lines under each bar), or "11-24\n04:05"
    if len(when) < 16:
        return when
    return (when[5:10] if short else when[:10]) + "\n" + when[11:16]


def html_to_pdf(html: str) -> bytes:
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # OSError: pango/cairo libraries missing
        raise InputError(f"PDF output needs WeasyPrint and its libraries (pip install weasyprint): {exc}") from exc
    # No base_url and a fetcher that refuses everything: the report must never touch the network.
    pdf: bytes = HTML(string=html, url_fetcher=_refuse_fetch).write_pdf()
    return pdf


def _refuse_fetch(url: str, *_args: Any, **_kwargs: Any) -> dict[str, Any]:
    raise ValueError(f"report resources are inline; refusing to fetch {url}")


class HtmlRenderer:
    format, suffix, media_type, embeds_manifest = "html", ".html", "text/html; charset=utf-8", True

    def render_bytes(self, data: ReportData, options: RenderOptions) -> bytes:
        return render_html(data, options.detail).encode("utf-8")


class PdfRenderer:
    format, suffix, media_type, embeds_manifest = "pdf", ".pdf", "application/pdf", False

    def render_bytes(self, data: ReportData, options: RenderOptions) -> bytes:
        return html_to_pdf(render_html(data, options.detail))


CSV_COLUMNS = (
    "finding_id",
    "host",
    "site",
    "vendor",
    "brand_shown",
    "relabeled",
    "covered",
    "regimes",
    "kind",
    "model",
    "firmware",
    "mac",
    "serial",
    "confidence",
    "status",
    "recorded_status",
    "reason",
    "approver",
    "expires",
    "due",
    "far_state",
    "known_exploited_cves",
    "evidence_rules",
    "evidence_sources",
    "observation_sha256",
    "scan_id",
    "tool_version",
    "kb_version",
    "fingerprint_version",
)


class CsvRenderer:
    format, suffix, media_type, embeds_manifest = "csv", ".csv", "text/csv; charset=utf-8", False

    def render_bytes(self, data: ReportData, options: RenderOptions) -> bytes:
        rows = []
        for d in data.devices:
            i = d.identification
            far = data.far.get(d.finding_id)
            rows.append(
                [
                    d.finding_id,
                    i.host,
                    d.site or "",
                    i.vendor or "",
                    i.brand or "",
                    "yes" if d.relabeled else "no",
                    i.covered,
                    ";".join(i.regimes),
                    i.kind or "",
                    i.model or "",
                    i.firmware or "",
                    i.mac or "",
                    i.serial or "",
                    f"{i.confidence:.3f}",
                    d.status,
                    d.recorded_status,
                    d.reason or "",
                    d.approver or "",
                    d.expires or "",
                    data.due_date(d),
                    far.state if far else "",
                    ";".join(i.cves),
                    ";".join(e.rule for e in i.evidence if e.rule),
                    ";".join(dict.fromkeys(s.url for e in i.evidence for s in e.sources)),
                    ";".join(d.observation_sha256),
                    data.scan.id,
                    data.tool_version,
                    data.kb_version,
                    data.fingerprint_version,
                ]
            )
        return csv_bytes(CSV_COLUMNS, rows)


class JsonRenderer:
    format, suffix, media_type, embeds_manifest = "json", ".json", "application/json", True

    def render_bytes(self, data: ReportData, options: RenderOptions) -> bytes:
        return json.dumps(data.to_json(), indent=2, sort_keys=True).encode("utf-8")


def _all_renderers() -> dict[str, Renderer]:
    from trueorigin.report.exports import (
        FarCsvRenderer,
        FarPdfRenderer,
        NetboxRenderer,
        OscalRenderer,
        SnipeitRenderer,
    )

    renderers: tuple[Renderer, ...] = (
        HtmlRenderer(),
        PdfRenderer(),
        CsvRenderer(),
        JsonRenderer(),
        FarPdfRenderer(),
        FarCsvRenderer(),
        OscalRenderer(),
        NetboxRenderer(),
        SnipeitRenderer(),
    )
    return {r.format: r for r in renderers}


RENDERERS: dict[str, Renderer] = _all_renderers()


def renderer_for(fmt: str) -> Renderer:
    try:
        return RENDERERS[fmt.lower()]
    except KeyError:
        raise InputError(f"format must be one of {', '.join(RENDERERS)}, not {fmt!r}") from None


def render(store: Store, fmt: str, options: RenderOptions | None = None, scan_id: str | None = None) -> bytes:
    """One report format as bytes, for a scan (default: the latest). The server's download endpoint calls this;
    for formats without an embedded manifest, offer `manifest_sidecar(build_report(...))` beside it."""
    renderer = renderer_for(fmt)
    return renderer.render_bytes(build_report(store, scan_id), options or RenderOptions())


def write_report(data: ReportData, fmt: str, out: Path, options: RenderOptions | None = None) -> Renderer:
    """Write one format to `out` (and its manifest sidecar when the format cannot hold the manifest)."""
    renderer = renderer_for(fmt)
    out.write_bytes(renderer.render_bytes(data, options or RenderOptions()))
    if not renderer.embeds_manifest:
        out.with_name(out.name + ".manifest.json").write_bytes(manifest_sidecar(data))
    return renderer
