"""REST handlers of patrol checkpoints (issue 7 item 7; ADR 0029 "Rounds").

- GET /duty/checkpoints: the checkpoints of the schools the caller sees (`VIEW`); the `code`
  (the secret a plate carries) only where the caller plans duty (`PLAN_DUTY`), else null.
- POST /duty/checkpoints, PATCH /duty/checkpoints/{id}: `PLAN_DUTY`; `reissue_code: true`
  draws a new code (the old plate stops working).
A role that may not do it anywhere gets 403; a school or checkpoint out of scope 404; bad
input 400 by field.
"""

from __future__ import annotations

from django.db import transaction
from django.http import Http404
from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field

from huxiao.core.api import DbId, ErrorOut, paginate
from huxiao.core.roles import Action
from huxiao.core.scoping import visible_school_ids
from huxiao.duty import checkpoint_selectors as selectors
from huxiao.duty import checkpoint_services as services

router = Router(tags=["duty: checkpoints"])


class _In(Schema):
    model_config = ConfigDict(extra="forbid")


class CheckpointIn(_In):
    school_id: DbId
    name: str = Field(max_length=1000)
    location: str = Field("", max_length=1000)
    is_key_area: bool = True
    for_night: bool = False
    order: int | None = Field(None, ge=0, le=services.MAX_ORDER)


class CheckpointPatchIn(_In):
    name: str | None = Field(None, max_length=1000)
    location: str | None = Field(None, max_length=1000)
    is_key_area: bool | None = None
    for_night: bool | None = None
    order: int | None = Field(None, ge=0, le=services.MAX_ORDER)
    is_active: bool | None = None
    reissue_code: bool = False


class CheckpointOut(Schema):
    id: int
    school_id: int
    school_name: str
    name: str
    location: str
    is_key_area: bool
    for_night: bool
    order: int
    is_active: bool
    code: str | None
    created_at: str


class CheckpointList(Schema):
    count: int
    items: list[CheckpointOut]


def checkpoint_payload(checkpoint, planner_ids: frozenset[int]) -> dict:
    return {
        "id": checkpoint.pk,
        "school_id": checkpoint.school_id,
        "school_name": checkpoint.school.name,
        "name": checkpoint.name,
        "location": checkpoint.location,
        "is_key_area": checkpoint.is_key_area,
        "for_night": checkpoint.for_night,
        "order": checkpoint.order,
        "is_active": checkpoint.is_active,
        "code": checkpoint.code if checkpoint.school_id in planner_ids else None,
        "created_at": checkpoint.created_at.isoformat(),
    }


@router.get("/duty/checkpoints", response={200: CheckpointList, 403: ErrorOut, 404: ErrorOut})
def checkpoint_list(
    request,
    school_id: DbId | None = None,
    include_retired: bool = False,
    limit: int = 100,
    offset: int = 0,
):
    ids = selectors.require_any(request.auth, Action.VIEW)
    if school_id and school_id not in ids:
        raise Http404
    planners = visible_school_ids(request.auth, Action.PLAN_DUTY)
    qs = selectors.checkpoint_list(
        actor=request.auth, school_id=school_id, include_retired=include_retired
    )
    return paginate(qs, limit=limit, offset=offset, row=lambda c: checkpoint_payload(c, planners))


@router.post(
    "/duty/checkpoints", response={201: CheckpointOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut}
)
def checkpoint_create(request, payload: CheckpointIn):
    selectors.require_any(request.auth, Action.PLAN_DUTY)
    data = payload.dict()
    school = selectors.school_get(
        actor=request.auth, school_id=data.pop("school_id"), action=Action.PLAN_DUTY
    )
    checkpoint = services.checkpoint_create(actor=request.auth, school=school, **data)
    return Status(
        201, checkpoint_payload(checkpoint, visible_school_ids(request.auth, Action.PLAN_DUTY))
    )


@router.patch(
    "/duty/checkpoints/{checkpoint_id}",
    response={200: CheckpointOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def checkpoint_update(request, checkpoint_id: DbId, payload: CheckpointPatchIn):
    selectors.require_any(request.auth, Action.PLAN_DUTY)
    checkpoint = selectors.checkpoint_get(actor=request.auth, checkpoint_id=checkpoint_id)
    changes = payload.dict(exclude_unset=True)
    reissue = changes.pop("reissue_code", False)
    with transaction.atomic():
        if changes:
            checkpoint = services.checkpoint_update(
                actor=request.auth, checkpoint=checkpoint, **changes
            )
        if reissue:
            checkpoint = services.checkpoint_reissue_code(actor=request.auth, checkpoint=checkpoint)
    checkpoint = selectors.checkpoint_get(actor=request.auth, checkpoint_id=checkpoint.pk)
    return checkpoint_payload(checkpoint, visible_school_ids(request.auth, Action.PLAN_DUTY))
