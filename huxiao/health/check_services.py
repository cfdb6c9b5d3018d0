"""Writes of checks, attendance, absences, illness follow-ups, dining seats, dormitory rooms
and class staff (issue 9 items 2–3; §3 3; ADR "Health checks and attendance").

- `health_check_record`: one class's morning/noon/extra check of a day. Every active child
  of the class not recorded absent that day is checked; those not listed in `results` are
  well. A second save edits the same check (unique class/date/session) and its results.
  Unwell = any symptom or an action other than "stays in class"; fever is added from
  37.3 °C. Each unwell child's symptoms go to the line list (`symptom_events_replace`),
  the cluster rules run after commit, and when a child is sent to the observation room,
  home or to a doctor the school's health staff and principal are told (one message per
  save, deduplicated by check and number of children sent away).
- `attendance_record`: one class's attendance of a day: the absent children with their
  cause (edit replaces). Illness absences belong to the child's open `IllnessFollowUp`
  (opened with the first, reused after); their symptoms go to the line list. A child
  recorded absent loses a "well" result of that day's checks (they were not checked).
- `absence_cause_establish`: an absence of unknown cause chased (cause, who, when).
- `illness_follow_up_close`: the child returned (date and return note).
- `dining_seats_record` / `dining_seats_copy`, `dorm_assign`, `class_staff_add` /
  `class_staff_remove`: who sat, slept and worked with whom (contact tracing reads them).
- `absences_unknown_remind` (periodic, 15:00): the class reporter is told of the day's
  absences whose cause is still unknown.

Order of checks: no health role anywhere 403; the school, class or record out of scope 404;
the role at that school 403; the input (ValidationError by field, in the user's language;
nothing written). Every write is audited in its transaction.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _

from huxiao.audit.services import (
    audit_bulk_create,
    audit_create,
    audit_delete,
    audit_update,
    snapshot,
)
from huxiao.core.permissions import require
from huxiao.core.roles import Action, Role
from huxiao.core.scoping import can
from huxiao.duty.duty_selectors import _id, check_date
from huxiao.health import check_selectors as sel
from huxiao.health.choices import AbsenceCause, CheckAction, CheckSession, Symptom
from huxiao.health.models import (
    Absence,
    AttendanceDay,
    ChildCheck,
    ClassStaff,
    DiningSeat,
    DormAssignment,
    HealthCheck,
    IllnessFollowUp,
    SymptomEvent,
)
from huxiao.health.recipients import health_recipients
from huxiao.health.symptoms import (
    clean_symptoms,
    clean_temperature,
    cluster_check_on_commit,
    symptom_events_replace,
    with_fever,
)
from huxiao.notify.services import notify_send
from huxiao.people.models import Child, SchoolClass, Staff
from huxiao.people.validation import reject_control_characters

CHECK_EVENT = "health.check_sent_away"
UNKNOWN_ABSENCE_EVENT = "health.absence_unknown"
RESULTS_MAX = 300
NOTE_MAX = 300
SYMPTOM_NOTE_MAX = 200
DIAGNOSIS_MAX = 100
CHECKPOINT_MAX = 50
TABLE_MAX = 30
ROOM_MAX = 30
DUTY_MAX = 50
# A device clock a little ahead of the server's is still "now".
CLOCK_SLACK = dt.timedelta(minutes=5)


# ------------------------------------------------------------------ small helpers


def _platform(template, params: dict | None = None) -> str:
    """A sentence sent to people, in the platform's language whoever acted."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(template) % params if params else str(template)


def _pk(value) -> int | None:
    try:
        return _id(value)
    except Http404:
        return None


def _today(now: dt.datetime) -> dt.date:
    return timezone.localdate(now)


def _day(value, *, today: dt.date, field: str = "date", future_message=None) -> dt.date:
    """A past or present local date from a date or an ISO string; a field error otherwise."""
    day = value
    if isinstance(value, str):
        try:
            day = parse_date(value.strip())
        except ValueError:
            day = None
    if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
        raise ValidationError({field: [_("Enter a valid date.")]})
    check_date(day, field)
    if day > today:
        raise ValidationError(
            {field: [future_message or _("This day has not come yet: choose today or earlier.")]}
        )
    return day


def _text(value, *, field: str, limit: int, required: bool = False, label=None) -> str:
    text = "" if value is None else str(value).strip()
    try:
        # PostgreSQL refuses a NUL in text: a control character is a field error, not a 500.
        reject_control_characters(text)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from None
    if len(text) > limit:
        raise ValidationError(
            {field: [_("At most %(limit)s characters, please.") % {"limit": limit}]}
        )
    if required and not text:
        raise ValidationError({field: [label or _("This field is required.")]})
    return text


def _moment(value, *, field: str, day: dt.date, now: dt.datetime) -> dt.datetime | None:
    """The time a child was checked: None when not given; an aware datetime on `day` and
    not after now (a device clock a few minutes ahead is allowed)."""
    if value in (None, ""):
        return None
    moment = value
    if isinstance(value, str):
        try:
            moment = parse_datetime(value.strip())
        except ValueError:
            moment = None
    if not isinstance(moment, dt.datetime):
        raise ValidationError({field: [_("Enter a valid time.")]})
    off_the_day = ValidationError(
        {field: [_("The time of the check must be on the day of the check.")]}
    )
    try:
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        local_day = timezone.localdate(moment)
    except (OverflowError, ValueError):  # year 1 or 9999 in another time zone
        raise off_the_day from None
    if local_day != day or moment > now + CLOCK_SLACK:
        raise off_the_day
    # A time a little ahead of the server's is kept just before "now": exactly "now" on a
    # first save is the mark of a child not ticked (`_default_checked_at`).
    return moment if moment < now else now - dt.timedelta(microseconds=1)


