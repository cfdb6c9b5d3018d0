"""Pages of the meeting area (ADR 0027)."""

from __future__ import annotations

urlpatterns: list = []
