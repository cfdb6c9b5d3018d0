"""REST handlers of police bus inspections (issue 8 item 6; ADR 0031 "Inspections"): parse
→ call a selector/service → return.

- GET  /transport/inspections?school_id=&kind=            checks in scope (VIEW), newest first
- POST /transport/inspections/preview                      the findings, nothing written
- POST /transport/inspections                              record a check (INSPECT_BUS), 201
- GET  /transport/inspections/{id}                         one check with its findings
- GET  /transport/findings?school_id=&state=               findings in scope; state open
                                                           (default), overdue, follow_up,
                                                           review or resolved
- GET  /transport/findings/{id}                            one finding with its thread
- POST /transport/findings/{id}/follow-up {"text"}         the school (MANAGE_TRANSPORT)
- POST /transport/findings/{id}/resolve {"note"}           the police (INSPECT_BUS)
- POST /transport/findings/{id}/send-back {"reason", "deadline"}   the police (INSPECT_BUS)
- POST /transport/findings/{id}/hazard                     a hazard of the school (REPORT_HAZARD)

Out of scope is 404; the wrong role 403; bad input 400 with `errors` by field (an unknown
plate or a bus of another jurisdiction on `plate`); a step the finding's state does not
allow 409.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Literal

from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field

from huxiao.core.api import MAX_OFFSET, DbId, ErrorOut, error_response, paginate
from huxiao.core.names import person_name
from huxiao.core.roles import Action
from huxiao.duty.duty_selectors import school_get
from huxiao.transport import inspection_selectors as sel
from huxiao.transport import inspection_services as services

router = Router(tags=["transport: inspections"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}
STEP_ERRORS = {**ERRORS, 409: ErrorOut}


# ------------------------------------------------------------------ schemas


class InspectionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    plate: str = Field(max_length=100)
    # "scheduled" or "random"; checked by the service (a message in the user's language).
    kind: str = Field("random", max_length=20)
    inspected_at: dt.datetime | None = None
    # The bus's school's driver; empty: the trip's, else the usual route's.
    driver_id: DbId | None = None
    location: str = Field("", max_length=1000)
    riders_counted: int | None = None
    speed_kmh: int | None = None
    speed_limit_kmh: int | None = None
    driving_minutes: int | None = None
    safety_officer_present: bool = True
    markings_present: bool = True
    documents_ok: bool = True
    other_findings: list[str] = Field(default_factory=list, max_length=50)
    notes: str = Field("", max_length=10000)
    deadline: dt.date | None = None


class FoundOut(Schema):
    kind: str
    kind_label: str
    detail: str


class PreviewOut(Schema):
    bus_id: int
    plate: str
    school_id: int
    school_name: str
    seats: int
    trip_id: int | None
    driver_id: int | None
    driver_name: str
    deadline: dt.date
    document_problems: list[str]
    findings: list[FoundOut]


class EntryOut(Schema):
    kind: str
    label: str
    at: str
    user_id: int | None
    name: str
    text: str


class FindingOut(Schema):
    id: int
    inspection_id: int
    school_id: int
    plate: str
    kind: str
    kind_label: str
    detail: str
    status: str
    # follow_up (the school's turn), review (the police's turn) or resolved.
    state: str
    sent_back: bool
    overdue: bool
    deadline: dt.date | None
    entries: list[EntryOut]
    resolved_at: dt.datetime | None
    resolved_by: str
    hazard_id: int | None


class FindingList(Schema):
    count: int
    items: list[FindingOut]


class InspectionBase(Schema):
    id: int
    school_id: int
    school_name: str
    bus_id: int
    plate: str
    kind: str
    kind_label: str
    inspected_at: dt.datetime
    location: str
    inspector: str
    station_id: int | None
    trip_id: int | None


class InspectionSummary(InspectionBase):
    finding_count: int
    open_count: int


class InspectionList(Schema):
    count: int
    items: list[InspectionSummary]


class InspectionOut(InspectionBase):
    station_name: str
    driver_id: int | None
    driver_name: str
    riders_counted: int | None
    seats: int
    speed_kmh: int | None
    speed_limit_kmh: int | None
    driving_minutes: int | None
    safety_officer_present: bool
    documents_ok: bool
    notes: str
    no_problem_found: bool
    findings: list[FindingOut]


class FollowUpIn(Schema):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=5000)


class ResolveIn(Schema):
    model_config = ConfigDict(extra="forbid")

    note: str = Field("", max_length=5000)


class SendBackIn(Schema):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(max_length=5000)
    deadline: dt.date | None = None


class HazardOut(Schema):
    hazard_id: int
    finding: FindingOut


# ------------------------------------------------------------------ payloads


def finding_payload(f, today: dt.date | None = None) -> dict:
    inspection = f.inspection
    return {
        "id": f.pk,
        "inspection_id": f.inspection_id,
        "school_id": inspection.school_id,
        "plate": inspection.bus.plate,
        "kind": f.kind,
        "kind_label": str(f.get_kind_display()),
        "detail": f.detail,
        "status": f.status,
        "state": sel.finding_state(f),
        "sent_back": sel.was_sent_back(f),
        "overdue": sel.is_overdue(f, today),
        "deadline": f.deadline,
        "entries": [
            {
                "kind": e.kind,
                "label": str(e.label),
                "at": e.at,
                "user_id": e.user_id,
                "name": e.name,
                "text": e.text,
            }
            for e in sel.followup_entries(f.follow_up)
        ],
        "resolved_at": f.resolved_at,
        "resolved_by": person_name(f.resolved_by) if f.resolved_by_id else "",
        "hazard_id": f.hazard_id,
    }


def _summary(i) -> dict:
    return {
        "id": i.pk,
        "school_id": i.school_id,
        "school_name": i.school.name,
        "bus_id": i.bus_id,
        "plate": i.bus.plate,
        "kind": i.kind,
        "kind_label": str(i.get_kind_display()),
        "inspected_at": i.inspected_at,
        "location": i.location,
        "inspector": person_name(i.inspector) if i.inspector_id else "",
        "station_id": i.station_id,
        "trip_id": i.trip_id,
    }


def summary_payload(i) -> dict:
    return {**_summary(i), "finding_count": i.finding_count, "open_count": i.open_count}


def inspection_payload(i) -> dict:
    today = sel.local_today()
    findings = sel.findings_of(i)
    for f in findings:
        f.inspection = i
    return {
        **_summary(i),
        "station_name": i.station.name if i.station_id else "",
        "driver_id": i.driver_id,
        "driver_name": i.driver.name if i.driver_id else "",
        "riders_counted": i.riders_counted,
        "seats": i.seats,
        "speed_kmh": i.speed_kmh,
        "speed_limit_kmh": i.speed_limit_kmh,
        "driving_minutes": i.driving_minutes,
        "safety_officer_present": i.safety_officer_present,
        "documents_ok": i.documents_ok,
        "notes": i.notes,
        "no_problem_found": not findings,
        "findings": [finding_payload(f, today) for f in findings],
    }


def preview_payload(draft) -> dict:
    return {
        "bus_id": draft.bus.pk,
        "plate": draft.bus.plate,
        "school_id": draft.school.pk,
        "school_name": draft.school.name,
        "seats": draft.bus.seats,
        "trip_id": draft.trip.pk if draft.trip else None,
        "driver_id": draft.driver.pk if draft.driver else None,
        "driver_name": draft.driver.name if draft.driver else "",
        "deadline": draft.deadline,
        "document_problems": draft.document_problems,
        "findings": [
            {"kind": f.kind, "kind_label": f.label, "detail": f.detail} for f in draft.findings
        ],
    }


def refusals_are_409(handler):
    """A step the finding's state does not allow answers 409 with the reason."""

    @functools.wraps(handler)
    def wrapped(request, *args, **kwargs):
        try:
            return handler(request, *args, **kwargs)
        except services.FindingRefused as refused:
            return error_response(request, 409, refused.messages[0])

    return wrapped