def _errors_of(exc: ValidationError) -> dict[str, list[str]]:
    return {key: [str(m) for m in msgs] for key, msgs in exc.message_dict.items()}


def _named(name: str, messages: list[str]) -> list[str]:
    return [_("%(name)s: %(error)s") % {"name": name, "error": m} for m in messages]


def _class_to_record(actor, class_id) -> SchoolClass:
    """The class, if the actor takes health records at its school (403 / 404)."""
    sel.require_health(actor)
    school_class = sel.class_get(actor=actor, class_id=class_id)
    require(actor, Action.RECORD_HEALTH, school_class.school_id)
    return school_class


def _school_to_record(actor, school_id):
    sel.require_health(actor)
    school = sel.school_get(actor=actor, school_id=school_id)
    require(actor, Action.RECORD_HEALTH, school.pk)
    return school


def _stranger_names(ids, school_id: int) -> dict[int, str]:
    """Names of children of the same school (never of another school's)."""
    ids = [i for i in ids if isinstance(i, int) and _pk(i) is not None]
    if not ids:
        return {}
    return dict(Child.objects.filter(pk__in=ids, school_id=school_id).values_list("pk", "name"))


def _not_in_class(errors: dict, wrong: dict[str, object], school_id: int) -> None:
    """`wrong`: error key prefix → the child id as given. The message names the child when
    they are of the same school, else repeats the id given."""
    names = _stranger_names(list(wrong.values()), school_id)
    for key, child_id in wrong.items():
        name = names.get(child_id) or (_("Child %(id)s") % {"id": child_id})
        errors[f"{key}.child_id"] = [
            _("%(name)s is not an enrolled child of this class.") % {"name": name}
        ]


# ------------------------------------------------------------------ the check


def _clean_result(item, *, key: str, name: str, day, now, errors: dict) -> dict | None:
    """One child's result, cleaned; field errors (naming the child) go to `errors`."""
    out: dict = {}
    found: dict[str, list[str]] = {}
    try:
        out["temperature"] = clean_temperature(item.get("temperature"), field="temperature")
    except ValidationError as exc:
        found.update(_errors_of(exc))
    try:
        symptoms = clean_symptoms(item.get("symptoms"), field="symptoms")
    except ValidationError as exc:
        found.update(_errors_of(exc))
        symptoms = []
    try:
        note = _text(item.get("symptom_note"), field="symptom_note", limit=SYMPTOM_NOTE_MAX)
        if note and Symptom.OTHER not in symptoms:
            symptoms = clean_symptoms([*symptoms, Symptom.OTHER])
        if Symptom.OTHER in symptoms and not note:
            raise ValidationError({"symptom_note": [_("Describe the other symptom.")]})
        out["symptom_note"] = note
    except ValidationError as exc:
        found.update(_errors_of(exc))
    action = item.get("action") or CheckAction.NONE
    if action not in CheckAction.values:
        found["action"] = [_("Choose what was done for the child.")]
    out["action"] = action
    try:
        out["note"] = _text(item.get("note"), field="note", limit=NOTE_MAX)
    except ValidationError as exc:
        found.update(_errors_of(exc))
    try:
        out["checked_at"] = _moment(item.get("checked_at"), field="checked_at", day=day, now=now)
    except ValidationError as exc:
        found.update(_errors_of(exc))
    if found:
        for field_name, messages in found.items():
            errors[f"{key}.{field_name}"] = _named(name, messages)
        return None
    out["symptoms"] = with_fever(symptoms, out["temperature"])
    out["is_well"] = not out["symptoms"] and out["action"] == CheckAction.NONE
    return out


WELL = {
    "temperature": None,
    "symptoms": [],
    "symptom_note": "",
    "action": CheckAction.NONE,
    "note": "",
    "checked_at": None,
    "is_well": True,
}
RESULT_FIELDS = (
    "checkpoint",
    "checked_at",
    "temperature",
    "symptoms",
    "symptom_note",
    "is_well",
    "action",
    "note",
)


def _default_checked_at(day: dt.date, now: dt.datetime) -> dt.datetime:
    """A child's time when none was ticked: the time of the check's first save; for a day
    gone by, the end of that day's school morning would be a guess, so that save's clock
    time on that day. Every untimed result of a check carries this one value (children
    added by a later save too), so that contact tracing can tell it from a tick
    (`contacts._ticked`) and never makes a queue of untimed children."""
    if day == _today(now):
        return now
    local = timezone.localtime(now)
    return timezone.make_aware(dt.datetime.combine(day, local.time().replace(microsecond=0)))


