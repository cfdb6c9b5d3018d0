"""API of the check area (stub until built)."""

from ninja import Router

router = Router(tags=["health"])