# ------------------------------------------------------------------ checks


@router.get("/transport/inspections", response={200: InspectionList, **ERRORS})
def inspection_list(
    request,
    school_id: DbId | None = None,
    kind: Literal["scheduled", "random"] | None = None,
    limit: int = 50,
    offset: int = 0,
):
    sel.require_any(request.auth, Action.VIEW)
    if school_id is not None:
        school_get(actor=request.auth, school_id=school_id)
    qs = sel.inspection_list(actor=request.auth, school_id=school_id, kind=kind or "")
    return paginate(qs, limit=limit, offset=offset, row=summary_payload)


@router.post("/transport/inspections/preview", response={200: PreviewOut, **ERRORS})
def inspection_preview(request, payload: InspectionIn):
    """What the check amounts to (the bus, its trip, the driver, the findings); nothing is
    written."""
    return preview_payload(services.inspection_check(actor=request.auth, **payload.dict()))


@router.post("/transport/inspections", response={201: InspectionOut, **ERRORS})
def inspection_create(request, payload: InspectionIn):
    inspection = services.inspection_record(actor=request.auth, **payload.dict())
    detail = sel.inspection_get(actor=request.auth, inspection_id=inspection.pk)
    return Status(201, inspection_payload(detail))


@router.get("/transport/inspections/{inspection_id}", response={200: InspectionOut, **ERRORS})
def inspection_detail(request, inspection_id: DbId):
    return inspection_payload(sel.inspection_get(actor=request.auth, inspection_id=inspection_id))


