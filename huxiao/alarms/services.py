"""Alarm writes: raise, acknowledge, dispatch, arrive, resolve, cancel, escalate.

Every step is atomic, timestamped on the alarm, recorded in the timeline (AlarmEvent) and
the audit trail in the same transaction, and pushed to the consoles after commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huxiao.accounts.models import DeviceToken
from huxiao.alarms import events
from huxiao.alarms.choices import OPEN_STATUSES, AlarmEventType, AlarmKind, AlarmSource, AlarmStatus
from huxiao.alarms.models import Alarm, AlarmEvent
from huxiao.audit.services import audit_create, audit_record
from huxiao.core import metrics
from huxiao.core.names import acting_user, actor_label
from huxiao.core.permissions import require
from huxiao.core.roles import Action
from huxiao.core.scoping import can
from huxiao.people import validation as v


class IdempotencyConflict(Exception):
    """The same Idempotency-Key was sent with a different request body."""

    def __init__(self, alarm: Alarm):
        super().__init__("idempotency key reused with a different body")
        self.alarm = alarm


class AlreadyTaken(Exception):
    """Someone else acknowledged first; `alarm` shows who."""

    def __init__(self, alarm: Alarm):
        super().__init__("already acknowledged")
        self.alarm = alarm


def _event(alarm, type_, *, actor, at, **data) -> AlarmEvent:
    return AlarmEvent.objects.create(
        alarm=alarm,
        type=type_,
        at=at,
        actor=acting_user(actor),
        actor_label=actor_label(actor),
        data=data,
    )


def _fingerprint(**fields) -> str:
    return hashlib.sha256(
        json.dumps(fields, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()


def _clean_raise(kind, location, note) -> dict:
    errors = v.FieldErrors()
    if kind not in AlarmKind.values:
        errors.add("kind", _("Unknown alarm kind."))
    cleaned = {
        "location": errors.run("location", v.clean_text, location, max_length=200),
        "note": errors.run("note", v.clean_text, note, max_length=2000),
    }
    errors.raise_if_any()
    return cleaned


def alarm_raise(
    *,
    actor,
    school,
    kind: str,
    location: str = "",
    note: str = "",
    drill: bool = False,
    source: str = AlarmSource.API,
    idempotency_key: str = "",
    now: dt.datetime | None = None,
) -> tuple[Alarm, bool]:
    """Raise an alarm. Returns (alarm, created).

    With an idempotency key, a retry with the same key and body returns the first alarm
    (created False) and pushes its raised event again; the same key with a different body
    raises IdempotencyConflict.
    """
    require(actor, Action.RAISE_ALARM, school.pk)
    if not school.is_school:
        raise ValidationError({"school_id": [_("This organization is not a school.")]})
    cleaned = _clean_raise(kind, location, note)
    key = (idempotency_key or "").strip()
    if len(key) > 200:
        raise ValidationError({"idempotency_key": [_("At most 200 characters.")]})
    scope = ""
    if key:
        scope = (
            f"device:{actor.device_id}"
            if getattr(actor, "is_device", False)
            else f"user:{actor.pk}"
        )
    fingerprint = _fingerprint(school=school.pk, kind=kind, drill=bool(drill), **cleaned)
    if key:
        existing = _replay(scope, key, fingerprint)
        if existing is not None:
            return existing, False
    now = now or timezone.now()
    try:
        with transaction.atomic():
            alarm = Alarm.objects.create(
                school=school,
                kind=kind,
                is_drill=bool(drill),
                source=source,
                raised_at=now,
                raised_by=acting_user(actor),
                raised_by_device_id=getattr(actor, "device_id", None),
                cancel_window_ends_at=now
                + dt.timedelta(seconds=settings.ALARM_CANCEL_WINDOW_SECONDS),
                idempotency_scope=scope,
                idempotency_key=key,
                request_fingerprint=fingerprint if key else "",
                **cleaned,
            )
            if alarm.raised_by_device_id is not None:
                _cache_raising_device(alarm, actor)
            event = _event(alarm, AlarmEventType.RAISED, actor=actor, at=now, source=source)
            audit_create(actor=actor, obj=alarm)
            events.publish_on_commit(event, alarm)
            _schedule_escalation_check(alarm)
    except IntegrityError:
        # Two retries raced with the same key: the other one won; answer with its alarm.
        existing = _replay(scope, key, fingerprint) if key else None
        if existing is None:
            raise
        return existing, False
    return alarm, True


def _cache_raising_device(alarm: Alarm, device) -> None:
    """The payload names the raising device: its name is in the principal its token was
    just looked up into, so the alarm box's request need not read the row again (the
    push and the answer both read it: a query on the alarm line's hot path)."""
    token = DeviceToken(pk=device.device_id, school_id=device.school_id, name=device.name)
    Alarm.raised_by_device.field.set_cached_value(alarm, token)


