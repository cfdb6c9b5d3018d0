"""The surveillance demo (huxiao.health.surveillance_demo): demo mode only, nothing without
the township, the county's rules stored, the handled old alert, the 小一班 class alert from
the checks demo's three feverish children (planted here when the checks demo is absent),
idempotent. Loading the township takes a few seconds, so one test checks the loaded demo."""

from __future__ import annotations

import datetime as dt

import pytest

from huxiao.audit.models import AuditEvent
from huxiao.demo.township import DemoModeOff, load_demo_township
from huxiao.health.choices import AlertStatus, RuleKind, SymptomGroup, SymptomSource
from huxiao.health.models import ClusterAlert, ClusterRule, SymptomEvent
from huxiao.health.surveillance_demo import (
    KINDERGARTEN,
    OLD_ALERT_CLASS,
    OLD_ALERT_NOTE,
    load_demo_surveillance,
)
from huxiao.notify.models import Delivery, Notification
from huxiao.people.models import Child

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 3, 11)
NOTHING = {"rules": 0, "old_alerts": 0, "alerts": 0}


def test_refuses_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    with pytest.raises(DemoModeOff):
        load_demo_surveillance()


def test_does_nothing_without_the_township(settings):
    settings.DEMO_MODE = True
    assert load_demo_surveillance(today=TODAY) == NOTHING


def _plant_the_cluster() -> list:
    """What the checks demo leaves: three children of 小一班 with fever or cough."""
    children = list(
        Child.objects.filter(school_class__name="小一班", school__name=KINDERGARTEN).order_by("pk")[
            :3
        ]
    )
    for n, (child, symptom) in enumerate(zip(children, ("fever", "cough", "fever"), strict=True)):
        SymptomEvent.objects.create(
            school_id=child.school_id,
            school_class_id=child.school_class_id,
            child=child,
            date=TODAY - dt.timedelta(days=n),
            symptom=symptom,
            source=SymptomSource.CHECK,
        )
    return children


def test_the_demo_raises_the_class_alert_and_keeps_a_handled_one(settings):
    settings.DEMO_MODE = True
    load_demo_township()
    children = _plant_the_cluster()
    result = load_demo_surveillance(today=TODAY)
    assert result["rules"] == 3 and result["old_alerts"] == 1 and result["alerts"] >= 1
    assert ClusterRule.objects.filter(region__code="130123").count() == 3
    alert = ClusterAlert.objects.get(
        kind=RuleKind.CLASS_CLUSTER, school_class__name="小一班", status=AlertStatus.OPEN
    )
    assert alert.symptom_group == SymptomGroup.RESPIRATORY and alert.school.name == KINDERGARTEN
    assert {c.pk for c in children} <= set(alert.children.values_list("pk", flat=True))
    note = Notification.objects.get(dedupe_key=f"health.cluster_alert:{alert.pk}")
    told = set(
        Delivery.objects.filter(notification=note).values_list("recipient__username", flat=True)
    )
    assert {"nurse", "principal", "health"} <= told and "police" not in told
    old = ClusterAlert.objects.get(status=AlertStatus.CLOSED)
    assert old.school_class.name == OLD_ALERT_CLASS and old.note == OLD_ALERT_NOTE
    assert old.closed_by.username == "health" and old.child_count == 3
    assert old.closed_at > old.raised_at and old.window_end < TODAY - dt.timedelta(days=14)
    before = (
        ClusterAlert.objects.count(),
        Notification.objects.count(),
        AuditEvent.objects.count(),
    )
    assert load_demo_surveillance(today=TODAY) == NOTHING
    after = (ClusterAlert.objects.count(), Notification.objects.count(), AuditEvent.objects.count())
    assert after == before