def health_check_record(
    *,
    actor,
    school_class_id,
    date,
    session,
    checkpoint="",
    results=None,
    now: dt.datetime | None = None,
) -> HealthCheck:
    """Record (or edit) the class's check of `session` on `date`. `results`: the children
    with something to record — dicts of child_id, temperature, symptoms, symptom_note,
    action, note, checked_at (each optional but child_id); the others are well."""
    now = now or timezone.now()
    school_class = _class_to_record(actor, school_class_id)
    day = _day(
        date,
        today=_today(now),
        future_message=_("A check cannot be recorded for a day that has not come yet."),
    )
    if session not in CheckSession.values:
        raise ValidationError({"session": [_("Choose the morning, noon or an extra check.")]})
    checkpoint = _text(checkpoint, field="checkpoint", limit=CHECKPOINT_MAX)
    if results is None:
        results = []
    if not isinstance(results, list | tuple) or len(results) > RESULTS_MAX:
        raise ValidationError({"results": [_("Send at most one result per child.")]})

    with transaction.atomic():
        children = {c.pk: c for c in sel.active_children(school_class.pk)}
        absent = set(
            Absence.objects.filter(school_class_id=school_class.pk, date=day).values_list(
                "child_id", flat=True
            )
        )
        cleaned, errors, wrong = {}, {}, {}
        for index, item in enumerate(results):
            if not isinstance(item, dict):
                errors[f"results.{index}"] = [_("Each result names a child.")]
                continue
            child_id = _pk(item.get("child_id"))
            key = f"results.{child_id if child_id is not None else index}"
            if child_id is None or child_id not in children:
                wrong[key] = child_id if child_id is not None else item.get("child_id")
                continue
            name = children[child_id].name
            if child_id in cleaned:
                errors[f"{key}.child_id"] = [_("%(name)s is listed twice.") % {"name": name}]
                continue
            if child_id in absent:
                errors[f"{key}.child_id"] = [
                    _("%(name)s is recorded absent on this day: change the attendance first.")
                    % {"name": name}
                ]
                continue
            result = _clean_result(item, key=key, name=name, day=day, now=now, errors=errors)
            if result is not None:
                cleaned[child_id] = result
        if wrong:
            _not_in_class(errors, wrong, school_class.school_id)
        if errors:
            raise ValidationError(errors)
        return _check_write(
            actor=actor,
            school_class=school_class,
            day=day,
            session=session,
            checkpoint=checkpoint,
            children=children,
            absent=absent,
            cleaned=cleaned,
            now=now,
        )


def _check_row(*, school_class, day, session, checkpoint, actor, now):
    lookup = {"school_class_id": school_class.pk, "date": day, "session": session}
    check = HealthCheck.objects.select_for_update().filter(**lookup).first()
    if check is not None:
        return check, False
    try:
        with transaction.atomic():
            check = HealthCheck.objects.create(
                school_id=school_class.school_id,
                checkpoint=checkpoint,
                recorded_by=actor if getattr(actor, "pk", None) else None,
                recorded_at=now,
                **lookup,
            )
            return check, True
    except IntegrityError:
        # Another save of the same check got there first: edit it.
        return HealthCheck.objects.select_for_update().get(**lookup), False


def _check_write(
    *, actor, school_class, day, session, checkpoint, children, absent, cleaned, now
) -> HealthCheck:
    check, created = _check_row(
        school_class=school_class,
        day=day,
        session=session,
        checkpoint=checkpoint,
        actor=actor,
        now=now,
    )
    before = None if created else snapshot(check)
    existing = {r.child_id: r for r in ChildCheck.objects.filter(health_check=check)}
    # The first save's time, also for a child first listed by a later save (a new
    # enrolment, an absence taken back): an untimed result is never "ticked" at the edit.
    default_at = _default_checked_at(day, check.recorded_at)
    new_rows, changed, previous = [], [], {}
    for child_id in children:
        if child_id in absent:
            continue
        values = dict(cleaned.get(child_id, WELL))
        row = existing.get(child_id)
        values["checked_at"] = values["checked_at"] or (row.checked_at if row else default_at)
        values["checkpoint"] = checkpoint
        if row is None:
            new_rows.append(
                ChildCheck(
                    health_check=check,
                    school_id=school_class.school_id,
                    child_id=child_id,
                    date=day,
                    **values,
                )
            )
            continue
        if any(getattr(row, name) != values[name] for name in RESULT_FIELDS):
            previous[child_id] = (snapshot(row), list(row.symptoms))
            for name in RESULT_FIELDS:
                setattr(row, name, values[name])
            changed.append(row)
    ChildCheck.objects.bulk_create(new_rows)
    if changed:
        ChildCheck.objects.bulk_update(changed, list(RESULT_FIELDS))
    audit_bulk_create(actor=actor, objs=new_rows, school=school_class.school_id)
    for row in changed:
        audit_update(
            actor=actor, obj=row, before=previous[row.child_id][0], school=school_class.school_id
        )

    # The line list: each child whose symptoms changed says exactly its symptoms.
    lines_changed = False
    now_well = []
    for row in [*new_rows, *changed]:
        old_symptoms = previous[row.child_id][1] if row.child_id in previous else []
        if row.symptoms == old_symptoms:
            continue
        if row.symptoms:
            symptom_events_replace(
                source="check",
                school_id=school_class.school_id,
                class_id=school_class.pk,
                child_id=row.child_id,
                date=day,
                symptoms=row.symptoms,
                child_check=row,
            )
            lines_changed = True
        else:
            now_well.append(row.pk)
    if now_well:
        SymptomEvent.objects.filter(child_check_id__in=now_well).delete()
        lines_changed = True

    final = {**existing, **{r.child_id: r for r in new_rows}}
    check.checkpoint = checkpoint
    check.expected = len(children)
    check.checked = len(final)
    check.unwell = sum(1 for r in final.values() if not r.is_well)
    check.save()
    if created:
        audit_create(actor=actor, obj=check, school=school_class.school_id)
    else:
        audit_update(actor=actor, obj=check, before=before, school=school_class.school_id)
    if lines_changed:
        cluster_check_on_commit(school_class.school_id)
    sent_away = sorted(
        (r for r in final.values() if r.action in sel.SENT_AWAY),
        key=lambda r: (r.checked_at, r.pk),
    )
    if sent_away:
        _tell_sent_away(check, school_class, sent_away)
    return check


