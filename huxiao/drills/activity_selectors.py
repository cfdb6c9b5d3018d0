"""Reads of a school's safety activities and drill records (issue 8 items 1–2; ADR 0030
"Activities and drill records").

Who sees what: anyone with VIEW on a school (its members, the police of its jurisdiction,
the town's offices, the county) reads its activities, attachments, drill records and
problems; out of scope is 404 exactly like a record that does not exist. Who writes
(activity_services, drill_services):
- a **school recorder** holds RECORD_ACTIVITY through a membership at the school itself
  (principal, security officer, teacher, duty leader): every kind, drill records, problems;
- a **police recorder** holds RECORD_ACTIVITY through the police station or post of the
  school's jurisdiction: legal lectures they gave themselves, and confirming their presence
  where a school named them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Prefetch
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from huxiao.core.roles import Action, Role, role_allows
from huxiao.core.scoping import can, memberships_of
from huxiao.drills.choices import ActivityKind, ActivityStatus, DrillKind
from huxiao.drills.models import Activity, ActivityAttachment, DrillProblem, DrillRecord
from huxiao.duty.duty_selectors import MAX_ID, _id, require_any, school_get, user_id_of
from huxiao.orgs.models import Membership

__all__ = ["MAX_ID", "require_any", "school_get", "user_id_of"]

# The dates an activity may be on: records go back to 1980 (older ones are typing
# mistakes), plans at most a year ahead.
EARLIEST = dt.date(1980, 1, 1)
DAYS_AHEAD = 365
# Roles of a police membership that may be named as the officer present (a bare legal
# vice-principal membership grants nothing: ADR 0020, addendum).
OFFICER_ROLES = (Role.POLICE_COMMANDER, Role.POLICE_OFFICER)

# Display labels of our own: the model's shared msgids read wrongly here ("Held" is 开设,
# "Fire" is 火情 elsewhere in the platform).
KIND_LABELS = {
    ActivityKind.SAFETY_EDUCATION: _("Safety education session"),
    ActivityKind.DRILL: _("Evacuation drill"),
    ActivityKind.LEGAL_LECTURE: _("Legal lecture"),
    ActivityKind.PARENT_MEETING: _("Parent meeting"),
    ActivityKind.STAFF_TRAINING: _("Staff training"),
}
DRILL_KIND_LABELS = {
    DrillKind.FIRE: _("Fire evacuation drill"),
    DrillKind.EARTHQUAKE: _("Earthquake evacuation drill"),
    DrillKind.INTRUSION: _("Intrusion / lockdown drill"),
    DrillKind.OTHER: _("Other emergency drill"),
}
STATUS_LABELS = {
    ActivityStatus.PLANNED: _("Planned"),
    ActivityStatus.HELD: _("Took place"),
    ActivityStatus.CANCELLED: _("Cancelled"),
}


def kind_choices():
    return list(KIND_LABELS.items())


def drill_kind_choices():
    return list(DRILL_KIND_LABELS.items())


def status_choices():
    return list(STATUS_LABELS.items())


def default_title(kind: str, drill_kind: str = "") -> str:
    """The title an activity gets when none is typed, in the platform's language (it is
    stored as data)."""
    label = DRILL_KIND_LABELS.get(drill_kind) if kind == ActivityKind.DRILL else None
    with translation.override(settings.LANGUAGE_CODE):
        return str(label or KIND_LABELS.get(kind, ""))


def local_today(now: dt.datetime | None = None) -> dt.date:
    return timezone.localtime(now or timezone.now()).date()


def latest_day(now: dt.datetime | None = None) -> dt.date:
    return local_today(now) + dt.timedelta(days=DAYS_AHEAD)


def parse_day(value) -> dt.date | None:
    """A local date from a query or form value; None when it is not one or outside
    EARLIEST..a year ahead (pages then ignore it)."""
    try:
        day = dt.date.fromisoformat(str(value or "").strip())
    except ValueError:
        return None
    return day if EARLIEST <= day <= latest_day() else None


def duration_text(seconds: int | None) -> str:
    """An evacuation duration as mm:ss (minutes may exceed 59)."""
    if seconds is None:
        return ""
    minutes, rest = divmod(max(int(seconds), 0), 60)
    return f"{minutes:02d}:{rest:02d}"


# ------------------------------------------------------------------ who may write


def is_school_recorder(actor, school_id: int) -> bool:
    """RECORD_ACTIVITY through a membership at the school itself (or a superuser)."""
    if not can(actor, Action.RECORD_ACTIVITY, school_id):
        return False
    if getattr(actor, "is_superuser", False):
        return True
    return any(
        m.organization_id == school_id and role_allows(m.role, Action.RECORD_ACTIVITY)
        for m in memberships_of(actor)
    )


def is_police_recorder(actor, school_id: int) -> bool:
    """RECORD_ACTIVITY at the school through the police of its jurisdiction."""
    return can(actor, Action.RECORD_ACTIVITY, school_id) and not is_school_recorder(
        actor, school_id
    )


def may_record(actor, school_id: int) -> bool:
    return can(actor, Action.RECORD_ACTIVITY, school_id)


def may_edit(actor, activity: Activity) -> bool:
    """School recorders edit every activity of their school; a police officer only the
    legal lectures they gave."""
    if is_school_recorder(actor, activity.school_id):
        return True
    return (
        is_police_recorder(actor, activity.school_id)
        and activity.kind == ActivityKind.LEGAL_LECTURE
        and activity.police_officer_id == getattr(actor, "pk", None)
    )


def may_confirm(actor, activity: Activity) -> bool:
    """The officer named on a held activity confirms their presence, once."""
    return (
        activity.police_officer_id is not None
        and activity.police_officer_id == getattr(actor, "pk", None)
        and activity.status == ActivityStatus.HELD
        and activity.police_confirmed_at is None
        and can(actor, Action.RECORD_ACTIVITY, activity.school_id)
    )


# ------------------------------------------------------------------ the school


def police_officers(school) -> list:
    """The officers a school may name as present: active commanders and officers of its
    police station and campus police post, by name."""
    from huxiao.core.names import person_name

    orgs = [pk for pk in (school.police_station_id, school.police_post_id) if pk]
    if not orgs:
        return []
    ids = set(
        Membership.objects.filter(
            organization_id__in=orgs,
            is_active=True,
            role__in=OFFICER_ROLES,
            user__is_active=True,
        ).values_list("user_id", flat=True)
    )
    users = get_user_model().objects.filter(pk__in=ids)
    return sorted(users, key=lambda u: (person_name(u), u.pk))


def is_officer_of(user_id, school) -> bool:
    user_id = user_id_of(user_id)
    orgs = [pk for pk in (school.police_station_id, school.police_post_id) if pk]
    return (
        user_id is not None
        and bool(orgs)
        and Membership.objects.filter(
            user_id=user_id,
            organization_id__in=orgs,
            is_active=True,
            role__in=OFFICER_ROLES,
            user__is_active=True,
        ).exists()
    )


def enrolment_of(school) -> int:
    """The school's enrolment; the count of its enrolled children when none is recorded
    (0 when neither is known: headcounts are then not checked against it)."""
    if school.enrolment:
        return school.enrolment
    from huxiao.people.models import Child

    return Child.objects.filter(school_id=school.pk, is_active=True).count()


def school_classes(school_id: int) -> list:
    from huxiao.people.models import SchoolClass

    return list(SchoolClass.objects.filter(school_id=school_id).order_by("grade", "name", "id"))


def expected_headcount(activity: Activity) -> int:
    """The children expected at the assembly point: the participating classes' enrolled
    children, or the school's enrolment for a whole-school drill."""
    from huxiao.people.models import Child

    class_ids = [c.pk for c in activity.classes.all()]
    if class_ids and not activity.whole_school:
        return Child.objects.filter(school_class_id__in=class_ids, is_active=True).count()
    return enrolment_of(activity.school)


