"""API of the directory area (stub until built)."""

from ninja import Router

router = Router(tags=["health"])