# ------------------------------------------------------------------ findings


@router.get("/transport/findings", response={200: FindingList, **ERRORS})
def finding_list(
    request,
    school_id: DbId | None = None,
    state: Literal["open", "overdue", "follow_up", "review", "resolved"] = "open",
    limit: int = 50,
    offset: int = 0,
):
    sel.require_any(request.auth, Action.VIEW)
    if school_id is not None:
        school_get(actor=request.auth, school_id=school_id)
    today = sel.local_today()
    rows = sel.finding_list(actor=request.auth, school_id=school_id, state=state, today=today)
    limit = max(1, min(limit, 200))
    offset = max(0, min(offset, MAX_OFFSET))
    return {
        "count": len(rows),
        "items": [finding_payload(f, today) for f in rows[offset : offset + limit]],
    }


def _finding(request, finding_id: int) -> dict:
    return finding_payload(sel.finding_get(actor=request.auth, finding_id=finding_id))


@router.get("/transport/findings/{finding_id}", response={200: FindingOut, **ERRORS})
def finding_detail(request, finding_id: DbId):
    return _finding(request, finding_id)


@router.post(
    "/transport/findings/{finding_id}/follow-up", response={200: FindingOut, **STEP_ERRORS}
)
@refusals_are_409
def finding_follow_up(request, finding_id: DbId, payload: FollowUpIn):
    services.finding_follow_up(actor=request.auth, finding_id=finding_id, text=payload.text)
    return _finding(request, finding_id)


@router.post("/transport/findings/{finding_id}/resolve", response={200: FindingOut, **STEP_ERRORS})
@refusals_are_409
def finding_resolve(request, finding_id: DbId, payload: ResolveIn):
    services.finding_resolve(actor=request.auth, finding_id=finding_id, note=payload.note)
    return _finding(request, finding_id)


@router.post(
    "/transport/findings/{finding_id}/send-back", response={200: FindingOut, **STEP_ERRORS}
)
@refusals_are_409
def finding_send_back(request, finding_id: DbId, payload: SendBackIn):
    services.finding_send_back(
        actor=request.auth,
        finding_id=finding_id,
        reason=payload.reason,
        deadline=payload.deadline,
    )
    return _finding(request, finding_id)


@router.post("/transport/findings/{finding_id}/hazard", response={201: HazardOut, **STEP_ERRORS})
@refusals_are_409
def finding_hazard(request, finding_id: DbId):
    hazard = services.finding_make_hazard(actor=request.auth, finding_id=finding_id)
    return Status(201, {"hazard_id": hazard.pk, "finding": _finding(request, finding_id)})
