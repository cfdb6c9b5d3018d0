"""Writes of the response to a case (§3 7–10; issue 9 items 7–10; ADR 0032 "Response").

- `disinfection_record`: routine disinfection (RECORD_HEALTH: a teacher records their
  classroom's) or, tied to a case of the same school, an emergency disinfection
  (MANAGE_HEALTH). The case's first emergency record is the step EMERGENCY_DISINFECTION;
  its first of a classroom also CLASSROOM_DISINFECTED. A time in the future, a case of
  another school: field errors, nothing written.
- `suspension_decide` (SUSPEND_CLASSES): a class, a grade or the whole school, from–to, the
  reason and the health centre's and education office's assessments; decided by the actor,
  now. A class must be one of THIS school. With a case: the step ASSESSED.
  `case_assessed_no_suspension` records ASSESSED with the assessment when nothing is
  suspended. `suspension_resume` records the day classes resume. Decisions and resumptions
  are sent to the school's health side and principal, the health centre, the education
  office, the town government and every login of the school, and by SMS to one guardian of
  each child concerned.
- `statement_publish` (MANAGE_HEALTH): the one voice toward the public (§3 9); every login
  of the school is told what is official.
- `aftercare_create` / `aftercare_done` (MANAGE_HEALTH; the assignee completes their own):
  the first task of a case is the step AFTERCARE; a psychological-support task is done with
  its notes.
- `monitoring_plan_for_case` (called by the case area when the procedure starts): once per
  case, the county default — the case's class checked MONITORING_CHECKS_PER_DAY times a day
  for MONITORING_DAYS days from that day. `monitoring_plan_create` / `monitoring_plan_end`
  (MANAGE_HEALTH) by hand. `monitoring_remind` (tasks_response) reminds the head teacher
  and the health staff of a class whose checks are behind.

Order of checks: scope (404), right (403), state (`ResponseConflict`, 409), input
(ValidationError by field, 400; every error at once, nothing written). Every write is
audited in its transaction; notifications go out after commit (notify_send).
"""

from __future__ import annotations

import datetime as dt
import math

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from huxiao.audit.services import audit_create, audit_update, snapshot
from huxiao.core.names import acting_user, person_name
from huxiao.core.permissions import require
from huxiao.core.roles import Action, Role
from huxiao.duty.duty_selectors import DATE_MAX, DATE_MIN, is_member, require_any, user_id_of
from huxiao.health import response_selectors as sel
from huxiao.health.choices import (
    AftercareKind,
    CheckSession,
    DisinfectionArea,
    DisinfectionKind,
    Step,
    SuspensionScope,
)
from huxiao.health.models import (
    AftercareTask,
    ClassSuspension,
    Disinfection,
    HealthCase,
    MonitoringPlan,
    OfficialStatement,
)
from huxiao.health.recipients import health_recipients
from huxiao.health.steps import step_record
from huxiao.health.suspensions import suspended_class_ids_at
from huxiao.notify.models import Notification
from huxiao.notify.services import notify_send
from huxiao.orgs.models import Organization
from huxiao.people import validation as v
from huxiao.people.models import Guardian, SchoolClass

SUSPENSION_EVENT = "health.suspension"
RESUMPTION_EVENT = "health.suspension_resumed"
ASSESSMENT_EVENT = "health.suspension_assessed"
FAMILIES_EVENT = "health.suspension_families"
STATEMENT_EVENT = "health.statement"
AFTERCARE_EVENT = "health.aftercare_task"
MONITORING_EVENT = "health.monitoring_reminder"

# County defaults of the automatic plan (§3 10 "提高日常体温监测频次"; ADR 0032 "Response"):
# the affected class is checked twice a day for 14 days.
MONITORING_DAYS = 14
MONITORING_CHECKS_PER_DAY = 2
# A class has one check of each session a day (morning, noon, extra: HealthCheck is unique
# per class, day and session), so a plan asking for more could never be met.
CHECKS_PER_DAY_MAX = len(CheckSession.values)
# Reminder times on school days: by 11:30 the morning half of the day's checks is due, by
# 15:30 all of them.
MONITORING_SLOTS = (dt.time(11, 30), dt.time(15, 30))
PLAN_DAYS_MAX = 60
SUSPENSION_DAYS_MAX = 60
# A decision may be recorded after the fact, but not from before the week of the case.
SUSPENSION_BACKDATE = dt.timedelta(days=7)
# A record of something done may be a year old at most (a typo otherwise); a phone's
# clock may run a few minutes ahead.
RECORD_AGE_MAX = dt.timedelta(days=366)
CLOCK_SKEW = dt.timedelta(minutes=5)
NOTE_MAX = 500
REASON_MAX = 300
STATEMENT_MAX = 5000
TASK_NOTE_MAX = 5000


