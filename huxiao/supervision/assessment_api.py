"""API of the assessment area (ADR 0027)."""

from ninja import Router

router = Router(tags=["supervision"])
