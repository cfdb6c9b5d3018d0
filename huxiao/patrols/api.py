"""REST handlers for the patrols app: parse → call a selector/service → return."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["patrols"])
