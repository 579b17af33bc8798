"""Server-rendered SVG charts for the dashboard (no script, no inline style: the CSP allows them as they are).

Bar and stacked charts come from the report (`report/charts.py`, labels escaped there); the trend line is here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from xml.sax.saxutils import escape

from trueorigin.report.charts import FONT, STATUS_COLORS, bar_chart, stacked_chart

SERIES_COLORS: Mapping[str, str] = {"yes": "#b3261e", "review": "#e8a317"}

__all__ = ["STATUS_COLORS", "bar_chart", "line_chart", "stacked_chart"]


def _text(text: str) -> str:
    return escape(text, {"'": "&apos;", '"': "&quot;"})


def line_chart(title: str, labels: Sequence[str], series: Mapping[str, Sequence[int]], width: int = 700) -> str:
    """One polyline per series over the labels (e.g. covered yes / review per scan), with a legend."""
    height, top, bottom, left = 230, 50, 36, 40
    plot_h, plot_w = height - top - bottom, width - left - 20
    peak = max((max(values, default=0) for values in series.values()), default=0) or 1
    step = plot_w / max(len(labels) - 1, 1)
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' class='chart' role='img' viewBox='0 0 {width} {height}' "
        f"width='{width}' height='{height}' aria-label='{_text(title)}'>",
        f"<text x='0' y='16' {FONT} font-size='13' font-weight='bold'>{_text(title)}</text>",
    ]
    for index, name in enumerate(series):
        color = SERIES_COLORS.get(name, "#555")
        parts.append(
            f"<rect x='{index * 120}' y='26' width='10' height='10' fill='{color}'/>"
            f"<text x='{index * 120 + 14}' y='35' {FONT} font-size='11'>covered {_text(name)}</text>"
        )
    base_y = top + plot_h
    parts.append(f"<line x1='{left}' y1='{base_y}' x2='{width - 10}' y2='{base_y}' stroke='#333'/>")
    parts.append(f"<text x='{left - 6}' y='{top + 8}' {FONT} font-size='10' text-anchor='end'>{peak}</text>")
    if not labels:
        parts.append(f"<text x='{left + 10}' y='{top + 40}' {FONT} font-size='12' fill='#555'>no scans</text>")
    for name, values in series.items():
        color = SERIES_COLORS.get(name, "#555")
        points = [(left + i * step, base_y - plot_h * v / peak) for i, v in enumerate(values)]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(f"<polyline points='{path}' fill='none' stroke='{color}' stroke-width='2'/>")
        for (x, y), value in zip(points, values, strict=True):
            parts.append(
                f"<circle cx='{x:.1f}' cy='{y:.1f}' r='3' fill='{color}'><title>{_text(name)}: {value}</title></circle>"
            )
    shown = max(1, len(labels) // 8)
    for index, label in enumerate(labels):
        if index % shown == 0:
            parts.append(
                f"<text x='{left + index * step:.1f}' y='{base_y + 14}' {FONT} font-size='10' "
                f"text-anchor='middle'>{_text(label[:16])}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)
