"""Helpers of the surveillance tests: sick children on given days (the line list), a clock."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from huxiao.health.choices import SymptomSource
from huxiao.health.models import HealthCase, SymptomEvent
from huxiao.people.tests.factories import ChildFactory

# A Wednesday: the windows below reach back into the same week and the one before.
TODAY = dt.date(2026, 11, 25)


def days_ago(n: int) -> dt.date:
    return TODAY - dt.timedelta(days=n)


def kids(school_class, n: int, prefix: str = "童") -> list:
    return [ChildFactory(school_class=school_class, name=f"{prefix}{i}") for i in range(n)]


def sick(child, day: dt.date, *symptoms: str, source: str = SymptomSource.CHECK) -> None:
    """The line list says `child` had `symptoms` (default fever) on `day`."""
    for symptom in symptoms or ("fever",):
        SymptomEvent.objects.create(
            school_id=child.school_id,
            school_class_id=child.school_class_id,
            child=child,
            date=day,
            symptom=symptom,
            source=source,
        )


def make_case(child, *, notifiable=True, disease="手足口病", symptoms=("hfmd", "fever")):
    return HealthCase.objects.create(
        school_id=child.school_id,
        school_class_id=child.school_class_id,
        child=child,
        symptoms=list(symptoms),
        suspected_disease=disease,
        notifiable=notifiable,
        onset_date=TODAY,
        reported_at=timezone.now(),
    )
