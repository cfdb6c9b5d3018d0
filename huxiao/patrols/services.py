"""Writes of the patrols app: gate-post plans and their shifts, check-ins, the missed-post
sweep, patrol logs, police-post visits and the weekly visit rule.

Every write is atomic and audited in the same transaction; pushes and notifications go out
after commit. Services take `now=` so that tests and the periodic jobs control the clock.
Times of day are local (settings.TIME_ZONE); stored datetimes are aware (ADR 0018).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Min, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from huxiao.audit.services import audit_create, audit_record, audit_update, snapshot
from huxiao.core.names import person_name
from huxiao.core.permissions import require
from huxiao.core.roles import POLICE_KINDS, SCHOOL_KINDS, Action, Role, role_allows
from huxiao.core.scoping import memberships_of
from huxiao.orgs.models import Membership, Organization
from huxiao.patrols import conf, events
from huxiao.patrols.choices import (
    POLICE_STAFF_KINDS,
    VOLUNTEER_KINDS,
    WEEKDAY_LABELS,
    Dress,
    FlagKind,
    PatrolMode,
    Period,
    StaffKind,
)
from huxiao.patrols.models import (
    GatePost,
    GatePostStaff,
    GatePostWindow,
    PatrolLog,
    PoliceVisit,
    PostCheckIn,
    PostShift,
    VisitShortfall,
)
from huxiao.people import validation as v

logger = logging.getLogger(__name__)

# A peak at the gate lasts minutes, not a working day: longer windows are typing mistakes.
MIN_WINDOW = dt.timedelta(minutes=10)
MAX_WINDOW = dt.timedelta(hours=4)
MAX_PATROL = dt.timedelta(hours=24)
MAX_VISIT = dt.timedelta(hours=12)
# A phone's clock may run a little ahead of the server's.
CLOCK_SKEW = dt.timedelta(minutes=5)
PHOTO_TYPES = {
    b"\xff\xd8\xff": ".jpg",
    b"\x89PNG\r\n\x1a\n": ".png",
}


class CheckInRefused(ValidationError):
    """A check-in or check-out refused for a reason the person at the gate must read
    (outside the time window, already checked in, post called off). `code` names it."""

    def __init__(self, message, code: str):
        super().__init__(message, code=code)
        self.reason_code = code


# ------------------------------------------------------------------ time helpers


def local_now(now: dt.datetime | None = None) -> dt.datetime:
    return timezone.localtime(now or timezone.now())


def week_start_of(day: dt.date) -> dt.date:
    """Monday of the day's week (the visit rule's week runs Monday to Sunday)."""
    return day - dt.timedelta(days=day.weekday())


def aware(day: dt.date, time: dt.time) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, time), timezone.get_current_timezone())


def as_aware(value: dt.datetime | None) -> dt.datetime | None:
    """A time given without its offset is local time (like the incident deadlines)."""
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


def _hhmm(value: dt.datetime | dt.time) -> str:
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value)
    return value.strftime("%H:%M")


def _parse_time(value) -> dt.time:
    if isinstance(value, dt.time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    text = str(value or "").strip()
    for fmt in ("%H:%M", "%H:%M:%S"):
        try:
            return dt.datetime.strptime(text, fmt).time()  # noqa: DTZ007 - a time of day
        except ValueError:
            continue
    raise ValidationError(_("Enter a time as HH:MM, e.g. 07:30."), code="time")


# ------------------------------------------------------------------ who stands at a post


def staff_side(user, school) -> str | None:
    """ "police" when the user may staff posts at the school through a police membership of
    its jurisdiction, "guard"/"school" through a membership of the school itself, else None."""
    side = None
    for membership in memberships_of(user):
        org = membership.organization
        if not role_allows(membership.role, Action.STAFF_POST):
            continue
        if org.kind in POLICE_KINDS and org.pk in (school.police_station_id, school.police_post_id):
            return "police"
        if org.kind in SCHOOL_KINDS and org.pk == school.pk:
            side = "guard" if membership.role == Role.GUARD else side or "school"
    return side


def staff_candidates(school) -> list[Membership]:
    """Memberships whose holders may be named as staff of the school's posts."""
    roles = [role for role in Role.values if role_allows(role, Action.STAFF_POST)]
    org_ids = [pk for pk in (school.pk, school.police_station_id, school.police_post_id) if pk]
    return list(
        Membership.objects.filter(
            organization_id__in=org_ids, role__in=roles, is_active=True, user__is_active=True
        )
        .select_related("user", "organization")
        .order_by("organization__kind", "user__last_name", "user__first_name", "user__username")
    )


# ------------------------------------------------------------------ plans


def _clean_windows(windows: Iterable) -> list[tuple[int, dt.time, dt.time]]:
    errors = v.FieldErrors()
    cleaned: dict[int, tuple[dt.time, dt.time]] = {}
    for item in windows or ():
        get = item.get if isinstance(item, dict) else (lambda key, i=item: getattr(i, key, None))
        try:
            weekday = int(get("weekday"))
        except (TypeError, ValueError):
            errors.add("windows", _("Each window needs a weekday (Monday 0 … Sunday 6)."))
            continue
        if not 0 <= weekday <= 6:
            errors.add("windows", _("Each window needs a weekday (Monday 0 … Sunday 6)."))
            continue
        day = WEEKDAY_LABELS[weekday]
        starts = errors.run("windows", _parse_time, get("starts"))
        ends = errors.run("windows", _parse_time, get("ends"))
        if starts is None or ends is None:
            continue
        if weekday in cleaned:
            errors.add("windows", _("%(day)s is given twice.") % {"day": day})
            continue
        length = dt.datetime.combine(dt.date.min, ends) - dt.datetime.combine(dt.date.min, starts)
        if length <= dt.timedelta(0):
            errors.add("windows", _("%(day)s: the end must be after the start.") % {"day": day})
        elif length < MIN_WINDOW:
            errors.add("windows", _("%(day)s: a post lasts at least 10 minutes.") % {"day": day})
        elif length > MAX_WINDOW:
            errors.add("windows", _("%(day)s: a post lasts at most 4 hours.") % {"day": day})
        else:
            cleaned[weekday] = (starts, ends)
    if not cleaned and not errors.errors:
        errors.add("windows", _("Choose at least one weekday with its times."))
    errors.raise_if_any()
    return [(day, *cleaned[day]) for day in sorted(cleaned)]


