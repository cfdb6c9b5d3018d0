"""API of the case area (stub until built)."""

from ninja import Router

router = Router(tags=["health"])
