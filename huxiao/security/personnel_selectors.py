"""Reads of a school's security personnel (issue 7 item 1; ADR 0028 "Personnel"): the
guards, security officers and dormitory managers (`people.Staff` of those posts) with their
security record (`GuardProfile`), trainings and status badges.

Everyone with VIEW on the school reads (its own staff, the police station of the
jurisdiction, the town's offices, the county); MANAGE_SECURITY changes (principal, security
officer). A school out of scope, or a staff member of another post, is "not found"; a user
who sees no school at all gets 403.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huxiao.core.roles import SCHOOL_KINDS, Action
from huxiao.core.scoping import can, visible_school_ids
from huxiao.orgs.models import Organization
from huxiao.people.choices import BackgroundCheck, StaffRole
from huxiao.people.models import Staff
from huxiao.security.choices import Employment
from huxiao.security.models import GuardProfile, TrainingRecord

# The posts of the security roster (§1 二(一), §2 4–6; boarding schools add dormitory managers).
SECURITY_POSTS = (StaffRole.GUARD, StaffRole.SECURITY_OFFICER, StaffRole.DORMITORY_MANAGER)
# The guard certificate (保安员证) and the filing with the police concern guards; a security
# officer or dormitory manager is a school employee without the security-service licence.
LICENSED_POSTS = (StaffRole.GUARD,)
EXPIRY_WARNING_DAYS = 30
TRAINING_PERIOD_DAYS = 365


def local_today(now: dt.datetime | None = None) -> dt.date:
    return timezone.localtime(now or timezone.now()).date()


def training_cutoff(today: dt.date) -> dt.date:
    """A training held on or after this day counts as "in the last 12 months"."""
    return today - dt.timedelta(days=TRAINING_PERIOD_DAYS)


# ------------------------------------------------------------------ access


def require_viewer(actor) -> frozenset[int]:
    """The schools the actor may read; 403 when there are none."""
    ids = visible_school_ids(actor, Action.VIEW)
    if not ids:
        raise PermissionDenied(_("Your role does not allow this action."))
    return ids


def school_get(*, actor, school_id: int) -> Organization:
    """A school the actor may read (404 otherwise, also for a non-school organization)."""
    ids = require_viewer(actor)
    if school_id not in ids:
        raise Http404
    school = (
        Organization.objects.filter(pk=school_id, kind__in=SCHOOL_KINDS)
        .select_related("town", "region")
        .first()
    )
    if school is None:
        raise Http404
    return school


def may_manage(actor, school_id: int) -> bool:
    return can(actor, Action.MANAGE_SECURITY, school_id)


# ------------------------------------------------------------------ lists and records


def _with_training(qs):
    return qs.annotate(
        last_training_on=Max(
            "security_trainings__held_on", filter=Q(security_trainings__passed=True)
        ),
        training_count=Count("security_trainings", distinct=True),
    )


def personnel_list(*, actor, school_id: int, active: bool = True):
    """The school's security staff (by post, then name) with their record and last passed
    training (`last_training_on`, `training_count`); `active=False` gives former staff."""
    return _with_training(
        Staff.objects.visible_to(actor, Action.VIEW)
        .filter(school_id=school_id, role__in=SECURITY_POSTS, is_active=active)
        .select_related("guard_profile")
    ).order_by("role", "name", "pk")


def staff_get(*, actor, staff_id: int) -> Staff:
    """One member of a school's security staff; another post or out of scope is 404."""
    require_viewer(actor)
    staff = (
        _with_training(
            Staff.objects.visible_to(actor, Action.VIEW).filter(
                pk=staff_id, role__in=SECURITY_POSTS
            )
        )
        .select_related("school", "guard_profile")
        .first()
    )
    if staff is None:
        raise Http404
    return staff


def profile_of(staff: Staff) -> GuardProfile | None:
    try:
        return staff.guard_profile
    except GuardProfile.DoesNotExist:
        return None