def _tell_sent_away(check, school_class, rows) -> None:
    """The school's health staff and principal hear of children sent to the observation
    room, home or a doctor: one message per save, not repeated for the same number. Like
    every health message it names no child (it also goes out through the school's
    channels: robot groups, e-mail, webhooks); the names are on the check page it links."""
    school_id = school_class.school_id
    with translation.override(settings.LANGUAGE_CODE):
        lines = []
        for n, r in enumerate(rows, start=1):
            parts = [str(n)]
            if r.temperature is not None:
                parts.append(f"{r.temperature} °C")
            if r.symptoms:
                parts.append("、".join(str(Symptom(s).label) for s in r.symptoms))
            parts.append(str(CheckAction(r.action).label))
            lines.append(" · ".join(parts))
        lines.append(str(_("Names are on the class's check page.")))
        title = _platform(
            _("%(class)s, %(check)s of %(date)s: %(n)s child(ren) sent away from class"),
            {
                "class": school_class.name,
                "check": str(check.get_session_display()),
                "date": check.date.isoformat(),
                "n": len(rows),
            },
        )
    url = reverse("health:check_entry", args=[school_class.pk, check.session])
    notify_send(
        organizations=[school_id],
        event_type=CHECK_EVENT,
        title=title,
        body="\n".join(lines),
        payload={
            "url": f"{url}?date={check.date.isoformat()}",
            "check_id": check.pk,
            "school_id": school_id,
            "class_id": school_class.pk,
            "date": check.date.isoformat(),
            "session": check.session,
            "children": [r.child_id for r in rows],
        },
        recipients=health_recipients([school_id], health_centre=False)[school_id],
        dedupe_key=f"{CHECK_EVENT}:{check.pk}:{len(rows)}",
    )


# ------------------------------------------------------------------ attendance


def _clean_cause(item: dict, *, errors: dict, key: str, name: str, known_only=False) -> dict:
    found: dict[str, list[str]] = {}
    cause = item.get("cause") or ""
    allowed = [AbsenceCause.ILLNESS, AbsenceCause.PERSONAL] if known_only else AbsenceCause.values
    if cause not in allowed:
        found["cause"] = [
            _("Choose the cause found: illness or personal reasons.")
            if known_only
            else _("Choose the cause: illness, personal reasons or unknown.")
        ]
    try:
        symptoms = clean_symptoms(item.get("symptoms"), field="symptoms")
    except ValidationError as exc:
        found.update(_errors_of(exc))
        symptoms = []
    diagnosis = note = ""
    try:
        diagnosis = _text(item.get("diagnosis"), field="diagnosis", limit=DIAGNOSIS_MAX)
    except ValidationError as exc:
        found.update(_errors_of(exc))
    try:
        note = _text(item.get("note"), field="note", limit=NOTE_MAX)
    except ValidationError as exc:
        found.update(_errors_of(exc))
    if cause == AbsenceCause.ILLNESS and not symptoms and not diagnosis and "cause" not in found:
        found["symptoms"] = [_("For an illness, give the symptoms or the diagnosis.")]
    if cause in (AbsenceCause.PERSONAL, AbsenceCause.UNKNOWN) and (symptoms or diagnosis):
        found["symptoms"] = [_("Symptoms and a diagnosis are recorded for illness absences only.")]
    for field_name, messages in found.items():
        errors[f"{key}.{field_name}" if key else field_name] = (
            _named(name, messages) if key else messages
        )
    return {"cause": cause, "symptoms": symptoms, "diagnosis": diagnosis, "note": note}


def attendance_record(
    *, actor, school_class_id, date, absences=None, now: dt.datetime | None = None
) -> AttendanceDay:
    """Take (or retake) the class's attendance of `date`: `absences` lists the absent
    children (dicts of child_id, cause, symptoms, diagnosis, note); everyone else is
    present. Absences no longer listed are removed."""
    now = now or timezone.now()
    school_class = _class_to_record(actor, school_class_id)
    day = _day(
        date,
        today=_today(now),
        future_message=_("Attendance cannot be taken for a day that has not come yet."),
    )
    if absences is None:
        absences = []
    if not isinstance(absences, list | tuple) or len(absences) > RESULTS_MAX:
        raise ValidationError({"absences": [_("Send at most one absence per child.")]})
    with transaction.atomic():
        children = {c.pk: c for c in sel.active_children(school_class.pk)}
        cleaned, errors, wrong = {}, {}, {}
        for index, item in enumerate(absences):
            if not isinstance(item, dict):
                errors[f"absences.{index}"] = [_("Each absence names a child.")]
                continue
            child_id = _pk(item.get("child_id"))
            key = f"absences.{child_id if child_id is not None else index}"
            if child_id is None or child_id not in children:
                wrong[key] = child_id if child_id is not None else item.get("child_id")
                continue
            name = children[child_id].name
            if child_id in cleaned:
                errors[f"{key}.child_id"] = [_("%(name)s is listed twice.") % {"name": name}]
                continue
            cleaned[child_id] = _clean_cause(item, errors=errors, key=key, name=name)
        if wrong:
            _not_in_class(errors, wrong, school_class.school_id)
        if errors:
            raise ValidationError(errors)
        return _attendance_write(
            actor=actor,
            school_class=school_class,
            day=day,
            children=children,
            cleaned=cleaned,
            now=now,
        )