def idempotency_lookup(scope: str, key: str):
    """The alarm row of an idempotency key, by the partial unique index. Its condition is
    repeated here so that SQLite uses the index (it cannot infer key <> '' from key = %s);
    without it every alarm scanned the whole table."""
    return Alarm.objects.filter(
        ~Q(idempotency_key=""), idempotency_scope=scope, idempotency_key=key
    ).order_by()


def _replay(scope: str, key: str, fingerprint: str) -> Alarm | None:
    # Nearly every key is new: look it up by the index alone, and load the alarm only for a
    # retry (the full query costs more than the insert on the alarm line's hot path).
    found = idempotency_lookup(scope, key).values_list("pk", "request_fingerprint").first()
    if found is None:
        return None
    alarm = Alarm.objects.select_related("school").get(pk=found[0])
    if alarm.request_fingerprint != fingerprint:
        raise IdempotencyConflict(alarm)
    # The first request may have died between its commit and its push (a killed server): its
    # box got no answer and retries, so the retry pushes the same event again. With Redis no
    # tail follows the table for an open console (consumers.py); consoles drop an event_id
    # they already have. Only while nobody has answered it: once acknowledged (or cancelled)
    # that later event carried the alarm to every console, and a replayed "raised" would put
    # a "new alarm" banner on a dashboard opened since.
    if alarm.status != AlarmStatus.RAISED:
        return alarm
    raised = alarm.events.filter(type=AlarmEventType.RAISED).order_by("pk").first()
    if raised is not None:
        events.publish_on_commit(raised, alarm)
    return alarm


def _schedule_escalation_check(alarm: Alarm, *, delay: float | None = None) -> None:
    """A check `delay` seconds after commit (default: the first escalation's delay). The
    minute sweep alone would let a repeat slip to the next minute."""
    delay = settings.ALARM_ESCALATE_AFTER_SECONDS if delay is None else delay

    def _schedule():
        from huxiao.alarms.tasks import escalation_check

        try:
            escalation_check.schedule(delay=delay)
        except Exception:  # noqa: BLE001 - the periodic sweep still escalates
            import logging

            logging.getLogger(__name__).exception("could not schedule escalation check")

    if not settings.HUEY_IMMEDIATE:
        transaction.on_commit(_schedule)


def _locked(alarm: Alarm) -> Alarm:
    return Alarm.objects.select_for_update(of=("self",)).select_related("school").get(pk=alarm.pk)


def _step(alarm, actor, type_, *, now, audit_fields, **data):
    event = _event(alarm, type_, actor=actor, at=now, **data)
    audit_record(
        actor=actor,
        action="update",
        obj=alarm,
        changes={"event": type_, "fields": audit_fields},
    )
    events.publish_on_commit(event, alarm)
    return alarm


def _answer_if_waiting(alarm: Alarm, actor, now) -> None:
    """Dispatching, arriving or resolving an alarm nobody has acknowledged answers it: it
    counts as the acknowledgement, with its own timeline event, pushed like any other.
    The caller saves the alarm's fields."""
    if alarm.acknowledged_at is not None:
        return
    alarm.acknowledged_at, alarm.acknowledged_by = now, actor
    alarm.status = AlarmStatus.ACKNOWLEDGED  # the caller's step sets its own next
    event = _event(
        alarm, AlarmEventType.ACKNOWLEDGED, actor=actor, at=now, ack_seconds=alarm.ack_seconds
    )
    events.publish_on_commit(event, alarm)
    _withdraw_escalation_messages(alarm)
    metrics.alarm_acknowledged(alarm)


def _must_be_open(alarm):
    if alarm.status not in OPEN_STATUSES:
        raise ValidationError({"status": [_("The alarm is already closed.")]})


@transaction.atomic
def alarm_acknowledge(*, actor, alarm: Alarm, now=None) -> Alarm:
    """First one wins; a second acknowledger gets AlreadyTaken with who was first."""
    require(actor, Action.RESPOND_ALARM, alarm.school_id)
    alarm = _locked(alarm)
    _must_be_open(alarm)
    if alarm.acknowledged_at is not None:
        if alarm.acknowledged_by_id == getattr(actor, "pk", None):
            return alarm
        raise AlreadyTaken(alarm)
    now = now or timezone.now()
    alarm.status = AlarmStatus.ACKNOWLEDGED
    alarm.acknowledged_at, alarm.acknowledged_by = now, actor
    alarm.save(update_fields=["status", "acknowledged_at", "acknowledged_by"])
    _withdraw_escalation_messages(alarm)
    metrics.alarm_acknowledged(alarm)
    return _step(
        alarm,
        actor,
        AlarmEventType.ACKNOWLEDGED,
        now=now,
        audit_fields={"status": AlarmStatus.ACKNOWLEDGED},
        ack_seconds=alarm.ack_seconds,
    )