class ResponseConflict(ValidationError):
    """A step the state does not allow (a suspension already resumed, a task already done,
    a case already assessed). Pages and the API answer 409 with the sentence."""

    def __init__(self, message):
        super().__init__(message, code="transition")


# ------------------------------------------------------------------ input helpers


def _choice(value, choices, message) -> str:
    text = str(value or "").strip()
    if text not in choices.values:
        raise ValidationError(message, code="choice")
    return text


def _moment(value, *, now: dt.datetime) -> dt.datetime:
    """A past moment (aware, local when given naive), at most a year old."""
    if value in (None, ""):
        raise ValidationError(_("This field is required."), code="required")
    if isinstance(value, dt.datetime):
        moment = value
    else:
        try:
            moment = parse_datetime(str(value).strip())
        except ValueError:
            moment = None
        if moment is None:
            raise ValidationError(_("Enter a date and time."), code="invalid")
    if timezone.is_naive(moment):
        try:
            moment = timezone.make_aware(moment)
        except (ValueError, OverflowError):
            raise ValidationError(_("Enter a date and time."), code="invalid") from None
    if moment > now + CLOCK_SKEW:
        raise ValidationError(_("This time is in the future."), code="future")
    if moment < now - RECORD_AGE_MAX:
        raise ValidationError(_("This time is more than a year ago."), code="too_old")
    return moment


def _day(value, *, required: bool = True) -> dt.date | None:
    day = v.clean_date(value, required=required)
    if day is not None and not (DATE_MIN <= day <= DATE_MAX):
        raise ValidationError(
            _("Choose a date between %(first)s and %(last)s.")
            % {"first": DATE_MIN.isoformat(), "last": DATE_MAX.isoformat()},
            code="range",
        )
    return day


def _platform(message, params: dict | None = None) -> str:
    """A sentence in the platform's language (notifications and stored notes)."""
    with translation.override(settings.LANGUAGE_CODE):
        text = str(message)
        return text % params if params else text


def _md(day: dt.date) -> str:
    """12月1日 (in the platform's language)."""
    return _platform(_("%(month)s/%(day)s"), {"month": day.month, "day": day.day})


def _school_for(actor, school_id, action: str) -> Organization:
    """The school (404 outside the actor's health scope), then the right (403)."""
    require_any(actor, action)
    school = sel.school_in(
        actor,
        school_id,
        (Action.VIEW_HEALTH, Action.RECORD_HEALTH, Action.VIEW_SUSPENSION, action),
    )
    require(actor, action, school.pk)
    return school


def _case_for(actor, case_id, action: str) -> HealthCase:
    """A case seen by the actor (VIEW_HEALTH; else 404), where they may do `action` (403)."""
    require_any(actor, action)
    case = sel.case_get(actor=actor, case_id=case_id, action=Action.VIEW_HEALTH)
    require(actor, action, case.school_id)
    return case


def _families_of(class_ids) -> list[str]:
    """One phone per child of the classes (the primary guardian's, else the first's)."""
    phones: dict[int, str] = {}
    for child_id, phone in (
        Guardian.objects.filter(child__school_class_id__in=list(class_ids), child__is_active=True)
        .exclude(phone="")
        .order_by("child_id", "-is_primary", "id")
        .values_list("child_id", "phone")
    ):
        phones.setdefault(child_id, phone)
    return list(dict.fromkeys(phones.values()))


def _lock_school(school_id: int) -> None:
    """One write of this area at a time per school: a double tap finds the first one."""
    Organization.objects.select_for_update().filter(pk=school_id).first()


def _offices(school: Organization) -> list[int]:
    return [
        pk
        for pk in (school.pk, school.health_centre_id, school.education_office_id)
        if pk is not None
    ]


# ------------------------------------------------------------------ disinfection


