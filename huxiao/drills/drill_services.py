"""Writes of drill records (issue 8 item 2; ADR 0030 "Activities and drill records").

One `DrillRecord` per drill activity, made on its first write; only the school's own
recorders keep it (the police of the jurisdiction read it).

- **Signal now / all out now** (the phone page at the assembly point): server time. The
  signal of a planned drill makes it one that took place, starting at the signal; a drill
  recorded for another day takes typed times instead (409). All out needs the signal and
  comes at most 2 hours after it.
- **Signal with a drill alarm**: `alarms.services.alarm_raise(drill=True)` — the same path
  as a real alarm, marked drill, on the police console as a drill — and the record links
  it with `signal_at` = the alarm's `raised_at`, in one transaction. `drill_start` makes a
  new drill that took place now and, with the alarm, gives its signal the same way.
- **Link afterwards** one of the school's drill alarms of the drill's day that no record
  links yet (its time becomes the signal when none was given).
- **Typed times and headcounts** (`drill_record_save`, any subset of the fields): all out
  not before the signal, at most 2 hours after it, neither in the future; the signal on the
  drill's day; expected and counted headcounts at most the school's enrolment; missing
  persons "accounted for" with fewer counted than expected needs the note.
- **Problems found**: added once the drill took place (at most 30); each becomes a hazard
  in one step through `hazards.hazard_services.hazard_report` (the actor needs
  REPORT_HAZARD), linked as `problem.hazard`; a problem that became a hazard stays.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huxiao.alarms.choices import AlarmKind, AlarmSource
from huxiao.audit.services import audit_create, audit_delete, audit_update, snapshot
from huxiao.core.names import acting_user
from huxiao.drills import activity_selectors as sel
from huxiao.drills.activity_services import (
    ActivityRefused,
    activity_create,
    clean_headcount,
    clean_moment,
    local_time,
    lock_activity,
    message,
)
from huxiao.drills.choices import ActivityKind, ActivityStatus, DrillKind
from huxiao.drills.models import Activity, DrillProblem, DrillRecord
from huxiao.people import validation as v

MAX_EVACUATION = dt.timedelta(hours=2)
# A second "start" from the same person within this time is the same drill: a double tap
# or a resent form on a slow phone network must not page the police with a second alarm.
RESTART_WINDOW = dt.timedelta(minutes=2)
MAX_PROBLEMS = 30
PROBLEM_MAX = 500
NOTE_MAX = 500
# The alarm kind a drill alarm is raised as: what the police console would expect to see.
ALARM_KINDS = {
    DrillKind.FIRE: AlarmKind.FIRE,
    DrillKind.EARTHQUAKE: AlarmKind.OTHER,
    DrillKind.INTRUSION: AlarmKind.INTRUSION,
    DrillKind.OTHER: AlarmKind.OTHER,
}
RECORD_FIELDS = (
    "signal_at",
    "all_out_at",
    "expected_headcount",
    "counted_headcount",
    "missing_resolved",
    "missing_note",
)


def require_school_recorder(actor, school_id: int) -> None:
    if not sel.is_school_recorder(actor, school_id):
        raise PermissionDenied(_("Only the school's own staff keep its drill records."))


def _drill_for_write(actor, activity_id):
    """The drill (locked) and its record (made on the first write)."""
    activity = lock_activity(actor, activity_id)
    require_school_recorder(actor, activity.school_id)
    if activity.kind != ActivityKind.DRILL:
        raise ActivityRefused(_("This activity is not a drill."))
    if activity.status == ActivityStatus.CANCELLED:
        raise ActivityRefused(_("This activity was cancelled; it can no longer change."))
    record = DrillRecord.objects.select_for_update().filter(activity=activity).first()
    if record is None:
        record = DrillRecord.objects.create(
            activity=activity,
            expected_headcount=sel.expected_headcount(activity) or None,
            updated_by=acting_user(actor),
        )
        audit_create(actor=actor, obj=record)
    return activity, record


def _make_held(actor, activity, at: dt.datetime) -> None:
    """A planned drill whose signal was given took place, starting then."""
    if activity.status != ActivityStatus.PLANNED:
        return
    before = snapshot(activity)
    activity.status = ActivityStatus.HELD
    activity.starts_at = at
    activity.date = timezone.localtime(at).date()
    if activity.ends_at is not None and activity.ends_at < at:
        activity.ends_at = None
    activity.save(update_fields=["status", "starts_at", "date", "ends_at", "updated_at"])
    audit_update(actor=actor, obj=activity, before=before)


def _save_record(actor, record: DrillRecord, before: dict) -> DrillRecord:
    record.updated_by = acting_user(actor)
    record.save()
    audit_update(actor=actor, obj=record, before=before)
    return record


# ------------------------------------------------------------------ signal and all out


def _raise_drill_alarm(actor, activity, *, location: str, now):
    from huxiao.alarms.services import alarm_raise

    alarm, _created = alarm_raise(
        actor=actor,
        school=activity.school,
        kind=ALARM_KINDS.get(activity.drill_kind, AlarmKind.OTHER),
        location=location or activity.location,
        note=message(_("Drill: %(title)s"), {"title": activity.title})[:2000],
        drill=True,
        source=AlarmSource.BUTTON,
        now=now,
    )
    return alarm


def drill_signal(
    *, actor, activity_id, with_alarm: bool = False, location: str = "", now=None
) -> DrillRecord:
    """Give the drill's signal now, optionally by raising a drill alarm."""
    now = now or timezone.now()
    with transaction.atomic():
        activity, record = _drill_for_write(actor, activity_id)
        if record.signal_at is not None:
            raise ActivityRefused(
                _("The signal was already given at %(time)s.")
                % {"time": local_time(record.signal_at)}
            )
        if activity.status == ActivityStatus.HELD and activity.date != sel.local_today(now):
            raise ActivityRefused(
                _("This drill took place on %(date)s; type its times instead.")
                % {"date": activity.date.isoformat()}
            )
        before = snapshot(record)
        at = now
        if with_alarm:
            record.alarm = _raise_drill_alarm(actor, activity, location=location, now=now)
            at = record.alarm.raised_at
        _make_held(actor, activity, at)
        record.signal_at = at
        return _save_record(actor, record, before)