# ------------------------------------------------------------------ activities


@dataclass(frozen=True)
class ActivityFilters:
    school_id: int | None = None
    kind: str = ""
    status: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    police_officer_id: int | None = None
    unconfirmed: bool = False


def activity_list(*, actor, filters: ActivityFilters | None = None):
    """Activities in the actor's scope, newest first."""
    qs = Activity.objects.visible_to(actor, Action.VIEW)
    f = filters or ActivityFilters()
    if f.school_id is not None:
        qs = qs.filter(school_id=f.school_id)
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.date_from is not None:
        qs = qs.filter(date__gte=f.date_from)
    if f.date_to is not None:
        qs = qs.filter(date__lte=f.date_to)
    if f.police_officer_id is not None:
        qs = qs.filter(police_officer_id=f.police_officer_id)
    if f.unconfirmed:
        qs = qs.filter(status=ActivityStatus.HELD, police_confirmed_at__isnull=True)
    return (
        qs.select_related("school", "police_officer", "drill")
        .prefetch_related("classes")
        .annotate(attachment_count=Count("attachments"))
        .order_by("-date", "-starts_at", "-id")
    )


def to_confirm(*, actor) -> list:
    """Held activities naming the actor as the officer present, not yet confirmed."""
    if not getattr(actor, "pk", None):
        return []
    return list(
        activity_list(
            actor=actor,
            filters=ActivityFilters(police_officer_id=actor.pk, unconfirmed=True),
        )[:20]
    )


def activity_get(*, actor, activity_id, action: str = Action.VIEW) -> Activity:
    activity = (
        Activity.objects.visible_to(actor, action)
        .filter(pk=_id(activity_id))
        .select_related("school", "police_officer", "organiser", "created_by")
        .prefetch_related(
            "classes",
            Prefetch(
                "attachments",
                queryset=ActivityAttachment.objects.select_related("uploaded_by").order_by("id"),
            ),
        )
        .first()
    )
    if activity is None:
        raise Http404
    return activity


def attachment_get(*, actor, activity_id, attachment_id) -> ActivityAttachment:
    attachment = (
        ActivityAttachment.objects.visible_to(actor, Action.VIEW)
        .filter(pk=_id(attachment_id), activity_id=_id(activity_id))
        .first()
    )
    if attachment is None or not attachment.file:
        raise Http404
    return attachment


# ------------------------------------------------------------------ drill records


def record_of(activity: Activity) -> DrillRecord | None:
    return (
        DrillRecord.objects.filter(activity_id=activity.pk)
        .select_related("alarm", "alarm__acknowledged_by", "updated_by")
        .prefetch_related(
            Prefetch(
                "problems",
                queryset=DrillProblem.objects.select_related("hazard", "created_by"),
            )
        )
        .first()
    )


def problem_get(*, actor, problem_id) -> DrillProblem:
    problem = (
        DrillProblem.objects.visible_to(actor, Action.VIEW)
        .filter(pk=_id(problem_id))
        .select_related("record__activity__school", "hazard")
        .first()
    )
    if problem is None:
        raise Http404
    return problem


def linkable_alarms(activity: Activity) -> list:
    """The school's drill alarms raised on the drill's day that no drill record links."""
    from huxiao.alarms.models import Alarm

    start = timezone.make_aware(dt.datetime.combine(activity.date, dt.time.min))
    return list(
        Alarm.objects.filter(
            school_id=activity.school_id,
            is_drill=True,
            raised_at__gte=start,
            raised_at__lt=start + dt.timedelta(days=1),
            drill_records__isnull=True,
        ).order_by("raised_at", "id")
    )