def _clean_post_fields(errors: v.FieldErrors, location, note) -> dict:
    return {
        "location": errors.run("location", v.clean_text, location, max_length=200, required=True),
        "note": errors.run("note", v.clean_text, note, max_length=2000),
    }


def _post_snapshot(post: GatePost) -> dict:
    data = snapshot(post)
    data["windows"] = [
        f"{w.weekday} {w.starts:%H:%M}-{w.ends:%H:%M}" for w in post.windows.order_by("weekday")
    ]
    return data


@transaction.atomic
def gate_post_create(
    *,
    actor,
    school: Organization,
    period: str,
    location: str,
    windows: Iterable,
    note: str = "",
    now: dt.datetime | None = None,
) -> GatePost:
    """Plan a school's post for one peak. Shifts are generated for the coming days."""
    require(actor, Action.PLAN_POSTS, school.pk)
    if not school.is_school:
        raise ValidationError({"school_id": [_("This organization is not a school.")]})
    errors = v.FieldErrors()
    if period not in Period.values:
        errors.add("period", _("Choose the morning, noon or afternoon peak."))
    cleaned = _clean_post_fields(errors, location, note)
    window_rows = errors.run("windows", _clean_windows, windows)
    errors.raise_if_any()
    if GatePost.objects.filter(school=school, period=period).exists():
        raise ValidationError(
            {"period": [_("This school already has a post for this peak; edit that one.")]}
        )
    post = GatePost.objects.create(school=school, period=period, created_by=actor, **cleaned)
    GatePostWindow.objects.bulk_create(
        GatePostWindow(post=post, weekday=day, starts=starts, ends=ends)
        for day, starts, ends in window_rows
    )
    audit_create(actor=actor, obj=post)
    audit_record(
        actor=actor, action="update", obj=post, changes={"windows": _post_snapshot(post)["windows"]}
    )
    _post_resync(post, now=now)
    return post


@transaction.atomic
def gate_post_update(
    *,
    actor,
    post: GatePost,
    location: str,
    windows: Iterable,
    note: str = "",
    is_active: bool = True,
    now: dt.datetime | None = None,
) -> GatePost:
    """Change where and when the post is held. Past and started shifts keep the plan they
    were held under; the coming ones are regenerated."""
    require(actor, Action.PLAN_POSTS, post.school_id)
    post = GatePost.objects.select_for_update(of=("self",)).get(pk=post.pk)
    errors = v.FieldErrors()
    cleaned = _clean_post_fields(errors, location, note)
    window_rows = errors.run("windows", _clean_windows, windows)
    errors.raise_if_any()
    before = _post_snapshot(post)
    post.location, post.note, post.is_active = cleaned["location"], cleaned["note"], bool(is_active)
    post.save(update_fields=["location", "note", "is_active", "updated_at"])
    post.windows.all().delete()
    GatePostWindow.objects.bulk_create(
        GatePostWindow(post=post, weekday=day, starts=starts, ends=ends)
        for day, starts, ends in window_rows
    )
    after = _post_snapshot(post)
    changed = {k: [before.get(k), after.get(k)] for k in after if before.get(k) != after.get(k)}
    changed.pop("updated_at", None)
    if changed:
        audit_record(actor=actor, action="update", obj=post, changes={"fields": changed})
    _post_resync(post, now=now)
    return post


def _clean_weekdays(weekdays) -> str:
    if weekdays is None or weekdays == "":
        return ""
    if isinstance(weekdays, str):
        weekdays = list(weekdays)
    days = set()
    for day in weekdays:
        try:
            number = int(day)
        except (TypeError, ValueError):
            raise ValidationError(
                _("Weekdays are 0 (Monday) to 6 (Sunday)."), code="weekday"
            ) from None
        if not 0 <= number <= 6:
            raise ValidationError(_("Weekdays are 0 (Monday) to 6 (Sunday)."), code="weekday")
        days.add(number)
    return "".join(str(d) for d in sorted(days))


@transaction.atomic
def gate_post_staff_add(
    *,
    actor,
    post: GatePost,
    kind: str,
    user=None,
    name: str = "",
    phone: str = "",
    weekdays=None,
    now: dt.datetime | None = None,
) -> GatePostStaff:
    """Name who staffs the post: a user who may staff posts at the school (a police officer
    of its jurisdiction, a guard or leader of the school), or a person without an account."""
    require(actor, Action.PLAN_POSTS, post.school_id)
    school = post.school
    errors = v.FieldErrors()
    if kind not in StaffKind.values:
        errors.add("kind", _("Choose who staffs the post."))
    clean_name = ""
    if user is None:
        clean_name = errors.run("name", v.clean_name, name) or ""
    else:
        if kind in VOLUNTEER_KINDS:
            errors.add("user_id", _("Volunteers and militia are named, not linked to an account."))
        side = staff_side(user, school)
        if side is None:
            errors.add("user_id", _("This person cannot staff posts at this school."))
        elif kind in POLICE_STAFF_KINDS and side != "police":
            errors.add("user_id", _("Police staff must be officers of the school's police."))
        elif kind not in POLICE_STAFF_KINDS and side == "police":
            errors.add("kind", _("A police officer staffs the post as police."))
        elif GatePostStaff.objects.filter(post=post, user=user, is_active=True).exists():
            errors.add("user_id", _("This person already staffs this post."))
    clean_phone = errors.run("phone", v.clean_phone, phone, required=False) or ""
    clean_days = errors.run("weekdays", _clean_weekdays, weekdays) or ""
    errors.raise_if_any()
    staff = GatePostStaff.objects.create(
        post=post, kind=kind, user=user, name=clean_name, phone=clean_phone, weekdays=clean_days
    )
    audit_create(actor=actor, obj=staff)
    _post_resync(post, now=now)
    return staff


