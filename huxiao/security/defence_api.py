"""REST handlers of technical and physical defence (issue 7 item 3): parse → call a
selector/service → return, with the same rights as the pages.

A role that views no school is 403; a school or system out of scope is 404, exactly like
one that does not exist; a write without MANAGE_SECURITY is 403; a step the state does not
allow is 409 with the reason in `detail`; bad input is 400 with the fields in `errors`.
"""

from __future__ import annotations

import datetime as dt

from django.http import Http404
from ninja import Router, Schema, Status
from pydantic import Field

from huxiao.core.api import DbId, ErrorOut, api, paginate
from huxiao.security import defence_selectors as selectors
from huxiao.security import defence_services as services
from huxiao.security.choices import Perimeter, SystemKind

router = Router(tags=["security"])


# ------------------------------------------------------------------ schemas


class CamerasOut(Schema):
    total: int
    active: int
    online: int
    networked: int
    by_kind: dict[str, int]
    missing_key_kinds: list[str]


class AlarmBoxOut(Schema):
    id: int
    name: str


class SystemOut(Schema):
    id: int
    school_id: int
    school_name: str
    kind: str
    kind_label: str
    name: str
    location: str
    networked_to_police: bool
    installed_on: dt.date | None
    last_tested_on: dt.date | None
    is_active: bool
    updated_at: dt.datetime


class SystemList(Schema):
    count: int
    items: list[SystemOut]


class DefenceOut(Schema):
    school_id: int
    school_name: str
    has_profile: bool
    video_retention_days: int | None
    monitoring_room: bool
    monitoring_room_24h: bool
    perimeter: str
    perimeter_label: str
    bollards: int
    vehicle_barrier: bool
    speed_bumps: bool
    parent_waiting_area: bool
    closed_management: bool
    gatehouse_24h: bool
    notes: str
    updated_at: dt.datetime | None
    cameras: CamerasOut
    alarm_boxes: list[AlarmBoxOut]
    systems: list[SystemOut]
    can_edit: bool


class DefenceIn(Schema):
    """The whole profile (PUT): every field is given; `video_retention_days` is null when
    unknown."""

    video_retention_days: int | None = Field(..., description="0–3650, null when unknown")
    monitoring_room: bool
    monitoring_room_24h: bool
    perimeter: Perimeter
    bollards: int = Field(..., description="0–500")
    vehicle_barrier: bool
    speed_bumps: bool
    parent_waiting_area: bool
    closed_management: bool
    gatehouse_24h: bool
    notes: str = Field("", max_length=4000)


class SystemIn(Schema):
    school_id: DbId
    kind: SystemKind
    name: str = Field(max_length=1000)
    location: str = Field("", max_length=1000)
    networked_to_police: bool = False
    installed_on: dt.date | None = None
    last_tested_on: dt.date | None = None


class SystemPatch(Schema):
    """Only what is given changes; `is_active: false` retires, `true` puts back in service."""

    kind: SystemKind | None = None
    name: str | None = Field(None, max_length=1000)
    location: str | None = Field(None, max_length=1000)
    networked_to_police: bool | None = None
    installed_on: dt.date | None = None
    last_tested_on: dt.date | None = None
    is_active: bool | None = None


# ------------------------------------------------------------------ payloads


def system_payload(system) -> dict:
    return {
        "id": system.pk,
        "school_id": system.school_id,
        "school_name": system.school.name,
        "kind": system.kind,
        "kind_label": str(system.get_kind_display()),
        "name": system.name,
        "location": system.location,
        "networked_to_police": system.networked_to_police,
        "installed_on": system.installed_on,
        "last_tested_on": system.last_tested_on,
        "is_active": system.is_active,
        "updated_at": system.updated_at,
    }


def _defence(actor, school_id: int) -> dict:
    page = selectors.defence_page(actor=actor, school_id=school_id)
    profile = page.profile
    return {
        "school_id": page.school.pk,
        "school_name": page.school.name,
        "has_profile": profile.pk is not None,
        **{name: getattr(profile, name) for name in selectors.PROFILE_FIELDS},
        "perimeter_label": str(profile.get_perimeter_display()),
        "notes": profile.notes,
        "updated_at": profile.updated_at if profile.pk else None,
        "cameras": {
            "total": page.cameras.total,
            "active": page.cameras.active,
            "online": page.cameras.online,
            "networked": page.cameras.networked,
            "by_kind": {k["kind"]: k["count"] for k in page.cameras.by_kind},
            "missing_key_kinds": page.cameras.missing_key_kinds,
        },
        "alarm_boxes": [{"id": b.pk, "name": b.name} for b in page.alarm_boxes],
        "systems": [system_payload(s) for s in page.systems],
        "can_edit": page.can_edit,
    }