def _attendance_write(*, actor, school_class, day, children, cleaned, now) -> AttendanceDay:
    school_id = school_class.school_id
    who = actor if getattr(actor, "pk", None) else None
    record = (
        AttendanceDay.objects.select_for_update()
        .filter(school_class_id=school_class.pk, date=day)
        .first()
    )
    created = record is None
    if created:
        try:
            with transaction.atomic():
                record = AttendanceDay.objects.create(
                    school_id=school_id,
                    school_class_id=school_class.pk,
                    date=day,
                    recorded_by=who,
                    recorded_at=now,
                )
        except IntegrityError:
            record = AttendanceDay.objects.select_for_update().get(
                school_class_id=school_class.pk, date=day
            )
            created = False
    before = None if created else snapshot(record)
    existing = {
        a.child_id: a
        for a in Absence.objects.select_for_update().filter(
            Q(school_class_id=school_class.pk) | Q(child_id__in=list(cleaned)), date=day
        )
    }
    lines_changed = False
    for child_id, absence in existing.items():
        if child_id not in cleaned:
            lines_changed |= absence.cause == AbsenceCause.ILLNESS and bool(absence.symptoms)
            follow_up_id = absence.follow_up_id
            audit_delete(actor=actor, obj=absence, school=school_id)
            absence.delete()
            _drop_empty_follow_up(actor, follow_up_id, day)
    for child_id, values in cleaned.items():
        absence = existing.get(child_id)
        lines_changed |= _absence_save(
            actor=actor,
            absence=absence,
            school_class=school_class,
            child_id=child_id,
            day=day,
            values=values,
            now=now,
        )
    _drop_well_results_of_absent(actor, school_class, day, set(cleaned))
    record.enrolled = len(children)
    record.absent = len(cleaned)
    record.save()
    if created:
        audit_create(actor=actor, obj=record, school=school_id)
    else:
        audit_update(actor=actor, obj=record, before=before, school=school_id)
    if lines_changed:
        cluster_check_on_commit(school_id)
    return record


def _absence_save(*, actor, absence, school_class, child_id, day, values, now) -> bool:
    """Create or update one absence with its follow-up and line list; True when the line
    list changed."""
    who = actor if getattr(actor, "pk", None) else None
    school_id = school_class.school_id
    old = (
        (absence.cause, list(absence.symptoms), absence.follow_up_id)
        if absence
        else (None, [], None)
    )
    if absence is None:
        absence = Absence(
            school_id=school_id,
            school_class_id=school_class.pk,
            child_id=child_id,
            date=day,
            recorded_by=who,
            recorded_at=now,
        )
        before = None
    else:
        before = snapshot(absence)
    absence.school_class_id = school_class.pk
    absence.cause = values["cause"]
    absence.symptoms = values["symptoms"]
    absence.diagnosis = values["diagnosis"]
    absence.note = values["note"]
    if values["cause"] == AbsenceCause.UNKNOWN:
        absence.chased_at, absence.chased_by = None, None
    elif old[0] == AbsenceCause.UNKNOWN:
        absence.chased_at, absence.chased_by = now, who
    if values["cause"] == AbsenceCause.ILLNESS and old[0] == AbsenceCause.ILLNESS and old[2]:
        pass  # The absence stays in its episode (even one closed since).
    elif values["cause"] == AbsenceCause.ILLNESS:
        absence.follow_up = _follow_up_for(actor, school_id, child_id, day, values)
    else:
        absence.follow_up = None
    if before is None:
        absence.save()
        audit_create(actor=actor, obj=absence, school=school_id)
    elif snapshot(absence) != before:
        absence.save()
        audit_update(actor=actor, obj=absence, before=before, school=school_id)
    if old[2] and old[2] != absence.follow_up_id:
        _drop_empty_follow_up(actor, old[2], day)
    symptoms = absence.symptoms if absence.cause == AbsenceCause.ILLNESS else []
    if symptoms != old[1] or (before is None and symptoms):
        symptom_events_replace(
            source="absence",
            school_id=school_id,
            class_id=school_class.pk,
            child_id=child_id,
            date=day,
            symptoms=symptoms,
            absence=absence,
        )
        return True
    return False


def _follow_up_for(actor, school_id, child_id, day, values) -> IllnessFollowUp:
    """The child's open illness follow-up (reused, its first day moved back when an
    earlier illness day is recorded), or a new one."""
    # A day inside an episode already closed (recorded late) belongs to that episode.
    follow_up = (
        IllnessFollowUp.objects.select_for_update()
        .filter(child_id=child_id, first_day__lte=day, returned_on__gt=day)
        .first()
    ) or (
        IllnessFollowUp.objects.select_for_update()
        .filter(child_id=child_id, returned_on__isnull=True)
        .first()
    )
    if follow_up is not None and follow_up.returned_on is not None:
        return follow_up
    if follow_up is None:
        follow_up = IllnessFollowUp.objects.create(
            school_id=school_id,
            child_id=child_id,
            first_day=day,
            symptoms=values["symptoms"],
            diagnosis=values["diagnosis"],
        )
        audit_create(actor=actor, obj=follow_up, school=school_id)
        return follow_up
    before = snapshot(follow_up)
    follow_up.first_day = min(follow_up.first_day, day)
    follow_up.symptoms = clean_symptoms([*follow_up.symptoms, *values["symptoms"]])
    follow_up.diagnosis = values["diagnosis"] or follow_up.diagnosis
    if snapshot(follow_up) != before:
        follow_up.save()
        audit_update(actor=actor, obj=follow_up, before=before, school=school_id)
    return follow_up


