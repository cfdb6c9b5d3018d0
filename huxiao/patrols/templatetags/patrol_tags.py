"""Small display helpers of the gate-post pages."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def percent(rate) -> str:
    """0.8333 → "83%"; no shifts (None) → "—"."""
    if rate is None:
        return "—"
    return f"{rate * 100:.0f}%"