def _refused(request, refused: services.DefenceRefused):
    return api.create_response(request, {"detail": refused.messages[0], "errors": {}}, status=409)


# ------------------------------------------------------------------ the profile

_READ = {200: DefenceOut, 403: ErrorOut, 404: ErrorOut}
_WRITE = {200: DefenceOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


@router.get("/security/schools/{school_id}/defence", response=_READ)
def defence_get(request, school_id: DbId):
    """The school's defences: its profile (defaults when none was recorded), registry
    cameras, HuXiao alarm boxes and other technical systems in service."""
    return _defence(request.auth, school_id)


@router.put("/security/schools/{school_id}/defence", response=_WRITE)
def defence_put(request, school_id: DbId, payload: DefenceIn):
    """Record the whole profile (MANAGE_SECURITY); created on the first PUT."""
    selectors.defence_school_get(actor=request.auth, school_id=school_id)
    data = payload.model_dump()
    data["perimeter"] = str(data["perimeter"])
    services.defence_profile_save(actor=request.auth, school=school_id, **data)
    return _defence(request.auth, school_id)


# ------------------------------------------------------------------ technical systems

_SYS_READ = {200: SystemOut, 403: ErrorOut, 404: ErrorOut}
_SYS_WRITE = {200: SystemOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


@router.get(
    "/security/technical-systems",
    response={200: SystemList, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def system_list(
    request,
    school_id: DbId | None = None,
    kind: SystemKind | None = None,
    include_retired: bool = False,
    limit: int = 50,
    offset: int = 0,
):
    """Technical systems of the schools in scope (in service unless `include_retired`);
    `school_id` narrows to one school (404 when out of scope); `limit` 1–200."""
    ids = selectors.require_defence_reader(request.auth)
    if school_id is not None and school_id not in ids:
        raise Http404
    qs = selectors.technical_system_list(
        actor=request.auth,
        school_id=school_id,
        kind=str(kind) if kind else "",
        include_retired=include_retired,
    )
    return paginate(qs, limit=limit, offset=offset, row=system_payload)


@router.post(
    "/security/technical-systems",
    response={201: SystemOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def system_create(request, payload: SystemIn):
    """Record an alarm or recorder of a school (MANAGE_SECURITY)."""
    selectors.defence_school_get(actor=request.auth, school_id=payload.school_id)
    system = services.technical_system_add(
        actor=request.auth,
        school=payload.school_id,
        kind=str(payload.kind),
        name=payload.name,
        location=payload.location,
        networked_to_police=payload.networked_to_police,
        installed_on=payload.installed_on,
        last_tested_on=payload.last_tested_on,
    )
    return Status(201, system_payload(system))


@router.get("/security/technical-systems/{system_id}", response=_SYS_READ)
def system_get(request, system_id: DbId):
    return system_payload(selectors.technical_system_get(actor=request.auth, system_id=system_id))


@router.patch("/security/technical-systems/{system_id}", response=_SYS_WRITE)
def system_patch(request, system_id: DbId, payload: SystemPatch):
    """Change what is given (MANAGE_SECURITY). Null clears a date; other fields given as
    null are refused."""
    system = selectors.technical_system_get(actor=request.auth, system_id=system_id)
    changes = payload.model_dump(exclude_unset=True)
    if changes.get("kind") is not None:
        changes["kind"] = str(changes["kind"])
    system = services.technical_system_update(actor=request.auth, system=system, **changes)
    return system_payload(selectors.technical_system_get(actor=request.auth, system_id=system.pk))


@router.post("/security/technical-systems/{system_id}/retire", response=_SYS_WRITE)
def system_retire(request, system_id: DbId):
    """Take the system out of service; 409 when it already is."""
    system = selectors.technical_system_get(actor=request.auth, system_id=system_id)
    try:
        system = services.technical_system_retire(actor=request.auth, system=system)
    except services.DefenceRefused as refused:
        return _refused(request, refused)
    return system_payload(selectors.technical_system_get(actor=request.auth, system_id=system.pk))
