"""REST handlers of passes, vehicles and contraband at the gate (issue 5, ADR 0024).

Passes: `manage_gate` issues, reads and revokes; the gate (`register_visitor`) scans.
Vehicles and interceptions are recorded by the gate. A role that allows the action nowhere
gets 403; a school or record out of scope is 404 like a missing one (ADR 0005). A refused
pass is a 200 with `result: "refused"` and the reason: the scan worked, the pass did not.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field

from huxiao.access import (
    contraband_selectors,
    contraband_services,
    pass_selectors,
    pass_services,
    vehicle_selectors,
    vehicle_services,
)
from huxiao.access.choices import (
    CarrierKind,
    ContrabandCategory,
    Handling,
    PassKind,
    RefusalReason,
    VehiclePurpose,
)
from huxiao.access.pass_selectors import require_any
from huxiao.core.api import DbId, ErrorOut, paginate
from huxiao.core.roles import Action
from huxiao.orgs.models import Organization

router = Router(tags=["gate: passes, vehicles, contraband"])
_ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class _In(Schema):
    model_config = ConfigDict(extra="forbid")


def school_for(actor, ids: frozenset[int], school_id: int | None) -> Organization:
    """The school named by `school_id`, or the only school in `ids` when none is named."""
    if school_id is None:
        if len(ids) != 1:
            raise ValidationError({"school_id": [_("Choose the school.")]})
        school_id = next(iter(ids))
    if school_id not in ids:
        raise Http404
    return get_object_or_404(Organization.objects.schools(), pk=school_id)


def _iso(value):
    return value.isoformat() if value else None


# ------------------------------------------------------------------ passes


class PassIn(_In):
    school_id: DbId | None = None
    kind: str = Field(max_length=20, description=", ".join(PassKind.values))
    staff_id: DbId | None = None
    holder_name: str = Field("", max_length=200)
    plate: str = Field("", max_length=40)
    note: str = Field("", max_length=1000)
    valid_from: dt.datetime | None = None
    valid_until: dt.datetime


class RevokeIn(_In):
    reason: str = Field(max_length=1000)


class PassOut(Schema):
    id: int
    school_id: int
    kind: str
    kind_label: str
    holder_name: str
    staff_id: int | None
    plate: str
    note: str
    valid_from: str
    valid_until: str
    used_at: str | None
    revoked_at: str | None
    revoke_reason: str
    code: str


class PassList(Schema):
    count: int
    items: list[PassOut]


def pass_payload(gate_pass) -> dict:
    return {
        "id": gate_pass.pk,
        "school_id": gate_pass.school_id,
        "kind": gate_pass.kind,
        "kind_label": str(PassKind(gate_pass.kind).label),
        "holder_name": gate_pass.holder_name,
        "staff_id": gate_pass.staff_id,
        "plate": gate_pass.plate,
        "note": gate_pass.note,
        "valid_from": gate_pass.valid_from.isoformat(),
        "valid_until": gate_pass.valid_until.isoformat(),
        "used_at": _iso(gate_pass.used_at),
        "revoked_at": _iso(gate_pass.revoked_at),
        "revoke_reason": gate_pass.revoke_reason,
        "code": pass_services.pass_code(gate_pass),
    }


class ScanIn(_In):
    school_id: DbId | None = None
    code: str = Field(max_length=1000)
    direction: str = Field("in", max_length=10)


class ScanOut(Schema):
    id: int
    school_id: int
    at: str
    direction: str
    result: str
    reason: str
    reason_label: str
    pass_id: int | None
    holder_name: str
    kind: str
    kind_label: str
    plate: str


class ScanList(Schema):
    count: int
    items: list[ScanOut]


def scan_payload(scan) -> dict:
    accepted = scan.result == "accepted"
    gate_pass = scan.gate_pass if accepted else None
    return {
        "id": scan.pk,
        "school_id": scan.school_id,
        "at": scan.at.isoformat(),
        "direction": scan.direction,
        "result": scan.result,
        "reason": scan.reason,
        "reason_label": str(RefusalReason(scan.reason).label) if scan.reason else "",
        "pass_id": scan.gate_pass_id,
        # The holder is shown only for an accepted pass: a refused code says why, not whose.
        "holder_name": gate_pass.holder_name if gate_pass else "",
        "kind": gate_pass.kind if gate_pass else "",
        "kind_label": str(PassKind(gate_pass.kind).label) if gate_pass else "",
        "plate": gate_pass.plate if gate_pass else "",
    }


@router.get("/passes", response={200: PassList, 403: ErrorOut, 404: ErrorOut})
def pass_list(
    request,
    school_id: DbId | None = None,
    kind: str = "",
    state: str = "",
    limit: int = 50,
    offset: int = 0,
):
    ids = require_any(request.auth, Action.MANAGE_GATE)
    if school_id and school_id not in ids:
        raise Http404
    qs = pass_selectors.pass_list(actor=request.auth, school_id=school_id, kind=kind, state=state)
    return paginate(qs, limit=limit, offset=offset, row=pass_payload)


@router.post("/passes", response={201: PassOut, **_ERRORS})
def pass_issue(request, payload: PassIn):
    ids = require_any(request.auth, Action.MANAGE_GATE)
    data = payload.dict()
    school = school_for(request.auth, ids, data.pop("school_id"))
    data["staff"] = data.pop("staff_id")
    gate_pass = pass_services.pass_issue(actor=request.auth, school=school, **data)
    return Status(201, pass_payload(gate_pass))


@router.get("/passes/scans", response={200: ScanList, 403: ErrorOut, 404: ErrorOut})
def scan_list(
    request,
    school_id: DbId | None = None,
    pass_id: DbId | None = None,
    limit: int = 50,
    offset: int = 0,
):
    ids = _require_gate_reader(request.auth)
    if pass_id:
        pass_selectors.pass_get(actor=request.auth, pass_id=pass_id)
    if school_id and school_id not in ids:
        raise Http404
    qs = pass_selectors.scan_list(actor=request.auth, school_id=school_id, pass_id=pass_id)
    return paginate(qs, limit=limit, offset=offset, row=scan_payload)


@router.post("/passes/scan", response={200: ScanOut, **_ERRORS})
def pass_scan(request, payload: ScanIn):
    ids = require_any(request.auth, Action.REGISTER_VISITOR)
    school = school_for(request.auth, ids, payload.school_id)
    scan = pass_services.pass_scan(
        actor=request.auth, school=school, text=payload.code, direction=payload.direction
    )
    return scan_payload(scan)


@router.get("/passes/{pass_id}", response={200: PassOut, 403: ErrorOut, 404: ErrorOut})
def pass_detail(request, pass_id: DbId):
    require_any(request.auth, Action.MANAGE_GATE)
    return pass_payload(pass_selectors.pass_get(actor=request.auth, pass_id=pass_id))


@router.post("/passes/{pass_id}/revoke", response={200: PassOut, **_ERRORS})
def pass_revoke(request, pass_id: DbId, payload: RevokeIn):
    require_any(request.auth, Action.MANAGE_GATE)
    gate_pass = pass_selectors.pass_get(actor=request.auth, pass_id=pass_id)
    gate_pass = pass_services.pass_revoke(
        actor=request.auth, gate_pass=gate_pass, reason=payload.reason
    )
    return pass_payload(gate_pass)


# ------------------------------------------------------------------ vehicles


class VehicleEntryIn(_In):
    school_id: DbId | None = None
    plate: str = Field(max_length=40)
    purpose: str = Field(max_length=20, description=", ".join(VehiclePurpose.values))
    driver_name: str = Field("", max_length=200)
    driver_phone: str = Field("", max_length=40)
    note: str = Field("", max_length=1000)
    pass_code: str = Field("", max_length=1000)


class VehicleOut(Schema):
    id: int
    school_id: int
    plate: str
    driver_name: str
    driver_phone: str
    purpose: str
    purpose_label: str
    note: str
    pass_id: int | None
    entered_at: str
    exited_at: str | None
    inside: bool


class VehicleList(Schema):
    count: int
    items: list[VehicleOut]


def vehicle_payload(movement) -> dict:
    return {
        "id": movement.pk,
        "school_id": movement.school_id,
        "plate": movement.plate,
        "driver_name": movement.driver_name,
        "driver_phone": movement.driver_phone,
        "purpose": movement.purpose,
        "purpose_label": str(VehiclePurpose(movement.purpose).label),
        "note": movement.note,
        "pass_id": movement.gate_pass_id,
        "entered_at": movement.entered_at.isoformat(),
        "exited_at": _iso(movement.exited_at),
        "inside": movement.exited_at is None,
    }


def _require_gate_reader(actor) -> frozenset[int]:
    ids = vehicle_selectors.reader_school_ids(actor)
    if not ids:
        require_any(actor, Action.REGISTER_VISITOR)
    return ids


@router.get("/vehicles", response={200: VehicleList, 403: ErrorOut, 404: ErrorOut})
def vehicle_list(
    request,
    school_id: DbId | None = None,
    inside: bool | None = None,
    plate: str = "",
    limit: int = 50,
    offset: int = 0,
):
    ids = _require_gate_reader(request.auth)
    if school_id and school_id not in ids:
        raise Http404
    qs = vehicle_selectors.movement_list(
        actor=request.auth, school_id=school_id, inside=inside, plate=plate
    )
    return paginate(qs, limit=limit, offset=offset, row=vehicle_payload)


@router.post("/vehicles/entries", response={201: VehicleOut, **_ERRORS})
def vehicle_enter(request, payload: VehicleEntryIn):
    ids = require_any(request.auth, Action.REGISTER_VISITOR)
    data = payload.dict()
    school = school_for(request.auth, ids, data.pop("school_id"))
    movement = vehicle_services.vehicle_enter(actor=request.auth, school=school, **data)
    return Status(201, vehicle_payload(movement))


@router.get("/vehicles/{movement_id}", response={200: VehicleOut, 403: ErrorOut, 404: ErrorOut})
def vehicle_detail(request, movement_id: DbId):
    _require_gate_reader(request.auth)
    return vehicle_payload(
        vehicle_selectors.movement_get(actor=request.auth, movement_id=movement_id)
    )


@router.post("/vehicles/{movement_id}/exit", response={200: VehicleOut, **_ERRORS})
def vehicle_exit(request, movement_id: DbId):
    require_any(request.auth, Action.REGISTER_VISITOR)
    movement = vehicle_selectors.movement_get(actor=request.auth, movement_id=movement_id)
    movement = vehicle_services.vehicle_exit(actor=request.auth, movement=movement)
    return vehicle_payload(movement)


# ------------------------------------------------------------------ contraband


class InterceptionIn(_In):
    school_id: DbId | None = None
    category: str = Field(max_length=20, description=", ".join(ContrabandCategory.values))
    item: str = Field(max_length=1000)
    carrier_kind: str = Field(max_length=20, description=", ".join(CarrierKind.values))
    carrier_name: str = Field("", max_length=200)
    visit_id: DbId | None = None
    handling: str = Field(max_length=30, description=", ".join(Handling.values))
    note: str = Field("", max_length=2000)
    photo_base64: str = Field("", max_length=3_000_000, description="JPEG or PNG, ≤ 2 MB")


class HandlingIn(_In):
    handling: str = Field(max_length=30)
    note: str | None = Field(None, max_length=2000)


class InterceptionOut(Schema):
    id: int
    school_id: int
    at: str
    category: str
    category_label: str
    item: str
    carrier_kind: str
    carrier_kind_label: str
    carrier_name: str
    visit_id: int | None
    handling: str
    handling_label: str
    note: str
    has_photo: bool
    police_notified_at: str | None


class InterceptionList(Schema):
    count: int
    items: list[InterceptionOut]


def interception_payload(interception) -> dict:
    return {
        "id": interception.pk,
        "school_id": interception.school_id,
        "at": interception.at.isoformat(),
        "category": interception.category,
        "category_label": str(ContrabandCategory(interception.category).label),
        "item": interception.item,
        "carrier_kind": interception.carrier_kind,
        "carrier_kind_label": str(CarrierKind(interception.carrier_kind).label),
        "carrier_name": interception.carrier_name,
        "visit_id": interception.visit_id,
        "handling": interception.handling,
        "handling_label": str(Handling(interception.handling).label),
        "note": interception.note,
        "has_photo": bool(interception.photo_content_type),
        "police_notified_at": _iso(interception.police_notified_at),
    }


def _photo_bytes(text: str) -> bytes | None:
    if not text:
        return None
    if "," in text[:100] and text.startswith("data:"):
        text = text.split(",", 1)[1]
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError({"photo_base64": [_("The photo is not valid base64.")]}) from None


def _require_contraband_reader(actor) -> frozenset[int]:
    ids = contraband_selectors.reader_school_ids(actor)
    if not ids:
        require_any(actor, Action.REGISTER_VISITOR)
    return ids


@router.get(
    "/contraband/interceptions",
    response={200: InterceptionList, 403: ErrorOut, 404: ErrorOut},
)
def interception_list(
    request,
    school_id: DbId | None = None,
    category: str = "",
    limit: int = 50,
    offset: int = 0,
):
    ids = _require_contraband_reader(request.auth)
    if school_id and school_id not in ids:
        raise Http404
    qs = contraband_selectors.interception_list(
        actor=request.auth, school_id=school_id, category=category
    )
    return paginate(qs, limit=limit, offset=offset, row=interception_payload)


@router.post("/contraband/interceptions", response={201: InterceptionOut, **_ERRORS})
def interception_record(request, payload: InterceptionIn):
    ids = require_any(request.auth, Action.REGISTER_VISITOR)
    data = payload.dict()
    school = school_for(request.auth, ids, data.pop("school_id"))
    data["photo"] = _photo_bytes(data.pop("photo_base64"))
    data["visit"] = data.pop("visit_id")
    interception = contraband_services.interception_record(
        actor=request.auth, school=school, **data
    )
    return Status(201, interception_payload(interception))


@router.get(
    "/contraband/interceptions/{interception_id}",
    response={200: InterceptionOut, 403: ErrorOut, 404: ErrorOut},
)
def interception_detail(request, interception_id: DbId):
    _require_contraband_reader(request.auth)
    return interception_payload(
        contraband_selectors.interception_get(actor=request.auth, interception_id=interception_id)
    )


@router.post(
    "/contraband/interceptions/{interception_id}/handling",
    response={200: InterceptionOut, **_ERRORS},
)
def interception_handling(request, interception_id: DbId, payload: HandlingIn):
    require_any(request.auth, Action.REGISTER_VISITOR)
    interception = contraband_selectors.interception_get(
        actor=request.auth, interception_id=interception_id
    )
    interception = contraband_services.interception_update_handling(
        actor=request.auth, interception=interception, **payload.dict()
    )
    return interception_payload(interception)
