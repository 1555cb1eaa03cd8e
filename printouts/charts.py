"""Charts as SVG text, drawn on the server: no script, nothing from the network, big type that
reads on a projector. Each chart goes on the page with its table beneath (the numbers stay
readable to a screen reader and to anyone who copies them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from html import escape

from rules.statistics import Statistics

FONT = "font-family=\"'Noto Sans CJK SC','Microsoft YaHei','SimHei',sans-serif\""
BAR = "#0b5cad"
SECOND = "#d9822b"


def _label(text: str, limit: int = 14) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bar_chart(title: str, rows: Sequence[tuple[str, int]], *, limit: int = 12, width: int = 720) -> str:
    """Horizontal bars, largest first (the first `limit` rows; the table beneath lists them all)."""
    rows = list(rows)[:limit]
    bar_h, gap, left, right, top = 28, 10, 230, 70, 44
    height = top + len(rows) * (bar_h + gap) + 10
    peak = max((n for _l, n in rows), default=0) or 1
    span = width - left - right
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-label="{escape(title)}" class="chart" {FONT}>',
             f"<title>{escape(title)}</title>",
             f'<text x="0" y="26" font-size="20" font-weight="bold" fill="#111">{escape(title)}</text>']
    if not rows:
        parts.append(f'<text x="0" y="{top + 20}" font-size="18" fill="#555">本期无数据</text>')
    for i, (label, n) in enumerate(rows):
        y = top + i * (bar_h + gap)
        w = round(span * n / peak)
        parts.append(f'<text x="{left - 10}" y="{y + bar_h - 8}" font-size="17" text-anchor="end" fill="#111">'
                     f"{escape(_label(str(label)))}</text>")
        parts.append(f'<rect x="{left}" y="{y}" width="{max(w, 1)}" height="{bar_h}" fill="{BAR}"/>')
        parts.append(f'<text x="{left + w + 8}" y="{y + bar_h - 8}" font-size="17" fill="#111">{n}</text>')
    parts.append("</svg>")
    return "".join(parts)


def trend_chart(title: str, points: Sequence[tuple[dt.date, int, int]], *, width: int = 900,
                names: tuple[str, str] = ("收件", "办结")) -> str:
    """Daily columns for the first series and a line for the second, over the days given (oldest first)."""
    points = list(points)
    left, right, top, bottom = 50, 20, 60, 40
    height = 320
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((max(a, b) for _d, a, b in points), default=0) or 1
    step = plot_w / max(len(points), 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-label="{escape(title)}" class="chart" {FONT}>',
             f"<title>{escape(title)}</title>",
             f'<text x="0" y="26" font-size="20" font-weight="bold" fill="#111">{escape(title)}</text>',
             f'<rect x="{width - 250}" y="12" width="18" height="18" fill="{BAR}"/>'
             f'<text x="{width - 226}" y="27" font-size="17">{escape(names[0])}</text>',
             f'<line x1="{width - 140}" y1="21" x2="{width - 116}" y2="21" stroke="{SECOND}" stroke-width="4"/>'
             f'<text x="{width - 110}" y="27" font-size="17">{escape(names[1])}</text>',
             f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="#333"/>',
             f'<text x="{left - 8}" y="{top + 6}" font-size="15" text-anchor="end">{peak}</text>',
             f'<text x="{left - 8}" y="{top + plot_h}" font-size="15" text-anchor="end">0</text>']
    line = []
    for i, (day, first, second) in enumerate(points):
        x = left + i * step
        h = plot_h * first / peak
        parts.append(f'<rect x="{x + step * 0.15:.1f}" y="{top + plot_h - h:.1f}" width="{step * 0.7:.1f}" '
                     f'height="{h:.1f}" fill="{BAR}"><title>{day.isoformat()} {escape(names[0])} {first}</title></rect>')
        line.append(f"{x + step / 2:.1f},{top + plot_h - plot_h * second / peak:.1f}")
        if i % 5 == 0 or i == len(points) - 1:
            parts.append(f'<text x="{x + step / 2:.1f}" y="{height - 14}" font-size="15" text-anchor="middle">'
                         f"{day.month}/{day.day}</text>")
    if line:
        parts.append(f'<polyline points="{" ".join(line)}" fill="none" stroke="{SECOND}" stroke-width="3"/>')
    parts.append("</svg>")
    return "".join(parts)


def statistics_charts(stats: Statistics) -> dict[str, str]:
    """Every chart of a statistics page, keyed as the page places them: one per table, and ``trend``.

    The trend's title names the last day it shows (today while the period is still running), the
    same on the station and the county.
    """
    charts = {t.key: bar_chart(f"{t.title}（件）", t.rows) for t in stats.tables}
    last = stats.trend[-1][0] if stats.trend else stats.period.end
    charts["trend"] = trend_chart(f"近30天收件与办结（至 {last.isoformat()}）", stats.trend)
    if stats.satisfaction is not None:
        charts["satisfaction"] = bar_chart("好差评：按满意程度（条）", stats.satisfaction.levels)
        charts["bad_reasons"] = bar_chart("差评原因（条）", stats.satisfaction.bad_reasons)
    return charts
