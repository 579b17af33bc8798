"""Small inline-SVG charts for the report: no JavaScript, no network, legible on screen and in print.

Every label is XML-escaped here, so the returned markup is safe to insert into the HTML as is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from xml.sax.saxutils import escape

from trueorigin.safetext import visible

FONT = "font-family='DejaVu Sans, Arial, sans-serif'"
BAR_COLOR = "#b3261e"
# Remediation statuses: open is the alarming one; done states are calm; waived stands apart.
STATUS_COLORS: Mapping[str, str] = {
    "open": "#b3261e",
    "scheduled": "#e8a317",
    "replaced": "#2e7d32",
    "removed": "#66bb6a",
    "waived": "#5c6bc0",
}
MAX_LABEL = 28


def _text(text: str) -> str:
    return escape(visible(text), {"'": "&apos;", '"': "&quot;"})


def _label(text: str) -> str:
    """An axis label, shortened so it cannot run into the bars."""
    return _text(text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…")


def bar_chart(title: str, items: Sequence[tuple[str, int]], width: int = 460, max_items: int = 12) -> str:
    """Horizontal bars, one per (label, count), largest first as given; extra items folded into 'other'."""
    shown = list(items[:max_items])
    if len(items) > max_items:
        shown.append(("other", sum(count for _, count in items[max_items:])))
    row, top, label_w = 22, 26, 170
    height = top + row * max(len(shown), 1) + 8
    peak = max((count for _, count in shown), default=0) or 1
    bar_space = width - label_w - 50
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' class='chart' role='img' viewBox='0 0 {width} {height}' "
        f"width='{width}' height='{height}' aria-label='{_text(title)}'>",
        f"<text x='0' y='16' {FONT} font-size='13' font-weight='bold'>{_text(title)}</text>",
    ]
    if not shown:
        parts.append(f"<text x='0' y='{top + 14}' {FONT} font-size='12' fill='#555'>none</text>")
    for index, (label, count) in enumerate(shown):
        y = top + index * row
        bar = max(round(bar_space * count / peak), 2 if count else 0)
        parts.append(
            f"<text x='{label_w - 6}' y='{y + 14}' {FONT} font-size='12' text-anchor='end'>{_label(label)}</text>"
            f"<rect x='{label_w}' y='{y + 3}' width='{bar}' height='{row - 8}' fill='{BAR_COLOR}'/>"
            f"<text x='{label_w + bar + 5}' y='{y + 14}' {FONT} font-size='12'>{count}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def stacked_chart(
    title: str, points: Sequence[tuple[str, Mapping[str, int]]], order: Sequence[str], width: int = 700
) -> str:
    """Vertical stacked bars, one per (label, counts by status), with a legend; used for remediation progress."""
    height, top, bottom, left = 250, 58, 42, 36
    plot_h = height - top - bottom
    peak = max((sum(counts.values()) for _, counts in points), default=0) or 1
    slot: float = (width - left - 10) / max(len(points), 1)
    bar_w = min(48.0, slot * 0.6)
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' class='chart' role='img' viewBox='0 0 {width} {height}' "
        f"width='{width}' height='{height}' aria-label='{_text(title)}'>",
        f"<text x='0' y='16' {FONT} font-size='13' font-weight='bold'>{_text(title)}</text>",
    ]
    for index, status in enumerate(order):
        legend_x = index * 110
        color = STATUS_COLORS.get(status, "#888")
        parts.append(
            f"<rect x='{legend_x}' y='26' width='10' height='10' fill='{color}'/>"
            f"<text x='{legend_x + 14}' y='35' {FONT} font-size='11'>{_label(status)}</text>"
        )
    base_y = top + plot_h
    parts.append(f"<line x1='{left}' y1='{base_y}' x2='{width - 4}' y2='{base_y}' stroke='#333'/>")
    parts.append(f"<text x='{left - 6}' y='{top + 8}' {FONT} font-size='10' text-anchor='end'>{peak}</text>")
    parts.append(f"<text x='{left - 6}' y='{base_y}' {FONT} font-size='10' text-anchor='end'>0</text>")
    if not points:
        parts.append(f"<text x='{left + 10}' y='{top + 40}' {FONT} font-size='12' fill='#555'>no scans</text>")
    for index, (label, counts) in enumerate(points):
        x = left + index * slot + (slot - bar_w) / 2
        y = float(base_y)
        for status in order:
            value = counts.get(status, 0)
            if not value:
                continue
            h = plot_h * value / peak
            y -= h
            parts.append(
                f"<rect x='{x:.1f}' y='{y:.1f}' width='{bar_w:.1f}' height='{h:.1f}' "
                f"fill='{STATUS_COLORS.get(status, '#888')}'><title>{_label(status)}: {value}</title></rect>"
            )
        total = sum(counts.values())
        parts.append(
            f"<text x='{x + bar_w / 2:.1f}' y='{y - 3:.1f}' {FONT} font-size='10' text-anchor='middle'>{total}</text>"
        )
        for line_no, line in enumerate(label.split("\n")[:2]):  # e.g. date on one line, time below
            parts.append(
                f"<text x='{x + bar_w / 2:.1f}' y='{base_y + 14 + 12 * line_no}' {FONT} font-size='10' "
                f"text-anchor='middle'>{_label(line)}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)