def _drop_empty_follow_up(actor, follow_up_id, day) -> None:
    """A follow-up opened by an absence since removed (or no longer an illness), with no
    absence left and no return recorded, was a mistake: it goes too."""
    if not follow_up_id:
        return
    follow_up = IllnessFollowUp.objects.filter(pk=follow_up_id, returned_on__isnull=True).first()
    if follow_up is None or Absence.objects.filter(follow_up_id=follow_up_id).exists():
        return
    audit_delete(actor=actor, obj=follow_up, school=follow_up.school_id)
    follow_up.delete()


def _drop_well_results_of_absent(actor, school_class, day, absent: set[int]) -> None:
    """Children recorded absent were not checked that day: their "well" results (written
    by a check saved before the attendance) go, and the checks' counts follow. An unwell
    result stays: the child was seen, then sent away."""
    if not absent:
        return
    rows = list(
        ChildCheck.objects.filter(
            health_check__school_class_id=school_class.pk,
            date=day,
            child_id__in=absent,
            is_well=True,
        )
    )
    if not rows:
        return
    for row in rows:
        audit_delete(actor=actor, obj=row, school=school_class.school_id)
    ChildCheck.objects.filter(pk__in=[r.pk for r in rows]).delete()
    for check in HealthCheck.objects.select_for_update().filter(
        pk__in={r.health_check_id for r in rows}
    ):
        before = snapshot(check)
        check.checked = check.results.count()
        check.unwell = check.results.filter(is_well=False).count()
        check.save()
        audit_update(actor=actor, obj=check, before=before, school=school_class.school_id)


def absence_cause_establish(
    *,
    actor,
    absence_id,
    cause,
    symptoms=None,
    diagnosis="",
    note="",
    now: dt.datetime | None = None,
) -> Absence:
    """The cause of an absence of unknown cause, found by the class reporter (§3 3)."""
    now = now or timezone.now()
    sel.require_health(actor)
    absence = sel.absence_get(actor=actor, absence_id=absence_id)
    require(actor, Action.RECORD_HEALTH, absence.school_id)
    errors: dict = {}
    values = _clean_cause(
        {"cause": cause, "symptoms": symptoms, "diagnosis": diagnosis, "note": note},
        errors=errors,
        key="",
        name="",
        known_only=True,
    )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        absence = (
            Absence.objects.select_for_update().select_related("school_class").get(pk=absence.pk)
        )
        if absence.cause != AbsenceCause.UNKNOWN:
            raise ValidationError(
                {"cause": [_("The cause of this absence has already been established.")]}
            )
        if not values["note"]:
            values["note"] = absence.note
        changed = _absence_save(
            actor=actor,
            absence=absence,
            school_class=absence.school_class,
            child_id=absence.child_id,
            day=absence.date,
            values=values,
            now=now,
        )
        if changed:
            cluster_check_on_commit(absence.school_id)
    return absence


def illness_follow_up_close(
    *, actor, follow_up_id, returned_on, return_note, now: dt.datetime | None = None
) -> IllnessFollowUp:
    """The child came back on `returned_on`, with a return note (§3 3)."""
    now = now or timezone.now()
    sel.require_health(actor)
    follow_up = sel.follow_up_get(actor=actor, follow_up_id=follow_up_id)
    if not (
        can(actor, Action.RECORD_HEALTH, follow_up.school_id)
        or can(actor, Action.MANAGE_HEALTH, follow_up.school_id)
    ):
        require(actor, Action.RECORD_HEALTH, follow_up.school_id)
    day = _day(
        returned_on,
        today=_today(now),
        field="returned_on",
        future_message=_("The return cannot be recorded before the child is back."),
    )
    note = _text(
        return_note,
        field="return_note",
        limit=NOTE_MAX,
        required=True,
        label=_("Write the return note: how the child is, and any doctor's certificate."),
    )
    with transaction.atomic():
        follow_up = IllnessFollowUp.objects.select_for_update().get(pk=follow_up.pk)
        if follow_up.returned_on is not None:
            raise ValidationError(
                {"returned_on": [_("This child's return has already been recorded.")]}
            )
        last = (
            Absence.objects.filter(child_id=follow_up.child_id, date__gte=follow_up.first_day)
            .order_by("-date")
            .values_list("date", flat=True)
            .first()
        ) or follow_up.first_day
        if day <= last:
            raise ValidationError(
                {
                    "returned_on": [
                        _("The child was recorded absent on %(date)s: the return comes after it.")
                        % {"date": last.isoformat()}
                    ]
                }
            )
        before = snapshot(follow_up)
        follow_up.returned_on = day
        follow_up.return_note = note
        follow_up.closed_by = actor if getattr(actor, "pk", None) else None
        follow_up.save()
        audit_update(actor=actor, obj=follow_up, before=before, school=follow_up.school_id)
    return follow_up


# ------------------------------------------------------------------ dining seats


