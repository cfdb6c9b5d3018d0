"""REST handlers of the surveillance (issue 9 item 4; ADR 0032 "Surveillance").

- GET  /health/rules?region_id=                 the county's rules in force (VIEW_HEALTH
                                                holders of its schools, or its keepers)
- PUT  /health/rules {region_id?, rules: [{kind, symptom_group, min_children,
       window_days, is_active}]}                the keepers (county-level
                                                MANAGE_HEALTH_RULES): each rule named is set
                                                (or added, for one symptom group); the
                                                others keep their values
- GET  /health/alerts?status=&school_id=        alerts in scope, open first (VIEW_HEALTH)
- GET  /health/alerts/{id}                      one alert with its children (read logged)
- POST /health/alerts/{id}/close {note}         MANAGE_HEALTH; 409 when closed already
- POST /health/alerts/{id}/case {case_id}       MANAGE_HEALTH; link (null: unlink)

Out of scope is 404; the wrong role 403; bad input 400 with `errors` by field (the rules'
errors keyed "<kind>.<group>.<field>").
"""

from __future__ import annotations

import datetime as dt
from functools import wraps
from typing import Any

from django.urls import reverse
from ninja import Router, Schema
from pydantic import Field

from huxiao.core.api import DbId, ErrorOut, api, paginate
from huxiao.core.names import person_name
from huxiao.health import surveillance_rules as R
from huxiao.health import surveillance_selectors as sel
from huxiao.health import surveillance_services as services
from huxiao.health.choices import AlertStatus, RuleKind, SymptomGroup
from huxiao.health.reads import log_health_read

router = Router(tags=["health"])
READ = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}
WRITE = {**READ, 409: ErrorOut}


class RuleOut(Schema):
    id: int | None
    kind: str
    kind_label: str
    symptom_group: str
    symptom_group_label: str
    min_children: int
    window_days: int
    is_active: bool
    updated_at: dt.datetime | None


class RulesOut(Schema):
    region_id: int
    region_name: str
    editable: bool
    stored: bool
    rules: list[RuleOut]


class RuleIn(Schema):
    kind: str = Field(max_length=20)
    symptom_group: str = Field(default=SymptomGroup.ANY, max_length=12)
    # Checked by the service, whose messages are in the user's language.
    min_children: Any = None
    window_days: Any = None
    is_active: Any = None


class RulesIn(Schema):
    region_id: DbId | None = None
    rules: list[RuleIn] = Field(max_length=50)


class ChildOut(Schema):
    id: int
    name: str
    class_name: str


class AlertOut(Schema):
    id: int
    school_id: int
    school_name: str
    class_id: int | None
    class_name: str
    kind: str
    kind_label: str
    symptom_group: str
    symptom_group_label: str
    window_start: dt.date
    window_end: dt.date
    child_count: int
    children: list[ChildOut]
    case_id: int | None
    status: str
    status_label: str
    raised_at: dt.datetime
    closed_at: dt.datetime | None
    closed_by: str
    note: str
    url: str


class AlertList(Schema):
    count: int
    items: list[AlertOut]


class CloseIn(Schema):
    note: str = Field(max_length=5000)


class LinkIn(Schema):
    case_id: DbId | None = None


# ------------------------------------------------------------------ payloads


def rule_payload(rule) -> dict:
    return {
        "id": rule.pk,
        "kind": rule.kind,
        "kind_label": str(RuleKind(rule.kind).label),
        "symptom_group": rule.symptom_group,
        "symptom_group_label": R.group_label(rule.symptom_group),
        "min_children": rule.min_children,
        "window_days": rule.window_days,
        "is_active": rule.is_active,
        "updated_at": rule.updated_at,
    }


def _rules(actor, region_id) -> dict:
    view = sel.rules_view(actor=actor, region_id=region_id)
    return {
        "region_id": view.region.pk,
        "region_name": view.region.name,
        "editable": view.editable,
        "stored": view.stored,
        "rules": [rule_payload(r) for r in view.rules],
    }