@transaction.atomic
def gate_post_staff_remove(*, actor, staff: GatePostStaff, now=None) -> GatePostStaff:
    """Take someone off the post; their past check-ins stay."""
    require(actor, Action.PLAN_POSTS, staff.post.school_id)
    if not staff.is_active:
        return staff
    before = snapshot(staff)
    staff.is_active = False
    staff.save(update_fields=["is_active"])
    audit_update(actor=actor, obj=staff, before=before)
    _post_resync(staff.post, now=now)
    return staff


# ------------------------------------------------------------------ shifts


def _expects_police(staff_rows, weekday: int) -> bool:
    return any(s.kind in POLICE_STAFF_KINDS and s.stands_on(weekday) for s in staff_rows)


def _shift_for(post, window, day: dt.date, staff_rows) -> PostShift:
    return PostShift(
        post=post,
        school_id=post.school_id,
        period=post.period,
        date=day,
        week_start=week_start_of(day),
        starts_at=aware(day, window.starts),
        ends_at=aware(day, window.ends),
        expects_police=_expects_police(staff_rows, day.weekday()),
    )


def shifts_ensure(
    *,
    first_day: dt.date,
    last_day: dt.date,
    posts: Iterable[GatePost] | None = None,
    school_ids: Iterable[int] | None = None,
) -> int:
    """Create the missing shifts of active posts between the two days (both included).
    Idempotent; existing shifts are left as they are. Returns how many were created."""
    if last_day < first_day:
        return 0
    if posts is None:
        qs = GatePost.objects.filter(is_active=True)
        if school_ids is not None:
            qs = qs.filter(school_id__in=list(school_ids))
        posts = list(qs.prefetch_related("windows", "staff"))
    posts = [p for p in posts if p.is_active]
    if not posts:
        return 0
    existing = set(
        PostShift.objects.filter(
            post__in=[p.pk for p in posts], date__gte=first_day, date__lte=last_day
        ).values_list("post_id", "date")
    )
    new = []
    for post in posts:
        windows = {w.weekday: w for w in post.windows.all()}
        staff_rows = [s for s in post.staff.all() if s.is_active]
        day = first_day
        while day <= last_day:
            window = windows.get(day.weekday())
            if window is not None and (post.pk, day) not in existing:
                new.append(_shift_for(post, window, day, staff_rows))
            day += dt.timedelta(days=1)
    # Two sweeps may race: the unique (post, date) keeps one shift.
    PostShift.objects.bulk_create(new, ignore_conflicts=True, batch_size=1000)
    return len(new)


def _post_resync(post: GatePost, *, now=None) -> None:
    """After a plan change: shifts not yet started and without check-ins are regenerated
    from the new plan; started ones keep what they were held under."""
    now = now or timezone.now()
    (
        PostShift.objects.filter(post=post, starts_at__gt=now, cancelled_at__isnull=True)
        .annotate(n=Count("check_ins"))
        .filter(n=0)
        .delete()
    )
    if not post.is_active:
        return
    today = local_now(now).date()
    post = GatePost.objects.prefetch_related("windows", "staff").get(pk=post.pk)
    shifts_ensure(
        first_day=today, last_day=today + dt.timedelta(days=conf.shift_horizon_days()), posts=[post]
    )


def shift_for_today(post: GatePost, *, now=None) -> PostShift | None:
    """Today's shift of the post (created when the plan holds it today), else None."""
    today = local_now(now).date()
    shift = PostShift.objects.filter(post=post, date=today).first()
    if shift is not None or not post.is_active:
        return shift
    if not post.windows.filter(weekday=today.weekday()).exists():
        return None
    shifts_ensure(
        first_day=today,
        last_day=today,
        posts=[GatePost.objects.prefetch_related("windows", "staff").get(pk=post.pk)],
    )
    return PostShift.objects.filter(post=post, date=today).first()


@transaction.atomic
def shift_cancel(*, actor, shift: PostShift, reason: str, now=None) -> PostShift:
    """Call a shift off (a holiday, a class suspension): it leaves coverage and is never
    flagged. Check-ins already made stay."""
    require(actor, Action.PLAN_POSTS, shift.school_id)
    shift = PostShift.objects.select_for_update(of=("self",)).get(pk=shift.pk)
    errors = v.FieldErrors()
    text = errors.run("reason", v.clean_text, reason, max_length=200, required=True)
    errors.raise_if_any()
    if shift.cancelled_at is not None:
        return shift
    shift.cancelled_at, shift.cancel_reason, shift.cancelled_by = now or timezone.now(), text, actor
    shift.save(update_fields=["cancelled_at", "cancel_reason", "cancelled_by"])
    audit_record(
        actor=actor, action="update", obj=shift, changes={"cancelled": True, "reason": text}
    )
    return shift


# ------------------------------------------------------------------ check-in and out