def drill_all_out(*, actor, activity_id, now=None) -> DrillRecord:
    """Everyone is out: now."""
    now = now or timezone.now()
    with transaction.atomic():
        _activity, record = _drill_for_write(actor, activity_id)
        if record.signal_at is None:
            raise ActivityRefused(_("Give the signal first."))
        if record.all_out_at is not None:
            raise ActivityRefused(
                _("All out was already recorded at %(time)s.")
                % {"time": local_time(record.all_out_at)}
            )
        if now - record.signal_at > MAX_EVACUATION:
            raise ActivityRefused(_("More than 2 hours since the signal: type the times instead."))
        before = snapshot(record)
        record.all_out_at = max(now, record.signal_at)
        return _save_record(actor, record, before)


def drill_start(
    *,
    actor,
    school_id,
    drill_kind,
    title: str = "",
    location: str = "",
    with_alarm: bool = False,
    now=None,
):
    """A drill of the whole school taking place now; with the alarm, its signal is given
    at once by raising a drill alarm (all in one transaction). The same person starting
    the same scenario again within RESTART_WINDOW gets that drill back (a double tap)."""
    now = now or timezone.now()
    with transaction.atomic():
        school = sel.school_get(actor=actor, school_id=school_id)
        require_school_recorder(actor, school.pk)
        started = _just_started(actor, school, drill_kind, now)
        if started is not None:
            if with_alarm and _signal_pending(started, now):
                drill_signal(actor=actor, activity_id=started.pk, with_alarm=True, now=now)
            return started
        activity = activity_create(
            actor=actor,
            school_id=school.pk,
            status=ActivityStatus.HELD,
            kind=ActivityKind.DRILL,
            drill_kind=drill_kind,
            title=title,
            location=location,
            starts_at=now,
            whole_school=True,
            now=now,
        )
        if with_alarm:
            drill_signal(actor=actor, activity_id=activity.pk, with_alarm=True, now=now)
    return activity


