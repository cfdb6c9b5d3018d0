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
    return suspended_class_ids_at([school_id], on_date)


def suspended_class_ids_at(school_ids: Iterable[int], on_date: dt.date) -> set[int]:
    """Ids of the classes suspended on `on_date` at the given schools, by class, grade or
    school (two queries whatever their number)."""
    ids: set[int] = set()
    grades: set[tuple[int, str]] = set()
    whole: set[int] = set()
    for s in active_suspensions(school_ids=school_ids, on_date=on_date):
        if s.scope == SuspensionScope.SCHOOL:
            whole.add(s.school_id)
        elif s.scope == SuspensionScope.GRADE:
            grades.add((s.school_id, s.grade))
        elif s.school_class_id:
            ids.add(s.school_class_id)
    if whole or grades:
        for pk, school_id, grade in SchoolClass.objects.filter(
            school_id__in={school for school, _grade in grades} | whole
        ).values_list("pk", "school_id", "grade"):
            if school_id in whole or (school_id, grade) in grades:
                ids.add(pk)
    return ids