def alert_payload(alert) -> dict:
    children = sorted(alert.children.all(), key=lambda c: (c.name, c.pk))
    class_name = alert.school_class.name if alert.school_class_id else ""
    return {
        "id": alert.pk,
        "school_id": alert.school_id,
        "school_name": alert.school.name,
        "class_id": alert.school_class_id,
        "class_name": class_name,
        "kind": alert.kind,
        "kind_label": str(alert.get_kind_display()),
        "symptom_group": alert.symptom_group,
        "symptom_group_label": str(alert.get_symptom_group_display()),
        "window_start": alert.window_start,
        "window_end": alert.window_end,
        "child_count": alert.child_count,
        "children": [{"id": c.pk, "name": c.name, "class_name": class_name} for c in children],
        "case_id": alert.case_id,
        "status": alert.status,
        "status_label": str(alert.get_status_display()),
        "raised_at": alert.raised_at,
        "closed_at": alert.closed_at,
        "closed_by": person_name(alert.closed_by) if alert.closed_by_id else "",
        "note": alert.note,
        "url": reverse("health:alert", args=[alert.pk]),
    }


def _detail(actor, alert_id: int) -> dict:
    alert = sel.alert_get(actor=actor, alert_id=alert_id)
    log_health_read(actor=actor, obj=alert, purpose="cluster alert")
    return alert_payload(alert)


def conflicts_as_409(handler):
    """A state refusal (AlertConflict) answers 409 with its sentence."""

    @wraps(handler)
    def wrapper(request, *args, **kwargs):
        try:
            return handler(request, *args, **kwargs)
        except services.AlertConflict as exc:
            return api.create_response(
                request, {"detail": exc.messages[0], "errors": {}}, status=409
            )

    return wrapper


# ------------------------------------------------------------------ rules


@router.get("/health/rules", response={200: RulesOut, **READ})
def rules_get(request, region_id: DbId | None = None):
    """The county's cluster-alert rules in force (stored, or the shipped defaults)."""
    return _rules(request.auth, region_id)


@router.put("/health/rules", response={200: RulesOut, **READ})
def rules_put(request, payload: RulesIn):
    """Set the county's rules: each rule named is changed (or added, for one symptom
    group); the others keep their values. All or nothing."""
    items = [
        {k: val for k, val in item.model_dump().items() if val is not None}
        for item in payload.rules
    ]
    county = services.require_keeper(request.auth, payload.region_id)
    services.cluster_rules_set(actor=request.auth, region=county, rules=items)
    return _rules(request.auth, county.pk)


# ------------------------------------------------------------------ alerts


@router.get("/health/alerts", response={200: AlertList, **READ})
def alerts_list(
    request,
    status: AlertStatus | None = None,
    school_id: DbId | None = None,
    limit: int = 50,
    offset: int = 0,
):
    """Alerts in scope, open first, then the newest."""
    sel.require_viewer(request.auth)
    if school_id is not None:
        sel.health_school_get(actor=request.auth, school_id=school_id)
    qs = sel.alert_list(actor=request.auth, status=status or "", school_id=school_id)
    return paginate(qs, limit=limit, offset=offset, row=alert_payload)


@router.get("/health/alerts/{alert_id}", response={200: AlertOut, **READ})
def alert_get(request, alert_id: DbId):
    sel.require_viewer(request.auth)
    return _detail(request.auth, alert_id)


@router.post("/health/alerts/{alert_id}/close", response={200: AlertOut, **WRITE})
@conflicts_as_409
def alert_close(request, alert_id: DbId, payload: CloseIn):
    sel.require_viewer(request.auth)
    services.cluster_alert_close(actor=request.auth, alert_id=alert_id, note=payload.note)
    return _detail(request.auth, alert_id)


@router.post("/health/alerts/{alert_id}/case", response={200: AlertOut, **WRITE})
def alert_link_case(request, alert_id: DbId, payload: LinkIn):
    sel.require_viewer(request.auth)
    services.cluster_alert_link_case(actor=request.auth, alert_id=alert_id, case_id=payload.case_id)
    return _detail(request.auth, alert_id)