def _just_started(actor, school, drill_kind, now) -> Activity | None:
    """The drill this person started at the school moments ago (the school's row is locked
    so that two taps racing on PostgreSQL are taken one after the other)."""
    from huxiao.orgs.models import Organization

    Organization.objects.select_for_update().filter(pk=school.pk).first()
    return (
        Activity.objects.filter(
            school=school,
            kind=ActivityKind.DRILL,
            drill_kind=str(drill_kind or "").strip(),
            status=ActivityStatus.HELD,
            whole_school=True,
            created_by=acting_user(actor),
            starts_at__gte=now - RESTART_WINDOW,
            starts_at__lte=now,
        )
        .order_by("-starts_at", "-pk")
        .first()
    )


def _signal_pending(activity, now) -> bool:
    record = DrillRecord.objects.filter(activity=activity).first()
    return (record is None or record.signal_at is None) and activity.date == sel.local_today(now)


def drill_link_alarm(*, actor, activity_id, alarm_id) -> DrillRecord:
    """Link one of the school's unlinked drill alarms of the drill's day."""
    from huxiao.alarms.models import Alarm

    with transaction.atomic():
        activity, record = _drill_for_write(actor, activity_id)
        if record.alarm_id is not None:
            raise ActivityRefused(_("This drill is already linked to an alarm."))
        wanted = sel.user_id_of(alarm_id)
        choices = {a.pk for a in sel.linkable_alarms(activity)}
        alarm = (
            Alarm.objects.select_for_update().filter(pk=wanted).first()
            if wanted in choices
            else None
        )
        if alarm is None or alarm.drill_records.exists():
            raise ValidationError(
                {"alarm": [_("Choose one of the school's drill alarms of the drill's day.")]}
            )
        before = snapshot(record)
        record.alarm = alarm
        if record.signal_at is None:
            record.signal_at = alarm.raised_at
            _make_held(actor, activity, alarm.raised_at)
        return _save_record(actor, record, before)


# ------------------------------------------------------------------ typed times and counts


def _clean_record_times(errors, activity, record, changes: dict, now) -> dict:
    today = sel.local_today(now)
    values = {}
    for name in ("signal_at", "all_out_at"):
        if name in changes:
            values[name] = clean_moment(errors, name, changes[name], now=now, latest=today)
            if values[name] is not None and values[name] > now:
                errors.add(name, _("This time is in the future."))
        else:
            values[name] = getattr(record, name)
    signal, out = values["signal_at"], values["all_out_at"]
    if out is not None and "all_out_at" not in errors.errors:
        if signal is None:
            errors.add("all_out_at", _("Enter the time of the signal first."))
        elif out < signal:
            errors.add("all_out_at", _("All out cannot be before the signal."))
        elif out - signal > MAX_EVACUATION:
            errors.add("all_out_at", _("At most 2 hours after the signal."))
    if (
        signal is not None
        and "signal_at" not in errors.errors
        and activity.status == ActivityStatus.HELD
        and timezone.localtime(signal).date() != activity.date
    ):
        errors.add(
            "signal_at",
            _("The signal must be on the day of the drill (%(date)s).")
            % {"date": activity.date.isoformat()},
        )
    return values


def _clean_record_counts(errors, activity, record, changes: dict) -> dict:
    enrolment = sel.enrolment_of(activity.school)
    values = {}
    for name in ("expected_headcount", "counted_headcount"):
        values[name] = (
            clean_headcount(errors, name, changes[name], enrolment=enrolment)
            if name in changes
            else getattr(record, name)
        )
    values["missing_resolved"] = (
        errors.run("missing_resolved", v.clean_bool, changes["missing_resolved"])
        if "missing_resolved" in changes
        else record.missing_resolved
    )
    values["missing_note"] = (
        errors.run("missing_note", v.clean_text, changes["missing_note"], max_length=NOTE_MAX)
        if "missing_note" in changes
        else record.missing_note
    )
    expected, counted = values["expected_headcount"], values["counted_headcount"]
    short = expected is not None and counted is not None and counted < expected
    if values["missing_resolved"] and short and not values["missing_note"]:
        errors.add("missing_note", _("Say how the missing persons were accounted for."))
    values["missing_resolved"] = bool(values["missing_resolved"])
    values["missing_note"] = values["missing_note"] or ""
    return values


