"""Which classes are suspended on a day (§3 8; ADR 0032), asked by every page that shows a
class (checks, attendance, the health home) and by the suspension area itself."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Q

from huxiao.health.choices import SuspensionScope
from huxiao.health.models import ClassSuspension
from huxiao.people.models import SchoolClass


def active_suspensions(*, school_ids: Iterable[int], on_date: dt.date):
    """Suspensions in force on `on_date` (not yet resumed) at the given schools."""
    return (
        ClassSuspension.objects.filter(
            school_id__in=list(school_ids), starts_on__lte=on_date, ends_on__gte=on_date
        )
        .filter(Q(resumed_on__isnull=True) | Q(resumed_on__gt=on_date))
        .select_related("school_class")
        .order_by("school_id", "starts_on", "id")
    )


def suspended_class_ids(school_id: int, on_date: dt.date) -> set[int]:
    """Ids of the school's classes suspended on `on_date` (by class, grade or school)."""
    ids: set[int] = set()
    grades: set[str] = set()
    whole = False
    for s in active_suspensions(school_ids=[school_id], on_date=on_date):
        if s.scope == SuspensionScope.SCHOOL:
            whole = True
        elif s.scope == SuspensionScope.GRADE:
            grades.add(s.grade)
        elif s.school_class_id:
            ids.add(s.school_class_id)
    if whole or grades:
        classes = SchoolClass.objects.filter(school_id=school_id)
        if not whole:
            classes = classes.filter(grade__in=grades)
        ids |= set(classes.values_list("pk", flat=True))
    return ids
