"""REST handlers of school-related cases (ADR 0021): parse → call → return.

Mounted under the intel router (`/cases…`). Responses are plain dicts rather than a
response schema on purpose: a schema would put `"persons": null` in every answer, and the
person links must be absent — not empty, not counted — for anyone but the register's
keepers.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field

from huxiao.core.api import DbId, paginate
from huxiao.core.names import person_name
from huxiao.intel import cases_selectors as selectors
from huxiao.intel import cases_services as services
from huxiao.intel.cases_choices import CaseStatus

router = Router(tags=["intel: cases"])


class _In(Schema):
    model_config = ConfigDict(extra="forbid")


class CaseIn(_In):
    school_id: DbId
    case_number: str = Field(max_length=60)
    title: str = Field(max_length=200)
    category: str = Field(max_length=30)
    description: str = Field("", max_length=8000)
    occurred_at: dt.datetime
    officer_id: DbId
    alarm_ids: list[DbId] = Field(default_factory=list, max_length=200)
    warning_sign_ids: list[DbId] = Field(default_factory=list, max_length=200)
    person_ids: list[DbId] | None = Field(None, max_length=200)


class CasePatch(_In):
    case_number: str | None = Field(None, max_length=60)
    title: str | None = Field(None, max_length=200)
    category: str | None = Field(None, max_length=30)
    description: str | None = Field(None, max_length=8000)
    occurred_at: dt.datetime | None = None
    officer_id: DbId | None = None
    alarm_ids: list[DbId] | None = Field(None, max_length=200)
    warning_sign_ids: list[DbId] | None = Field(None, max_length=200)
    person_ids: list[DbId] | None = Field(None, max_length=200)


class CaseTransitionIn(_In):
    status: str = Field(max_length=20)
    note: str = Field("", max_length=8000)


_FIELDS = {
    "officer_id": "officer",
    "alarm_ids": "alarms",
    "warning_sign_ids": "warning_signs",
    "person_ids": "persons",
}


def case_payload(case, *, level: str, persons: bool, detail: bool = False) -> dict:
    data = {
        "id": case.pk,
        "school": {"id": case.school_id, "name": case.school.name},
        "station": {"id": case.station_id, "name": case.station.name},
        "title": case.title,
        "category": case.category,
        "category_label": str(case.get_category_display()),
        "status": case.status,
        "status_label": str(case.get_status_display()),
        "officer": {"id": case.officer_id, "name": person_name(case.officer)},
        "occurred_at": case.occurred_at,
        "registered_at": case.registered_at,
        "investigating_at": case.investigating_at,
        "solved_at": case.solved_at,
        "referred_at": case.referred_at,
        "closed_at": case.closed_at,
        "days_to_solve": case.days_to_solve,
    }
    if level == selectors.SCHOOL:
        return data
    data["case_number"] = case.case_number
    if detail:
        data["description"] = case.description
        data["alarm_ids"] = sorted(a.pk for a in case.alarms.all())
        data["warning_sign_ids"] = sorted(s.pk for s in case.warning_signs.all())
        data["events"] = [
            {
                "kind": e.kind,
                "status": e.status,
                "status_label": str(e.get_status_display()),
                "at": e.at,
                "by": e.actor_label,
                "note": e.note,
            }
            for e in case.events.all()
        ]
        if persons:
            # Reference, category and risk only: names stay in the register (read-logged).
            data["persons"] = [
                {
                    "id": p.pk,
                    "reference": p.reference,
                    "category_label": str(p.get_category_display()),
                    "risk_level_label": str(p.get_risk_level_display()),
                }
                for p in case.persons.all()
            ]
    return data


def _detail(request, case_id: int, status: int = 200):
    case = selectors.case_get(actor=request.auth, case_id=case_id)
    levels = selectors.case_levels(request.auth)
    data = case_payload(
        case,
        level=levels[case.school_id],
        persons=selectors.shows_persons(request.auth, case, levels),
        detail=True,
    )
    return Status(status, data)


@router.get("/cases")
def case_list(
    request, status: str = "", school_id: DbId | None = None, limit: int = 50, offset: int = 0
):
    levels = selectors.require_case_access(request.auth)
    if status and status not in CaseStatus.values:
        raise ValidationError({"status": [_("Choose one of the offered states.")]})
    qs = selectors.case_list(actor=request.auth, status=status, school_id=school_id)
    page = paginate(qs, limit=limit, offset=offset)
    return {
        "count": page["count"],
        "items": [case_payload(c, level=levels[c.school_id], persons=False) for c in page["items"]],
    }


@router.post("/cases", response={201: dict})
def case_create(request, payload: CaseIn):
    data = {_FIELDS.get(k, k): v for k, v in payload.model_dump().items()}
    if data["persons"] is None:
        del data["persons"]
    data["school"] = data.pop("school_id")
    case = services.case_register(actor=request.auth, **data)
    return _detail(request, case.pk, status=201)


@router.get("/cases/stats")
def case_stats(request):
    return {
        "stations": [
            {
                "station": {"id": s.station_id, "name": s.station_name},
                "open": s.open,
                "solved": s.solved,
                "referred": s.referred,
                "closed": s.closed,
                "median_days_to_solve": s.median_days_to_solve,
            }
            for s in selectors.case_stats(actor=request.auth)
        ]
    }


@router.get("/cases/{case_id}")
def case_detail(request, case_id: DbId):
    return _detail(request, case_id)


@router.patch("/cases/{case_id}")
def case_update(request, case_id: DbId, payload: CasePatch):
    case = selectors.case_get(actor=request.auth, case_id=case_id)
    fields = {
        _FIELDS.get(k, k): v
        for k, v in payload.model_dump(exclude_unset=True).items()
        if v is not None
    }
    services.case_update(actor=request.auth, case=case, **fields)
    return _detail(request, case_id)


@router.post("/cases/{case_id}/transition")
def case_transition(request, case_id: DbId, payload: CaseTransitionIn):
    case = selectors.case_get(actor=request.auth, case_id=case_id)
    services.case_transition(
        actor=request.auth, case=case, status=payload.status, note=payload.note
    )
    return _detail(request, case_id)
