"""Disinfection, suspension, statements, aftercare, monitoring plans (stub: built by the
response area)."""

from __future__ import annotations


def monitoring_plan_for_case(*, actor, case):
    """More checks for the case's class (called by the case area when the procedure
    starts). Stub until the response area builds it."""
    return None
