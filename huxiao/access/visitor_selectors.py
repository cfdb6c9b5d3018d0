"""Reads of the gate's visitors (ADR 0023). Out of scope is "not found"."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from huxiao.access import gate_sql
from huxiao.access.choices import HoldResolution, Screening, VisitStatus
from huxiao.access.models import BlockedVisitor, Visit
from huxiao.access.visitor_services import local_now
from huxiao.core.roles import SCHOOL_KINDS, Action
from huxiao.core.scoping import can, memberships_of, visible_school_ids
from huxiao.orgs.models import Organization

MAX_ID = 2**63 - 1


def gate_schools(actor) -> list[Organization]:
    """The schools whose gate the actor runs (REGISTER_VISITOR)."""
    ids = visible_school_ids(actor, Action.REGISTER_VISITOR)
    return list(Organization.objects.filter(pk__in=ids, kind__in=SCHOOL_KINDS).order_by("name"))


def gate_school(*, actor, school_id: int, action: str = Action.REGISTER_VISITOR) -> Organization:
    """The school of a gate page: 403 for a role that runs no gate anywhere, 404 when the
    actor cannot see the school, 403 when they see it but do not run its gate."""
    if not visible_school_ids(actor, action):
        raise PermissionDenied
    if school_id > MAX_ID:
        raise Http404
    # With its gate rules in the same statement (a check-in needs the closing time).
    school = gate_sql.school_with_gate_settings(school_id)
    if school is None or not (can(actor, Action.VIEW, school.pk) or can(actor, action, school.pk)):
        raise Http404
    if not can(actor, action, school.pk):
        raise PermissionDenied
    return school


def _visits(school):
    return Visit.objects.filter(school=school).select_related("host")


def visits_inside(*, school):
    return _visits(school).filter(status=VisitStatus.INSIDE).order_by("checked_in_at", "pk")


def visits_expected(*, school, day: dt.date):
    """Invited visitors of the day not yet at the gate."""
    return (
        _visits(school)
        .filter(status=VisitStatus.EXPECTED, expected_on=day, screening="")
        .order_by("name", "pk")
    )


def visits_waiting(*, school, now: dt.datetime | None = None):
    """Visitors told to wait today (no reason: the gate only knows they wait)."""
    day = local_now(now).date()
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return (
        _visits(school)
        .filter(
            status=VisitStatus.EXPECTED,
            screening=Screening.HOLD,
            hold_resolution="",
            checked_in_at__gte=start,
        )
        .order_by("-checked_in_at", "-pk")
    )


def visits_turned_away(*, school, now: dt.datetime | None = None):
    """Held visitors the duty leader turned away today (the gate is told not to admit
    them; never why)."""
    day = local_now(now).date()
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return (
        _visits(school)
        .filter(
            screening=Screening.HOLD,
            hold_resolution=HoldResolution.TURNED_AWAY,
            hold_resolved_at__gte=start,
        )
        .order_by("-hold_resolved_at", "-pk")
    )


def visits_of_day(*, school, day: dt.date):
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    end = start + dt.timedelta(days=1)
    return _visits(school).filter(checked_in_at__gte=start, checked_in_at__lt=end)


def is_station_police(actor, school) -> bool:
    """A register user of the school's police station (they received the hold's details)."""
    return _police_of(actor, school)


def _police_of(actor, school) -> bool:
    from huxiao.intel import rules

    return bool(
        school.police_station_id
        and school.police_station_id in rules.register_station_ids(actor, rules.VIEW)
    )


def visit_get(*, actor, visit_id: int) -> Visit:
    """A visit for its page: the school's gate, the staff member who invited it while
    they still belong to the school, or the police of the school's station (their alert
    links here). Anyone else: 404."""
    if visit_id > MAX_ID:
        raise Http404
    visit = Visit.objects.select_related("school", "host").filter(pk=visit_id).first()
    if visit is None:
        raise Http404
    if can(actor, Action.REGISTER_VISITOR, visit.school_id):
        return visit
    if is_inviter(actor, visit):
        return visit
    if getattr(actor, "pk", None) is not None and _police_of(actor, visit.school):
        return visit
    raise Http404


def is_inviter(actor, visit: Visit) -> bool:
    """The user who invited the visit, with an active membership at its school still (a
    teacher who left keeps no window on the school's visitors)."""
    user_pk = getattr(actor, "pk", None)
    if user_pk is None or visit.invited_by_id != user_pk:
        return False
    return any(m.organization_id == visit.school_id for m in memberships_of(actor))


def can_read_screening(actor, visit: Visit) -> bool:
    """Whether the reader may see the screening outcome and the decision on a hold: the
    school's gate and the station's police. An inviter who is neither reads the status only
    (a host must not learn that their visitor was held)."""
    if can(actor, Action.REGISTER_VISITOR, visit.school_id):
        return True
    return getattr(actor, "pk", None) is not None and _police_of(actor, visit.school)


def gate_details_hidden(actor, visit: Visit) -> bool:
    """Whether what the gate took down (ID number, items carried, photo) is kept from this
    reader: an inviter who may not read the screening, while their visitor is neither
    inside nor gone. A pre-registration has none of them, so on a held visit they would
    show the host what the gate took down about their visitor (ADR 0023)."""
    return visit.status not in (VisitStatus.INSIDE, VisitStatus.LEFT) and not can_read_screening(
        actor, visit
    )


def blocklist(*, school):
    return BlockedVisitor.objects.filter(school=school, is_active=True).order_by("name", "pk")


def blocked_get(*, actor, entry_id: int) -> BlockedVisitor:
    if entry_id > MAX_ID:
        raise Http404
    entry = (
        BlockedVisitor.objects.visible_to(actor, Action.MANAGE_GATE)
        .filter(pk=entry_id, is_active=True)
        .first()
    )
    if entry is None:
        raise Http404
    return entry
