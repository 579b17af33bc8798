"""Report renderers: one small class per output format, all satisfying the `Renderer` protocol.

HTML and PDF come from the same Jinja2 template (inline CSS and SVG: the file is self-contained and never
loads anything from the network). CSV and JSON are for other tools. Every format records the knowledge-base
version and the evidence manifest (JSON and HTML inside the file, CSV and PDF in a `.manifest.json` sidecar).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from trueorigin.errors import InputError
from trueorigin.report.charts import STATUS_COLORS, bar_chart, stacked_chart
from trueorigin.report.data import ReportData
from trueorigin.safetext import html_visible
from trueorigin.spreadsheet import write_csv
from trueorigin.store.api import REMEDIATION_STATUSES, iso_time


class Renderer(Protocol):
    """Writes one report format to `out`."""

    format: str

    def render(self, data: ReportData, out: Path) -> None: ...


def manifest_document(data: ReportData) -> dict[str, Any]:
    return {"evidence_manifest": data.manifest, "evidence_manifest_sha256": data.manifest_sha256}


def script_safe_json(document: Any) -> str:
    """JSON that cannot close the <script> element it is embedded in."""
    text = json.dumps(document, sort_keys=True, indent=1)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _write_sidecar(data: ReportData, out: Path) -> None:
    sidecar = out.with_name(out.name + ".manifest.json")
    sidecar.write_text(json.dumps(manifest_document(data), indent=2, sort_keys=True), encoding="utf-8")


def render_html(data: ReportData) -> str:
    env = Environment(
        loader=PackageLoader("trueorigin.report", "templates"),
        autoescape=select_autoescape(["html", "j2"], default=True),
        undefined=StrictUndefined,
        finalize=html_visible,  # every {{ value }}: control/bidi characters shown, then autoescaped
    )
    env.filters["visible"] = html_visible
    # Dates without the year when many bars share the width, so neighbouring labels cannot overlap.
    short = len(data.progress) > 8
    progress = [(_progress_label(p.when, short), p.counts) for p in data.progress]
    charts = {
        "vendor": bar_chart("Covered devices by true vendor", data.count_by("vendor")),
        "brand": bar_chart("Covered devices by brand shown", data.count_by("brand")),
        "site": bar_chart("Covered devices by site", data.count_by("site")),
        "status": bar_chart(
            "Findings by remediation status", [(s, data.status_counts.get(s, 0)) for s in REMEDIATION_STATUSES]
        ),
        "progress": stacked_chart("Remediation progress across scans", progress, [s for s in STATUS_COLORS]),
    }
    return env.get_template("report.html.j2").render(
        r=data,
        charts=charts,
        started=iso_time(data.scan.started_at),
        finished=iso_time(data.scan.finished_at),
        manifest_json=script_safe_json(manifest_document(data)),
    )


def _progress_label(when: str, short: bool = False) -> str:
    # "2026-11-24T04:05:00+00:00" -> "2026-11-24\n04:05" (two lines under each bar), or "11-24\n04:05"
    if len(when) < 16:
        return when
    return (when[5:10] if short else when[:10]) + "\n" + when[11:16]


class HtmlRenderer:
    format = "html"

    def render(self, data: ReportData, out: Path) -> None:
        out.write_text(render_html(data), encoding="utf-8")


class PdfRenderer:
    format = "pdf"

    def render(self, data: ReportData, out: Path) -> None:
        try:
            from weasyprint import HTML
        except (ImportError, OSError) as exc:  # OSError: pango/cairo libraries missing
            raise InputError(f"PDF output needs WeasyPrint and its libraries (pip install weasyprint): {exc}") from exc
        # No base_url and a fetcher that refuses everything: the report must never touch the network.
        HTML(string=render_html(data), url_fetcher=_refuse_fetch).write_pdf(str(out))
        _write_sidecar(data, out)


def _refuse_fetch(url: str, *_args: Any, **_kwargs: Any) -> dict[str, Any]:
    raise ValueError(f"report resources are inline; refusing to fetch {url}")


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
    "known_exploited_cves",
    "evidence_rules",
    "evidence_sources",
    "observation_sha256",
    "scan_id",
    "kb_version",
    "fingerprint_version",
)


class CsvRenderer:
    format = "csv"

    def render(self, data: ReportData, out: Path) -> None:
        rows = []
        for d in data.devices:
            i = d.identification
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
                    ";".join(i.cves),
                    ";".join(e.rule for e in i.evidence if e.rule),
                    ";".join(dict.fromkeys(s.url for e in i.evidence for s in e.sources)),
                    ";".join(d.observation_sha256),
                    data.scan.id,
                    data.kb_version,
                    data.fingerprint_version,
                ]
            )
        write_csv(out, CSV_COLUMNS, rows)  # the one spreadsheet writer: no formula, no control character
        _write_sidecar(data, out)


class JsonRenderer:
    format = "json"

    def render(self, data: ReportData, out: Path) -> None:
        out.write_text(json.dumps(data.to_json(), indent=2, sort_keys=True), encoding="utf-8")


RENDERERS: dict[str, Renderer] = {r.format: r for r in (HtmlRenderer(), PdfRenderer(), CsvRenderer(), JsonRenderer())}


def renderer_for(fmt: str) -> Renderer:
    try:
        return RENDERERS[fmt.lower()]
    except KeyError:
        raise InputError(f"format must be one of {', '.join(RENDERERS)}, not {fmt!r}") from None
