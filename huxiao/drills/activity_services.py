"""Writes of a school's safety activities (issue 8 item 1, §1 二(五)二, §2 7; ADR 0030
"Activities and drill records").

- **Create** (RECORD_ACTIVITY): planned, or recorded as having taken place (held). A school
  recorder records every kind; a police officer only the legal lectures they gave at a
  school of their jurisdiction (`police_officer` is themselves, and their presence counts as
  confirmed once it has taken place). `date` is the local date of `starts_at`.
- **Edit**: school recorders edit every activity of their school, the officer their own
  lectures; a planned activity becomes held by editing it with status "held" (never in the
  future); a held one does not go back to planned; a cancelled one is frozen (409).
- **Cancel** a planned activity with a reason; a held one is corrected, not cancelled.
- **Confirm presence**: the officer named on a held activity, once (a second time changes
  nothing).
- **Attachments**: photos and files (the warning signs' rules: JPEG, PNG, GIF, WebP, PDF,
  MP4; 10 MB each, 5 per upload), at most 20 per activity, stored under random names and
  served only through a scoped view.

Order of checks everywhere: scope (404), right (403), state (`ActivityRefused`, 409),
input (ValidationError by field, 400) — all of the input's errors at once, nothing
written. Every write is audited in its transaction; the officer named by a school is told
(inbox) after commit.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import uuid

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import Http404
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from huxiao.audit.models import AuditAction
from huxiao.audit.services import audit_record, diff, snapshot
from huxiao.core.names import acting_user, person_name
from huxiao.drills import activity_selectors as sel
from huxiao.drills.choices import ActivityKind, ActivityStatus, DrillKind
from huxiao.drills.models import Activity, ActivityAttachment, DrillRecord
from huxiao.intel.warnings_services import _delete_files_on_rollback, clean_attachments
from huxiao.notify.services import notify_send
from huxiao.people import validation as v

logger = logging.getLogger(__name__)

TEXT_MAX = 4000
REASON_MAX = 300
MAX_ATTACHMENTS = 20
# An activity lasts at most this long (a two-day training happens; a month is a typo).
LONGEST = dt.timedelta(days=7)
# Headcounts are checked against the school's enrolment; this caps them when none is known.
HEADCOUNT_MAX = 100_000
OFFICER_NAMED_EVENT = "drills.officer_named"
ATTACHMENT_AUDIT_FIELDS = ("activity", "original_name", "content_type", "size", "uploaded_by")
# Every field an activity form or the API sends.
FIELDS = (
    "status",
    "kind",
    "drill_kind",
    "title",
    "starts_at",
    "ends_at",
    "location",
    "organiser_name",
    "whole_school",
    "classes",
    "headcount",
    "police_officer",
    "content",
    "outcome",
)


class ActivityRefused(ValidationError):
    """A step the state of an activity or drill record does not allow. `code` is
    "transition"; pages and the API answer 409 with the message."""

    def __init__(self, message):
        super().__init__(message, code="transition")


def message(template, params: dict) -> str:
    """A notification or stored text in the platform's language, whoever triggered it."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(template) % params


