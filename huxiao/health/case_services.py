"""Writes of the suspected-case procedure (issue 9 items 5–6; §3 4–10; ADR 0032 "Case").

- `case_report`: a class teacher (RECORD_HEALTH) reports a suspected case of a child of a
  class: the case (status "reported"), the step REPORTED by the reporter, the symptoms on the
  line list (source "case"), and at once a message to the school's duty leader(s) (today's
  on the duty roster when the school keeps one), health staff and principal. A suspected
  notifiable disease asks the surveillance for its immediate alert once committed. One open
  case per child: a second report while one is open is a conflict naming it.
- `case_step`: one step of §3 4–10 (see case_selectors for who does which). The duty leader
  verifies; the group leader (a principal) starts the procedure (status "active", the
  response area's monitoring plan); the response groups; isolation (place, time); the class
  moved; the parents told (SMS to the guardians, inbox to the head teacher); reports to the
  central school and the health centre; the transfer; contacts traced and their families
  told; the outcome (confirmed with a diagnosis, or cleared). `case_close` closes it.
- `case_group_member_add/remove`, `case_contacts_record`, `case_contacts_notify`,
  `case_window_set`: the parts of those steps the pages do one at a time.

Order of checks: the case through the actor's scope (404), the role (403 with the reason),
a step already recorded is returned as it is (a double tap records one step and tells
nobody twice), the order (`CaseConflict`, 409: nothing but verification and isolation before
the procedure starts, no start before verification, nothing once closed), then the input
(ValidationError by field, 400). Every write is audited in its transaction; messages go out
after commit (notify_send). Messages name the class and the symptoms, never the child: they
also travel through the school's outbound channels, outside the access log; the case page
(logged) names the child.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huxiao.audit.services import (
    audit_bulk_create,
    audit_bulk_update,
    audit_create,
    audit_delete,
    audit_update,
    snapshot,
)
from huxiao.core.names import acting_user, person_name
from huxiao.core.roles import Action, Role
from huxiao.duty.duty_selectors import _id, date_in_range, is_member, require_any, user_id_of
from huxiao.health import case_selectors as sel
from huxiao.health.choices import CaseStatus, ResponseGroupKind, Step, Symptom, SymptomSource
from huxiao.health.contacts import case_contacts
from huxiao.health.models import CaseContact, CaseGroupMember, ChildCheck, HealthCase
from huxiao.health.recipients import health_recipients
from huxiao.health.steps import step_record, steps_done
from huxiao.health.symptoms import (
    clean_symptoms,
    clean_temperature,
    cluster_check_on_commit,
    symptom_events_replace,
    with_fever,
)
from huxiao.notify.services import notify_send
from huxiao.notify.validation import normalize_phone
from huxiao.orgs.models import Membership
from huxiao.people import validation as v
from huxiao.people.models import Child, Guardian, SchoolClass
from huxiao.transport.notify import platform_text

logger = logging.getLogger(__name__)

EVENT_REPORTED = "health.case_reported"
EVENT_PARENTS = "health.case_parents"
EVENT_CENTRAL_SCHOOL = "health.case_central_school"
EVENT_HEALTH_CENTRE = "health.case_health_centre"
EVENT_OUTCOME = "health.case_outcome"
EVENT_CONTACTS = "health.case_contacts"

WINDOW_DEFAULT = 2
WINDOW_MAX = 14  # the model's check constraint
# A suspected case is reported while the child is ill: an onset weeks back is a typing
# mistake, not a case.
ONSET_DAYS_MAX = 30
# A clock a few minutes fast on a phone must not refuse "isolated just now".
CLOCK_SLACK = dt.timedelta(minutes=10)
NOTE_MAX = 500
CASE_NOTE_MAX = 2000
PLACE_MAX = 100
MEMBERS_MAX = 60
OUTCOMES = (CaseStatus.CONFIRMED, CaseStatus.CLEARED)


class CaseConflict(ValidationError):
    """A step the state of the case does not allow (out of order, closed, a second open case
    for the child). Pages and the API answer 409 with the message; `case` names the open
    case when a second report is refused."""

    def __init__(self, message, *, case: HealthCase | None = None):
        self.case = case
        super().__init__(message, code="transition")


# ------------------------------------------------------------------ input


def _date(value, field: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise ValidationError({field: [_("Enter a date as YYYY-MM-DD.")]}) from None


def _moment(value, field: str, *, default: dt.datetime) -> dt.datetime:
    if value in (None, ""):
        return default
    if not isinstance(value, dt.datetime):
        try:
            value = dt.datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise ValidationError(
                {field: [_("Enter a date and time as YYYY-MM-DD HH:MM.")]}
            ) from None
    try:
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        in_range = date_in_range(timezone.localdate(value))
    except (OverflowError, ValueError):
        # Year 1 or 9999 with an offset: local time falls outside what a date can hold.
        in_range = False
    if not in_range:
        raise ValidationError({field: [_("Enter a date and time as YYYY-MM-DD HH:MM.")]})
    return value


def _text(value, field: str, *, max_length: int, required: bool = False) -> str:
    try:
        return v.clean_text(value, max_length=max_length, required=required)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from None


def _window_days(value) -> int:
    if value in (None, ""):
        return WINDOW_DEFAULT
    try:
        days = int(value)
    except (TypeError, ValueError):
        days = -1
    if not 0 <= days <= WINDOW_MAX:
        raise ValidationError(
            {
                "contact_window_days": [
                    _("Enter a number of days from 0 to %(max)s.") % {"max": WINDOW_MAX}
                ]
            }
        )
    return days


def _onset(value, today: dt.date) -> dt.date:
    if value in (None, ""):
        raise ValidationError({"onset_date": [_("Enter the day the symptoms began.")]})
    day = _date(value, "onset_date")
    if day > today:
        raise ValidationError({"onset_date": [_("The onset cannot be in the future.")]})
    if (today - day).days > ONSET_DAYS_MAX:
        raise ValidationError(
            {
                "onset_date": [
                    _("The onset must be within the last %(days)s days.") % {"days": ONSET_DAYS_MAX}
                ]
            }
        )
    return day


def _window_fits(onset: dt.date, isolated_at: dt.datetime | None, field: str) -> None:
    """A contact window runs from before the onset to the isolation: an onset after the
    isolation is a mistake in one of them."""
    if isolated_at is not None and onset > timezone.localdate(isolated_at):
        raise ValidationError(
            {
                field: [
                    _(
                        "The symptoms cannot begin after the child was isolated: check the "
                        "onset date and the time of isolation."
                    )
                ]
            }
        )


def _symptom_labels(codes) -> str:
    return "、".join(platform_text(Symptom(c).label) for c in codes if c in Symptom.values)


# ------------------------------------------------------------------ reporting


def case_report(
    *,
    actor,
    class_id,
    child_id,
    symptoms=(),
    temperature=None,
    onset_date=None,
    suspected_disease: str = "",
    notifiable: bool = False,
    note: str = "",
    check_id=None,
    contact_window_days=None,
    now: dt.datetime | None = None,
) -> HealthCase:
    """Report a suspected case of a child of a class (see the module's docstring)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    require_any(actor, Action.RECORD_HEALTH)
    school_class = (
        SchoolClass.objects.visible_to(actor, Action.RECORD_HEALTH)
        .filter(pk=_id(class_id))
        .select_related("school", "head_teacher")
        .first()
    )
    if school_class is None:
        raise Http404
    errors = v.FieldErrors()
    child = errors.run("child", _class_child, school_class, child_id)
    check = None
    if check_id not in (None, "") and child is not None:
        check = errors.run("check", _child_check, child, check_id)
    temperature = errors.run("temperature", clean_temperature, temperature)
    codes = errors.run("symptoms", clean_symptoms, symptoms) or []
    codes = with_fever(codes, temperature)
    if not codes and "symptoms" not in errors.errors and "temperature" not in errors.errors:
        errors.add("symptoms", _("Tick at least one symptom or enter a fever temperature."))
    onset = errors.run("onset_date", _onset, onset_date, today)
    window = errors.run("contact_window_days", _window_days, contact_window_days)
    disease = errors.run(
        "suspected_disease", _text, suspected_disease, "suspected_disease", max_length=100
    )
    note = errors.run("note", _text, note, "note", max_length=CASE_NOTE_MAX)
    errors.raise_if_any()
    with transaction.atomic():
        # One open case per child: a second report (a double tap) waits, then sees the first.
        Child.objects.select_for_update().filter(pk=child.pk).first()
        open_case = (
            HealthCase.objects.filter(child_id=child.pk, status__in=sel.OPEN_STATUSES)
            .order_by("-reported_at")
            .first()
        )
        if open_case is not None:
            raise CaseConflict(
                _("A case is already open for %(name)s (case %(id)s).")
                % {"name": child.name, "id": open_case.pk},
                case=open_case,
            )
        case = HealthCase.objects.create(
            school=school_class.school,
            school_class=school_class,
            child=child,
            status=CaseStatus.REPORTED,
            symptoms=codes,
            temperature=temperature,
            suspected_disease=disease,
            notifiable=bool(notifiable),
            onset_date=onset,
            contact_window_days=window,
            child_check=check,
            reported_by=acting_user(actor),
            reported_at=now,
            note=note,
        )
        audit_create(actor=actor, obj=case, school=case.school)
        step_record(actor=actor, case=case, step=Step.REPORTED, at=now)
        symptom_events_replace(
            source=SymptomSource.CASE,
            school_id=case.school_id,
            class_id=school_class.pk,
            child_id=child.pk,
            date=onset,
            symptoms=codes,
            case=case,
        )
        cluster_check_on_commit(case.school_id)
        _tell_reported(actor, case, now)
        if case.notifiable:
            transaction.on_commit(lambda: _alert_for_case(case.pk))
    return case


def _pk(value) -> int | None:
    """A positive 64-bit id from a form or the API, else None."""
    return user_id_of(value)


def _class_child(school_class: SchoolClass, child_id) -> Child:
    pk = _pk(child_id)
    child = (
        Child.objects.filter(pk=pk, school_class=school_class, is_active=True).first()
        if pk
        else None
    )
    if child is None:
        raise ValidationError(_("Choose a child of this class."))
    return child


def _child_check(child: Child, check_id) -> ChildCheck:
    pk = _pk(check_id)
    check = ChildCheck.objects.filter(pk=pk, child=child).first() if pk else None
    if check is None:
        raise ValidationError(_("This check is not one of the child's."))
    return check


def _alert_for_case(case_id: int) -> None:
    """The surveillance's immediate alert for a suspected notifiable disease; a failure is
    logged (the daily evaluation catches up), never raised into the report."""
    from huxiao.health.surveillance_services import alert_for_case

    try:
        case = HealthCase.objects.select_related("school", "school_class", "child").get(pk=case_id)
        alert_for_case(case)
    except Exception:  # noqa: BLE001 - the report is recorded; the alert must not undo it
        logger.exception("alert for suspected case %s failed", case_id)


def reported_recipients(case: HealthCase, now=None) -> list[int]:
    """Who hears of a new report: the duty leader(s), then the school's health staff and
    principal."""
    school_side = health_recipients([case.school_id], health_centre=False)[case.school_id]
    return list(dict.fromkeys([*sel.duty_leaders(case.school_id, now), *school_side]))


def _facts(case: HealthCase) -> dict:
    return {
        "id": case.pk,
        "school": case.school.name,
        "class": case.school_class.name,
        "symptoms": _symptom_labels(case.symptoms) or "—",
        "temperature": f"{case.temperature}°C" if case.temperature is not None else "—",
        "onset": case.onset_date.isoformat(),
        "disease": case.suspected_disease or platform_text(_("not known yet")),
    }


def _tell_reported(actor, case: HealthCase, now) -> None:
    recipients = [u for u in reported_recipients(case, now) if u != getattr(actor, "pk", None)]
    facts = {**_facts(case), "by": person_name(acting_user(actor)) or "—"}
    notify_send(
        organizations=[case.school_id],
        event_type=EVENT_REPORTED,
        title=platform_text(_("Suspected case reported: %(class)s, %(school)s"), facts),
        body=platform_text(
            _(
                "A child of %(class)s has %(symptoms)s (temperature %(temperature)s) since "
                "%(onset)s; suspected: %(disease)s. Reported by %(by)s. Duty leader: verify "
                "at once and report to the leading group (case %(id)s)."
            ),
            facts,
        ),
        payload={"case_id": case.pk, "school_id": case.school_id, "step": Step.REPORTED},
        recipients=recipients,
        dedupe_key=f"{EVENT_REPORTED}.{case.pk}",
    )


# ------------------------------------------------------------------ one step


def _locked_case(actor, case_id) -> HealthCase:
    """The case in the actor's scope (VIEW_HEALTH), locked for a change; else 404."""
    require_any(actor, Action.VIEW_HEALTH)
    case = (
        HealthCase.objects.visible_to(actor, Action.VIEW_HEALTH)
        .select_for_update()
        .filter(pk=_id(case_id))
        .first()
    )
    if case is None:
        raise Http404
    return HealthCase.objects.select_related("school", "school_class__head_teacher", "child").get(
        pk=case.pk
    )


def _require_step(actor, case: HealthCase, step: str) -> None:
    if not sel.may_step(actor, case, step):
        raise PermissionDenied(sel.refusal(step))


def _require_manage(actor, case: HealthCase) -> None:
    if not sel.may_manage(actor, case):
        raise PermissionDenied(sel.refusal(Step.OUTCOME))


def _require_order(case: HealthCase, step: str, done: dict) -> None:
    problem = sel.order_problem(case, step, done)
    if problem:
        raise CaseConflict(problem)


def _check_step(value) -> str:
    step = str(value or "")
    if step in sel.RESPONSE_STEPS:
        raise ValidationError(
            {
                "step": [
                    _(
                        "This step is recorded with the response records (disinfection, "
                        "suspension assessment, aftercare)."
                    )
                ]
            }
        )
    if step not in sel.STEP_WHO:
        raise ValidationError({"step": [_("Choose a step of the procedure.")]})
    return step


def case_step(
    *,
    actor,
    case_id,
    step,
    note: str = "",
    now: dt.datetime | None = None,
    isolation_place: str = "",
    isolated_at=None,
    standby_classroom: str = "",
    destination: str = "",
    escort: str = "",
    outcome: str = "",
    diagnosis: str = "",
    members=None,
):
    """Record one step of the case (see the module's docstring). Returns the CaseStep (the
    one already recorded when it was). Steps with several parts take their fields:
    ISOLATED `isolation_place` and `isolated_at`; CLASS_MOVED `standby_classroom`;
    TRANSFERRED `destination` and `escort`; OUTCOME `outcome` ("confirmed" or "cleared")
    and `diagnosis` (required when confirmed); GROUPS `members` (dicts of
    `case_group_member_add`'s fields) to be added before every group must have one."""
    now = now or timezone.now()
    step = _check_step(step)
    with transaction.atomic():
        case = _locked_case(actor, case_id)
        _require_step(actor, case, step)
        if step == Step.CONTACTS_TRACED:
            _contacts_record(actor, case, now=now, note=note)
            return steps_done(case)[Step.CONTACTS_TRACED]
        if step == Step.CONTACTS_NOTIFIED:
            _contacts_notify(actor, case, now=now, note=note)
            return steps_done(case)[Step.CONTACTS_NOTIFIED]
        done = steps_done(case)
        if step in done:
            return done[step]
        _require_order(case, step, done)
        note = _text(note, "note", max_length=NOTE_MAX)
        handler = _HANDLERS.get(step)
        if handler is not None:
            note = handler(
                actor,
                case,
                now=now,
                note=note,
                isolation_place=isolation_place,
                isolated_at=isolated_at,
                standby_classroom=standby_classroom,
                destination=destination,
                escort=escort,
                outcome=outcome,
                diagnosis=diagnosis,
                members=members,
            )
        return step_record(actor=actor, case=case, step=step, note=note, at=now)


def _set(actor, case: HealthCase, **values) -> None:
    before = snapshot(case)
    for name, value in values.items():
        setattr(case, name, value)
    case.save(update_fields=list(values))
    audit_update(actor=actor, obj=case, before=before, school=case.school)


def _started(actor, case, *, now, note, **_fields) -> str:
    _set(actor, case, status=CaseStatus.ACTIVE)
    _monitoring_plan(actor, case, today=timezone.localdate(now))
    return note


def _monitoring_plan(actor, case, *, today) -> None:
    """The response area's extra checks for the class. Starting the procedure must never
    wait on it: a failure is logged and the start stands."""
    from huxiao.health.response_services import monitoring_plan_for_case

    try:
        with transaction.atomic():
            monitoring_plan_for_case(actor=actor, case=case, today=today)
    except Exception:  # noqa: BLE001 - logged; the response page can add the plan by hand
        logger.exception("monitoring plan for case %s failed", case.pk)


def _groups(actor, case, *, now, note, members, **_fields) -> str:
    members = list(members or [])
    if len(members) > MEMBERS_MAX:
        raise ValidationError({"members": [_("Too many members.")]})
    for n, member in enumerate(members):
        if not isinstance(member, dict):
            raise ValidationError({"members": [_("Each member is an object.")]})
        try:
            _member_add(actor, case, **{k: member.get(k) for k in MEMBER_FIELDS})
        except ValidationError as exc:
            found = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
            raise ValidationError(
                {f"members.{n}.{name}": messages for name, messages in found.items()}
            ) from None
    missing = sel.groups_missing(case)
    if missing:
        raise ValidationError({"members": [_groups_missing_message(missing)]})
    return note


def _groups_missing_message(missing: list[str]) -> str:
    names = "、".join(str(ResponseGroupKind(kind).label) for kind in missing)
    return str(_("These groups have no member yet: %(groups)s.") % {"groups": names})


def _isolated(actor, case, *, now, note, isolation_place, isolated_at, **_fields) -> str:
    errors = v.FieldErrors()
    place = errors.run(
        "isolation_place",
        _text,
        isolation_place,
        "isolation_place",
        max_length=PLACE_MAX,
        required=True,
    )
    moment = errors.run("isolated_at", _moment, isolated_at, "isolated_at", default=now)
    if moment is not None:
        if moment > now + CLOCK_SLACK:
            errors.add("isolated_at", _("The time of isolation cannot be in the future."))
        else:
            errors.run("isolated_at", _window_fits, case.onset_date, moment, "isolated_at")
    errors.raise_if_any()
    _set(actor, case, isolated_at=moment, isolation_place=place)
    return note


def _class_moved(actor, case, *, now, note, standby_classroom, **_fields) -> str:
    room = _text(standby_classroom, "standby_classroom", max_length=PLACE_MAX, required=True)
    _set(actor, case, standby_classroom=room)
    return note


def _head_teacher(case: HealthCase):
    teacher = case.school_class.head_teacher
    return teacher if teacher is not None and teacher.is_active else None


def guardian_phones(child_ids) -> dict[int, list[str]]:
    """Valid guardian phones of each child, primary contact first, each number once."""
    phones: dict[int, list[str]] = {}
    for child_id, phone in (
        Guardian.objects.filter(child_id__in=list(child_ids))
        .order_by("child_id", "-is_primary", "id")
        .values_list("child_id", "phone")
    ):
        number = normalize_phone(phone)
        if number and number not in phones.setdefault(child_id, []):
            phones[child_id].append(number)
    return phones


def _parents_notified(actor, case, *, now, note, **_fields) -> str:
    phones = guardian_phones([case.child_id]).get(case.child_id, [])
    teacher = _head_teacher(case)
    facts = {
        "school": case.school.name,
        "child": case.child.name,
        "class": case.school_class.name,
        "teacher": teacher.name if teacher else "",
        "phone": teacher.phone if teacher and teacher.phone else "",
    }
    body = _(
        "Your child %(child)s felt unwell at school today and is being looked after in the "
        "observation room. Please contact the class (%(class)s) and come to the school as "
        "soon as you can."
    )
    if facts["teacher"] and facts["phone"]:
        body = _(
            "Your child %(child)s felt unwell at school today and is being looked after in "
            "the observation room. Please call the head teacher %(teacher)s (%(phone)s) and "
            "come to the school as soon as you can."
        )
    notify_send(
        organizations=[case.school_id],
        event_type=EVENT_PARENTS,
        title=platform_text(_("%(school)s: about your child"), facts),
        body=platform_text(body, facts),
        payload={"case_id": case.pk, "school_id": case.school_id, "step": Step.PARENTS_NOTIFIED},
        recipients=[teacher.user_id] if teacher is not None and teacher.user_id else [],
        mention_phones=phones,
        dedupe_key=f"{EVENT_PARENTS}.{case.pk}",
    )
    told = platform_text(_("SMS to %(n)s guardian phone(s)."), {"n": len(phones)})
    return f"{note} {told}".strip()[:NOTE_MAX] if note else told


def _report_facts(case: HealthCase) -> dict:
    return {**_facts(case), "isolated": platform_text(_("yes")) if case.isolated_at else "—"}


def _central_school_reported(actor, case, *, now, note, **_fields) -> str:
    office_id = case.school.education_office_id
    recipients = (
        list(
            Membership.objects.filter(
                organization_id=office_id,
                role=Role.EDUCATION_SUPERVISOR,
                is_active=True,
                user__is_active=True,
            )
            .order_by("user_id")
            .values_list("user_id", flat=True)
            .distinct()
        )
        if office_id
        else []
    )
    _report_up(case, EVENT_CENTRAL_SCHOOL, office_id, recipients)
    return note


def _health_centre_reported(actor, case, *, now, note, **_fields) -> str:
    recipients = health_recipients([case.school_id], school_roles=())[case.school_id]
    _report_up(case, EVENT_HEALTH_CENTRE, case.school.health_centre_id, recipients)
    return note


def _report_up(case: HealthCase, event: str, office_id, recipients: list[int]) -> None:
    facts = _report_facts(case)
    notify_send(
        organizations=[office_id or case.school_id],
        event_type=event,
        title=platform_text(_("Suspected case at %(school)s (%(class)s)"), facts),
        body=platform_text(
            _(
                "A child of %(class)s at %(school)s has %(symptoms)s (temperature "
                "%(temperature)s) since %(onset)s; suspected: %(disease)s. The school has "
                "started its emergency procedure (case %(id)s)."
            ),
            facts,
        ),
        payload={"case_id": case.pk, "school_id": case.school_id},
        recipients=recipients,
        dedupe_key=f"{event}.{case.pk}",
    )


def _transferred(actor, case, *, now, note, destination, escort, **_fields) -> str:
    errors = v.FieldErrors()
    where = errors.run(
        "destination", _text, destination, "destination", max_length=PLACE_MAX, required=True
    )
    who = errors.run("escort", _text, escort, "escort", max_length=50, required=True)
    errors.raise_if_any()
    text = platform_text(_("Taken to %(where)s by %(who)s."), {"where": where, "who": who})
    return f"{text} {note}".strip()[:NOTE_MAX]


def _outcome(actor, case, *, now, note, outcome, diagnosis, **_fields) -> str:
    errors = v.FieldErrors()
    if outcome not in OUTCOMES:
        errors.add("outcome", _("Choose confirmed or cleared."))
    diagnosis = errors.run("diagnosis", _text, diagnosis, "diagnosis", max_length=200)
    if outcome == CaseStatus.CONFIRMED and "diagnosis" not in errors.errors and not diagnosis:
        errors.add("diagnosis", _("Enter the diagnosis of a confirmed case."))
    errors.raise_if_any()
    _set(actor, case, status=outcome, diagnosis=diagnosis or case.diagnosis)
    facts = {
        **_facts(case),
        "outcome": platform_text(CaseStatus(outcome).label),
        "diagnosis": diagnosis or "—",
    }
    recipients = list(
        dict.fromkeys(
            [
                *sel.duty_leaders(case.school_id, now),
                *health_recipients([case.school_id])[case.school_id],
            ]
        )
    )
    notify_send(
        organizations=[case.school_id],
        event_type=EVENT_OUTCOME,
        title=platform_text(_("Suspected case %(id)s: %(outcome)s"), facts),
        body=platform_text(
            _("The suspected case of %(class)s, %(school)s: %(outcome)s (%(diagnosis)s)."), facts
        ),
        payload={"case_id": case.pk, "school_id": case.school_id, "outcome": outcome},
        recipients=recipients,
        dedupe_key=f"{EVENT_OUTCOME}.{case.pk}",
    )
    return note


def _just_note(actor, case, *, note, **_fields) -> str:
    return note


_HANDLERS = {
    Step.VERIFIED: _just_note,
    Step.STARTED: _started,
    Step.GROUPS: _groups,
    Step.ISOLATED: _isolated,
    Step.CLASS_MOVED: _class_moved,
    Step.PARENTS_NOTIFIED: _parents_notified,
    Step.CENTRAL_SCHOOL_REPORTED: _central_school_reported,
    Step.HEALTH_CENTRE_REPORTED: _health_centre_reported,
    Step.TRANSFERRED: _transferred,
    Step.OUTCOME: _outcome,
}


# ------------------------------------------------------------------ response groups

MEMBER_FIELDS = ("group", "user_id", "name", "phone", "is_leader")


def case_group_member_add(
    *,
    actor,
    case_id,
    group,
    user_id=None,
    name: str = "",
    phone: str = "",
    is_leader: bool = False,
    now: dt.datetime | None = None,
) -> CaseGroupMember:
    """Put someone in a response group: a login of the school (`user_id`; name and phone
    from their records unless given) or a person typed by name (and phone). A new leader
    of a group takes over from the previous one. The step GROUPS is recorded once every
    group has a member."""
    now = now or timezone.now()
    with transaction.atomic():
        case = _locked_case(actor, case_id)
        _require_step(actor, case, Step.GROUPS)
        done = steps_done(case)
        _require_order(case, Step.GROUPS, done)
        member = _member_add(
            actor, case, group=group, user_id=user_id, name=name, phone=phone, is_leader=is_leader
        )
        if Step.GROUPS not in done and not sel.groups_missing(case):
            step_record(actor=actor, case=case, step=Step.GROUPS, at=now)
    return member


def _member_add(actor, case, *, group, user_id=None, name="", phone="", is_leader=False):
    errors = v.FieldErrors()
    if group not in ResponseGroupKind.values:
        errors.add("group", _("Choose one of the six groups."))
    user = None
    if user_id not in (None, ""):
        pk = user_id_of(user_id)
        if pk is None or not is_member(pk, case.school_id):
            errors.add("user_id", _("Choose a member of the school's staff."))
        else:
            from django.contrib.auth import get_user_model

            user = get_user_model().objects.get(pk=pk)
    typed = errors.run("name", _text, name, "name", max_length=50)
    phone = errors.run("phone", _member_phone, phone)
    if user is None and not typed and "user_id" not in errors.errors:
        errors.add("name", _("Choose a member of staff or type a name."))
    errors.raise_if_any()
    if user is not None:
        typed = typed or person_name(user)
        if not phone:
            from huxiao.people.models import Staff

            phone = (
                Staff.objects.filter(school_id=case.school_id, user=user, is_active=True)
                .exclude(phone="")
                .values_list("phone", flat=True)
                .first()
                or ""
            )
    if CaseGroupMember.objects.filter(
        case=case,
        group=group,
        **({"user": user} if user else {"user__isnull": True, "name": typed}),
    ).exists():
        raise ValidationError({"name": [_("%(name)s is already in this group.") % {"name": typed}]})
    if is_leader:
        for previous in CaseGroupMember.objects.filter(case=case, group=group, is_leader=True):
            before = snapshot(previous)
            previous.is_leader = False
            previous.save(update_fields=["is_leader"])
            audit_update(actor=actor, obj=previous, before=before, school=case.school)
    member = CaseGroupMember.objects.create(
        case=case, group=group, user=user, name=typed, phone=phone[:20], is_leader=bool(is_leader)
    )
    audit_create(actor=actor, obj=member, school=case.school)
    return member


def _member_phone(value) -> str:
    return v.clean_phone(value, required=False)


def case_group_member_remove(*, actor, case_id, member_id) -> None:
    """Take someone out of a response group (the step stays recorded)."""
    with transaction.atomic():
        case = _locked_case(actor, case_id)
        _require_step(actor, case, Step.GROUPS)
        if case.status == CaseStatus.CLOSED:
            raise CaseConflict(_("This case is closed."))
        pk = user_id_of(member_id)
        member = CaseGroupMember.objects.filter(pk=pk, case=case).first() if pk else None
        if member is None:
            raise Http404
        audit_delete(actor=actor, obj=member, school=case.school)
        member.delete()


# ------------------------------------------------------------------ contacts


def case_contacts_record(*, actor, case_id, note: str = "", now=None) -> int:
    """Keep the contact list as traced now (`CaseContact` rows with their reasons; a
    contact found earlier stays) and record CONTACTS_TRACED. Returns the number of
    contacts."""
    now = now or timezone.now()
    with transaction.atomic():
        case = _locked_case(actor, case_id)
        _require_step(actor, case, Step.CONTACTS_TRACED)
        return _contacts_record(actor, case, now=now, note=note)


def _reasons_json(contact) -> list[dict]:
    return [
        {"reason": r.reason, "dates": [d.isoformat() for d in r.dates], "detail": r.detail}
        for r in contact.reasons
    ]


def _contacts_record(actor, case, *, now, note="") -> int:
    _require_order(case, Step.CONTACTS_TRACED, steps_done(case))
    note = _text(note, "note", max_length=NOTE_MAX)
    contacts = case_contacts(case, today=timezone.localdate(now))
    existing = {(row.child_id, row.staff_id): row for row in CaseContact.objects.filter(case=case)}
    new = []
    for contact in contacts:
        key = (contact.id, None) if contact.kind == "child" else (None, contact.id)
        reasons = _reasons_json(contact)
        row = existing.get(key)
        if row is None:
            new.append(
                CaseContact(
                    case=case,
                    child_id=key[0],
                    staff_id=key[1],
                    reasons=reasons,
                )
            )
        elif row.reasons != reasons:
            before = snapshot(row)
            row.reasons = reasons
            row.save(update_fields=["reasons"])
            audit_update(actor=actor, obj=row, before=before, school=case.school)
    if new:
        created = CaseContact.objects.bulk_create(new)
        if any(row.pk is None for row in created):  # a backend that returns no ids
            known = [r.pk for r in existing.values()]
            created = list(CaseContact.objects.filter(case=case).exclude(pk__in=known))
        audit_bulk_create(actor=actor, objs=created, school=case.school)
    count = CaseContact.objects.filter(case=case).count()
    if Step.CONTACTS_TRACED not in steps_done(case):
        told = platform_text(_("%(n)s close contacts."), {"n": count})
        step_record(
            actor=actor,
            case=case,
            step=Step.CONTACTS_TRACED,
            note=f"{told} {note}".strip(),
            at=now,
        )
    return count


class NotifyResult:
    def __init__(self, children=0, staff=0, phones=0, unreachable=0):
        self.children = children
        self.staff = staff
        self.phones = phones
        self.unreachable = unreachable

    @property
    def notified(self) -> int:
        return self.children + self.staff


def case_contacts_notify(*, actor, case_id, note: str = "", now=None) -> NotifyResult:
    """Tell every contact not told yet, in one action: an SMS to each child contact's
    guardians, an inbox message to staff contacts with a login (an SMS to those without
    one). The list is traced first. A contact nobody can reach stays "not told" (the page
    says whom to call); a second action tells only those not told yet."""
    now = now or timezone.now()
    with transaction.atomic():
        case = _locked_case(actor, case_id)
        _require_step(actor, case, Step.CONTACTS_NOTIFIED)
        return _contacts_notify(actor, case, now=now, note=note)


def _contacts_notify(actor, case, *, now, note="") -> NotifyResult:
    _require_order(case, Step.CONTACTS_NOTIFIED, steps_done(case))
    note = _text(note, "note", max_length=NOTE_MAX)
    _contacts_record(actor, case, now=now)
    pending = list(
        CaseContact.objects.filter(case=case, notified_at__isnull=True).select_related("staff")
    )
    phones_of = guardian_phones([row.child_id for row in pending if row.child_id])
    reached: list[CaseContact] = []
    sms: list[str] = []
    staff_users: list[int] = []
    staff_phones: list[str] = []
    result = NotifyResult()
    for row in pending:
        if row.child_id:
            numbers = phones_of.get(row.child_id, [])
            if numbers:
                sms += numbers
                reached.append(row)
                result.children += 1
            else:
                result.unreachable += 1
            continue
        staff = row.staff
        phone = normalize_phone(staff.phone) if staff.phone else None
        if staff.user_id and staff.user.is_active:
            staff_users.append(staff.user_id)
        elif phone:
            staff_phones.append(phone)
        else:
            result.unreachable += 1
            continue
        reached.append(row)
        result.staff += 1
    sms = list(dict.fromkeys(sms))
    result.phones = len(sms) + len(staff_phones)
    facts = {"school": case.school.name, "class": case.school_class.name}
    batch = hashlib.sha256(",".join(str(r.pk) for r in reached).encode()).hexdigest()[:16]
    if sms:
        notify_send(
            organizations=[case.school_id],
            event_type=EVENT_CONTACTS,
            title=platform_text(_("%(school)s: health notice for your child"), facts),
            body=platform_text(
                _(
                    "Your child was recently in close contact at school with a child who is "
                    "suspected to be ill. Please take your child's temperature morning and "
                    "evening and watch for fever, cough, rash, vomiting or diarrhoea; if your "
                    "child feels unwell, see a doctor and tell the school. Only official "
                    "statements are to be relied on."
                ),
                facts,
            ),
            payload={"case_id": case.pk, "school_id": case.school_id, "kind": "guardians"},
            mention_phones=sms,
            dedupe_key=f"{EVENT_CONTACTS}.{case.pk}.guardians.{batch}",
        )
    if staff_users or staff_phones:
        notify_send(
            organizations=[case.school_id],
            event_type=EVENT_CONTACTS,
            title=platform_text(_("%(school)s: you are a close contact (%(class)s)"), facts),
            body=platform_text(
                _(
                    "A child of %(class)s is suspected to be ill and you were in close contact. "
                    "Take your temperature twice a day, watch for symptoms and tell the school's "
                    "health staff if you feel unwell. Do not talk to the media or post about it."
                ),
                facts,
            ),
            payload={"case_id": case.pk, "school_id": case.school_id, "kind": "staff"},
            recipients=staff_users,
            mention_phones=staff_phones,
            dedupe_key=f"{EVENT_CONTACTS}.{case.pk}.staff.{batch}",
        )
    if reached:
        ids = [row.pk for row in reached]
        CaseContact.objects.filter(pk__in=ids).update(
            notified_at=now, notified_by=acting_user(actor)
        )
        audit_bulk_update(
            actor=actor,
            model=CaseContact,
            objects=[(row.pk, str(row), case.school_id) for row in reached],
            fields={
                "notified_at": now.isoformat(),
                "notified_by": getattr(acting_user(actor), "pk", None),
            },
            at=now,
        )
    if Step.CONTACTS_NOTIFIED not in steps_done(case):
        told = platform_text(
            _("%(n)s contacts told, %(m)s to call."),
            {"n": result.notified, "m": result.unreachable},
        )
        step_record(
            actor=actor,
            case=case,
            step=Step.CONTACTS_NOTIFIED,
            note=f"{told} {note}".strip(),
            at=now,
        )
    return result


# ------------------------------------------------------------------ window and closing


def case_window_set(*, actor, case_id, onset_date, contact_window_days, now=None) -> HealthCase:
    """Correct the onset or the days traced before it (0–14); the onset cannot be after the
    isolation."""
    now = now or timezone.now()
    with transaction.atomic():
        case = _locked_case(actor, case_id)
        _require_manage(actor, case)
        if case.status == CaseStatus.CLOSED:
            raise CaseConflict(_("This case is closed."))
        errors = v.FieldErrors()
        onset = errors.run("onset_date", _onset, onset_date, timezone.localdate(now))
        window = errors.run("contact_window_days", _window_days, contact_window_days)
        if onset is not None:
            errors.run("onset_date", _window_fits, onset, case.isolated_at, "onset_date")
        errors.raise_if_any()
        if (onset, window) != (case.onset_date, case.contact_window_days):
            moved = onset != case.onset_date
            _set(actor, case, onset_date=onset, contact_window_days=window)
            if moved:
                # The case's symptoms move to the new onset on the line list: like every
                # writer of it, ask for the school's evaluation once committed.
                symptom_events_replace(
                    source=SymptomSource.CASE,
                    school_id=case.school_id,
                    class_id=case.school_class_id,
                    child_id=case.child_id,
                    date=onset,
                    symptoms=list(case.symptoms or []),
                    case=case,
                )
                cluster_check_on_commit(case.school_id)
    return case


def case_close(*, actor, case_id, note: str = "", now=None) -> HealthCase:
    """Close a case whose outcome is recorded (closed_at now). Closing twice changes
    nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        case = _locked_case(actor, case_id)
        _require_manage(actor, case)
        if case.status == CaseStatus.CLOSED:
            return case
        if Step.OUTCOME not in steps_done(case):
            raise CaseConflict(
                _("Record the outcome (confirmed or cleared) before closing the case.")
            )
        note = _text(note, "note", max_length=CASE_NOTE_MAX)
        values = {"status": CaseStatus.CLOSED, "closed_at": now}
        if note:
            values["note"] = f"{case.note}\n{note}".strip()[:CASE_NOTE_MAX]
        _set(actor, case, **values)
    return case
