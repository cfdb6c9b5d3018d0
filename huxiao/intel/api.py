"""REST handlers for the intel app: parse → call a selector/service → return.

The high-risk persons register (`/register/…`) answers 404 to anyone without it, on every
route, and logs the probe (selectors.require_register / person_get). Searching is a POST so
that names and ID numbers never travel in a URL (proxy logs, browser history). There is
no screening endpoint: the gate calls `services.screen_person` in-process (ADR 0017).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from ninja import File, Router, Status, UploadedFile

from huxiao.core.api import DbId
from huxiao.core.names import person_name
from huxiao.intel import rules, selectors, services
from huxiao.intel.choices import PersonStatus
from huxiao.intel.schemas import (
    AccessLog,
    CloseIn,
    FollowUpIn,
    MeasureEndIn,
    MeasureIn,
    PersonIn,
    PersonOut,
    PersonPage,
    PersonPatch,
    SearchIn,
)
from huxiao.intel.validation import PHOTO_MAX_BYTES

router = Router(tags=["intel"])


def _named(obj, name=None):
    if obj is None:
        return None
    return {"id": obj.pk, "name": name if name is not None else person_name(obj)}


def _summary(row) -> dict:
    person = row.person
    return {
        "id": person.pk,
        "reference": person.reference,
        "station": {"id": person.station_id, "name": person.station.name},
        "name": row.name,
        "gender": person.gender,
        "id_number_masked": person.id_number_masked,
        "category": person.category,
        "category_label": str(person.get_category_display()),
        "risk_level": person.risk_level,
        "risk_level_label": str(person.get_risk_level_display()),
        "status": person.status,
        "status_label": str(person.get_status_display()),
        "next_review_on": person.next_review_on,
        "review_due": row.review_due,
        "responsible_officer": _named(person.responsible_officer),
        "related_schools": [str(s) for s in row.related_school_names],
    }


def person_payload(detail) -> dict:
    person = detail.person
    data = _summary(
        selectors.PersonRow(
            person=person,
            name=detail.name,
            review_due=detail.review_due,
            related_school_names=[s.name for s in detail.related_schools],
        )
    )
    data.update(
        id_number=detail.id_number,
        birth_date=detail.birth_date,
        address=detail.address,
        notes=detail.notes,
        related_school_ids=[s.pk for s in detail.related_schools],
        closed_reason=person.closed_reason,
        closed_reason_label=str(person.get_closed_reason_display()) if person.closed_reason else "",
        closed_note=detail.closed_note,
        closed_at=person.closed_at,
        has_photo=detail.has_photo,
        created_at=person.created_at,
        created_by=_named(person.created_by),
        measures=[
            {
                "id": m.pk,
                "kind": m.kind,
                "kind_label": str(m.get_kind_display()),
                "started_on": m.started_on,
                "ended_on": m.ended_on,
                "current": m.current,
                "responsible": _named(m.responsible),
                "notes": m.notes,
            }
            for m in detail.measures
        ],
        follow_ups=[
            {
                "id": f.pk,
                "on": f.on,
                "method": f.method,
                "method_label": str(f.get_method_display()),
                "assessment": f.assessment,
                "assessment_label": str(f.get_assessment_display()),
                "finding": f.finding,
                "by": _named(f.by),
            }
            for f in detail.follow_ups
        ],
        screening_hits=[
            {
                "id": h.pk,
                "at": h.at,
                "school": _named(h.school, h.school.name),
                "match": h.match,
                "match_label": str(h.get_match_display()),
                "screened_by": h.screened_by_label,
            }
            for h in detail.hits
        ],
    )
    return data


def _detail(request, person_id: int, *, route: str, status: int = 200):
    person = selectors.person_get(actor=request.auth, person_id=person_id, route=route)
    return Status(status, person_payload(selectors.person_detail(person=person)))


def _get(request, person_id: int, route: str):
    """The record for a write; its read is logged by the answer (`_detail`)."""
    return selectors.person_get(
        actor=request.auth, person_id=person_id, route=route, log_read=False
    )


@router.get("/register/persons", response=PersonPage)
def register_list(
    request,
    status: str = PersonStatus.ACTIVE,
    category: str = "",
    risk_level: str = "",
    review: str = "",
    station_id: DbId | None = None,
    limit: int = 50,
    offset: int = 0,
):
    """The records of the stations whose register the caller keeps (names decrypted, ID
    numbers masked); each record returned is logged as read."""
    selectors.require_register(request.auth, route="api.list")
    qs = selectors.person_list(
        actor=request.auth,
        status=status[:10],
        category=category[:30],
        risk_level=risk_level[:10],
        review=review[:10],
        station_id=station_id,
    )
    limit = max(1, min(limit, 200))
    offset = max(0, min(offset, 10**9))
    persons = list(qs[offset : offset + limit])
    rows = selectors.person_rows(actor=request.auth, persons=persons, purpose="api.list")
    return {"count": qs.count(), "items": [_summary(r) for r in rows]}


@router.post("/register/persons/search", response=PersonPage)
def register_search(request, payload: SearchIn):
    """Find records by name (homophones and slips included) or by full ID number."""
    selectors.require_register(request.auth, route="api.search")
    qs = selectors.person_list(actor=request.auth, status=payload.status[:10])
    found = selectors.person_search(actor=request.auth, qs=qs, query=payload.q)
    rows = selectors.person_rows(actor=request.auth, persons=found, purpose="api.search")
    return {"count": len(rows), "items": [_summary(r) for r in rows]}


@router.post("/register/persons", response={201: PersonOut})
def register_create(request, payload: PersonIn):
    stations = selectors.require_register(request.auth, route="api.create")
    editable = rules.register_station_ids(request.auth, rules.EDIT)
    if not editable:
        raise PermissionDenied
    station_id = payload.station_id
    if station_id is None and len(editable) == 1:
        station_id = next(iter(editable))
    if station_id not in stations:
        station_id = None  # the same answer as for a station that does not exist
    person = services.person_register(
        actor=request.auth,
        station=station_id,
        name=payload.name,
        id_number=payload.id_number,
        birth_date=payload.birth_date,
        gender=payload.gender,
        address=payload.address,
        notes=payload.notes,
        category=payload.category,
        risk_level=payload.risk_level,
        related_schools=payload.related_school_ids,
        responsible_officer=payload.responsible_officer_id,
        next_review_on=payload.next_review_on,
    )
    return _detail(request, person.pk, route="api.create", status=201)


_PATCH_FIELDS = {
    "related_school_ids": "related_schools",
    "responsible_officer_id": "responsible_officer",
}


@router.get("/register/persons/{person_id}", response=PersonOut)
def register_detail(request, person_id: DbId):
    return _detail(request, person_id, route="api.detail")


@router.patch("/register/persons/{person_id}", response=PersonOut)
def register_update(request, person_id: DbId, payload: PersonPatch):
    person = _get(request, person_id, "api.update")
    fields = {
        _PATCH_FIELDS.get(key, key): value
        for key, value in payload.model_dump(exclude_unset=True).items()
    }
    if fields.get("related_schools") is None and "related_schools" in fields:
        fields["related_schools"] = []
    services.person_update(actor=request.auth, person=person, **fields)
    return _detail(request, person_id, route="api.update")


@router.post("/register/persons/{person_id}/close", response=PersonOut)
def register_close(request, person_id: DbId, payload: CloseIn):
    person = _get(request, person_id, "api.close")
    services.person_close(
        actor=request.auth, person=person, reason=payload.reason, note=payload.note
    )
    return _detail(request, person_id, route="api.close")


@router.post("/register/persons/{person_id}/reopen", response=PersonOut)
def register_reopen(request, person_id: DbId):
    person = _get(request, person_id, "api.reopen")
    services.person_reopen(actor=request.auth, person=person)
    return _detail(request, person_id, route="api.reopen")


@router.post("/register/persons/{person_id}/measures", response={201: PersonOut})
def register_measure_add(request, person_id: DbId, payload: MeasureIn):
    person = _get(request, person_id, "api.measure_add")
    services.measure_add(
        actor=request.auth,
        person=person,
        kind=payload.kind,
        started_on=payload.started_on,
        ended_on=payload.ended_on,
        responsible=payload.responsible_id,
        notes=payload.notes,
    )
    return _detail(request, person_id, route="api.measure_add", status=201)


@router.post("/register/persons/{person_id}/measures/{measure_id}/end", response=PersonOut)
def register_measure_end(request, person_id: DbId, measure_id: DbId, payload: MeasureEndIn):
    person = _get(request, person_id, "api.measure_end")
    measure = selectors.measure_get(person=person, measure_id=measure_id)
    services.measure_end(actor=request.auth, measure=measure, ended_on=payload.ended_on)
    return _detail(request, person_id, route="api.measure_end")


@router.post("/register/persons/{person_id}/follow-ups", response={201: PersonOut})
def register_follow_up_add(request, person_id: DbId, payload: FollowUpIn):
    person = _get(request, person_id, "api.follow_up_add")
    services.follow_up_add(
        actor=request.auth,
        person=person,
        on=payload.on,
        method=payload.method,
        assessment=payload.assessment,
        finding=payload.finding,
        next_review_on=payload.next_review_on,
    )
    return _detail(request, person_id, route="api.follow_up_add", status=201)


@router.get("/register/persons/{person_id}/photo")
def register_photo(request, person_id: DbId):
    person = selectors.person_get(actor=request.auth, person_id=person_id, route="api.photo")
    photo = selectors.person_photo(person=person)
    if photo is None:
        raise Http404
    data, content_type = photo
    response = HttpResponse(data, content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    return response


@router.post("/register/persons/{person_id}/photo", response=PersonOut)
def register_photo_set(request, person_id: DbId, photo: UploadedFile = File(...)):  # noqa: B008
    person = _get(request, person_id, "api.photo_set")
    if photo.size and photo.size > PHOTO_MAX_BYTES:
        data = b"\0" * (PHOTO_MAX_BYTES + 1)  # the service words the refusal
    else:
        data = photo.read(PHOTO_MAX_BYTES + 1)
    services.person_photo_set(actor=request.auth, person=person, data=data)
    return _detail(request, person_id, route="api.photo_set")


@router.delete("/register/persons/{person_id}/photo", response=PersonOut)
def register_photo_remove(request, person_id: DbId):
    person = _get(request, person_id, "api.photo_remove")
    services.person_photo_remove(actor=request.auth, person=person)
    return _detail(request, person_id, route="api.photo_remove")


@router.get("/register/persons/{person_id}/access-log", response=AccessLog)
def register_access_log(request, person_id: DbId):
    """Who read, changed or probed the record; the station's commanders only (403 for
    the station's officers, who see the record but not its readers)."""
    person = selectors.person_get(
        actor=request.auth, person_id=person_id, route="api.access_log", log_read=False
    )
    if not rules.is_commander(request.auth, person.station_id):
        raise PermissionDenied
    events = selectors.person_access_log(actor=request.auth, person=person)
    return {
        "items": [
            {
                "at": e.at,
                "actor": e.actor_label,
                "action": e.action,
                "purpose": e.where,
            }
            for e in events
        ]
    }


# Warnings both ways (ADR 0019) live in their own module, mounted here.
from huxiao.intel.warnings_api import router as warnings_router  # noqa: E402

router.add_router("", warnings_router)

# School-related cases (ADR 0021), likewise.
from huxiao.intel.cases_api import router as cases_router  # noqa: E402

router.add_router("", cases_router)