@transaction.atomic
def alarm_dispatch(*, actor, alarm: Alarm, units: str, now=None) -> Alarm:
    require(actor, Action.RESPOND_ALARM, alarm.school_id)
    alarm = _locked(alarm)
    _must_be_open(alarm)
    units_clean = v.FieldErrors()
    text = units_clean.run("units", v.clean_text, units, max_length=300, required=True)
    units_clean.raise_if_any()
    now = now or timezone.now()
    _answer_if_waiting(alarm, actor, now)
    if alarm.status != AlarmStatus.ARRIVED:
        alarm.status = AlarmStatus.DISPATCHED
    alarm.dispatched_at = alarm.dispatched_at or now
    alarm.dispatch_note = (f"{alarm.dispatch_note}; {text}" if alarm.dispatch_note else text)[:300]
    alarm.save(
        update_fields=[
            "status",
            "acknowledged_at",
            "acknowledged_by",
            "dispatched_at",
            "dispatch_note",
        ]
    )
    return _step(
        alarm,
        actor,
        AlarmEventType.DISPATCHED,
        now=now,
        audit_fields={"status": alarm.status, "units": text},
        units=text,
    )


@transaction.atomic
def alarm_arrive(*, actor, alarm: Alarm, now=None) -> Alarm:
    require(actor, Action.RESPOND_ALARM, alarm.school_id)
    alarm = _locked(alarm)
    _must_be_open(alarm)
    if alarm.arrived_at is not None:
        return alarm
    now = now or timezone.now()
    _answer_if_waiting(alarm, actor, now)
    alarm.status = AlarmStatus.ARRIVED
    alarm.arrived_at = now
    alarm.save(update_fields=["status", "acknowledged_at", "acknowledged_by", "arrived_at"])
    return _step(
        alarm,
        actor,
        AlarmEventType.ARRIVED,
        now=now,
        audit_fields={"status": AlarmStatus.ARRIVED},
        arrival_seconds=alarm.arrival_seconds,
    )


@transaction.atomic
def alarm_resolve(*, actor, alarm: Alarm, outcome: str, now=None) -> Alarm:
    require(actor, Action.RESPOND_ALARM, alarm.school_id)
    alarm = _locked(alarm)
    _must_be_open(alarm)
    errors = v.FieldErrors()
    text = errors.run("outcome", v.clean_text, outcome, max_length=4000, required=True)
    errors.raise_if_any()
    now = now or timezone.now()
    _answer_if_waiting(alarm, actor, now)
    alarm.status = AlarmStatus.RESOLVED
    alarm.resolved_at, alarm.outcome = now, text
    alarm.save(
        update_fields=["status", "acknowledged_at", "acknowledged_by", "resolved_at", "outcome"]
    )
    return _step(
        alarm,
        actor,
        AlarmEventType.RESOLVED,
        now=now,
        audit_fields={"status": AlarmStatus.RESOLVED},
        outcome=text,
    )


def can_cancel(actor, alarm: Alarm) -> bool:
    if getattr(actor, "is_device", False):
        return alarm.raised_by_device_id == actor.device_id
    if alarm.raised_by_id is not None and alarm.raised_by_id == getattr(actor, "pk", None):
        return can(actor, Action.RAISE_ALARM, alarm.school_id)
    return can(actor, Action.CANCEL_ALARM, alarm.school_id)


