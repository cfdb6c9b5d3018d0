"""The demo inspections and hazards (huxiao.hazards.demo): demo mode only, through the real
services, idempotent, and scoped like the real thing.

Loading the township takes a couple of seconds, so the loaded demo is checked in one test
(django_db rolls back after each test).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from huxiao.audit.models import AuditEvent
from huxiao.demo.township import DemoModeOff, load_demo_township
from huxiao.hazards import hazard_selectors, inspection_selectors
from huxiao.hazards.choices import HazardLevel, HazardStatus, InspectionKind, InspectionStatus
from huxiao.hazards.demo import KINDERGARTEN, PRIMARY, load_demo_hazards
from huxiao.hazards.models import Hazard, HazardEvent, HazardPhoto, Inspection, InspectionAnswer
from huxiao.notify.models import Notification

User = get_user_model()
MODELS = (Inspection, InspectionAnswer, Hazard, HazardEvent, HazardPhoto, AuditEvent, Notification)


def _counts() -> dict:
    return {model.__name__: model.objects.count() for model in MODELS}


def _fresh(username: str):
    return User.objects.get(username=username)  # no cached scope


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.mark.django_db
def test_refuses_outside_demo_mode(settings, media):
    settings.DEMO_MODE = True
    load_demo_township()
    settings.DEMO_MODE = False
    before = _counts()
    with pytest.raises(DemoModeOff):
        load_demo_hazards()
    assert _counts() == before
    assert not Inspection.objects.exists() and not Hazard.objects.exists()


@pytest.mark.django_db
def test_does_nothing_without_the_township(settings, media):
    settings.DEMO_MODE = True
    assert load_demo_hazards() == {"inspections": 0, "hazards": 0, "escalated": 0}
    assert not Inspection.objects.exists() and not Hazard.objects.exists()


@pytest.mark.django_db
def test_demo_hazards_load_once_through_the_services_and_stay_in_scope(settings, media, client):
    settings.DEMO_MODE = True
    load_demo_township()
    today = timezone.localdate()

    first = load_demo_hazards()
    assert first == {"inspections": 5, "hazards": 11, "escalated": 7}
    counts = _counts()

    # A month of inspections, all signed off with scores from the shipped checklists.
    inspections = list(Inspection.objects.select_related("school", "template", "organization"))
    assert {i.kind for i in inspections} == set(InspectionKind.values) - {InspectionKind.JOINT}
    assert all(i.status == InspectionStatus.SIGNED_OFF for i in inspections)
    assert all(0 < i.score < i.max_score for i in inspections)
    assert all(today - dt.timedelta(days=31) <= i.planned_on < today for i in inspections)
    assert {i.template.owner_id for i in inspections} == {None}
    self_checks = [i for i in inspections if i.kind == InspectionKind.SELF_CHECK]
    assert len(self_checks) == 2
    assert {(i.school.name, i.created_by.username) for i in self_checks} == {
        (KINDERGARTEN, "principal")
    }
    central = next(i for i in inspections if i.kind == InspectionKind.CENTRAL_SCHOOL)
    assert central.unannounced and central.created_by.username == "edu"
    police = next(i for i in inspections if i.kind == InspectionKind.POLICE)
    assert police.organization.name == "大杨树派出所"
    assert next(i for i in inspections if i.kind == InspectionKind.GOVERNANCE).created_by == (
        _fresh("gov")
    )

    # Hazards in every state, one major, some overdue and escalated, some closed.
    hazards = list(Hazard.objects.all())
    by_status = {status: [h for h in hazards if h.status == status] for status in HazardStatus}
    assert all(by_status[status] for status in HazardStatus), by_status
    assert len(by_status[HazardStatus.CLOSED]) == 3
    assert [h.level for h in hazards].count(HazardLevel.MAJOR) == 1
    overdue = [h for h in hazards if hazard_selectors.is_overdue(h, today)]
    assert len(overdue) == 4
    assert all(h.escalation_level >= 1 for h in overdue)
    assert {h.escalation_level for h in overdue} == {1, 2}
    assert all(h.escalation_level == 0 for h in hazards if h not in overdue)
    assert all(h.deadline >= h.reported_at.date() for h in hazards if h.deadline)
    assert sum(1 for h in hazards if h.inspection_id) == 8
    # A send-back stays in the timeline of the hazard that was then closed.
    sent_back = Hazard.objects.get(title="本月未开展应急疏散演练")
    assert sent_back.status == HazardStatus.CLOSED
    assert [e.to_status for e in sent_back.events.all()] == [
        HazardStatus.REPORTED,
        HazardStatus.ASSIGNED,
        HazardStatus.RECTIFYING,
        HazardStatus.SUBMITTED,
        HazardStatus.RECTIFYING,
        HazardStatus.SUBMITTED,
        HazardStatus.CLOSED,
    ]
    # Real evidence: finding photos moved onto the hazards, evidence on every submission.
    assert all(h.photos.filter(kind="finding").exists() for h in hazards)
    assert all(
        h.photos.filter(kind="evidence").exists()
        for h in hazards
        if h.status in (HazardStatus.SUBMITTED, HazardStatus.CLOSED)
    )
    # Through the services: audited per write, and the escalation told the principal.
    assert AuditEvent.objects.filter(object_type="hazards.hazard").count() >= len(hazards)
    assert Notification.objects.filter(event_type="hazards.overdue").exists()
    assert Notification.objects.filter(event_type="hazards.overdue_escalated").exists()

    # Idempotent: a second run (also with the same `today`) creates and changes nothing.
    assert load_demo_hazards() == {"inspections": 0, "hazards": 0, "escalated": 0}
    assert load_demo_hazards(today=today) == {"inspections": 0, "hazards": 0, "escalated": 0}
    assert _counts() == counts

    # Scoped: the kindergarten's principal sees only the kindergarten's records.
    principal = _fresh("principal")
    kg_inspections = inspection_selectors.inspection_list(actor=principal)
    assert {i.school.name for i in kg_inspections} == {KINDERGARTEN}
    assert len(kg_inspections) == 2
    kg_hazards = list(hazard_selectors.hazard_list(actor=principal))
    assert {h.school.name for h in kg_hazards} == {KINDERGARTEN}
    assert len(kg_hazards) == 6
    assert {h.status for h in kg_hazards} == set(HazardStatus.values)
    assert any(hazard_selectors.is_overdue(h, today) for h in kg_hazards)
    principal2 = _fresh("principal2")
    assert {h.school.name for h in hazard_selectors.hazard_list(actor=principal2)} == {PRIMARY}
    # The town's education office sees the whole month.
    assert hazard_selectors.hazard_list(actor=_fresh("edu")).count() == len(hazards)

    # What a visitor of `make run` sees: the principal's overdue hazard, escalated.
    client.force_login(principal)
    page = client.get("/hazards/hazards/")
    assert page.status_code == 200
    assert "小一班教室窗户限位器损坏" in page.content.decode() and "已逾期" in page.content.decode()
    window = Hazard.objects.get(title="小一班教室窗户限位器损坏")
    page = client.get(f"/hazards/hazards/{window.pk}/").content.decode()
    assert "已上报主管部门" in page and "逾期提醒" in page
    client.force_login(_fresh("edu"))
    report = client.get(f"/hazards/inspections/{central.pk}/report/")
    assert report.status_code == 200 and "男生宿舍楼一楼安全出口被床板和杂物堵塞" in (
        report.content.decode()
    )


@pytest.mark.django_db
def test_today_moves_the_month(settings, media):
    settings.DEMO_MODE = True
    load_demo_township()
    day = timezone.localdate() - dt.timedelta(days=40)
    assert load_demo_hazards(today=day)["hazards"] == 11
    assert max(Inspection.objects.values_list("planned_on", flat=True)) == day - dt.timedelta(
        days=2
    )
    assert all(timezone.localtime(e.at).date() <= day for e in HazardEvent.objects.all())
