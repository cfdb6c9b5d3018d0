"""REST handlers of protective equipment (issue 7 item 2; ADR 0028): parse → call a
selector/service → return.

A school's stock: read with VIEW, changed with MANAGE_SECURITY; out of scope is 404. The
county list: county-level education and governance offices (MANAGE_SECURITY_RULES) only,
everyone else 403. Bad input → 400 by field, nothing written; returning items twice or
deleting the last item of the county's list → 409.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Literal

from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import ConfigDict
from pydantic import ValidationError as PydanticValidationError

from huxiao.core.api import DbId, ErrorOut, api
from huxiao.core.permissions import require
from huxiao.core.roles import Action
from huxiao.people.models import Staff
from huxiao.security import equipment_selectors as selectors
from huxiao.security import equipment_services as services
from huxiao.security.choices import Condition

router = Router(tags=["security"])


# ------------------------------------------------------------------ schemas


class StockOut(Schema):
    type_id: int
    key: str
    name: str
    per_guard: bool
    is_required: bool
    min_quantity: int
    # What the school needs (0 for an item the county no longer requires).
    required: int
    quantity: int
    condition: str
    last_checked_on: dt.date | None
    notes: str
    issued: int
    available: int
    broken: bool
    missing: bool


class StockList(Schema):
    school_id: int
    count: int
    missing: int
    items: list[StockOut]


class StockPatch(Schema):
    """Only the fields sent change; the row is created on the first change."""

    model_config = ConfigDict(extra="forbid")

    quantity: int | None = None
    condition: Condition | None = None
    last_checked_on: dt.date | None = None
    notes: str | None = None


class IssueOut(Schema):
    id: int
    type_id: int
    item_name: str
    staff_id: int
    staff_name: str
    quantity: int
    issued_on: dt.date
    returned_on: dt.date | None


class IssueList(Schema):
    count: int
    items: list[IssueOut]


class IssueIn(Schema):
    model_config = ConfigDict(extra="forbid")

    staff_id: DbId
    quantity: int = 1
    issued_on: dt.date | None = None


class ReturnIn(Schema):
    model_config = ConfigDict(extra="forbid")

    returned_on: dt.date | None = None


class TypeOut(Schema):
    id: int
    region_id: int
    key: str
    name: str
    min_quantity: int
    per_guard: bool
    is_required: bool
    order: int
    # Schools that hold the item (it can then only be marked not required).
    in_use: int


class TypeList(Schema):
    region_id: int
    count: int
    items: list[TypeOut]


class TypeIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str
    min_quantity: int = 1
    per_guard: bool = False
    is_required: bool = True
    key: str = ""
    region_id: DbId | None = None


class TypePatch(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    min_quantity: int | None = None
    per_guard: bool | None = None
    is_required: bool | None = None


class MoveIn(Schema):
    model_config = ConfigDict(extra="forbid")

    direction: Literal["up", "down"]


class RemoveOut(Schema):
    # False: schools hold the item; it was marked not required instead.
    deleted: bool


# ------------------------------------------------------------------ payloads


def stock_payload(row) -> dict:
    stock = row.stock
    return {
        "type_id": row.item.pk,
        "key": row.item.key,
        "name": row.item.name,
        "per_guard": row.item.per_guard,
        "is_required": row.item.is_required,
        "min_quantity": row.item.min_quantity,
        "required": row.required,
        "quantity": row.quantity,
        "condition": row.condition,
        "last_checked_on": stock.last_checked_on if stock else None,
        "notes": stock.notes if stock else "",
        "issued": row.issued,
        "available": row.available,
        "broken": row.broken,
        "missing": row.missing,
    }


def issue_payload(issue) -> dict:
    return {
        "id": issue.pk,
        "type_id": issue.equipment.equipment_type_id,
        "item_name": issue.equipment.equipment_type.name,
        "staff_id": issue.staff_id,
        "staff_name": issue.staff.name,
        "quantity": issue.quantity,
        "issued_on": issue.issued_on,
        "returned_on": issue.returned_on,
    }


def type_payload(item) -> dict:
    return {
        "id": item.pk,
        "region_id": item.region_id,
        "key": item.key,
        "name": item.name,
        "min_quantity": item.min_quantity,
        "per_guard": item.per_guard,
        "is_required": item.is_required,
        "order": item.order,
        "in_use": getattr(item, "in_use", 0),
    }


def _type_detail(item) -> dict:
    for row in selectors.county_list(item.region):
        if row.pk == item.pk:
            return type_payload(row)
    return type_payload(item)


# ------------------------------------------------------------------ a school's stock


@router.get(
    "/security/schools/{school_id}/equipment",
    response={200: StockList, 403: ErrorOut, 404: ErrorOut},
)
def equipment_list(request, school_id: DbId):
    """The county's items with the school's stock, need and what is out with guards."""
    school = selectors.school_get(actor=request.auth, school_id=school_id)
    rows = selectors.stock_rows(actor=request.auth, school=school)
    return {
        "school_id": school.pk,
        "count": len(rows),
        "missing": sum(1 for r in rows if r.missing),
        "items": [stock_payload(r) for r in rows],
    }


@router.patch(
    "/security/schools/{school_id}/equipment/{int:type_id}",
    response={200: StockOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def equipment_update(request, school_id: DbId, type_id: DbId, payload: StockPatch):
    """Record quantity (not negative), condition, last check (not in the future), notes."""
    school = selectors.school_get(actor=request.auth, school_id=school_id)
    row = selectors.stock_row(actor=request.auth, school=school, type_id=type_id)
    services.stock_set(
        actor=request.auth,
        school=school,
        equipment_type=row.item,
        **payload.dict(exclude_unset=True),
    )
    return stock_payload(selectors.stock_row(actor=request.auth, school=school, type_id=type_id))


@router.get(
    "/security/schools/{school_id}/equipment/issues",
    response={200: IssueList, 403: ErrorOut, 404: ErrorOut},
)
def issue_list(request, school_id: DbId, open: bool = False):  # noqa: A002 - the query name
    """Items issued to the school's guards, open ones first; `open=true` only those not
    returned."""
    school = selectors.school_get(actor=request.auth, school_id=school_id)
    items = [
        issue_payload(i)
        for i in selectors.issue_list(actor=request.auth, school_id=school.pk, open_only=open)
    ]
    return {"count": len(items), "items": items}


@router.post(
    "/security/schools/{school_id}/equipment/{int:type_id}/issues",
    response={201: IssueOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def issue_create(request, school_id: DbId, type_id: DbId, payload: IssueIn):
    """Issue a per-guard item to a member of the school's security staff (not more than
    is in stock and not issued)."""
    school = selectors.school_get(actor=request.auth, school_id=school_id)
    row = selectors.stock_row(actor=request.auth, school=school, type_id=type_id)
    # Another school's staff reads as unknown (a field error), never as forbidden.
    staff = Staff.objects.filter(pk=payload.staff_id, school_id=school.pk).first()
    issue = services.equipment_issue(
        actor=request.auth,
        school=school,
        equipment_type=row.item,
        staff=staff,
        quantity=payload.quantity,
        issued_on=payload.issued_on,
    )
    return Status(201, issue_payload(selectors.issue_get(actor=request.auth, issue_id=issue.pk)))


FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def _return_body(request) -> ReturnIn:
    """The optional body of a return: none at all, an empty form or `{}` mean today; a JSON
    object is checked against ReturnIn (400 by field)."""
    raw = request.body.strip()
    if not raw or request.content_type in FORM_TYPES:
        data = {"returned_on": request.POST["returned_on"]} if "returned_on" in request.POST else {}
    else:
        try:
            data = json.loads(raw)
        except ValueError:
            raise HttpError(400, _("The request body is not valid JSON.")) from None
    if data is None:
        data = {}
    try:
        return ReturnIn.model_validate(data)
    except PydanticValidationError as exc:
        raise NinjaValidationError(exc.errors(include_url=False, include_context=False)) from None


@router.post(
    "/security/equipment/issues/{issue_id}/return",
    response={200: IssueOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": ReturnIn.model_json_schema()}},
        }
    },
)
def issue_return(request, issue_id: DbId):
    """Record the return (`returned_on`, default today). The body is optional and read
    last: out of reach is 404 and a role that may not is 403, whatever the body."""
    issue = selectors.issue_get(actor=request.auth, issue_id=issue_id)
    require(request.auth, Action.MANAGE_SECURITY, issue.equipment.school_id)
    payload = _return_body(request)
    try:
        services.equipment_return(
            actor=request.auth,
            issue=issue,
            returned_on=payload.returned_on,
        )
    except services.EquipmentStateRefused as refused:
        return api.create_response(
            request, {"detail": refused.messages[0], "errors": {}}, status=409
        )
    return issue_payload(selectors.issue_get(actor=request.auth, issue_id=issue_id))


# ------------------------------------------------------------------ the county list


@router.get(
    "/security/equipment-types",
    response={200: TypeList, 403: ErrorOut, 404: ErrorOut},
)
def type_list(request, region_id: DbId | None = None):
    """The county's list (the keeper's county, or `region_id` among theirs)."""
    region = selectors.require_keeper(request.auth, region_id)
    items = [type_payload(i) for i in selectors.county_list(region)]
    return {"region_id": region.pk, "count": len(items), "items": items}


@router.post(
    "/security/equipment-types",
    response={201: TypeOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def type_create(request, payload: TypeIn):
    data = payload.dict()
    region = selectors.require_keeper(request.auth, data.pop("region_id"))
    item = services.equipment_type_create(actor=request.auth, region=region, **data)
    return Status(201, _type_detail(item))


@router.patch(
    "/security/equipment-types/{type_id}",
    response={200: TypeOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def type_update(request, type_id: DbId, payload: TypePatch):
    item = selectors.equipment_type_get(actor=request.auth, type_id=type_id)
    item = services.equipment_type_update(
        actor=request.auth, equipment_type=item, **payload.dict(exclude_unset=True)
    )
    return _type_detail(item)


@router.post(
    "/security/equipment-types/{type_id}/move",
    response={200: TypeList, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def type_move(request, type_id: DbId, payload: MoveIn):
    item = selectors.equipment_type_get(actor=request.auth, type_id=type_id)
    services.equipment_type_move(
        actor=request.auth, equipment_type=item, direction=payload.direction
    )
    items = [type_payload(i) for i in selectors.county_list(item.region)]
    return {"region_id": item.region_id, "count": len(items), "items": items}


@router.delete(
    "/security/equipment-types/{type_id}",
    response={200: RemoveOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def type_remove(request, type_id: DbId):
    """Delete an item no school holds; one in use is marked not required instead. The last
    item of the county's list is refused (409)."""
    item = selectors.equipment_type_get(actor=request.auth, type_id=type_id)
    try:
        deleted = services.equipment_type_remove(actor=request.auth, equipment_type=item)
    except services.EquipmentStateRefused as refused:
        return api.create_response(
            request, {"detail": refused.messages[0], "errors": {}}, status=409
        )
    return {"deleted": deleted}
