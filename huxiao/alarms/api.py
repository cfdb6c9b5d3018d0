"""REST handlers for alarms: parse → call a selector/service → return the alarm payload."""

from __future__ import annotations

import dataclasses
from typing import Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from ninja import Header, Router, Status

from huxiao.alarms import selectors, services
from huxiao.alarms.choices import AlarmSource
from huxiao.alarms.events import alarm_payload, event_message
from huxiao.alarms.forms import ResponseStatsForm
from huxiao.alarms.schemas import (
    AlarmIn,
    AlarmList,
    AlarmOut,
    CancelIn,
    DispatchIn,
    ResolveIn,
    ResponseStatsOut,
)
from huxiao.core.api import DbId, ErrorOut, error_response
from huxiao.core.middleware import bearer_token
from huxiao.core.roles import Action
from huxiao.core.scoping import visible_school_ids
from huxiao.orgs.models import Organization

router = Router(tags=["alarms"])


def _source(request, principal) -> str:
    if getattr(principal, "is_device", False):
        return AlarmSource.DEVICE
    # The school page's button calls the API with the browser session, not a token.
    if bearer_token(request):
        return AlarmSource.API
    return AlarmSource.BUTTON


def _school_for(principal, school_id):
    if getattr(principal, "is_device", False):
        # A device is bound to one school; a school_id in the body must be that school.
        if school_id not in (None, principal.school_id):
            raise ValidationError({"school_id": [_("Unknown or inaccessible record.")]})
        return Organization.objects.get(pk=principal.school_id)
    if school_id is None:
        raise ValidationError({"school_id": [_("This field is required.")]})
    school = Organization.objects.visible_to(principal, Action.VIEW).filter(pk=school_id).first()
    if school is None or not school.is_school:
        raise ValidationError({"school_id": [_("Unknown or inaccessible record.")]})
    return school


@router.post("/alarms", response={200: AlarmOut, 201: AlarmOut, 409: ErrorOut})
def alarm_create(
    request,
    payload: AlarmIn,
    idempotency_key: str = Header("", alias="Idempotency-Key"),
):
    """Raise an alarm (alarm boxes, gate terminals, apps). Retries with the same
    Idempotency-Key return the same alarm (200) instead of raising a second (201)."""
    principal = request.auth
    school = _school_for(principal, payload.school_id)
    try:
        alarm, created = services.alarm_raise(
            actor=principal,
            school=school,
            kind=payload.kind,
            location=payload.location,
            note=payload.note,
            drill=payload.drill,
            source=_source(request, principal),
            idempotency_key=idempotency_key,
        )
    except services.IdempotencyConflict:
        return error_response(
            request, 409, _("This Idempotency-Key was already used for a different alarm.")
        )
    return Status(201 if created else 200, alarm_payload(alarm))


@router.get("/alarms", response=AlarmList)
def alarm_list(request, status: str = "", school_id: DbId | None = None, limit: int = 100):
    qs = selectors.alarm_list(actor=request.auth, status=status[:20], school_id=school_id)
    limit = max(1, min(limit, 500))
    return {"items": [alarm_payload(a) for a in qs[:limit]]}


@router.get("/alarms/events")
def alarm_events(request, since: int = 0):
    """Catch-up for a console that reconnects: events after `since` and the open alarms
    (most urgent first, at most 1,000; `open_total` says how many are open)."""
    since = max(0, min(since, 2**62))
    events = selectors.alarm_events_since(actor=request.auth, since=since)
    open_alarms, open_total = selectors.open_alarms_for_console(actor=request.auth)
    return {
        "events": [event_message(e, e.alarm) for e in events],
        "open": [alarm_payload(a) for a in open_alarms],
        "open_total": open_total,
    }