def disinfection_record(
    *,
    actor,
    school_id,
    area,
    method,
    done_by_name,
    done_at,
    area_detail="",
    agent="",
    case_id=None,
    now: dt.datetime | None = None,
) -> Disinfection:
    """A routine disinfection of the school, or (with `case_id`) an emergency one."""
    now = now or timezone.now()
    emergency = case_id not in (None, "")
    school = _school_for(
        actor, school_id, Action.MANAGE_HEALTH if emergency else Action.RECORD_HEALTH
    )
    errors = v.FieldErrors()
    case = None
    if emergency:
        case = sel.case_of_school(school.pk, case_id)
        if case is None:
            errors.add("case", _("Choose a suspected case of this school."))
    area = errors.run(
        "area", _choice, area, DisinfectionArea, _("Choose the area that was disinfected.")
    )
    area_detail = errors.run("area_detail", v.clean_text, area_detail, max_length=100)
    method = errors.run("method", v.clean_text, method, max_length=100, required=True)
    agent = errors.run("agent", v.clean_text, agent, max_length=100)
    done_by_name = errors.run(
        "done_by_name", v.clean_text, done_by_name, max_length=50, required=True
    )
    done_at = errors.run("done_at", _moment, done_at, now=now)
    if case is not None and done_at is not None and timezone.localdate(done_at) < case.onset_date:
        errors.add(
            "done_at",
            _("An emergency disinfection cannot be before the case's onset (%(date)s).")
            % {"date": case.onset_date.isoformat()},
        )
    errors.raise_if_any()
    values = {
        "school": school,
        "case": case,
        "kind": DisinfectionKind.EMERGENCY if case else DisinfectionKind.ROUTINE,
        "area": area,
        "area_detail": area_detail,
        "method": method,
        "agent": agent,
        "done_by_name": done_by_name,
        "done_at": done_at,
    }
    with transaction.atomic():
        _lock_school(school.pk)
        # A double tap records the disinfection once (the same place, way, person, time).
        same = Disinfection.objects.filter(**values).order_by("id").first()
        if same is not None:
            return same
        row = Disinfection.objects.create(**values, recorded_by=acting_user(actor))
        audit_create(actor=actor, obj=row, school=school)
        if case is not None:
            place = str(row.get_area_display()) + (f" {area_detail}" if area_detail else "")
            step_record(
                actor=actor,
                case=case,
                step=Step.EMERGENCY_DISINFECTION,
                note=_platform(_("%(place)s: %(method)s"), {"place": place, "method": method}),
                at=done_at,
            )
            if area == DisinfectionArea.CLASSROOM:
                step_record(
                    actor=actor,
                    case=case,
                    step=Step.CLASSROOM_DISINFECTED,
                    note=_platform(_("%(place)s: %(method)s"), {"place": place, "method": method}),
                    at=done_at,
                )
    return row


# ------------------------------------------------------------------ class suspension


def _target(suspension: ClassSuspension) -> str:
    if suspension.scope == SuspensionScope.SCHOOL:
        return _platform(
            _("%(school)s (whole school)"),
            {"school": suspension.school.short_name or suspension.school.name},
        )
    if suspension.scope == SuspensionScope.GRADE:
        return _platform(_("%(grade)s (whole grade)"), {"grade": suspension.grade})
    return suspension.school_class.name


def _class_ids_of(suspension: ClassSuspension) -> list[int]:
    classes = SchoolClass.objects.filter(school_id=suspension.school_id)
    if suspension.scope == SuspensionScope.CLASS:
        return [suspension.school_class_id]
    if suspension.scope == SuspensionScope.GRADE:
        classes = classes.filter(grade=suspension.grade)
    return list(classes.values_list("pk", flat=True))


def _overlapping(suspension: ClassSuspension):
    """Suspensions not resumed of the same class, grade or school whose dates overlap."""
    qs = ClassSuspension.objects.filter(
        school_id=suspension.school_id,
        scope=suspension.scope,
        starts_on__lte=suspension.ends_on,
        ends_on__gte=suspension.starts_on,
    ).filter(Q(resumed_on__isnull=True) | Q(resumed_on__gt=suspension.starts_on))
    if suspension.scope == SuspensionScope.CLASS:
        qs = qs.filter(school_class_id=suspension.school_class_id)
    elif suspension.scope == SuspensionScope.GRADE:
        qs = qs.filter(grade=suspension.grade)
    return qs.exclude(pk=suspension.pk)