@transaction.atomic
def alarm_cancel(*, actor, alarm: Alarm, reason: str = "", now=None) -> Alarm:
    """Within the cancel window and before the police answer: no reason needed (an
    accidental press). After either: a reason is required and the alarm is recorded as a
    false alarm. Once the police are on the scene only they close it (resolve)."""
    alarm = _locked(alarm)
    if not can_cancel(actor, alarm):
        raise PermissionDenied(
            _("Only the person who raised the alarm or the school's leaders may cancel it.")
        )
    _must_be_open(alarm)
    if alarm.status == AlarmStatus.ARRIVED:
        # The police are there: they close it, with what they found as its outcome.
        raise ValidationError(
            {
                "status": [
                    _(
                        "The police are on the scene: they close the alarm with its outcome;"
                        " tell them it was a false alarm."
                    )
                ]
            }
        )
    now = now or timezone.now()
    errors = v.FieldErrors()
    text = errors.run("reason", v.clean_text, reason, max_length=300)
    late = now > alarm.cancel_window_ends_at
    # Once the police have answered, a cancel is never just an accidental press: they are
    # on their way and need to know why.
    false_alarm = late or alarm.status != AlarmStatus.RAISED
    if false_alarm and not text:
        errors.add(
            "reason",
            _("The cancel window has passed: give the reason for the false alarm.")
            if late
            else _("The police have already answered: give the reason for the false alarm."),
        )
    errors.raise_if_any()
    alarm.status = AlarmStatus.CANCELLED
    alarm.cancelled_at, alarm.cancel_reason, alarm.is_false_alarm = now, text or "", false_alarm
    alarm.save(update_fields=["status", "cancelled_at", "cancel_reason", "is_false_alarm"])
    _withdraw_escalation_messages(alarm)
    return _step(
        alarm,
        actor,
        AlarmEventType.CANCELLED,
        now=now,
        audit_fields={"status": AlarmStatus.CANCELLED, "false_alarm": false_alarm},
        reason=text or "",
        false_alarm=false_alarm,
    )


# A repeat is due this much before its interval has passed: the minute sweep starts a few
# milliseconds early or late, and a strict test let a repeat slip by a whole minute.
ESCALATION_REPEAT_TOLERANCE = dt.timedelta(seconds=1)


def _escalation_due(alarm: Alarm, now: dt.datetime) -> bool:
    if alarm.last_escalated_at is None:
        return now >= alarm.raised_at + dt.timedelta(seconds=settings.ALARM_ESCALATE_AFTER_SECONDS)
    repeat = dt.timedelta(seconds=settings.ALARM_ESCALATE_REPEAT_SECONDS)
    return now >= alarm.last_escalated_at + repeat - ESCALATION_REPEAT_TOLERANCE


def alarms_escalate_due(*, now: dt.datetime | None = None) -> list[Alarm]:
    """Escalate every unacknowledged alarm that is due: to the station commander and the
    county command, and out through the outbound channels; again every repeat interval
    until someone acknowledges. Drills stay within the station."""
    now = now or timezone.now()
    horizon = now - dt.timedelta(seconds=settings.ALARM_ESCALATE_AFTER_SECONDS)
    candidates = Alarm.objects.filter(
        status=AlarmStatus.RAISED, raised_at__lte=horizon
    ).values_list("pk", flat=True)
    escalated = []
    for pk in candidates:
        with transaction.atomic():
            alarm = (
                Alarm.objects.select_for_update(of=("self",)).select_related("school").get(pk=pk)
            )
            if alarm.status != AlarmStatus.RAISED or not _escalation_due(alarm, now):
                continue
            alarm.escalation_level += 1
            alarm.last_escalated_at = now
            alarm.save(update_fields=["escalation_level", "last_escalated_at"])
            event = _event(
                alarm,
                AlarmEventType.ESCALATED,
                actor=None,
                at=now,
                level=alarm.escalation_level,
                drill=alarm.is_drill,
            )
            audit_record(
                actor=None,
                action="update",
                obj=alarm,
                changes={"event": AlarmEventType.ESCALATED, "level": alarm.escalation_level},
            )
            events.publish_on_commit(event, alarm, station_only=alarm.is_drill)
            if not alarm.is_drill:
                _send_outbound(alarm, event)
            _schedule_escalation_check(alarm, delay=settings.ALARM_ESCALATE_REPEAT_SECONDS)
            escalated.append(alarm)
    return escalated


def _withdraw_escalation_messages(alarm: Alarm) -> None:
    """Someone answered (or the alarm was cancelled): its "not acknowledged" messages not
    yet sent, retries included, are withdrawn rather than sent late and wrong."""
    from django.apps import apps

    if alarm.last_escalated_at is None or not apps.is_installed("huxiao.notify"):
        return
    from huxiao.notify.services import deliveries_withdraw

    deliveries_withdraw(
        dedupe_prefix=f"alarm:{alarm.pk}:escalation:",
        reason=f"alarm {alarm.pk} is no longer waiting ({alarm.status})",
    )


def _send_outbound(alarm: Alarm, event: AlarmEvent) -> None:
    """Out through the organizations' channels (SMS, WeCom, DingTalk, email, webhook)."""
    from django.apps import apps

    if not apps.is_installed("huxiao.notify"):
        return
    from huxiao.alarms.outbound import alarm_escalation_notify

    alarm_escalation_notify(alarm=alarm, event=event)