def local_time(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def lock_activity(actor, activity_id) -> Activity:
    """The activity through the actor's scope, locked for the write (404 out of scope)."""
    activity = (
        Activity.objects.visible_to(actor)
        .select_for_update(of=("self",))
        .select_related("school")
        .filter(pk=sel._id(getattr(activity_id, "pk", activity_id)))
        .first()
    )
    if activity is None:
        raise Http404
    return activity


def _lock_editable(actor, activity_id, *, cancelled=None) -> Activity:
    """The activity locked for a change by someone who may edit it (403), not cancelled
    (409, with `cancelled` as the reason when given)."""
    activity = lock_activity(actor, activity_id)
    if not sel.may_edit(actor, activity):
        raise PermissionDenied(_("Your role does not allow changing this activity."))
    if activity.status == ActivityStatus.CANCELLED:
        raise ActivityRefused(
            cancelled or _("This activity was cancelled; it can no longer change.")
        )
    return activity


def activity_snapshot(activity: Activity) -> dict:
    """The audit picture of an activity, with its classes (a many-to-many field)."""
    return {
        **snapshot(activity),
        "classes": sorted(activity.classes.values_list("pk", flat=True)),
    }


# ------------------------------------------------------------------ field rules


def clean_moment(errors, name, value, *, now, required=False, latest=None):
    """An aware datetime between 1980 and a year ahead (or `latest`), else a field error."""
    if value is None or value == "":
        if required:
            errors.add(name, _("This field is required."))
        return None
    if isinstance(value, str):
        try:
            value = parse_datetime(value.strip())
        except ValueError:
            value = None
    if not isinstance(value, dt.datetime):
        errors.add(name, _("Enter a date and time."))
        return None
    try:
        aware = value if timezone.is_aware(value) else timezone.make_aware(value)
        day = timezone.localtime(aware).date()
    except (OverflowError, ValueError):
        day = None
    last = latest or sel.latest_day(now)
    if day is None or not sel.EARLIEST <= day <= last:
        errors.add(
            name,
            _("Choose a time between %(first)s and %(last)s.")
            % {"first": sel.EARLIEST.isoformat(), "last": last.isoformat()},
        )
        return None
    return aware.replace(microsecond=0)


def clean_headcount(errors, name, value, *, enrolment: int, factor: int = 1):
    """A number of people, at most `factor` × the school's enrolment (when one is known)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        errors.add(name, _("Enter a whole number."))
        return None
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        errors.add(name, _("Enter a whole number."))
        return None
    if number < 0:
        errors.add(name, _("Enter a number of 0 or more."))
        return None
    limit = enrolment * factor if enrolment else HEADCOUNT_MAX
    if number > limit:
        if enrolment:
            errors.add(
                name,
                _("At most %(n)s: the school has %(enrolment)s children.")
                % {"n": limit, "enrolment": enrolment},
            )
        else:
            errors.add(name, _("At most %(n)s.") % {"n": limit})
        return None
    return number


def _ids(value) -> tuple[list[int], bool]:
    """The ids a form or the API sent, and whether any was not one."""
    if value is None or value == "":
        return [], False
    if isinstance(value, str | int):
        value = [value]
    ids, bad = [], False
    for raw in value:
        pk = sel.user_id_of(raw)
        if pk is None:
            bad = True
        elif pk not in ids:
            ids.append(pk)
    return ids, bad


def _clean_classes(errors, school, value) -> list:
    from huxiao.people.models import SchoolClass

    ids, bad = _ids(value)
    if not ids:
        if bad:
            errors.add("classes", _("Choose classes of this school."))
        return []
    found = list(SchoolClass.objects.filter(school_id=school.pk, pk__in=ids))
    if bad or len(found) != len(ids):
        errors.add("classes", _("Choose classes of this school."))
    return found


def _clean_kinds(errors, kind, drill_kind) -> tuple[str, str]:
    kind = str(kind or "").strip()
    drill_kind = str(drill_kind or "").strip()
    if kind not in ActivityKind.values:
        errors.add("kind", _("Choose a kind of activity."))
    if kind == ActivityKind.DRILL and drill_kind not in DrillKind.values:
        errors.add("drill_kind", _("Choose the drill's scenario."))
    elif kind != ActivityKind.DRILL and drill_kind:
        errors.add("drill_kind", _("Only a drill has a scenario."))
    return kind, drill_kind


def _clean_officer(errors, school, value, *, actor, police: bool):
    """The officer present: one of the school's station or post; a police recorder is
    always the officer of their own lecture."""
    if police:
        if value not in (None, "") and sel.user_id_of(value) != actor.pk:
            errors.add("police_officer", _("Record the lectures you gave yourself."))
            return None
        if not sel.is_officer_of(actor.pk, school):
            errors.add(
                "police_officer",
                _("Choose an officer of the school's police station or campus police post."),
            )
            return None
        return actor.pk
    if value is None or value == "":
        return None
    if not sel.is_officer_of(value, school):
        errors.add(
            "police_officer",
            _("Choose an officer of the school's police station or campus police post."),
        )
        return None
    return sel.user_id_of(value)


def _clean_times(errors, data, *, status, now) -> tuple:
    starts_at = clean_moment(errors, "starts_at", data.get("starts_at"), now=now, required=True)
    ends_at = clean_moment(errors, "ends_at", data.get("ends_at"), now=now)
    if starts_at and ends_at:
        if ends_at < starts_at:
            errors.add("ends_at", _("The activity cannot end before it starts."))
        elif ends_at - starts_at > LONGEST:
            errors.add("ends_at", _("An activity lasts at most 7 days."))
    if status == ActivityStatus.HELD and starts_at and starts_at > now:
        errors.add(
            "starts_at",
            _("An activity in the future cannot be recorded as having taken place."),
        )
    return starts_at, ends_at


def _clean_status(errors, status, current: Activity | None) -> str:
    status = str(status or ActivityStatus.PLANNED).strip()
    if status not in (ActivityStatus.PLANNED, ActivityStatus.HELD):
        errors.add("status", _("Choose planned or taken place."))
    elif (
        current is not None
        and current.status == ActivityStatus.HELD
        and status == ActivityStatus.PLANNED
    ):
        errors.add("status", _("An activity that has taken place cannot be planned again."))
    return status


def clean_activity(
    *, actor, school, data: dict, now, police: bool, current=None, errors=None
) -> dict:
    """The model values of an activity from a form's or the API's fields; every field
    error at once (with those already in `errors`)."""
    errors = v.FieldErrors() if errors is None else errors
    status = _clean_status(errors, data.get("status"), current)
    kind, drill_kind = _clean_kinds(errors, data.get("kind"), data.get("drill_kind"))
    if police and kind != ActivityKind.LEGAL_LECTURE and "kind" not in errors.errors:
        errors.add("kind", _("Police officers record the legal lectures they gave only."))
    starts_at, ends_at = _clean_times(errors, data, status=status, now=now)
    whole_school = errors.run("whole_school", v.clean_bool, data.get("whole_school"))
    classes = _clean_classes(errors, school, data.get("classes"))
    if whole_school and classes:
        errors.add("classes", _("Choose the whole school or some classes, not both."))
    factor = 2 if kind == ActivityKind.PARENT_MEETING else 1
    values = {
        "status": status,
        "kind": kind,
        "drill_kind": drill_kind,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "whole_school": bool(whole_school),
        "headcount": clean_headcount(
            errors,
            "headcount",
            data.get("headcount"),
            enrolment=sel.enrolment_of(school),
            factor=factor,
        ),
        "police_officer_id": _clean_officer(
            errors, school, data.get("police_officer"), actor=actor, police=police
        ),
        "title": errors.run("title", v.clean_text, data.get("title"), max_length=200),
        "location": errors.run("location", v.clean_text, data.get("location"), max_length=200),
        "organiser_name": errors.run(
            "organiser_name", v.clean_text, data.get("organiser_name"), max_length=100
        ),
        "content": errors.run("content", v.clean_text, data.get("content"), max_length=TEXT_MAX),
        "outcome": errors.run("outcome", v.clean_text, data.get("outcome"), max_length=TEXT_MAX),
    }
    if current is not None:
        _check_against_record(errors, current, values)
    errors.raise_if_any()
    values["title"] = values["title"] or sel.default_title(kind, drill_kind)
    values["organiser_name"] = values["organiser_name"] or person_name(acting_user(actor))
    values["date"] = timezone.localtime(starts_at).date()
    values["classes"] = classes
    return values


def _check_against_record(errors, current: Activity, values: dict) -> None:
    """A drill with a timed record stays a drill, on the day of its signal."""
    record = DrillRecord.objects.filter(activity_id=current.pk).first()
    if record is None:
        return
    if values["kind"] and values["kind"] != ActivityKind.DRILL:
        errors.add("kind", _("This drill has a timed record; it stays a drill."))
    if record.signal_at and values["starts_at"]:
        signal_day = timezone.localtime(record.signal_at).date()
        if timezone.localtime(values["starts_at"]).date() != signal_day:
            errors.add(
                "starts_at",
                _("The drill's signal was given on %(date)s; keep the drill on that day.")
                % {"date": signal_day.isoformat()},
            )


def _data(fields: dict) -> dict:
    return {name: fields.get(name) for name in FIELDS}


# ------------------------------------------------------------------ create and edit


def _require_recorder(actor, school_id) -> None:
    if not sel.may_record(actor, school_id):
        raise PermissionDenied(_("Your role does not allow recording activities here."))


def _merge_upload_errors(errors, files) -> list:
    try:
        return clean_attachments(files)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            for text in messages:
                errors.add(name, text)
        return []


def activity_create(*, actor, school_id, files=(), now=None, **fields) -> Activity:
    """Plan an activity or record one that took place (`status`), with its files."""
    now = now or timezone.now()
    stored: list = []
    try:
        with transaction.atomic():
            school = sel.school_get(actor=actor, school_id=school_id)
            _require_recorder(actor, school.pk)
            police = sel.is_police_recorder(actor, school.pk)
            errors = v.FieldErrors()
            uploads = _merge_upload_errors(errors, files)
            values = clean_activity(
                actor=actor,
                school=school,
                data=_data(fields),
                now=now,
                police=police,
                errors=errors,
            )
            classes = values.pop("classes")
            confirmed = police and values["status"] == ActivityStatus.HELD
            activity = Activity.objects.create(
                school=school,
                organiser=acting_user(actor),
                created_by=acting_user(actor),
                police_confirmed_at=now if confirmed else None,
                **values,
            )
            activity.classes.set(classes)
            audit_record(
                actor=actor,
                action=AuditAction.CREATE,
                obj=activity,
                changes={"after": activity_snapshot(activity)},
            )
            stored = _store(activity, uploads, actor)
            _tell_officer(activity, actor)
    except Exception:
        _delete_files_on_rollback(stored)
        raise
    return activity


def activity_update(*, actor, activity_id, now=None, **fields) -> Activity:
    """Change an activity (every field at once, as its form or the API's PUT sends)."""
    now = now or timezone.now()
    with transaction.atomic():
        activity = _lock_editable(actor, activity_id)
        police = not sel.is_school_recorder(actor, activity.school_id)
        values = clean_activity(
            actor=actor,
            school=activity.school,
            data=_data(fields),
            now=now,
            police=police,
            current=activity,
        )
        before = activity_snapshot(activity)
        classes = values.pop("classes")
        officer_changed = values["police_officer_id"] != activity.police_officer_id
        for name, value in values.items():
            setattr(activity, name, value)
        if police and activity.status == ActivityStatus.HELD:
            activity.police_confirmed_at = activity.police_confirmed_at or now
        elif officer_changed:
            activity.police_confirmed_at = None
        activity.save()
        activity.classes.set(classes)
        _audit_update(actor, activity, before)
        if officer_changed:
            _tell_officer(activity, actor)
    return activity


def _tell_officer(activity: Activity, actor) -> None:
    """The officer a school names is told, so that they confirm their presence."""
    officer_id = activity.police_officer_id
    if officer_id is None or officer_id == getattr(actor, "pk", None):
        return
    notify_send(
        organizations=(),
        event_type=OFFICER_NAMED_EVENT,
        title=message(
            _("%(school)s named you at “%(title)s” on %(date)s"),
            {
                "school": activity.school.name,
                "title": activity.title,
                "date": activity.date.isoformat(),
            },
        ),
        body=message(_("Confirm your presence once it has taken place."), {}),
        payload={"activity_id": activity.pk, "school_id": activity.school_id},
        recipients=[officer_id],
        dedupe_key=f"{OFFICER_NAMED_EVENT}.{activity.pk}.{officer_id}",
    )


def activity_cancel(*, actor, activity_id, reason, now=None) -> Activity:
    """Cancel a planned activity with the reason."""
    with transaction.atomic():
        activity = _lock_editable(
            actor, activity_id, cancelled=_("This activity has already been cancelled.")
        )
        if activity.status == ActivityStatus.HELD:
            raise ActivityRefused(
                _("This activity has taken place; correct its record instead of cancelling it.")
            )
        errors = v.FieldErrors()
        text = errors.run("reason", v.clean_text, reason, max_length=REASON_MAX, required=True)
        errors.raise_if_any()
        before = activity_snapshot(activity)
        activity.status = ActivityStatus.CANCELLED
        activity.cancel_reason = text
        activity.save(update_fields=["status", "cancel_reason", "updated_at"])
        _audit_update(actor, activity, before)
    return activity


def _audit_update(actor, activity: Activity, before: dict) -> None:
    changed = diff(before, activity_snapshot(activity))
    changed.pop("updated_at", None)
    if changed:
        audit_record(
            actor=actor, action=AuditAction.UPDATE, obj=activity, changes={"fields": changed}
        )


def activity_confirm_presence(*, actor, activity_id, now=None) -> Activity:
    """The officer named on a held activity confirms they were there (once)."""
    now = now or timezone.now()
    with transaction.atomic():
        activity = lock_activity(actor, activity_id)
        if activity.police_officer_id != getattr(actor, "pk", None) or not sel.may_record(
            actor, activity.school_id
        ):
            raise PermissionDenied(
                _("Only the officer named on this activity confirms their presence.")
            )
        if activity.status != ActivityStatus.HELD:
            raise ActivityRefused(_("Presence is confirmed once the activity has taken place."))
        if activity.police_confirmed_at is not None:
            return activity
        before = activity_snapshot(activity)
        activity.police_confirmed_at = now
        activity.save(update_fields=["police_confirmed_at", "updated_at"])
        _audit_update(actor, activity, before)
    return activity


# ------------------------------------------------------------------ attachments


def _store(activity: Activity, cleaned, actor) -> list[ActivityAttachment]:
    rows = []
    for upload, content_type, suffix in cleaned:
        original = os.path.basename(str(getattr(upload, "name", "") or "file"))[:200]
        row = ActivityAttachment(
            activity=activity,
            original_name=original,
            content_type=content_type,
            size=upload.size,
            uploaded_by=acting_user(actor),
        )
        # A random name: the original may name a child; it is kept only in the database.
        row.file.save(f"{uuid.uuid4().hex}{suffix}", ContentFile(upload.read()), save=False)
        row.save()
        rows.append(row)
    if rows:
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=activity,
            changes={"attachments": [r.original_name for r in rows]},
        )
    return rows


def activity_attach(*, actor, activity_id, files) -> list[ActivityAttachment]:
    """Add photos or files to an activity (those who may edit it)."""
    stored: list = []
    try:
        with transaction.atomic():
            activity = _lock_editable(actor, activity_id)
            uploads = clean_attachments(files)
            if not uploads:
                raise ValidationError({"attachments": [_("Choose at least one file.")]})
            if activity.attachments.count() + len(uploads) > MAX_ATTACHMENTS:
                raise ValidationError(
                    {
                        "attachments": [
                            _("At most %(n)s files per activity.") % {"n": MAX_ATTACHMENTS}
                        ]
                    }
                )
            stored = _store(activity, uploads, actor)
    except Exception:
        _delete_files_on_rollback(stored)
        raise
    return stored


def activity_attachment_delete(*, actor, activity_id, attachment_id) -> None:
    """Remove a file (those who may edit the activity); the file goes after commit."""
    with transaction.atomic():
        activity = _lock_editable(actor, activity_id)
        attachment = ActivityAttachment.objects.filter(
            pk=sel._id(attachment_id), activity=activity
        ).first()
        if attachment is None:
            raise Http404
        # ActivityAttachment has no `audit_exclude`: the file field is left out here.
        audit_record(
            actor=actor,
            action=AuditAction.DELETE,
            obj=attachment,
            changes={"before": snapshot(attachment, fields=ATTACHMENT_AUDIT_FIELDS)},
        )
        name, storage = attachment.file.name, attachment.file.storage
        attachment.delete()
        transaction.on_commit(lambda: _delete_file(storage, name))


def _delete_file(storage, name: str) -> None:
    try:
        storage.delete(name)
    except Exception:  # noqa: BLE001 - best effort; the row is gone either way
        logger.exception("could not delete attachment file %s", name)