def suspension_decide(
    *,
    actor,
    school_id,
    scope,
    starts_on,
    ends_on,
    reason,
    health_centre_opinion,
    education_office_opinion,
    school_class_id=None,
    grade="",
    case_id=None,
    now: dt.datetime | None = None,
) -> ClassSuspension:
    """The joint decision to suspend a class, a grade or the school (§3 8)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    school = _school_for(actor, school_id, Action.SUSPEND_CLASSES)
    errors = v.FieldErrors()
    scope = errors.run(
        "scope", _choice, scope, SuspensionScope, _("Choose a class, a grade or the whole school.")
    )
    school_class = None
    if scope == SuspensionScope.CLASS:
        school_class = sel.class_of_school(school.pk, school_class_id)
        if school_class is None:
            errors.add(
                "school_class",
                _("Choose a class of this school: a class of another school cannot be suspended."),
            )
        grade = ""
    elif scope == SuspensionScope.GRADE:
        grade = str(grade or "").strip()
        if grade not in sel.grades_of(school.pk):
            errors.add("grade", _("Choose a grade of this school."))
    else:
        grade = ""
    case = None
    if case_id not in (None, ""):
        case = sel.case_of_school(school.pk, case_id)
        if case is None:
            errors.add("case", _("Choose a suspected case of this school."))
    starts_on = errors.run("starts_on", _day, starts_on)
    ends_on = errors.run("ends_on", _day, ends_on)
    earliest = (timezone.localdate(case.reported_at) if case else today) - SUSPENSION_BACKDATE
    if starts_on is not None and starts_on < earliest:
        errors.add(
            "starts_on",
            _("The suspension cannot start before %(date)s (a week before the case).")
            % {"date": earliest.isoformat()}
            if case
            else _("The suspension cannot start before %(date)s (a week ago).")
            % {"date": earliest.isoformat()},
        )
    if starts_on is not None and ends_on is not None:
        if ends_on < starts_on:
            errors.add("ends_on", _("The last day cannot be before the first day."))
        elif (ends_on - starts_on).days + 1 > SUSPENSION_DAYS_MAX:
            errors.add(
                "ends_on",
                _("A suspension lasts at most %(n)s days; decide again to extend it.")
                % {"n": SUSPENSION_DAYS_MAX},
            )
    reason = errors.run("reason", v.clean_text, reason, max_length=REASON_MAX, required=True)
    health_centre_opinion = errors.run(
        "health_centre_opinion",
        v.clean_text,
        health_centre_opinion,
        max_length=NOTE_MAX,
        required=True,
    )
    education_office_opinion = errors.run(
        "education_office_opinion",
        v.clean_text,
        education_office_opinion,
        max_length=NOTE_MAX,
        required=True,
    )
    errors.raise_if_any()
    with transaction.atomic():
        # One decision at a time per school: a double tap finds the first one.
        _lock_school(school.pk)
        suspension = ClassSuspension(
            school=school,
            scope=scope,
            school_class=school_class,
            grade=grade,
            starts_on=starts_on,
            ends_on=ends_on,
            reason=reason,
            case=case,
            health_centre_opinion=health_centre_opinion,
            education_office_opinion=education_office_opinion,
            decided_by=acting_user(actor),
            decided_at=now,
        )
        clash = _overlapping(suspension).first()
        if clash is not None:
            field = {"class": "school_class", "grade": "grade"}.get(scope, "scope")
            raise ValidationError(
                {
                    field: [
                        _("Already suspended from %(first)s to %(last)s.")
                        % {
                            "first": clash.starts_on.isoformat(),
                            "last": clash.ends_on.isoformat(),
                        }
                    ]
                }
            )
        suspension.save()
        audit_create(actor=actor, obj=suspension, school=school)
        if case is not None:
            step_record(
                actor=actor,
                case=case,
                step=Step.ASSESSED,
                note=_platform(
                    _("Suspended: %(target)s %(first)s–%(last)s"),
                    {
                        "target": _target(suspension),
                        "first": _md(starts_on),
                        "last": _md(ends_on),
                    },
                ),
                at=now,
            )
        _tell_suspension(suspension, resumed=False)
    return suspension


def _suspensions_url(school_id: int) -> str:
    """The school's suspensions: a page every recipient of a decision may open (it needs
    VIEW_SUSPENSION, unlike the case page)."""
    return reverse("health:suspensions") + f"?school={school_id}"


def _tell_suspension(suspension: ClassSuspension, *, resumed: bool) -> None:
    """The school's health side, principal, health centre, education office and town
    government, every login of the school, and one guardian of each child concerned."""
    school = suspension.school
    people = health_recipients([school], with_offices=True)[school.pk]
    people += sel.school_member_ids(school.pk)
    facts = {
        "target": _target(suspension),
        "first": _md(suspension.starts_on),
        "last": _md(suspension.ends_on),
        "school": school.name,
        "reason": suspension.reason,
        "health_centre": suspension.health_centre_opinion,
        "education_office": suspension.education_office_opinion,
        "by": person_name(suspension.decided_by),
    }
    if resumed:
        facts["date"] = _md(suspension.resumed_on)
        facts["note"] = suspension.resume_note
        title = _platform(_("%(target)s resumes classes on %(date)s"), facts)
        body = _platform(
            _(
                "%(school)s: %(target)s, suspended %(first)s–%(last)s, resumes on %(date)s. %(note)s"
            ),
            facts,
        )
        event, key = RESUMPTION_EVENT, f"{RESUMPTION_EVENT}.{suspension.pk}"
    else:
        title = _platform(_("%(target)s suspended %(first)s–%(last)s"), facts)
        body = _platform(
            _(
                "%(school)s: %(target)s suspended from %(first)s to %(last)s. Reason: "
                "%(reason)s. Health centre: %(health_centre)s. Education office: "
                "%(education_office)s. Decided by %(by)s."
            ),
            facts,
        )
        event, key = SUSPENSION_EVENT, f"{SUSPENSION_EVENT}.{suspension.pk}"
    payload = {
        "url": _suspensions_url(school.pk),
        "suspension_id": suspension.pk,
        "school_id": school.pk,
        "scope": suspension.scope,
        "school_class_id": suspension.school_class_id,
        "grade": suspension.grade,
        "starts_on": suspension.starts_on.isoformat(),
        "ends_on": suspension.ends_on.isoformat(),
        "resumed_on": suspension.resumed_on.isoformat() if suspension.resumed_on else None,
        "case_id": suspension.case_id,
    }
    notify_send(
        organizations=_offices(school),
        event_type=event,
        title=title,
        body=body,
        payload=payload,
        recipients=list(dict.fromkeys(people)),
        dedupe_key=key,
    )
    phones = _families_of(_class_ids_of(suspension))
    if phones:
        notify_send(
            organizations=[school.pk],
            event_type=FAMILIES_EVENT,
            title=_platform(
                _("%(school)s: %(text)s"),
                {"school": school.short_name or school.name, "text": title},
            ),
            body=title,
            payload=payload,
            mention_phones=phones,
            dedupe_key=f"{FAMILIES_EVENT}.{'resumed' if resumed else 'decided'}.{suspension.pk}",
        )


def case_assessed_no_suspension(
    *, actor, case_id, note, now: dt.datetime | None = None
) -> HealthCase:
    """The assessment concluded that nothing is suspended: the step ASSESSED with it."""
    now = now or timezone.now()
    case = _case_for(actor, case_id, Action.SUSPEND_CLASSES)
    errors = v.FieldErrors()
    note = errors.run("note", v.clean_text, note, max_length=NOTE_MAX, required=True)
    done = case.steps.filter(step=Step.ASSESSED).select_related("done_by").first()
    if done is not None:
        raise ResponseConflict(
            _("The suspension was already assessed (%(by)s, %(at)s).")
            % {
                "by": person_name(done.done_by),
                "at": timezone.localtime(done.done_at).strftime("%Y-%m-%d %H:%M"),
            }
        )
    errors.raise_if_any()
    with transaction.atomic():
        step_record(
            actor=actor,
            case=case,
            step=Step.ASSESSED,
            note=_platform(_("No suspension: %(note)s"), {"note": note}),
            at=now,
        )
        school = case.school
        title = _platform(
            _("%(class)s: assessed, no suspension"), {"class": case.school_class.name}
        )
        notify_send(
            organizations=_offices(school),
            event_type=ASSESSMENT_EVENT,
            title=title,
            body=f"{school.name}：{note}",
            payload={
                "url": _suspensions_url(school.pk),
                "case_id": case.pk,
                "school_id": school.pk,
            },
            recipients=health_recipients([school], with_offices=True)[school.pk],
            dedupe_key=f"{ASSESSMENT_EVENT}.{case.pk}",
        )
    return case


def suspension_resume(
    *, actor, suspension_id, resumed_on, note="", now: dt.datetime | None = None
) -> ClassSuspension:
    """Classes resume on `resumed_on` (at the latest the day after the last day)."""
    require_any(actor, Action.SUSPEND_CLASSES)
    suspension = sel.suspension_get(actor=actor, suspension_id=suspension_id)
    require(actor, Action.SUSPEND_CLASSES, suspension.school_id)
    if suspension.resumed_on is not None:
        raise ResponseConflict(
            _("Resumption already recorded: classes resumed on %(date)s.")
            % {"date": suspension.resumed_on.isoformat()}
        )
    errors = v.FieldErrors()
    resumed_on = errors.run("resumed_on", _day, resumed_on)
    note = errors.run("note", v.clean_text, note, max_length=REASON_MAX)
    if resumed_on is not None:
        last = suspension.ends_on + dt.timedelta(days=1)
        if resumed_on < suspension.starts_on or resumed_on > last:
            errors.add(
                "resumed_on",
                _("Classes resume between %(first)s and %(last)s.")
                % {"first": suspension.starts_on.isoformat(), "last": last.isoformat()},
            )
    errors.raise_if_any()
    with transaction.atomic():
        locked = ClassSuspension.objects.select_for_update().get(pk=suspension.pk)
        if locked.resumed_on is not None:
            raise ResponseConflict(
                _("Resumption already recorded: classes resumed on %(date)s.")
                % {"date": locked.resumed_on.isoformat()}
            )
        before = snapshot(suspension)
        suspension.resumed_on = resumed_on
        suspension.resumed_by = acting_user(actor)
        suspension.resume_note = note
        suspension.save(update_fields=["resumed_on", "resumed_by", "resume_note"])
        audit_update(actor=actor, obj=suspension, before=before, school=suspension.school_id)
        _tell_suspension(suspension, resumed=True)
    return suspension


# ------------------------------------------------------------------ one voice


def statement_publish(
    *,
    actor,
    school_id,
    text,
    published_at,
    approved_by,
    case_id=None,
    now: dt.datetime | None = None,
) -> OfficialStatement:
    """An official statement given out (§3 9): its text, when, approved by whom."""
    now = now or timezone.now()
    school = _school_for(actor, school_id, Action.MANAGE_HEALTH)
    errors = v.FieldErrors()
    case = None
    if case_id not in (None, ""):
        case = sel.case_of_school(school.pk, case_id)
        if case is None:
            errors.add("case", _("Choose a suspected case of this school."))
    text = errors.run("text", v.clean_text, text, max_length=STATEMENT_MAX, required=True)
    published_at = errors.run("published_at", _moment, published_at, now=now)
    approved_by = errors.run(
        "approved_by", v.clean_text, approved_by, max_length=100, required=True
    )
    errors.raise_if_any()
    values = {
        "school": school,
        "case": case,
        "text": text,
        "published_at": published_at,
        "approved_by": approved_by,
    }
    with transaction.atomic():
        _lock_school(school.pk)
        # A double tap records (and tells everyone) once.
        same = OfficialStatement.objects.filter(**values).order_by("id").first()
        if same is not None:
            return same
        statement = OfficialStatement.objects.create(**values, recorded_by=acting_user(actor))
        audit_create(actor=actor, obj=statement, school=school)
        notify_send(
            organizations=[school.pk],
            event_type=STATEMENT_EVENT,
            title=_platform(
                _("Official statement of %(school)s (approved by %(by)s)"),
                {"school": school.short_name or school.name, "by": approved_by},
            ),
            body=text,
            payload={
                "url": reverse("health:statements", args=[school.pk]),
                "statement_id": statement.pk,
                "school_id": school.pk,
                "case_id": case.pk if case else None,
            },
            recipients=sel.school_member_ids(school.pk),
            dedupe_key=f"{STATEMENT_EVENT}.{statement.pk}",
        )
    return statement


# ------------------------------------------------------------------ aftercare


def aftercare_create(
    *, actor, case_id, kind, description, assignee_id=None, due_on=None, now=None
) -> AftercareTask:
    """An aftercare task of a case (§3 10), given to a login of the school."""
    now = now or timezone.now()
    case = _case_for(actor, case_id, Action.MANAGE_HEALTH)
    errors = v.FieldErrors()
    kind = errors.run("kind", _choice, kind, AftercareKind, _("Choose the kind of task."))
    description = errors.run(
        "description", v.clean_text, description, max_length=300, required=True
    )
    assignee = None
    if assignee_id not in (None, ""):
        uid = user_id_of(assignee_id)
        if uid is None or not is_member(uid, case.school_id):
            errors.add("assignee", _("Choose someone of this school."))
        else:
            assignee = get_user_model().objects.get(pk=uid)
    due_on = errors.run("due_on", _day, due_on, required=False)
    if due_on is not None and due_on < timezone.localdate(now):
        errors.add("due_on", _("The due date is in the past."))
    errors.raise_if_any()
    values = {
        "case": case,
        "kind": kind,
        "description": description,
        "assignee": assignee,
        "due_on": due_on,
    }
    with transaction.atomic():
        # A double tap gives the task once (the same open task for the same person).
        HealthCase.objects.select_for_update().filter(pk=case.pk).first()
        same = AftercareTask.objects.filter(**values, done_at__isnull=True).order_by("id").first()
        if same is not None:
            return same
        task = AftercareTask.objects.create(**values, created_by=acting_user(actor))
        audit_create(actor=actor, obj=task, school=case.school_id)
        step_record(
            actor=actor,
            case=case,
            step=Step.AFTERCARE,
            note=_platform(
                _("%(kind)s: %(task)s"), {"kind": task.get_kind_display(), "task": description}
            ),
            at=now,
        )
        if assignee is not None and assignee.pk != getattr(actor, "pk", None):
            # The assignee's inbox only: a task for one person is not for the school's
            # groups (and its text may name the child).
            notify_send(
                organizations=[],
                event_type=AFTERCARE_EVENT,
                title=_platform(_("Aftercare task for you: %(task)s"), {"task": description}),
                body=_platform(
                    _("%(school)s, %(class)s · %(kind)s · due %(due)s"),
                    {
                        "school": case.school.name,
                        "class": case.school_class.name,
                        "kind": task.get_kind_display(),
                        "due": due_on.isoformat() if due_on else "—",
                    },
                ),
                payload={
                    "url": reverse("health:aftercare"),
                    "task_id": task.pk,
                    "case_id": case.pk,
                    "school_id": case.school_id,
                },
                recipients=[assignee.pk],
                dedupe_key=f"{AFTERCARE_EVENT}.{task.pk}",
            )
    return task


def aftercare_done(*, actor, task_id, note="", now=None) -> AftercareTask:
    """A task done, with its notes (a psychological-support task needs them)."""
    now = now or timezone.now()
    task = sel.aftercare_get(actor=actor, task_id=task_id)
    if not sel.may_complete(actor, task):
        raise PermissionDenied(
            _("Only the person given this task or the health staff may mark it done.")
        )
    if task.done_at is not None:
        raise ResponseConflict(
            _("This task was already done (%(at)s).")
            % {"at": timezone.localtime(task.done_at).strftime("%Y-%m-%d %H:%M")}
        )
    errors = v.FieldErrors()
    note = errors.run(
        "note",
        v.clean_text,
        note,
        max_length=TASK_NOTE_MAX,
        required=task.kind == AftercareKind.PSYCHOLOGICAL,
    )
    errors.raise_if_any()
    with transaction.atomic():
        locked = AftercareTask.objects.select_for_update().get(pk=task.pk)
        if locked.done_at is not None:
            raise ResponseConflict(_("This task was already done."))
        before = snapshot(task)
        task.done_at = now
        task.done_by = acting_user(actor)
        task.note = note
        task.save(update_fields=["done_at", "done_by", "note"])
        audit_update(actor=actor, obj=task, before=before, school=task.case.school_id)
    return task


# ------------------------------------------------------------------ monitoring plans


def monitoring_plan_for_case(*, actor, case, today: dt.date | None = None):
    """The case's class checked MONITORING_CHECKS_PER_DAY times a day for MONITORING_DAYS
    days from today (the day the procedure starts); once per case — a second call returns
    the first plan. Called by the case area inside its own transaction, scope and right
    already checked there."""
    today = today or timezone.localdate()
    with transaction.atomic():
        # Two starts at once make one plan.
        HealthCase.objects.select_for_update().filter(pk=case.pk).first()
        existing = MonitoringPlan.objects.filter(case_id=case.pk).order_by("id").first()
        if existing is not None:
            return existing
        plan = MonitoringPlan.objects.create(
            school_id=case.school_id,
            school_class_id=case.school_class_id,
            case_id=case.pk,
            starts_on=today,
            ends_on=today + dt.timedelta(days=MONITORING_DAYS - 1),
            checks_per_day=MONITORING_CHECKS_PER_DAY,
            created_by=acting_user(actor),
        )
        audit_create(actor=actor, obj=plan, school=case.school_id)
    return plan


def monitoring_plan_create(
    *,
    actor,
    school_id,
    school_class_id,
    starts_on,
    ends_on,
    checks_per_day=MONITORING_CHECKS_PER_DAY,
    case_id=None,
    now=None,
) -> MonitoringPlan:
    """A plan by hand: more checks for a class from one day to another."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    school = _school_for(actor, school_id, Action.MANAGE_HEALTH)
    errors = v.FieldErrors()
    school_class = sel.class_of_school(school.pk, school_class_id)
    if school_class is None:
        errors.add("school_class", _("Choose a class of this school."))
    case = None
    if case_id not in (None, ""):
        case = sel.case_of_school(school.pk, case_id)
        if case is None:
            errors.add("case", _("Choose a suspected case of this school."))
    starts_on = errors.run("starts_on", _day, starts_on)
    ends_on = errors.run("ends_on", _day, ends_on)
    if starts_on is not None and starts_on < today - SUSPENSION_BACKDATE:
        errors.add("starts_on", _("A plan cannot start more than a week ago."))
    if starts_on is not None and ends_on is not None:
        if ends_on < starts_on:
            errors.add("ends_on", _("The last day cannot be before the first day."))
        elif (ends_on - starts_on).days + 1 > PLAN_DAYS_MAX:
            errors.add("ends_on", _("A plan lasts at most %(n)s days.") % {"n": PLAN_DAYS_MAX})
    try:
        checks = int(str(checks_per_day).strip())
    except (TypeError, ValueError):
        checks = 0
    if not 1 <= checks <= CHECKS_PER_DAY_MAX:
        errors.add(
            "checks_per_day",
            _("Between 1 and %(n)s checks a day.") % {"n": CHECKS_PER_DAY_MAX},
        )
    errors.raise_if_any()
    with transaction.atomic():
        # Two submissions at once: the second finds the first plan and is refused.
        SchoolClass.objects.select_for_update().filter(pk=school_class.pk).first()
        covering = MonitoringPlan.objects.filter(
            school_class=school_class,
            starts_on__lte=starts_on,
            ends_on__gte=ends_on,
            checks_per_day__gte=checks,
        ).first()
        if covering is not None:
            raise ValidationError(
                {
                    "school_class": [
                        _("The class is already under a plan from %(first)s to %(last)s.")
                        % {
                            "first": covering.starts_on.isoformat(),
                            "last": covering.ends_on.isoformat(),
                        }
                    ]
                }
            )
        plan = MonitoringPlan.objects.create(
            school=school,
            school_class=school_class,
            case=case,
            starts_on=starts_on,
            ends_on=ends_on,
            checks_per_day=checks,
            created_by=acting_user(actor),
        )
        audit_create(actor=actor, obj=plan, school=school)
    return plan


