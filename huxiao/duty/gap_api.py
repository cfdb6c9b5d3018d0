"""REST handlers of duty gaps (ADR 0029 "Gaps").

- GET  /duty/gaps?school_id=&state=open|resolved&kind=   gaps in scope (VIEW), newest first
- POST /duty/gaps/{id}/resolve {"note"}                    PLAN_DUTY; 409 when resolved

Out of scope is 404; the wrong role 403; bad input 400 with `errors` by field.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Router, Schema
from pydantic import Field

from huxiao.core.api import DbId, ErrorOut, api, paginate
from huxiao.core.names import person_name
from huxiao.core.roles import Action
from huxiao.duty import duty_selectors as sel
from huxiao.duty import gap_selectors as gsel
from huxiao.duty.choices import GapKind
from huxiao.duty.gap_services import DutyRefused, gap_resolve

router = Router(tags=["duty: gaps"])


class GapOut(Schema):
    id: int
    school_id: int
    school_name: str
    kind: str
    kind_label: str
    shift_id: int | None
    day: dt.date | None
    starts_at: dt.datetime
    ends_at: dt.datetime | None
    detail: dict
    flagged_at: dt.datetime
    resolved_at: dt.datetime | None
    resolved_by: str
    note: str


class GapList(Schema):
    count: int
    items: list[GapOut]


class ResolveIn(Schema):
    note: str = Field(max_length=5000)


def gap_payload(g) -> dict:
    return {
        "id": g.pk,
        "school_id": g.school_id,
        "school_name": g.school.name,
        "kind": g.kind,
        "kind_label": str(g.get_kind_display()),
        "shift_id": g.shift_id,
        "day": g.day,
        "starts_at": g.starts_at,
        "ends_at": g.ends_at,
        "detail": g.detail or {},
        "flagged_at": g.flagged_at,
        "resolved_at": g.resolved_at,
        "resolved_by": person_name(g.resolved_by) if g.resolved_by_id else "",
        "note": g.note,
    }


@router.get("/duty/gaps", response={200: GapList, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut})
def gap_list(
    request,
    school_id: DbId | None = None,
    state: Literal["open", "resolved"] | None = None,
    kind: GapKind | None = None,
    limit: int = 50,
    offset: int = 0,
):
    sel.require_any(request.auth, Action.VIEW)
    if school_id is not None:
        sel.school_get(actor=request.auth, school_id=school_id)
    qs = gsel.gap_list(actor=request.auth, school_id=school_id, state=state or "")
    if kind:
        qs = qs.filter(kind=kind)
    return paginate(qs, limit=limit, offset=offset, row=gap_payload)


@router.post(
    "/duty/gaps/{gap_id}/resolve",
    response={200: GapOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def gap_resolve_api(request, gap_id: DbId, payload: ResolveIn):
    try:
        gap = gap_resolve(actor=request.auth, gap_id=gap_id, note=payload.note)
    except DutyRefused as exc:
        return api.create_response(request, {"detail": exc.messages[0], "errors": {}}, status=409)
    return gap_payload(gsel.gap_get(actor=request.auth, gap_id=gap.pk))
