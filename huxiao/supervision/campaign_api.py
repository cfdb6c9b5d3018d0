"""API of the campaign area (ADR 0027)."""

from ninja import Router

router = Router(tags=["supervision"])