def monitoring_plan_end(*, actor, plan_id, ends_on, now=None) -> MonitoringPlan:
    """A plan ended early (never lengthened: make a new plan for that)."""
    now = now or timezone.now()
    require_any(actor, Action.MANAGE_HEALTH)
    plan = sel.plan_get(actor=actor, plan_id=plan_id)
    require(actor, Action.MANAGE_HEALTH, plan.school_id)
    today = timezone.localdate(now)
    if plan.ends_on < today:
        raise ResponseConflict(_("This plan has already ended."))
    errors = v.FieldErrors()
    ends_on = errors.run("ends_on", _day, ends_on)
    if ends_on is not None and not (plan.starts_on <= ends_on <= plan.ends_on):
        errors.add(
            "ends_on",
            _("Choose a day between %(first)s and %(last)s.")
            % {"first": plan.starts_on.isoformat(), "last": plan.ends_on.isoformat()},
        )
    errors.raise_if_any()
    with transaction.atomic():
        before = snapshot(plan)
        plan.ends_on = ends_on
        plan.save(update_fields=["ends_on"])
        audit_update(actor=actor, obj=plan, before=before, school=plan.school_id)
    return plan


def expected_by(checks_per_day: int, slot_index: int) -> int:
    """Checks due by the `slot_index`-th reminder of the day (the last: all of them)."""
    return math.ceil(checks_per_day * (slot_index + 1) / len(MONITORING_SLOTS))


