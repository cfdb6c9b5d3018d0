"""Writes of duty: the plan, the roster, check-in and check-out, the duty log, handovers
with open items, and the uncovered-shift check (issue 7 item 5, §2 5; ADR 0029 "Duty").

- **Plan** (PLAN_DUTY): the day and night start times, the grace minutes before an empty
  shift is flagged, the monitoring room's longest allowed gap, the night-round window.
  Changing it does not move shifts already created.
- **Roster** (PLAN_DUTY): `week_create` makes the day and night shift of each day of a week
  from the plan, in local time (the night ends at the next day's day start); idempotent, and
  shifts that would already have ended are not made. People are put on a shift as leader on
  duty, staff on duty or guard; only active members of the school (another school's user is
  an error on the field `user`), and only in a role that keeps duty there (KEEP_DUTY: they
  must be able to check in; another role is an error on `user` too); removed while they
  have not checked in.
- **Check-in** (KEEP_DUTY, on the roster of the shift): from CHECK_IN_BEFORE (60 min) before
  the start until the end. A shift of another school is 404 (out of scope); not being on its
  roster is 403 (a matter of who may, not of the shift's state: ADR 0029); too early or
  ended is 409. A second check-in changes nothing. Check-out only after check-in.
- **Log** (people on the shift and the school's planners): from the check-in window until
  the shift is handed over.
- **Handover** (same people, once the shift has started; one per shift): notes and new open
  items; every open item the shift holds goes to the next shift (`current_shift`). If the
  next shift has not been created yet, the items wait and are attached when it is. The
  next shift's people receive (confirm) it, once. Open items are closed with a note by the
  people of the shift holding them or the planners.
- **Gaps**: `duty_gaps_scan` (every minute) flags shifts that started more than the grace
  minutes ago, have not ended and have nobody checked in (gap_services.gap_flag). A later
  check-in does not erase the gap: it records when the shift was covered (`ends_at`).

Order of checks everywhere: scope (404), right (403), state (`DutyRefused`, 409), input
(ValidationError by field, 400). Every write is audited; notifications go after commit.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from huxiao.audit.services import (
    audit_bulk_create,
    audit_create,
    audit_delete,
    audit_update,
    snapshot,
)
from huxiao.core.names import acting_user, person_name
from huxiao.core.roles import Action
from huxiao.core.scoping import can
from huxiao.duty import duty_selectors as sel
from huxiao.duty.choices import DutyRole, GapKind, LogKind, ShiftKind
from huxiao.duty.gap_services import DutyRefused, gap_flag
from huxiao.duty.models import (
    DutyAssignment,
    DutyGap,
    DutyHandover,
    DutyLogEntry,
    DutyOpenItem,
    DutyPlan,
    DutyShift,
)
from huxiao.notify.services import notify_send
from huxiao.people import validation as v

__all__ = ["DutyRefused"]

TEXT_MAX = 2000
ITEM_MAX = 500
MAX_OPEN_ITEMS = 20
GRACE_MAX = 240
MONITORING_GAP_MIN, MONITORING_GAP_MAX = 15, 1440
# Rosters are made at most this far ahead (a later week is a typing mistake).
WEEKS_AHEAD = 26
HANDOVER_EVENT = "duty.handover"


def _now(now):
    return now or timezone.now()


def _message(template, params: dict) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return str(template) % params


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _lock_shift(actor, shift_id, action=Action.VIEW) -> DutyShift:
    """The shift through the actor's scope, locked for the write (404 out of scope)."""
    shift = (
        DutyShift.objects.visible_to(actor, action)
        .select_for_update()
        .filter(pk=sel._id(getattr(shift_id, "pk", shift_id)))
        .first()
    )
    if shift is None:
        raise Http404
    return shift


def _require_plan(actor, school_id):
    if not can(actor, Action.PLAN_DUTY, school_id):
        raise PermissionDenied(_("Only the school's duty planners may change the roster."))


def _require_writer(actor, shift):
    if not sel.may_write(actor, shift):
        raise PermissionDenied(_("Only the people on this shift and the duty planners may."))