def _clean_location(errors: v.FieldErrors, latitude, longitude, accuracy_m) -> dict:
    if latitude in (None, "") and longitude in (None, ""):
        return {"latitude": None, "longitude": None, "accuracy_m": None}
    values = {}
    for field, value, limit in (("latitude", latitude, 90), ("longitude", longitude, 180)):
        try:
            number = Decimal(str(value)).quantize(Decimal("0.000001"))
        except (InvalidOperation, ValueError):
            errors.add(field, _("Not a valid coordinate."))
            continue
        if not number.is_finite() or abs(number) > limit:
            errors.add(field, _("Not a valid coordinate."))
            continue
        values[field] = number
    accuracy = None
    if accuracy_m not in (None, ""):
        try:
            accuracy = round(float(accuracy_m))
        except (TypeError, ValueError, OverflowError):
            errors.add("accuracy_m", _("Not a valid accuracy."))
        else:
            if not 0 <= accuracy <= 100_000:
                errors.add("accuracy_m", _("Not a valid accuracy."))
    if len(values) == 1:
        errors.add("longitude", _("Give both latitude and longitude, or neither."))
    return {"latitude": None, "longitude": None, **values, "accuracy_m": accuracy}


def clean_photo(photo):
    """A JPEG or PNG from the phone's camera, at most PATROL_PHOTO_MAX_BYTES."""
    if not photo:
        return None
    size = getattr(photo, "size", 0) or 0
    if size > conf.photo_max_bytes():
        raise ValidationError(
            _("The photo is too large (at most %(mb)s MB).")
            % {"mb": conf.photo_max_bytes() // (1024 * 1024)},
            code="photo_size",
        )
    head = photo.read(16)
    photo.seek(0)
    for magic, _suffix in PHOTO_TYPES.items():
        if head.startswith(magic):
            return photo
    raise ValidationError(_("The photo must be a JPEG or PNG image."), code="photo_type")


def _photo_name(photo) -> str:
    head = photo.read(16)
    photo.seek(0)
    suffix = next((s for m, s in PHOTO_TYPES.items() if head.startswith(m)), ".jpg")
    return f"checkin{suffix}"


def _refresh_shift(shift: PostShift) -> None:
    """Recompute what the shift achieved from its check-ins (one query)."""
    police = Q(kind__in=list(POLICE_STAFF_KINDS))
    agg = shift.check_ins.aggregate(
        n=Count("pk"),
        police=Count("pk", filter=police),
        car=Count("pk", filter=police & Q(vehicle_present=True)),
        lights=Count("pk", filter=police & Q(vehicle_present=True, lights_on=True)),
        first=Min("checked_in_at"),
        police_first=Min("checked_in_at", filter=police),
    )
    shift.staffed = agg["n"] > 0
    shift.police_present = agg["police"] > 0
    shift.police_car = agg["car"] > 0
    shift.police_lights = agg["lights"] > 0
    shift.first_check_in_at = agg["first"]
    shift.police_arrived_at = agg["police_first"]
    arrival = shift.arrived_at
    shift.arrived_late = arrival is not None and arrival > shift.starts_at + conf.late_grace()
    shift.save(
        update_fields=[
            "staffed",
            "police_present",
            "police_car",
            "police_lights",
            "first_check_in_at",
            "police_arrived_at",
            "arrived_late",
        ]
    )


def _resolve_staff(actor, post: GatePost, staff: GatePostStaff | None):
    """(staff row or None, kind, name, on_behalf) of the person checking in."""
    if staff is not None:
        if staff.post_id != post.pk or not staff.is_active:
            raise ValidationError({"staff_id": [_("This person does not staff this post.")]})
        if staff.user_id is not None and staff.user_id != actor.pk:
            raise ValidationError(
                {
                    "staff_id": [
                        _("%(name)s has an account and checks in on their own phone.")
                        % {"name": staff.display_name}
                    ]
                }
            )
        if staff.user_id is None:
            return staff, staff.kind, staff.name, True
        return staff, staff.kind, person_name(actor), False
    own = GatePostStaff.objects.filter(post=post, user=actor, is_active=True).first()
    if own is not None:
        return own, own.kind, person_name(actor), False
    side = staff_side(actor, post.school)
    kind = {
        "police": StaffKind.POLICE,
        "guard": StaffKind.GUARD,
    }.get(side, StaffKind.SCHOOL_STAFF)
    return None, kind, person_name(actor), False


def post_check_in(
    *,
    actor,
    post: GatePost,
    staff: GatePostStaff | None = None,
    vehicle_present: bool = False,
    lights_on: bool = False,
    latitude=None,
    longitude=None,
    accuracy_m=None,
    photo=None,
    note: str = "",
    now: dt.datetime | None = None,
) -> PostCheckIn:
    """Check in at today's shift of the post.

    Refused (CheckInRefused, with the reason) before start − PATROL_CHECKIN_EARLY_MINUTES,
    after the end, on a day the post is not held or was called off, for an inactive post,
    and when the person is already checked in. The caller has fetched the post through
    `visible_to(actor, staff_post)`, so another station's or school's post was a 404.
    """
    require(actor, Action.STAFF_POST, post.school_id)
    now = now or timezone.now()
    errors = v.FieldErrors()
    location = _clean_location(errors, latitude, longitude, accuracy_m)
    clean_note = errors.run("note", v.clean_text, note, max_length=500) or ""
    photo = errors.run("photo", clean_photo, photo)
    errors.raise_if_any()
    staff, kind, name, on_behalf = _resolve_staff(actor, post, staff)
    if kind not in POLICE_STAFF_KINDS and (vehicle_present or lights_on):
        raise ValidationError(
            {"vehicle_present": [_("Only police staff record a police car and its lights.")]}
        )
    if lights_on and not vehicle_present:
        raise ValidationError(
            {"lights_on": [_("Lights are the police car's: tick “police car at the post” too.")]}
        )
    if not post.is_active:
        raise CheckInRefused(_("This gate post is not active."), "inactive")
    shift = shift_for_today(post, now=now)
    if shift is None:
        raise CheckInRefused(
            _("This post is not held today (%(day)s).")
            % {"day": WEEKDAY_LABELS[local_now(now).weekday()]},
            "not_today",
        )
    with transaction.atomic():
        shift = (
            PostShift.objects.select_for_update(of=("self",))
            .select_related("school")
            .get(pk=shift.pk)
        )
        _check_window(shift, now)
        _check_not_twice(shift, actor, staff, on_behalf)
        check_in = PostCheckIn(
            shift=shift,
            school_id=shift.school_id,
            user=actor,
            staff=staff,
            on_behalf=on_behalf,
            kind=kind,
            person_name=name[:50],
            checked_in_at=now,
            is_late=now > shift.starts_at + conf.late_grace(),
            vehicle_present=bool(vehicle_present),
            lights_on=bool(lights_on),
            note=clean_note,
            **location,
        )
        if photo:
            check_in.photo.save(_photo_name(photo), photo, save=False)
        try:
            with transaction.atomic():
                check_in.save()
        except IntegrityError:
            raise CheckInRefused(_("Already checked in at this post today."), "duplicate") from None
        _refresh_shift(shift)
        audit_create(actor=actor, obj=check_in)
        events.publish_check_in(check_in, shift, events.CHECK_IN)
    return check_in


def _check_window(shift: PostShift, now: dt.datetime) -> None:
    if shift.cancelled_at is not None:
        raise CheckInRefused(
            _("This post was called off for today: %(reason)s") % {"reason": shift.cancel_reason},
            "cancelled",
        )
    opens = shift.starts_at - conf.checkin_early()
    if now < opens:
        raise CheckInRefused(
            _(
                "Too early: check-in opens at %(opens)s, %(minutes)s minutes before the post "
                "starts at %(starts)s."
            )
            % {
                "opens": _hhmm(opens),
                "minutes": int(conf.checkin_early().total_seconds() // 60),
                "starts": _hhmm(shift.starts_at),
            },
            "too_early",
        )
    if now > shift.ends_at:
        raise CheckInRefused(
            _("The post ended at %(ends)s; check-in is closed.") % {"ends": _hhmm(shift.ends_at)},
            "too_late",
        )


def _check_not_twice(shift, actor, staff, on_behalf) -> None:
    if on_behalf:
        earlier = shift.check_ins.filter(staff=staff).first()
        if earlier is not None:
            raise CheckInRefused(
                _("%(name)s was already checked in at %(time)s.")
                % {"name": earlier.person_name, "time": _hhmm(earlier.checked_in_at)},
                "duplicate",
            )
        return
    earlier = shift.check_ins.filter(user=actor, on_behalf=False).first()
    if earlier is not None:
        raise CheckInRefused(
            _("You already checked in at %(time)s.") % {"time": _hhmm(earlier.checked_in_at)},
            "duplicate",
        )


def _may_change(actor, check_in: PostCheckIn) -> None:
    if check_in.user_id != getattr(actor, "pk", None):
        raise PermissionDenied(_("Only the person who checked in may change this check-in."))


def _check_changes_open(check_in: PostCheckIn, now) -> None:
    closes = check_in.shift.ends_at + conf.checkout_grace()
    if now > closes:
        raise CheckInRefused(
            _("The post ended at %(ends)s; this check-in can no longer be changed.")
            % {"ends": _hhmm(check_in.shift.ends_at)},
            "closed",
        )


@transaction.atomic
def post_check_out(*, actor, check_in: PostCheckIn, now=None) -> PostCheckIn:
    """Leave the post. Open until PATROL_CHECKOUT_GRACE_MINUTES after its end."""
    now = now or timezone.now()
    check_in = (
        PostCheckIn.objects.select_for_update(of=("self",))
        .select_related("shift__school")
        .get(pk=check_in.pk)
    )
    _may_change(actor, check_in)
    if check_in.checked_out_at is not None:
        raise CheckInRefused(
            _("Already checked out at %(time)s.") % {"time": _hhmm(check_in.checked_out_at)},
            "duplicate",
        )
    _check_changes_open(check_in, now)
    before = snapshot(check_in)
    check_in.checked_out_at = max(now, check_in.checked_in_at)
    check_in.save(update_fields=["checked_out_at"])
    audit_update(actor=actor, obj=check_in, before=before)
    events.publish_check_in(check_in, check_in.shift, events.CHECK_OUT)
    return check_in


@transaction.atomic
def post_check_in_update(
    *, actor, check_in: PostCheckIn, vehicle_present: bool, lights_on: bool, note=None, now=None
) -> PostCheckIn:
    """Correct the police car and lights (the car came later) or the note."""
    now = now or timezone.now()
    check_in = (
        PostCheckIn.objects.select_for_update(of=("self",))
        .select_related("shift__school")
        .get(pk=check_in.pk)
    )
    _may_change(actor, check_in)
    _check_changes_open(check_in, now)
    if not check_in.is_police and (vehicle_present or lights_on):
        raise ValidationError(
            {"vehicle_present": [_("Only police staff record a police car and its lights.")]}
        )
    if lights_on and not vehicle_present:
        raise ValidationError(
            {"lights_on": [_("Lights are the police car's: tick “police car at the post” too.")]}
        )
    before = snapshot(check_in)
    check_in.vehicle_present, check_in.lights_on = bool(vehicle_present), bool(lights_on)
    fields = ["vehicle_present", "lights_on"]
    if note is not None:
        errors = v.FieldErrors()
        check_in.note = errors.run("note", v.clean_text, note, max_length=500) or ""
        errors.raise_if_any()
        fields.append("note")
    check_in.save(update_fields=fields)
    shift = PostShift.objects.select_for_update(of=("self",)).get(pk=check_in.shift_id)
    _refresh_shift(shift)
    audit_update(actor=actor, obj=check_in, before=before)
    events.publish_check_in(check_in, shift, events.CHECK_IN_UPDATED)
    return check_in


@transaction.atomic
def post_check_in_photo(*, actor, check_in: PostCheckIn, photo, now=None) -> PostCheckIn:
    """Add or replace the photo of one's check-in while it may still be changed."""
    now = now or timezone.now()
    _may_change(actor, check_in)
    _check_changes_open(check_in, now)
    errors = v.FieldErrors()
    photo = errors.run("photo", clean_photo, photo)
    if photo is None and "photo" not in errors.errors:
        errors.add("photo", _("Choose a photo."))
    errors.raise_if_any()
    check_in.photo.save(_photo_name(photo), photo, save=False)
    check_in.save(update_fields=["photo"])
    audit_record(actor=actor, action="update", obj=check_in, changes={"photo": "attached"})
    return check_in


# ------------------------------------------------------------------ missed and late posts


def _station_commanders(station_id: int | None) -> list:
    if not station_id:
        return []
    return [
        m.user
        for m in Membership.objects.filter(
            organization_id=station_id,
            role=Role.POLICE_COMMANDER,
            is_active=True,
            user__is_active=True,
        ).select_related("user")
    ]


def _notify_station(*, school, event_type, title, body, payload, dedupe_key) -> None:
    from django.apps import apps

    if not apps.is_installed("huxiao.notify") or not school.police_station_id:
        return
    from huxiao.notify.services import notify_send

    notify_send(
        organizations=[school.police_station_id],
        event_type=event_type,
        title=title,
        body=body,
        payload=payload,
        recipients=_station_commanders(school.police_station_id),
        dedupe_key=dedupe_key,
    )


def _flag_message(shift: PostShift, kind: str):
    """(title, body) of a flag, each a whole sentence so that it translates well."""
    names = {"school": shift.school.name, "period": Period(shift.period).label}
    arrival = shift.arrived_at
    if kind == FlagKind.MISSED:
        title = _("Gate post missed: %(school)s, %(period)s") % names
        if shift.expects_police:
            body = _(
                "%(day)s %(period)s post (%(starts)s–%(ends)s, %(location)s) ended with no police checked in."
            )
        else:
            body = _(
                "%(day)s %(period)s post (%(starts)s–%(ends)s, %(location)s) ended with nobody checked in."
            )
    else:
        title = _("Gate post not staffed in time: %(school)s, %(period)s") % names
        if arrival is not None and shift.expects_police:
            body = _(
                "%(day)s %(period)s post (%(starts)s–%(ends)s, %(location)s): police arrived at %(time)s, more than %(minutes)s minutes after the start."
            )
        elif arrival is not None:
            body = _(
                "%(day)s %(period)s post (%(starts)s–%(ends)s, %(location)s): the first person arrived at %(time)s, more than %(minutes)s minutes after the start."
            )
        elif shift.expects_police:
            body = _(
                "%(day)s %(period)s post (%(starts)s–%(ends)s, %(location)s): no police checked in %(minutes)s minutes after the start."
            )
        else:
            body = _(
                "%(day)s %(period)s post (%(starts)s–%(ends)s, %(location)s): nobody checked in %(minutes)s minutes after the start."
            )
    body = body % {
        "day": date_format(shift.date, "Y-m-d"),
        "period": names["period"],
        "starts": _hhmm(shift.starts_at),
        "ends": _hhmm(shift.ends_at),
        "location": shift.post.location,
        "time": _hhmm(arrival) if arrival is not None else "",
        "minutes": int(conf.late_grace().total_seconds() // 60),
    }
    return title, body


def _flag_shift(shift: PostShift, kind: str, now: dt.datetime) -> None:
    field = f"{kind}_flagged_at"
    setattr(shift, field, now)
    shift.save(update_fields=[field])
    audit_record(actor=None, action="update", obj=shift, changes={"flag": str(kind)})
    title, body = _flag_message(shift, kind)
    _notify_station(
        school=shift.school,
        event_type=f"patrols.post_{kind}",
        title=title,
        body=body,
        payload={"shift_id": shift.pk, "school_id": shift.school_id, "flag": str(kind)},
        dedupe_key=f"patrols:shift:{shift.pk}:{kind}",
    )


def _not_arrived() -> Q:
    return Q(expects_police=True, police_arrived_at__isnull=True) | Q(
        expects_police=False, first_check_in_at__isnull=True
    )


def post_flags_sweep(*, now: dt.datetime | None = None) -> dict[str, list[int]]:
    """Tell the station about posts nobody (no police, where police are planned) stood:
    - "late": at start + PATROL_LATE_GRACE_MINUTES the counted arrival is missing or later;
    - "missed": at the end nobody counted has checked in.
    Each shift is flagged at most once per kind (the flag time on the shift, the notification's
    dedupe key); called-off shifts and shifts older than the look-back are left alone."""
    now = now or timezone.now()
    today = local_now(now).date()
    shifts_ensure(first_day=today, last_day=today)
    grace = conf.late_grace()
    horizon = now - conf.flag_lookback()
    base = PostShift.objects.filter(cancelled_at__isnull=True, starts_at__gte=horizon)
    flagged: dict[str, list[int]] = {FlagKind.LATE: [], FlagKind.MISSED: []}
    # A shift that ended with nobody is "missed"; telling "not staffed" as well is noise.
    late_ids = list(
        base.filter(late_flagged_at__isnull=True, starts_at__lte=now - grace)
        .filter((_not_arrived() & Q(ends_at__gt=now)) | Q(arrived_late=True))
        .values_list("pk", flat=True)
    )
    missed_ids = list(
        base.filter(missed_flagged_at__isnull=True, ends_at__lte=now)
        .filter(_not_arrived())
        .values_list("pk", flat=True)
    )
    for kind, ids in ((FlagKind.LATE, late_ids), (FlagKind.MISSED, missed_ids)):
        for pk in ids:
            with transaction.atomic():
                shift = (
                    PostShift.objects.select_for_update(of=("self",))
                    .select_related("school", "post")
                    .get(pk=pk)
                )
                if getattr(shift, f"{kind}_flagged_at") is not None or shift.cancelled_at:
                    continue
                if kind == FlagKind.LATE and not (
                    (shift.arrived_at is None and shift.ends_at > now)
                    or (shift.arrived_at is not None and shift.arrived_at > shift.starts_at + grace)
                ):
                    continue
                if kind == FlagKind.MISSED and shift.arrived_at is not None:
                    continue
                _flag_shift(shift, kind, now)
                flagged[kind].append(pk)
    return {str(k): ids for k, ids in flagged.items()}


# ------------------------------------------------------------------ patrol logs


def _clean_span(
    errors: v.FieldErrors, fields, started_at, ended_at, *, now, max_length, backdate_days
) -> None:
    """Checks a start and an optional end; `fields` names them in the error messages."""
    start_field, end_field = fields
    if started_at is None:
        errors.add(start_field, _("This field is required."))
        return
    for field, value in ((start_field, started_at), (end_field, ended_at)):
        if value is None:
            continue
        if value > now + CLOCK_SKEW:
            errors.add(field, _("This time is in the future."))
        elif value < now - dt.timedelta(days=backdate_days):
            errors.add(field, _("At most %(days)s days back.") % {"days": backdate_days})
    if errors.errors or ended_at is None:
        return
    if ended_at < started_at:
        errors.add(end_field, _("The end must not be before the start."))
    elif ended_at - started_at > max_length:
        errors.add(
            end_field,
            _("At most %(hours)s hours.") % {"hours": int(max_length.total_seconds() // 3600)},
        )


def _schools_for(actor, action, school_ids) -> list[Organization]:
    ids = []
    for raw in school_ids or ():
        try:
            ids.append(int(getattr(raw, "pk", raw)))
        except (TypeError, ValueError):
            raise ValidationError({"school_ids": [_("Unknown or inaccessible record.")]}) from None
    if not ids:
        raise ValidationError({"school_ids": [_("Choose the schools the patrol passed.")]})
    schools = list(Organization.objects.visible_to(actor, action).filter(pk__in=ids).schools())
    if len(schools) != len(set(ids)):
        raise ValidationError({"school_ids": [_("Unknown or inaccessible record.")]})
    return schools


@transaction.atomic
def patrol_log_create(
    *,
    actor,
    started_at: dt.datetime,
    ended_at: dt.datetime,
    mode: str,
    dress: str,
    route: str,
    school_ids: Iterable,
    companions: str = "",
    findings: str = "",
    suspicious_checked: int = 0,
    suspicious_notes: str = "",
    now=None,
) -> PatrolLog:
    """Log a patrol around schools of the officer's jurisdiction (§2 10)."""
    now = now or timezone.now()
    started_at, ended_at = as_aware(started_at), as_aware(ended_at)
    schools = _schools_for(actor, Action.LOG_PATROL, school_ids)
    errors = v.FieldErrors()
    if mode not in PatrolMode.values:
        errors.add("mode", _("Choose car, foot or both."))
    if dress not in Dress.values:
        errors.add("dress", _("Choose uniform, plain clothes or both."))
    if ended_at is None:
        errors.add("ended_at", _("This field is required."))
    _clean_span(
        errors,
        ("started_at", "ended_at"),
        started_at,
        ended_at,
        now=now,
        max_length=MAX_PATROL,
        backdate_days=conf.visit_backdate_days(),
    )
    cleaned = {
        "route": errors.run("route", v.clean_text, route, max_length=500, required=True),
        "companions": errors.run("companions", v.clean_text, companions, max_length=200),
        "findings": errors.run("findings", v.clean_text, findings, max_length=4000),
        "suspicious_notes": errors.run(
            "suspicious_notes", v.clean_text, suspicious_notes, max_length=4000
        ),
    }
    try:
        checked = int(suspicious_checked or 0)
    except (TypeError, ValueError):
        checked = -1
    if not 0 <= checked <= 9999:
        errors.add("suspicious_checked", _("Enter a number from 0 to 9999."))
    elif checked and not cleaned["suspicious_notes"]:
        errors.add("suspicious_notes", _("Say whom you checked and with what outcome."))
    errors.raise_if_any()
    log = PatrolLog.objects.create(
        officer=actor,
        started_at=started_at,
        ended_at=ended_at,
        mode=mode,
        dress=dress,
        suspicious_checked=checked,
        **cleaned,
    )
    log.schools.set(schools)
    audit_record(
        actor=actor,
        action="create",
        obj=log,
        school=schools[0].pk,
        changes={"after": {**snapshot(log), "schools": [s.pk for s in schools]}},
    )
    return log


# ------------------------------------------------------------------ police-post visits


def _visit_notes(
    information_collected, guidance_given, problems_found
) -> tuple[dict, v.FieldErrors]:
    errors = v.FieldErrors()
    notes = {
        "information_collected": errors.run(
            "information_collected", v.clean_text, information_collected, max_length=4000
        ),
        "guidance_given": errors.run(
            "guidance_given", v.clean_text, guidance_given, max_length=4000
        ),
        "problems_found": errors.run(
            "problems_found", v.clean_text, problems_found, max_length=4000
        ),
    }
    return notes, errors


@transaction.atomic
def police_visit_create(
    *,
    actor,
    school: Organization,
    arrived_at: dt.datetime | None = None,
    left_at: dt.datetime | None = None,
    information_collected: str = "",
    guidance_given: str = "",
    problems_found: str = "",
    now=None,
) -> PoliceVisit:
    """Record an officer's work at a school: arriving now (and closing it later), or a
    finished visit logged afterwards (then what was done is required)."""
    require(actor, Action.LOG_PATROL, school.pk)
    if not school.is_school:
        raise ValidationError({"school_id": [_("This organization is not a school.")]})
    now = now or timezone.now()
    arrived_at, left_at = as_aware(arrived_at) or now, as_aware(left_at)
    notes, errors = _visit_notes(information_collected, guidance_given, problems_found)
    _clean_span(
        errors,
        ("arrived_at", "left_at"),
        arrived_at,
        left_at,
        now=now,
        max_length=MAX_VISIT,
        backdate_days=conf.visit_backdate_days(),
    )
    if left_at is not None and not any(notes.values()):
        errors.add(
            "information_collected", _("Say what was done: information, guidance or problems.")
        )
    errors.raise_if_any()
    # One visit open at a time per officer and school; a finished visit logged afterwards
    # is always accepted.
    open_visit = (
        PoliceVisit.objects.filter(officer=actor, school=school, left_at__isnull=True).first()
        if left_at is None
        else None
    )
    if open_visit is not None:
        raise ValidationError(
            {
                "school_id": [
                    _("You have an open visit at this school since %(time)s; close it first.")
                    % {"time": date_format(timezone.localtime(open_visit.arrived_at), "Y-m-d H:i")}
                ]
            }
        )
    visit = PoliceVisit.objects.create(
        school=school, officer=actor, arrived_at=arrived_at, left_at=left_at, **notes
    )
    audit_create(actor=actor, obj=visit)
    return visit


@transaction.atomic
def police_visit_complete(
    *,
    actor,
    visit: PoliceVisit,
    left_at: dt.datetime | None = None,
    information_collected: str = "",
    guidance_given: str = "",
    problems_found: str = "",
    now=None,
) -> PoliceVisit:
    """Close one's visit: when the officer left and what was done."""
    visit = PoliceVisit.objects.select_for_update(of=("self",)).get(pk=visit.pk)
    if visit.officer_id != getattr(actor, "pk", None):
        raise PermissionDenied(_("Only the officer who made the visit may complete it."))
    require(actor, Action.LOG_PATROL, visit.school_id)
    now = now or timezone.now()
    left_at = as_aware(left_at) or now
    notes, errors = _visit_notes(information_collected, guidance_given, problems_found)
    if not any(notes.values()):
        errors.add(
            "information_collected", _("Say what was done: information, guidance or problems.")
        )
    if left_at > now + CLOCK_SKEW:
        errors.add("left_at", _("This time is in the future."))
    elif left_at < visit.arrived_at:
        errors.add("left_at", _("The end must not be before the start."))
    elif left_at - visit.arrived_at > MAX_VISIT:
        errors.add("left_at", _("At most %(hours)s hours.") % {"hours": 12})
    errors.raise_if_any()
    before = snapshot(visit)
    visit.left_at = left_at
    for field, value in notes.items():
        setattr(visit, field, value)
    visit.save(update_fields=["left_at", *notes])
    audit_update(actor=actor, obj=visit, before=before)
    return visit


def _schools_under_rule():
    return Organization.objects.schools().filter(is_active=True, police_station__isnull=False)


def visits_flag_shortfalls(*, now: dt.datetime | None = None) -> list[VisitShortfall]:
    """The ≥ 2 visits a week rule (Monday–Sunday, local). From Friday PATROL_VISIT_FLAG_TIME
    (09:00) to the end of Sunday, each school with fewer visits so far this week is flagged
    to its station commander, once per school and week. Before that, nothing happens."""
    now = now or timezone.now()
    local = local_now(now)
    flag_day, flag_time = conf.visit_flag_weekday(), conf.visit_flag_time()
    if local.weekday() < flag_day or (local.weekday() == flag_day and local.time() < flag_time):
        return []
    week_start = week_start_of(local.date())
    week_begins = aware(week_start, dt.time(0, 0))
    required = conf.visits_required()
    counts = dict(
        PoliceVisit.objects.filter(arrived_at__gte=week_begins, arrived_at__lte=now)
        .values_list("school_id")
        .annotate(n=Count("pk"))
        .values_list("school_id", "n")
    )
    already = set(
        VisitShortfall.objects.filter(week_start=week_start).values_list("school_id", flat=True)
    )
    flagged = []
    for school in _schools_under_rule().exclude(pk__in=already).order_by("pk"):
        visits = counts.get(school.pk, 0)
        if visits >= required:
            continue
        try:
            with transaction.atomic():
                shortfall = VisitShortfall.objects.create(
                    school=school,
                    week_start=week_start,
                    visits_counted=visits,
                    required=required,
                    flagged_at=now,
                )
                audit_create(actor=None, obj=shortfall)
                _notify_station(
                    school=school,
                    event_type="patrols.visits_short",
                    title=_("Police-post visits short: %(school)s") % {"school": school.name},
                    body=_(
                        "%(school)s has had %(visits)s of the %(required)s police-post visits "
                        "required in the week from %(week)s."
                    )
                    % {
                        "school": school.name,
                        "visits": visits,
                        "required": required,
                        "week": week_start.isoformat(),
                    },
                    payload={
                        "school_id": school.pk,
                        "week_start": week_start.isoformat(),
                        "visits": visits,
                    },
                    dedupe_key=f"patrols:visits:{school.pk}:{week_start.isoformat()}",
                )
        except IntegrityError:
            # A concurrent run flagged it first.
            continue
        flagged.append(shortfall)
    return flagged