# Declared before /alarms/{alarm_id}, which would otherwise take "stats" for an id.
@router.get("/alarms/stats", response={200: ResponseStatsOut, 400: ErrorOut, 403: ErrorOut})
def alarm_response_stats(
    request,
    group_by: Literal["school", "station"] = "school",
    since: str = "",
    until: str = "",
    period: str = "",
    drills: bool = False,
):
    """Response times per school or per police station. `since`/`until` are local dates
    (YYYY-MM-DD), both included; without them, `period` (30d, 90d, year; default 30d).
    Drills are left out unless `drills=true`; presses cancelled within the free-cancel
    window are counted apart (ADR 0014)."""
    if not visible_school_ids(request.auth, Action.VIEW_ALARM):
        raise PermissionDenied
    if since or until:
        period = "custom"
    form = ResponseStatsForm(
        {"period": period[:10], "since": since[:20], "until": until[:20], "drills": drills}
    )
    if not form.is_valid():
        raise ValidationError({field: list(messages) for field, messages in form.errors.items()})
    stats = selectors.response_stats(
        actor=request.auth, group_by=group_by, **form.selector_kwargs()
    )
    return {
        "group_by": stats.group_by,
        "since": form.cleaned_data["first_day"].isoformat(),
        "until": form.cleaned_data["last_day"].isoformat(),
        "drills_included": stats.include_drills,
        "medians_complete": stats.medians_complete,
        "rows": [_stats_row(row) for row in stats.rows],
        "total": _stats_row(stats.total),
    }


def _stats_row(row: selectors.ResponseStatsRow) -> dict:
    data = dataclasses.asdict(row)
    data["id"] = data.pop("group_id")
    return data


@router.get("/alarms/{alarm_id}")
def alarm_detail(request, alarm_id: DbId):
    alarm = selectors.alarm_get(actor=request.auth, alarm_id=alarm_id)
    data = alarm_payload(alarm)
    data["timeline"] = [
        {
            "event_id": e.pk,
            "type": e.type,
            "at": e.at.isoformat(),
            "by": e.actor_label,
            "data": e.data,
        }
        for e in selectors.alarm_timeline(alarm=alarm)
    ]
    return data


def _act(request, alarm_id, step, **kwargs):
    alarm = selectors.alarm_get(actor=request.auth, alarm_id=alarm_id)
    try:
        alarm = step(actor=request.auth, alarm=alarm, **kwargs)
    except services.AlreadyTaken as taken:
        body = alarm_payload(taken.alarm)
        return error_response(
            request,
            409,
            _("Already acknowledged by %(name)s.") % {"name": body["acknowledged_by"] or "?"},
        )
    return alarm_payload(alarm)


@router.post("/alarms/{alarm_id}/acknowledge", response={200: AlarmOut, 409: ErrorOut})
def alarm_acknowledge(request, alarm_id: DbId):
    return _act(request, alarm_id, services.alarm_acknowledge)


@router.post("/alarms/{alarm_id}/dispatch", response={200: AlarmOut, 409: ErrorOut})
def alarm_dispatch(request, alarm_id: DbId, payload: DispatchIn):
    return _act(request, alarm_id, services.alarm_dispatch, units=payload.units)


@router.post("/alarms/{alarm_id}/arrive", response={200: AlarmOut, 409: ErrorOut})
def alarm_arrive(request, alarm_id: DbId):
    return _act(request, alarm_id, services.alarm_arrive)


@router.post("/alarms/{alarm_id}/resolve", response={200: AlarmOut, 409: ErrorOut})
def alarm_resolve(request, alarm_id: DbId, payload: ResolveIn):
    return _act(request, alarm_id, services.alarm_resolve, outcome=payload.outcome)


@router.post("/alarms/{alarm_id}/cancel", response={200: AlarmOut, 409: ErrorOut})
def alarm_cancel(request, alarm_id: DbId, payload: CancelIn):
    alarm = (
        selectors.alarm_get(actor=request.auth, alarm_id=alarm_id)
        if not getattr(request.auth, "is_device", False)
        else _device_alarm(request.auth, alarm_id)
    )
    return alarm_payload(
        services.alarm_cancel(actor=request.auth, alarm=alarm, reason=payload.reason)
    )


def _device_alarm(device, alarm_id):
    from django.http import Http404

    from huxiao.alarms.models import Alarm

    alarm = (
        Alarm.objects.select_related("school")
        .filter(pk=alarm_id, raised_by_device_id=device.device_id)
        .first()
    )
    if alarm is None:
        raise Http404
    return alarm