# ------------------------------------------------------------------ plan


def _clean_time(errors, name, value):
    if isinstance(value, dt.time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    try:
        return dt.time.fromisoformat(str(value or "").strip()).replace(second=0, microsecond=0)
    except ValueError:
        errors.add(name, _("Enter a time as HH:MM."))
        return None


def _clean_minutes(errors, name, value, low, high):
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors.add(name, _("Enter a whole number of minutes."))
        return None
    if number < low or number > high:
        errors.add(name, _("Between %(low)s and %(high)s minutes.") % {"low": low, "high": high})
        return None
    return number


def plan_save(
    *,
    actor,
    school_id,
    day_starts,
    night_starts,
    check_in_grace_minutes,
    monitoring_max_gap_minutes,
    night_round_from,
    night_round_until,
) -> DutyPlan:
    """Create or change the school's duty plan (PLAN_DUTY)."""
    with transaction.atomic():
        school = sel.school_get(actor=actor, school_id=school_id)
        _require_plan(actor, school.pk)
        errors = v.FieldErrors()
        values = {
            "day_starts": _clean_time(errors, "day_starts", day_starts),
            "night_starts": _clean_time(errors, "night_starts", night_starts),
            "check_in_grace_minutes": _clean_minutes(
                errors, "check_in_grace_minutes", check_in_grace_minutes, 0, GRACE_MAX
            ),
            "monitoring_max_gap_minutes": _clean_minutes(
                errors,
                "monitoring_max_gap_minutes",
                monitoring_max_gap_minutes,
                MONITORING_GAP_MIN,
                MONITORING_GAP_MAX,
            ),
            "night_round_from": _clean_time(errors, "night_round_from", night_round_from),
            "night_round_until": _clean_time(errors, "night_round_until", night_round_until),
        }
        if (
            values["day_starts"]
            and values["night_starts"]
            and values["night_starts"] <= values["day_starts"]
        ):
            errors.add("night_starts", _("The night shift starts after the day shift."))
        if (
            values["night_round_from"]
            and values["night_round_until"]
            and values["night_round_from"] == values["night_round_until"]
        ):
            errors.add("night_round_until", _("The night-round window cannot be empty."))
        errors.raise_if_any()
        plan = DutyPlan.objects.select_for_update().filter(school=school).first()
        if plan is None:
            plan = DutyPlan.objects.create(school=school, updated_by=acting_user(actor), **values)
            audit_create(actor=actor, obj=plan)
            return plan
        before = snapshot(plan)
        for name, value in values.items():
            setattr(plan, name, value)
        plan.updated_by = acting_user(actor)
        plan.save()
        audit_update(actor=actor, obj=plan, before=before)
    return plan


# ------------------------------------------------------------------ roster


def week_create(*, actor, school_id, week_start: dt.date, now=None) -> list[DutyShift]:
    """Make the week's day and night shifts from the plan (PLAN_DUTY); the week is the one
    containing `week_start` (Monday to Sunday). Returns the shifts created: none when they
    all exist. Shifts that would have ended by `now` are not made."""
    now = _now(now)
    with transaction.atomic():
        school = sel.school_get(actor=actor, school_id=school_id)
        _require_plan(actor, school.pk)
        if isinstance(week_start, str):
            week_start = sel.parse_date(week_start)
        if not isinstance(week_start, dt.date) or isinstance(week_start, dt.datetime):
            raise ValidationError({"week_start": [_("Enter a date.")]})
        sel.check_date(week_start, "week_start")
        monday = sel.monday_of(week_start)
        today = timezone.localtime(now).date()
        if monday > today + dt.timedelta(weeks=WEEKS_AHEAD):
            raise ValidationError(
                {
                    "week_start": [
                        _("Rosters are made at most %(n)s weeks ahead.") % {"n": WEEKS_AHEAD}
                    ]
                }
            )
        plan = sel.plan_for(school.pk)
        existing = set(
            DutyShift.objects.filter(
                school=school, date__gte=monday, date__lte=monday + dt.timedelta(days=6)
            ).values_list("date", "kind")
        )
        fresh = []
        for offset in range(7):
            day = monday + dt.timedelta(days=offset)
            for kind in (ShiftKind.DAY, ShiftKind.NIGHT):
                if (day, kind) in existing:
                    continue
                starts, ends = sel.shift_times(plan, day, kind)
                if ends <= now:
                    continue
                fresh.append(
                    DutyShift(
                        school=school,
                        date=day,
                        kind=kind,
                        starts_at=starts,
                        ends_at=ends,
                        created_by=acting_user(actor),
                    )
                )
        if not fresh:
            return []
        try:
            with transaction.atomic():
                created = DutyShift.objects.bulk_create(fresh)
        except IntegrityError:
            # Someone made the same week at the same moment: theirs stands.
            return []
        if any(s.pk is None for s in created):  # backends without RETURNING
            made = {(s.date, s.kind) for s in fresh}
            created = [
                s
                for s in DutyShift.objects.filter(
                    school=school, date__gte=monday, date__lte=monday + dt.timedelta(days=6)
                )
                if (s.date, s.kind) in made
            ]
        audit_bulk_create(actor=actor, objs=created, school=school)
        _attach_waiting_handovers(school.pk)
    return created


def _attach_waiting_handovers(school_id: int) -> None:
    """Handovers made while their next shift did not exist yet: attach them, with the open
    items they carry, to it now."""
    for handover in DutyHandover.objects.filter(
        from_shift__school_id=school_id, to_shift__isnull=True
    ).select_related("from_shift"):
        target = sel.next_shift(handover.from_shift)
        if target is None:
            continue
        before = snapshot(handover)
        handover.to_shift = target
        handover.save(update_fields=["to_shift"])
        audit_update(actor=None, obj=handover, before=before)
        for item in DutyOpenItem.objects.select_for_update().filter(
            school_id=school_id,
            closed_at__isnull=True,
            current_shift__isnull=True,
            raised_in__starts_at__lte=handover.from_shift.starts_at,
        ):
            item_before = snapshot(item)
            item.current_shift = target
            item.save(update_fields=["current_shift"])
            audit_update(actor=None, obj=item, before=item_before)


def assignment_add(*, actor, shift_id, user, role, now=None) -> DutyAssignment:
    """Put a member of the school on a shift (PLAN_DUTY) as leader, staff or guard."""
    now = _now(now)
    with transaction.atomic():
        shift = _lock_shift(actor, shift_id)
        _require_plan(actor, shift.school_id)
        if shift.ends_at <= now:
            raise DutyRefused(_("This shift has ended; its roster can no longer change."))
        errors = v.FieldErrors()
        # Any number a form carries: beyond a 64-bit key it is "not a member" (no overflow).
        user_id = sel.user_id_of(user)
        if user_id is None or not sel.is_member(user_id, shift.school_id):
            errors.add("user", _("Choose a member of this school."))
        elif not sel.keeps_duty(user_id, shift.school_id):
            # They could never check in: their role does not keep duty here.
            errors.add("user", _("This person's role does not keep duty at this school."))
        if role not in DutyRole.values:
            errors.add("role", _("Choose a duty role."))
        errors.raise_if_any()
        if DutyAssignment.objects.filter(shift=shift, user_id=user_id).exists():
            raise ValidationError({"user": [_("This person is already on this shift.")]})
        assignment = DutyAssignment.objects.create(shift=shift, user_id=user_id, role=role)
        audit_create(actor=actor, obj=assignment)
    return assignment


def assignment_remove(*, actor, assignment_id) -> None:
    """Take someone off a shift (PLAN_DUTY), while they have not checked in."""
    with transaction.atomic():
        assignment = (
            DutyAssignment.objects.visible_to(actor, Action.VIEW)
            .select_for_update()
            .filter(pk=sel._id(assignment_id))
            .select_related("shift")
            .first()
        )
        if assignment is None:
            raise Http404
        _require_plan(actor, assignment.shift.school_id)
        if assignment.checked_in_at is not None:
            raise DutyRefused(_("This person has checked in; they stay on the record."))
        audit_delete(actor=actor, obj=assignment)
        assignment.delete()


# ------------------------------------------------------------------ check-in and check-out


def _my_assignment(actor, shift) -> DutyAssignment:
    if not can(actor, Action.KEEP_DUTY, shift.school_id):
        raise PermissionDenied(_("Your role does not keep duty at this school."))
    assignment = (
        DutyAssignment.objects.select_for_update()
        .filter(shift=shift, user_id=getattr(actor, "pk", None))
        .first()
    )
    if assignment is None:
        raise PermissionDenied(_("You are not on this shift's roster."))
    return assignment


def shift_check_in(*, actor, shift_id, now=None) -> DutyAssignment:
    """Check in for a shift one is on, from 60 minutes before its start until its end."""
    now = _now(now)
    with transaction.atomic():
        shift = _lock_shift(actor, shift_id)
        assignment = _my_assignment(actor, shift)
        if assignment.checked_in_at is not None:
            return assignment
        if now < shift.starts_at - sel.CHECK_IN_BEFORE:
            raise DutyRefused(
                _("Check-in opens at %(time)s.")
                % {"time": _local(shift.starts_at - sel.CHECK_IN_BEFORE)}
            )
        if now >= shift.ends_at:
            raise DutyRefused(_("This shift has ended."))
        before = snapshot(assignment)
        assignment.checked_in_at = now
        assignment.save(update_fields=["checked_in_at"])
        audit_update(actor=actor, obj=assignment, before=before)
        # The shift was flagged uncovered: the gap stays, and now says when it was covered.
        for gap in DutyGap.objects.select_for_update().filter(
            shift=shift, kind=GapKind.SHIFT_UNCOVERED, ends_at__isnull=True
        ):
            gap_before = snapshot(gap)
            gap.ends_at = now
            gap.detail = {**(gap.detail or {}), "covered_by": person_name(actor)}
            gap.save(update_fields=["ends_at", "detail"])
            audit_update(actor=actor, obj=gap, before=gap_before)
    return assignment


def shift_check_out(*, actor, shift_id, now=None) -> DutyAssignment:
    """Check out after checking in (also after the shift's end: one may forget)."""
    now = _now(now)
    with transaction.atomic():
        shift = _lock_shift(actor, shift_id)
        assignment = _my_assignment(actor, shift)
        if assignment.checked_in_at is None:
            raise DutyRefused(_("Check in before checking out."))
        if assignment.checked_out_at is not None:
            return assignment
        before = snapshot(assignment)
        assignment.checked_out_at = max(now, assignment.checked_in_at)
        assignment.save(update_fields=["checked_out_at"])
        audit_update(actor=actor, obj=assignment, before=before)
    return assignment


# ------------------------------------------------------------------ the duty log


def _clean_moment(errors, name, value, *, low, high):
    if value is None or value == "":
        return None
    if not isinstance(value, dt.datetime):
        errors.add(name, _("Enter a date and time."))
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value < low or value > high:
        errors.add(
            name,
            _("Between %(low)s and %(high)s.") % {"low": _local(low), "high": _local(high)},
        )
        return None
    return value


def log_add(*, actor, shift_id, text, kind=LogKind.ROUTINE, at=None, now=None) -> DutyLogEntry:
    """One entry of the shift's log, by its people or the planners, from the check-in
    window until the handover."""
    now = _now(now)
    with transaction.atomic():
        shift = _lock_shift(actor, shift_id)
        _require_writer(actor, shift)
        opens = shift.starts_at - sel.CHECK_IN_BEFORE
        if now < opens:
            raise DutyRefused(_("This shift has not started yet."))
        if DutyHandover.objects.filter(from_shift=shift).exists():
            raise DutyRefused(_("This shift has been handed over; write in the next shift's log."))
        errors = v.FieldErrors()
        body = errors.run("text", v.clean_text, text, max_length=TEXT_MAX, required=True)
        if kind not in LogKind.values:
            errors.add("kind", _("Choose a kind of entry."))
        moment = _clean_moment(errors, "at", at, low=opens, high=now)
        errors.raise_if_any()
        entry = DutyLogEntry.objects.create(
            shift=shift, at=moment or now, kind=kind, text=body, author=acting_user(actor)
        )
        audit_create(actor=actor, obj=entry)
    return entry


# ------------------------------------------------------------------ handovers and open items


def _clean_items(errors, items) -> list[str]:
    if items is None:
        return []
    if isinstance(items, str):
        items = items.splitlines()
    cleaned = []
    for raw in items:
        try:
            text = v.clean_text(raw, max_length=ITEM_MAX)
        except ValidationError as exc:
            for message in exc.messages:
                errors.add("open_items", message)
            continue
        text = " ".join(text.split())
        if text and text not in cleaned:
            cleaned.append(text)
    if len(cleaned) > MAX_OPEN_ITEMS:
        errors.add("open_items", _("At most %(n)s open items.") % {"n": MAX_OPEN_ITEMS})
    return cleaned


def handover_create(*, actor, shift_id, notes="", open_items=(), now=None) -> DutyHandover:
    """Hand the shift over to the next one: notes and new open items; every open item the
    shift holds is carried to the next shift."""
    now = _now(now)
    with transaction.atomic():
        shift = _lock_shift(actor, shift_id)
        _require_writer(actor, shift)
        if now < shift.starts_at:
            raise DutyRefused(_("This shift has not started yet."))
        if DutyHandover.objects.filter(from_shift=shift).exists():
            raise DutyRefused(_("This shift has already been handed over."))
        errors = v.FieldErrors()
        text = errors.run("notes", v.clean_text, notes, max_length=TEXT_MAX)
        items = _clean_items(errors, open_items)
        errors.raise_if_any()
        target = sel.next_shift(shift)
        handover = DutyHandover.objects.create(
            from_shift=shift,
            to_shift=target,
            notes=text,
            handed_over_by=acting_user(actor),
            handed_over_at=now,
        )
        audit_create(actor=actor, obj=handover)
        fresh = [
            DutyOpenItem(
                school_id=shift.school_id,
                text=item,
                raised_in=shift,
                current_shift=target,
                raised_by=acting_user(actor),
            )
            for item in items
        ]
        if fresh:
            created = DutyOpenItem.objects.bulk_create(fresh)
            if all(o.pk is not None for o in created):
                audit_bulk_create(actor=actor, objs=created, school=shift.school_id)
        carried = DutyOpenItem.objects.filter(current_shift=shift, closed_at__isnull=True)
        for item in carried.select_for_update():
            before = snapshot(item)
            item.current_shift = target
            item.save(update_fields=["current_shift"])
            audit_update(actor=actor, obj=item, before=before)
        if target is not None:
            people = list(
                DutyAssignment.objects.filter(shift=target).values_list("user_id", flat=True)
            )
            if people:
                notify_send(
                    organizations=(),
                    event_type=HANDOVER_EVENT,
                    title=_message(
                        _("Handover from the %(shift)s waiting for you"), {"shift": str(shift)}
                    ),
                    body=text,
                    payload={
                        "handover_id": handover.pk,
                        "shift_id": target.pk,
                        "school_id": shift.school_id,
                    },
                    recipients=people,
                    dedupe_key=f"{HANDOVER_EVENT}.{handover.pk}",
                )
    return handover


def handover_receive(*, actor, handover_id, now=None) -> DutyHandover:
    """The next shift's person confirms the handover, once."""
    now = _now(now)
    with transaction.atomic():
        handover = (
            DutyHandover.objects.visible_to(actor, Action.VIEW)
            # Only the handover row: PostgreSQL cannot lock the nullable side of a join.
            .select_for_update(of=("self",))
            .filter(pk=sel._id(handover_id))
            .select_related("from_shift", "to_shift")
            .first()
        )
        if handover is None:
            raise Http404
        target = handover.to_shift
        if not can(actor, Action.KEEP_DUTY, handover.from_shift.school_id):
            raise PermissionDenied(_("Your role does not keep duty at this school."))
        if target is None:
            raise DutyRefused(_("The next shift has not been planned yet."))
        if not sel.is_on_shift(actor, target):
            raise PermissionDenied(_("Only the people on the next shift receive the handover."))
        if handover.received_at is not None:
            raise DutyRefused(_("This handover has already been received."))
        before = snapshot(handover)
        handover.received_by = acting_user(actor)
        handover.received_at = now
        handover.save(update_fields=["received_by", "received_at"])
        audit_update(actor=actor, obj=handover, before=before)
    return handover


def open_item_close(*, actor, item_id, note, now=None) -> DutyOpenItem:
    """Close an open item with a note: the people of the shift holding it, or the planners."""
    now = _now(now)
    with transaction.atomic():
        item = (
            DutyOpenItem.objects.visible_to(actor, Action.VIEW)
            .select_for_update()
            .filter(pk=sel._id(item_id))
            .first()
        )
        if item is None:
            raise Http404
        holder = item.current_shift or item.raised_in
        if not sel.may_write(actor, holder):
            raise PermissionDenied(
                _("Only the people of the shift holding it and the duty planners may close it.")
            )
        if item.closed_at is not None:
            raise DutyRefused(_("This item has already been closed."))
        errors = v.FieldErrors()
        text = errors.run("note", v.clean_text, note, max_length=ITEM_MAX, required=True)
        errors.raise_if_any()
        before = snapshot(item)
        item.closed_at = now
        item.closed_by = acting_user(actor)
        item.closing_note = text
        item.save(update_fields=["closed_at", "closed_by", "closing_note"])
        audit_update(actor=actor, obj=item, before=before)
    return item


# ------------------------------------------------------------------ the uncovered-shift check


def duty_gaps_scan(now=None) -> list[int]:
    """Flag every running shift, of every school, that started more than its school's grace
    minutes ago with nobody checked in (job, every minute). Returns the ids of the gaps
    flagged by this run; a second run flags nothing again."""
    now = _now(now)
    # One grouped read for all schools: only shifts running now can be candidates.
    candidates = list(
        DutyShift.objects.filter(starts_at__lte=now, ends_at__gt=now, gap_flagged_at__isnull=True)
        .exclude(assignments__checked_in_at__isnull=False)
        .order_by("school_id", "starts_at")
    )
    if not candidates:
        return []
    plans = sel.plans_for({s.school_id for s in candidates})
    flagged = []
    for shift in candidates:
        grace = dt.timedelta(minutes=plans[shift.school_id].check_in_grace_minutes)
        if shift.starts_at + grace > now:
            continue
        with transaction.atomic():
            locked = (
                DutyShift.objects.select_for_update()
                .filter(pk=shift.pk, gap_flagged_at__isnull=True)
                .exclude(assignments__checked_in_at__isnull=False)
                .first()
            )
            if locked is None:
                continue
            locked.gap_flagged_at = now
            locked.save(update_fields=["gap_flagged_at"])
            assigned = list(
                DutyAssignment.objects.filter(shift=locked)
                .select_related("user")
                .order_by("role", "id")
            )
            gap = gap_flag(
                school=locked.school_id,
                kind=GapKind.SHIFT_UNCOVERED,
                starts_at=locked.starts_at,
                shift=locked,
                day=locked.date,
                detail={
                    "shift_kind": locked.kind,
                    "grace_minutes": int(grace.total_seconds() // 60),
                    "assigned": [person_name(a.user) for a in assigned],
                },
                now=now,
            )
            if gap is not None:
                flagged.append(gap.pk)
    return flagged


def user_by_id(user_id):
    """The user with this id, or None (a page's hidden field may carry anything)."""
    try:
        return get_user_model().objects.filter(pk=int(user_id)).first()
    except (TypeError, ValueError, OverflowError):
        return None