def drill_record_save(*, actor, activity_id, now=None, **changes) -> DrillRecord:
    """Save typed times and headcounts: any of RECORD_FIELDS; the others stay."""
    now = now or timezone.now()
    unknown = set(changes) - set(RECORD_FIELDS)
    if unknown:
        raise TypeError(f"unknown drill record fields: {sorted(unknown)}")
    with transaction.atomic():
        activity, record = _drill_for_write(actor, activity_id)
        errors = v.FieldErrors()
        values = {
            **_clean_record_times(errors, activity, record, changes, now),
            **_clean_record_counts(errors, activity, record, changes),
        }
        errors.raise_if_any()
        before = snapshot(record)
        for name, value in values.items():
            setattr(record, name, value)
        if record.signal_at is not None:
            _make_held(actor, activity, record.signal_at)
        return _save_record(actor, record, before)


# ------------------------------------------------------------------ problems found


def drill_problem_add(*, actor, activity_id, description) -> DrillProblem:
    with transaction.atomic():
        activity, record = _drill_for_write(actor, activity_id)
        if activity.status != ActivityStatus.HELD:
            raise ActivityRefused(_("Problems are recorded once the drill has taken place."))
        errors = v.FieldErrors()
        text = errors.run(
            "description", v.clean_text, description, max_length=PROBLEM_MAX, required=True
        )
        if record.problems.count() >= MAX_PROBLEMS:
            errors.add("description", _("At most %(n)s problems per drill.") % {"n": MAX_PROBLEMS})
        errors.raise_if_any()
        problem = DrillProblem.objects.create(
            record=record, description=text, created_by=acting_user(actor)
        )
        audit_create(actor=actor, obj=problem)
    return problem


def _locked_problem(actor, problem_id) -> tuple:
    problem = sel.problem_get(actor=actor, problem_id=problem_id)
    activity, _record = _drill_for_write(actor, problem.record.activity_id)
    problem = DrillProblem.objects.select_for_update().get(pk=problem.pk)
    return activity, problem


def drill_problem_delete(*, actor, problem_id) -> None:
    with transaction.atomic():
        _activity, problem = _locked_problem(actor, problem_id)
        if problem.hazard_id is not None:
            raise ActivityRefused(_("This problem became a hazard; it stays on record."))
        audit_delete(actor=actor, obj=problem)
        problem.delete()


def _hazard_title(text: str) -> str:
    return text if len(text) <= 200 else text[:199] + "…"


def drill_problem_to_hazard(
    *, actor, problem_id, category="other", level="general", deadline=None, now=None
):
    """Turn a problem into a hazard of the school in one step (REPORT_HAZARD)."""
    from huxiao.hazards.hazard_services import hazard_report

    now = now or timezone.now()
    with transaction.atomic():
        activity, problem = _locked_problem(actor, problem_id)
        if problem.hazard_id is not None:
            raise ActivityRefused(_("This problem is already a hazard."))
        hazard = hazard_report(
            actor=actor,
            school=activity.school,
            category=category,
            level=level,
            title=_hazard_title(problem.description),
            description=message(
                _("Found in the drill “%(title)s” on %(date)s: %(problem)s"),
                {
                    "title": activity.title,
                    "date": activity.date.isoformat(),
                    "problem": problem.description,
                },
            ),
            deadline=deadline,
            now=now,
        )
        before = snapshot(problem)
        problem.hazard = hazard
        problem.save(update_fields=["hazard"])
        audit_update(actor=actor, obj=problem, before=before)
    return hazard
