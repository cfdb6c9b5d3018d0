"""API of the surveillance area (stub until built)."""

from ninja import Router

router = Router(tags=["health"])