def training_list(staff: Staff):
    return TrainingRecord.objects.filter(staff=staff).order_by("-held_on", "-id")


def training_get(*, actor, training_id: int) -> TrainingRecord:
    require_viewer(actor)
    training = (
        TrainingRecord.objects.visible_to(actor, Action.VIEW)
        .filter(pk=training_id, staff__role__in=SECURITY_POSTS)
        .select_related("staff", "staff__school")
        .first()
    )
    if training is None:
        raise Http404
    return training


# ------------------------------------------------------------------ status


@dataclass(frozen=True)
class Badge:
    code: str  # cert_expired, cert_expiring, cert_missing, not_filed, background, no_training
    level: str  # danger | warning
    label: str


@dataclass
class PersonStatus:
    staff: Staff
    profile: GuardProfile | None
    certificate: str  # valid | expiring | expired | missing | none (not a licensed post)
    days_to_expiry: int | None
    last_training_on: dt.date | None
    badges: list[Badge] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.badges

    @property
    def full_time(self) -> bool:
        """Full-time unless the record says part-time: staff without a security record yet
        (a roster import) count as full-time, the record's default — as in compliance."""
        return is_full_time(self.profile)


def is_full_time(profile: GuardProfile | None) -> bool:
    return profile is None or profile.employment != Employment.PART_TIME


def certificate_state(profile: GuardProfile | None, today: dt.date) -> tuple[str, int | None]:
    """("valid" | "expiring" | "expired" | "missing", days until expiry). A certificate
    without an expiry date is valid (some licences are issued without one)."""
    if profile is None or not profile.certificate_number:
        return "missing", None
    expires = profile.certificate_expires_on
    if expires is None:
        return "valid", None
    days = (expires - today).days
    if days < 0:
        return "expired", days
    if days <= EXPIRY_WARNING_DAYS:
        return "expiring", days
    return "valid", days


def person_status(staff: Staff, today: dt.date | None = None) -> PersonStatus:
    """The badges of one member of the security staff (`staff` from personnel_list or
    staff_get, which annotate the last passed training)."""
    today = today or local_today()
    profile = profile_of(staff)
    licensed = staff.role in LICENSED_POSTS
    state, days = certificate_state(profile, today)
    if not licensed and state == "missing":
        state = "none"
    last = getattr(staff, "last_training_on", None)
    badges: list[Badge] = []
    if state == "expired":
        badges.append(
            Badge(
                "cert_expired",
                "danger",
                str(
                    _("Certificate expired on %(date)s") % {"date": profile.certificate_expires_on}
                ),
            )
        )
    elif state == "expiring":
        badges.append(
            Badge(
                "cert_expiring",
                "warning",
                str(_("Certificate expires in %(days)s day(s)") % {"days": days}),
            )
        )
    elif state == "missing":
        badges.append(Badge("cert_missing", "danger", str(_("No guard certificate"))))
    if licensed and (profile is None or not profile.filed_with_police):
        badges.append(Badge("not_filed", "warning", str(_("Not filed with the police"))))
    if staff.background_check != BackgroundCheck.PASSED:
        badges.append(
            Badge(
                "background",
                "danger" if staff.background_check == BackgroundCheck.FAILED else "warning",
                str(
                    _("Background check: %(status)s")
                    % {"status": staff.get_background_check_display()}
                ),
            )
        )
    if last is None or last < training_cutoff(today):
        badges.append(Badge("no_training", "warning", str(_("No training in the last 12 months"))))
    return PersonStatus(
        staff=staff,
        profile=profile,
        certificate=state,
        days_to_expiry=days,
        last_training_on=last,
        badges=badges,
    )


def personnel_statuses(*, actor, school_id: int, today: dt.date | None = None):
    today = today or local_today()
    return [person_status(s, today) for s in personnel_list(actor=actor, school_id=school_id)]
