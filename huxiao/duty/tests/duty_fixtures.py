"""Helpers of the duty, monitoring and gap tests (ADR 0029): a fixed clock, a duty leader
at the school, shifts made from the plan, people put on them."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from huxiao.core.roles import Role
from huxiao.duty import duty_selectors as sel
from huxiao.duty.choices import DutyRole, ShiftKind
from huxiao.duty.models import DutyAssignment, DutyShift
from huxiao.orgs.tests.factories import MembershipFactory, UserFactory

# A Wednesday; every clock in these tests is local time (Asia/Shanghai).
DAY = dt.date(2026, 3, 11)


def at(hour: int, minute: int = 0, day: dt.date = DAY, days: int = 0) -> dt.datetime:
    return timezone.make_aware(
        dt.datetime.combine(day + dt.timedelta(days=days), dt.time(hour, minute))
    )


def add_leader(world, name="leader", school=None):
    """A duty leader (Membership role duty_leader) at the school."""
    user = UserFactory(username=name)
    MembershipFactory(user=user, organization=school or world.school, role=Role.DUTY_LEADER)
    world.users[name] = user
    return user


def make_shift(school, day: dt.date = DAY, kind=ShiftKind.DAY) -> DutyShift:
    starts, ends = sel.shift_times(sel.plan_for(school.pk), day, kind)
    return DutyShift.objects.create(
        school=school, date=day, kind=kind, starts_at=starts, ends_at=ends
    )


def put_on(shift, user, role=DutyRole.GUARD) -> DutyAssignment:
    return DutyAssignment.objects.create(shift=shift, user=user, role=role)


def inbox(event_type: str) -> list[str]:
    from huxiao.notify.models import Delivery

    return sorted(
        Delivery.objects.filter(notification__event_type=event_type, channel="inbox").values_list(
            "recipient__username", flat=True
        )
    )


def live_shift(school, kind=ShiftKind.DAY, *, start_minutes=-60, hours=6) -> DutyShift:
    """A shift around the real clock (for pages and the API, which use timezone.now())."""
    starts = timezone.now().replace(microsecond=0) + dt.timedelta(minutes=start_minutes)
    return DutyShift.objects.create(
        school=school,
        date=timezone.localdate(),
        kind=kind,
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=hours),
    )