def dining_seats_record(
    *, actor, school_class_id, date, seats, now: dt.datetime | None = None
) -> int:
    """Where the class's children ate on `date`: `seats` maps child id → table or group
    (blank: no seat). Seats of the class's other children that day are left as they are
    unless given blank. Returns the number of children seated that day."""
    now = now or timezone.now()
    school_class = _class_to_record(actor, school_class_id)
    day = _day(
        date,
        today=_today(now),
        future_message=_("Dining seats are recorded for today or earlier days."),
    )
    if isinstance(seats, list | tuple):
        try:
            seats = {item["child_id"]: item.get("table", "") for item in seats}
        except (TypeError, KeyError):
            raise ValidationError({"seats": [_("Each seat names a child.")]}) from None
    if not isinstance(seats, dict) or len(seats) > RESULTS_MAX:
        raise ValidationError({"seats": [_("Send at most one seat per child.")]})
    with transaction.atomic():
        # A double-tapped save waits for the first, then edits its seats (one per child and
        # day: two inserts at once were a unique-constraint error).
        SchoolClass.objects.select_for_update().filter(pk=school_class.pk).first()
        children = {c.pk: c for c in sel.active_children(school_class.pk)}
        absent = set(
            Absence.objects.filter(school_class_id=school_class.pk, date=day).values_list(
                "child_id", flat=True
            )
        )
        cleaned, errors, wrong = {}, {}, {}
        for raw_id, table in seats.items():
            child_id = _pk(raw_id)
            key = f"seats.{child_id if child_id is not None else raw_id}"
            if child_id is None or child_id not in children:
                wrong[key] = child_id if child_id is not None else raw_id
                continue
            name = children[child_id].name
            try:
                text = _text(table, field="table", limit=TABLE_MAX)
            except ValidationError as exc:
                errors[f"{key}.table"] = _named(name, _errors_of(exc)["table"])
                continue
            if text and child_id in absent:
                errors[f"{key}.table"] = [
                    _("%(name)s is recorded absent on this day.") % {"name": name}
                ]
                continue
            cleaned[child_id] = text
        if wrong:
            _not_in_class(errors, wrong, school_class.school_id)
        if errors:
            raise ValidationError(errors)
        existing = {
            s.child_id: s
            for s in DiningSeat.objects.select_for_update().filter(
                child_id__in=list(cleaned), date=day
            )
        }
        new_rows = []
        for child_id, table in cleaned.items():
            seat = existing.get(child_id)
            if seat is None and table:
                new_rows.append(
                    DiningSeat(
                        school_id=school_class.school_id,
                        school_class_id=school_class.pk,
                        child_id=child_id,
                        date=day,
                        table=table,
                    )
                )
            elif seat is not None and not table:
                audit_delete(actor=actor, obj=seat, school=school_class.school_id)
                seat.delete()
            elif seat is not None and seat.table != table:
                before = snapshot(seat)
                seat.table = table
                seat.school_class_id = school_class.pk
                seat.save()
                audit_update(actor=actor, obj=seat, before=before, school=school_class.school_id)
        DiningSeat.objects.bulk_create(new_rows)
        audit_bulk_create(actor=actor, objs=new_rows, school=school_class.school_id)
        return DiningSeat.objects.filter(school_class_id=school_class.pk, date=day).count()


def dining_seats_copy(*, actor, school_class_id, date, now: dt.datetime | None = None):
    """The seats of the class's last day recorded before `date`, for the children enrolled
    and present on `date`. Returns (the day copied, children seated)."""
    now = now or timezone.now()
    school_class = _class_to_record(actor, school_class_id)
    day = _day(
        date,
        today=_today(now),
        future_message=_("Dining seats are recorded for today or earlier days."),
    )
    source = sel.last_dining_day(school_class.pk, day)
    if source is None:
        raise ValidationError({"date": [_("No earlier day of this class has dining seats.")]})
    absent = set(
        Absence.objects.filter(school_class_id=school_class.pk, date=day).values_list(
            "child_id", flat=True
        )
    )
    enrolled = set(sel.active_children(school_class.pk).values_list("pk", flat=True))
    seats = {
        child_id: table
        for child_id, table in sel.dining_seats(school_class.pk, source).items()
        if child_id in enrolled and child_id not in absent
    }
    count = dining_seats_record(
        actor=actor, school_class_id=school_class.pk, date=day, seats=seats, now=now
    )
    return source, count


# ------------------------------------------------------------------ dormitory rooms


def dorm_assign(
    *, actor, school_id, child_id, room, starts_on, now: dt.datetime | None = None
) -> DormAssignment | None:
    """The child sleeps in `room` from `starts_on` (their previous room ends the day
    before); a blank room: the child leaves the dormitory from `starts_on`."""
    now = now or timezone.now()
    school = _school_to_record(actor, school_id)
    if not school.is_boarding:
        raise ValidationError({"room": [_("This school has no boarders.")]})
    day = starts_on
    if isinstance(day, str):
        try:
            day = parse_date(day.strip())
        except ValueError:
            day = None
    if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
        raise ValidationError({"starts_on": [_("Enter a valid date.")]})
    check_date(day, "starts_on")
    room = _text(room, field="room", limit=ROOM_MAX)
    child_pk = _pk(child_id)
    child = (
        Child.objects.filter(pk=child_pk, school_id=school.pk, is_active=True).first()
        if child_pk
        else None
    )
    if child is None:
        raise ValidationError({"child": [_("Choose an enrolled child of this school.")]})
    with transaction.atomic():
        # A double-tapped save waits for the first, then finds its room (not a second stay).
        Child.objects.select_for_update().filter(pk=child.pk).first()
        current = list(
            DormAssignment.objects.select_for_update()
            .filter(child=child)
            .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day))
            .order_by("starts_on", "id")
        )
        later = [a for a in current if a.starts_on > day]
        if later:
            raise ValidationError(
                {
                    "starts_on": [
                        _("%(name)s already has room %(room)s from %(date)s.")
                        % {
                            "name": child.name,
                            "room": later[0].room,
                            "date": later[0].starts_on.isoformat(),
                        }
                    ]
                }
            )
        same_day = next((a for a in current if a.starts_on == day), None)
        if not room and not current:
            raise ValidationError(
                {"room": [_("%(name)s has no room to leave.") % {"name": child.name}]}
            )
        for a in current:
            if a is same_day:
                continue
            before = snapshot(a)
            a.ends_on = day - dt.timedelta(days=1)
            a.save()
            audit_update(actor=actor, obj=a, before=before, school=school.pk)
        if same_day is not None:
            if not room:
                audit_delete(actor=actor, obj=same_day, school=school.pk)
                same_day.delete()
                return None
            before = snapshot(same_day)
            same_day.room = room
            same_day.ends_on = None
            same_day.save()
            audit_update(actor=actor, obj=same_day, before=before, school=school.pk)
            return same_day
        if not room:
            return None
        assignment = DormAssignment.objects.create(
            school=school, child=child, room=room, starts_on=day
        )
        audit_create(actor=actor, obj=assignment, school=school.pk)
        return assignment


