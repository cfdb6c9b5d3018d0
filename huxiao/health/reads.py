"""Every read of a child's health record is logged (issue 9; ADR 0032).

Pages and API endpoints that show one child's health record (the child's health history,
a suspected case, a case's contacts) call `log_health_read` once per child shown in detail.
Lists of a class's check (data entry) and counts are not a record read.
"""

from __future__ import annotations

from huxiao.audit.services import audit_sensitive_read


def log_health_read(*, actor, obj, purpose: str) -> None:
    """Record that `actor` read the health record `obj` (a Child, or a HealthCase) for
    `purpose` (short English, e.g. "case page", "case contacts")."""
    audit_sensitive_read(actor=actor, obj=obj, field="health", purpose=purpose)
