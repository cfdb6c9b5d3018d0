from __future__ import annotations

import datetime as dt

from ninja import Router, Schema

from huxiao.audit.selectors import audit_event_list
from huxiao.core.api import DbId, paginate

router = Router(tags=["audit"])


class AuditEventOut(Schema):
    id: int
    at: dt.datetime
    actor_id: int | None
    actor_label: str
    action: str
    object_type: str
    object_id: str
    object_repr: str
    school_id: int | None
    changes: dict
    request_id: str


class AuditPage(Schema):
    count: int
    items: list[AuditEventOut]


@router.get("/audit", response=AuditPage)
def audit_list(
    request,
    object_type: str = "",
    object_id: str = "",
    user_id: DbId | None = None,
    school_id: DbId | None = None,
    limit: int = 50,
    offset: int = 0,
):
    qs = audit_event_list(
        actor=request.auth,
        object_type=object_type[:100],
        object_id=object_id[:64],
        user_id=user_id,
        school_id=school_id,
    )
    return paginate(qs, limit=limit, offset=offset)
