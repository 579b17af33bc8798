"""The compliance report: gathered from the store (`build_report`), written by one renderer per format.

    render(store, "pdf") -> bytes           # any format in RENDERERS; RenderOptions(detail="full", finding_ids=...)
    far_status(store) -> [FarStatus]        # FAR 52.204-25(d) deadlines per covered finding (the dashboard)

Reports read the store and the knowledge base only; they never import the network layer.
"""

from trueorigin.report.data import ReportData, build_report
from trueorigin.report.far import FarStatus, far_status
from trueorigin.report.render import (
    RENDERERS,
    Renderer,
    RenderOptions,
    manifest_sidecar,
    render,
    render_html,
    renderer_for,
    write_report,
)
from trueorigin.report.verify import VerifyResult, verify_report

__all__ = [
    "RENDERERS",
    "FarStatus",
    "RenderOptions",
    "Renderer",
    "ReportData",
    "VerifyResult",
    "build_report",
    "far_status",
    "manifest_sidecar",
    "render",
    "render_html",
    "renderer_for",
    "verify_report",
    "write_report",
]
