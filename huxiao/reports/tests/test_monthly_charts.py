"""Server-side SVG charts of the monthly report (reports.charts): bars to scale, "no data"
never drawn as zero, user text escaped."""

from __future__ import annotations

import re
from decimal import Decimal

from django.utils import translation

from huxiao.reports import charts


def _bar_widths(svg: str) -> list[float]:
    """The widths of the drawn bars (the empty frames behind them are not counted)."""
    pattern = rf'<rect x="\d+" y="\d+" width="([\d.]+)" height="16" fill="{charts.BAR}"'
    return [float(w) for w in re.findall(pattern, svg)]


def test_horizontal_bars_to_scale():
    svg = charts.hbar_chart(
        [("大杨树镇", Decimal("50.0")), ("柳河镇", 100)], unit="%", max_value=100
    )
    small, full = _bar_widths(svg)
    assert full == 2 * small
    assert "50%" in svg and "100%" in svg and svg.startswith("<svg")


def test_no_data_is_not_a_zero_bar():
    with translation.override("en"):
        svg = charts.hbar_chart([("A", None), ("B", 0)], unit="%", max_value=100)
        assert svg.count("no data") == 1
        assert _bar_widths(svg) == [0.0]  # B's empty bar; A has none
        assert "no data" in charts.column_chart([])


def test_labels_are_escaped():
    svg = charts.column_chart([('<script>alert("x")</script>', 3), ("10-01–10-04", 0)])
    assert "<script>" not in svg and "&lt;script" in svg
    assert ">3<" in svg