# ------------------------------------------------------------------ class staff


def class_staff_add(*, actor, school_class_id, staff_id, duty="") -> ClassStaff:
    """A teacher or carer who works with the class besides its head teacher."""
    school_class = _class_to_record(actor, school_class_id)
    duty = _text(duty, field="duty", limit=DUTY_MAX)
    staff_pk = _pk(staff_id)
    staff = (
        Staff.objects.filter(pk=staff_pk, school_id=school_class.school_id, is_active=True).first()
        if staff_pk
        else None
    )
    if staff is None:
        raise ValidationError({"staff": [_("Choose an active staff member of this school.")]})
    with transaction.atomic():
        # A double-tapped "add" waits for the first, then is told the person is listed.
        SchoolClass.objects.select_for_update().filter(pk=school_class.pk).first()
        if ClassStaff.objects.filter(school_class=school_class, staff=staff).exists():
            raise ValidationError(
                {"staff": [_("%(name)s is already listed for this class.") % {"name": staff.name}]}
            )
        row = ClassStaff.objects.create(school_class=school_class, staff=staff, duty=duty)
        audit_create(actor=actor, obj=row, school=school_class.school_id)
    return row


def class_staff_remove(*, actor, class_staff_id) -> int:
    """Take a staff member off the class's list; returns the class id."""
    sel.require_health(actor)
    row = (
        ClassStaff.objects.filter(
            pk=_pk(class_staff_id) or 0,
            school_class__school_id__in=sel.health_school_ids(actor),
        )
        .select_related("school_class")
        .first()
    )
    if row is None:
        raise Http404
    require(actor, Action.RECORD_HEALTH, row.school_class.school_id)
    with transaction.atomic():
        audit_delete(actor=actor, obj=row, school=row.school_class.school_id)
        row.delete()
    return row.school_class_id


# ------------------------------------------------------------------ the 15:00 reminder


def class_reporters(classes) -> dict[int, list[int]]:
    """Who chases a class's absences: the head teacher's login when active, else the
    school's health staff, else its principal. By class id."""
    classes = list(classes)
    schools = {c.school_id for c in classes}
    staff_side = health_recipients(schools, school_roles=(Role.HEALTH_STAFF,), health_centre=False)
    leads = health_recipients(schools, school_roles=(Role.PRINCIPAL,), health_centre=False)
    result = {}
    for c in classes:
        head = c.head_teacher
        if head is not None and head.user_id and head.user.is_active and head.is_active:
            result[c.pk] = [head.user_id]
        else:
            result[c.pk] = staff_side[c.school_id] or leads[c.school_id]
    return result


def absences_unknown_remind(*, now: dt.datetime | None = None) -> list[int]:
    """Tell each class reporter of today's absences whose cause is still unknown (once per
    class and day). Returns the ids of the classes whose reporter was told."""
    from huxiao.notify.models import Notification

    now = now or timezone.now()
    today = _today(now)
    by_class: dict[int, list[Absence]] = defaultdict(list)
    for a in Absence.objects.filter(date=today, cause=AbsenceCause.UNKNOWN).order_by(
        "school_class_id", "child__name", "id"
    ):
        by_class[a.school_class_id].append(a)
    if not by_class:
        return []
    keys = {pk: f"{UNKNOWN_ABSENCE_EVENT}:{pk}:{today.isoformat()}" for pk in by_class}
    already = set(
        Notification.objects.filter(dedupe_key__in=keys.values()).values_list(
            "dedupe_key", flat=True
        )
    )
    classes = list(
        SchoolClass.objects.filter(pk__in=[pk for pk, key in keys.items() if key not in already])
        .select_related("head_teacher__user")
        .order_by("pk")
    )
    reporters = class_reporters(classes)
    told = []
    for c in classes:
        # No child named (the school's channels get it too): the attendance page lists them.
        url = reverse("health:attendance", args=[c.pk])
        notify_send(
            organizations=[c.school_id],
            event_type=UNKNOWN_ABSENCE_EVENT,
            title=_platform(
                _("%(class)s: the cause of %(n)s absence(s) today is still unknown"),
                {"class": c.name, "n": len(by_class[c.pk])},
            ),
            body=_platform(
                _(
                    "Open the class's attendance, call the families of the children whose "
                    "cause is unknown today and record the cause."
                )
            ),
            payload={
                "url": f"{url}?date={today.isoformat()}",
                "school_id": c.school_id,
                "class_id": c.pk,
                "date": today.isoformat(),
                "absences": [a.pk for a in by_class[c.pk]],
            },
            recipients=reporters[c.pk],
            dedupe_key=keys[c.pk],
        )
        told.append(c.pk)
    return told