def monitoring_remind(*, now: dt.datetime | None = None) -> list[dict]:
    """Remind the head teacher and the health staff of each class under a plan whose
    checks today are behind (school days, at the MONITORING_SLOTS). Suspended classes are
    skipped. Once per class, day and slot (dedupe key), so a second run sends nothing."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    today = local.date()
    if today.weekday() >= 5:
        return []
    slot = None
    for index, at in enumerate(MONITORING_SLOTS):
        if local.time() >= at:
            slot = index
    if slot is None:
        return []
    plans = list(
        MonitoringPlan.objects.filter(starts_on__lte=today, ends_on__gte=today)
        .select_related("school", "school_class")
        .order_by("school_id", "school_class_id", "-checks_per_day", "id")
    )
    by_class: dict[int, MonitoringPlan] = {}
    for plan in plans:
        by_class.setdefault(plan.school_class_id, plan)  # the most checks a day first
    if not by_class:
        return []
    school_ids = {p.school_id for p in by_class.values()}
    suspended = suspended_class_ids_at(school_ids, today)
    taken = sel.checks_today(by_class.values(), today)
    staff = health_recipients(school_ids, school_roles=(Role.HEALTH_STAFF,), health_centre=False)
    heads = sel.head_teacher_logins([plan.school_class_id for plan in by_class.values()])
    behind: list[tuple[MonitoringPlan, int, int, str]] = []
    for class_id, plan in by_class.items():
        if class_id in suspended:
            continue
        expected = expected_by(plan.checks_per_day, slot)
        done = taken.get(class_id, 0)
        if done < expected:
            key = f"{MONITORING_EVENT}.{class_id}.{today.isoformat()}.{slot}"
            behind.append((plan, done, expected, key))
    already = set(
        Notification.objects.filter(dedupe_key__in=[row[3] for row in behind]).values_list(
            "dedupe_key", flat=True
        )
    )
    sent: list[dict] = []
    for plan, done, expected, key in behind:
        if key in already:
            continue
        school_id = plan.school_id
        school_class = plan.school_class
        people = list(staff.get(school_id, []))
        if school_class.pk in heads:
            people.insert(0, heads[school_class.pk])
        facts = {
            "class": school_class.name,
            "done": done,
            "expected": expected,
            "per_day": plan.checks_per_day,
            "last": plan.ends_on.isoformat(),
        }
        notify_send(
            organizations=[school_id],
            event_type=MONITORING_EVENT,
            title=_platform(
                _("%(class)s: %(done)s of %(expected)s health checks taken so far today"),
                facts,
            ),
            body=_platform(
                _("%(class)s is under closer monitoring until %(last)s: %(per_day)s checks a day."),
                facts,
            ),
            payload={
                # The class's next check: morning, then noon, then the extra one.
                "url": reverse(
                    "health:check_entry",
                    args=[school_class.pk, CheckSession.values[min(done, CHECKS_PER_DAY_MAX - 1)]],
                )
                + f"?date={today.isoformat()}",
                "plan_id": plan.pk,
                "school_id": school_id,
                "school_class_id": school_class.pk,
                "date": today.isoformat(),
                "slot": slot,
            },
            recipients=list(dict.fromkeys(people)),
            dedupe_key=key,
        )
        sent.append(
            {
                "school_class_id": school_class.pk,
                "plan_id": plan.pk,
                "done": done,
                "expected": expected,
                "recipients": list(dict.fromkeys(people)),
            }
        )
    return sent
