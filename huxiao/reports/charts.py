"""Charts for PDFs, drawn on the server as inline SVG (ADR 0033).

WeasyPrint renders inline SVG, so a chart in a report needs no JavaScript, no image file
and no network: each function returns a safe `<svg>` string to put in a template. Labels
are escaped (town and school names are user text). The text uses the report's CJK font.
A value of None is drawn as "no data", never as a zero bar.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

FONT = "Noto Sans CJK SC, Noto Sans SC, Source Han Sans SC, sans-serif"
BAR = "#2f6f9f"
MUTED = "#888"
GRID = "#ddd"


def _number(value) -> str:
    if isinstance(value, Decimal | float):
        text = f"{value:.1f}"
        return text[:-2] if text.endswith(".0") else text
    return str(value)


def _fit(label: str, limit: int) -> str:
    label = str(label)
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _svg(width: int, height: int, body: list[str], title: str) -> SafeString:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="{FONT}" font-size="11" role="img" '
        f'aria-label="{escape(title)}">'
    )
    return mark_safe(head + "".join(body) + "</svg>")  # noqa: S308 - every text escaped above


def hbar_chart(
    rows: Sequence[tuple[str, object]],
    *,
    title: str = "",
    unit: str = "",
    max_value=None,
    width: int = 640,
    label_chars: int = 14,
) -> SafeString:
    """Horizontal bars, one per (label, value); `max_value` fixes the scale (100 for a
    percentage), otherwise the largest value sets it."""
    if not rows:
        return _empty(title, width)
    bar_h, gap, label_w, value_w, top = 16, 6, 11 * label_chars + 8, 70, 4
    values = [float(v) for _label, v in rows if v is not None]
    scale = float(max_value) if max_value else max(values or [0]) or 1.0
    plot_w = width - label_w - value_w
    height = top + len(rows) * (bar_h + gap) + 4
    body = []
    for i, (label, value) in enumerate(rows):
        y = top + i * (bar_h + gap)
        body.append(
            f'<text x="{label_w - 6}" y="{y + bar_h - 4}" text-anchor="end">'
            f"{escape(_fit(label, label_chars))}</text>"
        )
        body.append(
            f'<rect x="{label_w}" y="{y}" width="{plot_w}" height="{bar_h}" fill="none" '
            f'stroke="{GRID}" stroke-width="0.5"/>'
        )
        if value is None:
            body.append(
                f'<text x="{label_w + 4}" y="{y + bar_h - 4}" fill="{MUTED}">'
                f"{escape(_('no data'))}</text>"
            )
            continue
        w = max(0.0, min(1.0, float(value) / scale)) * plot_w
        body.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{BAR}"/>')
        body.append(
            f'<text x="{label_w + plot_w + 6}" y="{y + bar_h - 4}">'
            f"{escape(_number(value))}{escape(unit)}</text>"
        )
    return _svg(width, height, body, title)


def column_chart(
    rows: Sequence[tuple[str, object]],
    *,
    title: str = "",
    unit: str = "",
    width: int = 640,
    height: int = 180,
) -> SafeString:
    """Vertical columns, one per (label, value), the value above each column."""
    if not rows:
        return _empty(title, width)
    bottom, top = 36, 18
    plot_h = height - bottom - top
    values = [float(v) for _label, v in rows if v is not None]
    scale = max(values or [0]) or 1.0
    step = width / len(rows)
    col_w = min(60.0, step * 0.6)
    body = [
        f'<line x1="0" y1="{height - bottom}" x2="{width}" y2="{height - bottom}" '
        f'stroke="{GRID}" stroke-width="1"/>'
    ]
    for i, (label, value) in enumerate(rows):
        cx = step * i + step / 2
        body.append(
            f'<text x="{cx:.1f}" y="{height - bottom + 16}" text-anchor="middle">'
            f"{escape(_fit(label, 14))}</text>"
        )
        if value is None:
            body.append(
                f'<text x="{cx:.1f}" y="{height - bottom - 4}" text-anchor="middle" '
                f'fill="{MUTED}">{escape(_("no data"))}</text>'
            )
            continue
        h = max(0.0, float(value) / scale) * plot_h
        y = height - bottom - h
        body.append(
            f'<rect x="{cx - col_w / 2:.1f}" y="{y:.1f}" width="{col_w:.1f}" height="{h:.1f}" '
            f'fill="{BAR}"/>'
        )
        body.append(
            f'<text x="{cx:.1f}" y="{y - 4:.1f}" text-anchor="middle">'
            f"{escape(_number(value))}{escape(unit)}</text>"
        )
    return _svg(width, height, body, title)


def _empty(title: str, width: int) -> SafeString:
    return _svg(
        width,
        24,
        [f'<text x="0" y="16" fill="{MUTED}">{escape(_("no data"))}</text>'],
        title,
    )
