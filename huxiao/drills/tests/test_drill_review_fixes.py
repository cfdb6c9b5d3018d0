# ruff: noqa: F811 - pytest fixtures imported from activity_fixtures are arguments here
"""Regression tests of the drills review (ADR 0030): a double tap on "start a drill now"
is one drill and one drill alarm; the issue's bad input ("drill end before start",
"headcount larger than enrolment") answers in Chinese and writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from huxiao.alarms.models import Alarm
from huxiao.audit.models import AuditEvent
from huxiao.drills import drill_services as services
from huxiao.drills.choices import ActivityKind
from huxiao.drills.models import Activity, DrillRecord
from huxiao.drills.tests.activity_fixtures import (
    ENROLMENT,
    local,
    make_activity,
    school,  # noqa: F401 - fixture
)

pytestmark = pytest.mark.django_db
BASE = "/api/v1/drills"
ENROLMENT_ERROR = f"最多 {ENROLMENT}：本校在册学生（幼儿）{ENROLMENT} 人。"


# ------------------------------------------------------------------ 1. a double tap on "start"


def test_double_start_with_alarm_is_one_drill_and_one_alarm(world, school):
    teacher = world.users["teacher"]
    now = timezone.now().replace(microsecond=0)
    first = services.drill_start(
        actor=teacher, school_id=school.pk, drill_kind="fire", with_alarm=True, now=now
    )
    again = services.drill_start(
        actor=teacher,
        school_id=school.pk,
        drill_kind="fire",
        with_alarm=True,
        now=now + dt.timedelta(seconds=3),
    )
    assert again.pk == first.pk
    assert Activity.objects.count() == 1
    assert Alarm.objects.filter(is_drill=True).count() == 1
    assert DrillRecord.objects.get().alarm_id == Alarm.objects.get().pk


def test_start_then_start_with_alarm_signals_the_same_drill(world, school):
    teacher = world.users["teacher"]
    now = timezone.now().replace(microsecond=0)
    first = services.drill_start(actor=teacher, school_id=school.pk, drill_kind="fire", now=now)
    again = services.drill_start(
        actor=teacher,
        school_id=school.pk,
        drill_kind="fire",
        with_alarm=True,
        now=now + dt.timedelta(seconds=5),
    )
    assert again.pk == first.pk
    record = DrillRecord.objects.get(activity=first)
    assert record.alarm_id == Alarm.objects.get(is_drill=True).pk and record.signal_at


def test_start_later_or_by_someone_else_is_a_new_drill(world, school):
    now = timezone.now().replace(microsecond=0)
    first = services.drill_start(
        actor=world.users["teacher"], school_id=school.pk, drill_kind="fire", now=now
    )
    later = services.drill_start(
        actor=world.users["teacher"],
        school_id=school.pk,
        drill_kind="fire",
        now=now + services.RESTART_WINDOW + dt.timedelta(seconds=1),
    )
    other = services.drill_start(
        actor=world.users["principal"], school_id=school.pk, drill_kind="fire", now=now
    )
    quake = services.drill_start(
        actor=world.users["teacher"], school_id=school.pk, drill_kind="earthquake", now=now
    )
    assert len({first.pk, later.pk, other.pk, quake.pk}) == 4


def test_double_post_of_the_start_page_is_one_drill(client, world, school):
    client.force_login(world.users["teacher"])
    form = {"school": str(school.pk), "drill_kind": "fire", "with_alarm": "1"}
    first = client.post("/drills/drills/start/", form)
    second = client.post("/drills/drills/start/", form)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Activity.objects.count() == 1
    assert Alarm.objects.filter(is_drill=True).count() == 1


def test_double_post_of_the_start_api_is_one_drill(api, world, school):
    user = world.users["teacher"]
    path = f"{BASE}/schools/{school.pk}/drills"
    first = api("post", path, user, json={"drill_kind": "fire", "with_alarm": True})
    second = api("post", path, user, json={"drill_kind": "fire", "with_alarm": True})
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert Alarm.objects.filter(is_drill=True).count() == 1


# ------------------------------------------------------------------ 2. the bad input


@pytest.fixture
def timed(world, school):
    """Yesterday's drill, timed: signal 10:00:00, all out 10:02:30."""
    drill = make_activity(school, starts_at=local(days=-1, hour=10), whole_school=True)
    services.drill_record_save(
        actor=world.users["teacher"],
        activity_id=drill.pk,
        signal_at=local(days=-1, hour=10),
        all_out_at=local(days=-1, hour=10, minute=2, second=30),
        counted_headcount=80,
    )
    return drill


def _unchanged(drill) -> tuple:
    record = DrillRecord.objects.get(activity=drill)
    return record.signal_at, record.all_out_at, record.counted_headcount


def test_api_drill_end_before_start_is_a_chinese_error(api, world, timed):
    before = _unchanged(timed)
    api.token_for(world.users["teacher"])  # issuing the token is audited on its own
    audits = AuditEvent.objects.count()
    r = api(
        "patch",
        f"{BASE}/activities/{timed.pk}/drill",
        world.users["teacher"],
        json={"all_out_at": local(days=-1, hour=9, minute=59).isoformat()},
    )
    assert r.status_code == 400
    assert r.json()["errors"] == {"all_out_at": ["全部撤离时间不能早于发出信号时间。"]}
    assert _unchanged(timed) == before and AuditEvent.objects.count() == audits


def test_page_drill_end_before_start_is_a_chinese_error(client, world, timed):
    before = _unchanged(timed)
    client.force_login(world.users["teacher"])
    day = timed.date.isoformat()
    r = client.post(
        f"/drills/activities/{timed.pk}/drill/times/",
        {"signal_at": f"{day}T10:05", "all_out_at": f"{day}T10:01"},
    )
    assert r.status_code == 400
    assert "全部撤离时间不能早于发出信号时间。" in r.content.decode()
    assert _unchanged(timed) == before


def test_api_activity_end_before_start_is_a_chinese_error(api, world, school):
    r = api(
        "post",
        f"{BASE}/activities",
        world.users["teacher"],
        json={
            "school_id": school.pk,
            "status": "held",
            "kind": ActivityKind.SAFETY_EDUCATION,
            "starts_at": local(days=-1, hour=10).isoformat(),
            "ends_at": local(days=-1, hour=9).isoformat(),
            "whole_school": True,
        },
    )
    assert r.status_code == 400
    assert r.json()["errors"] == {"ends_at": ["活动结束时间不能早于开始时间。"]}
    assert not Activity.objects.exists()


def test_api_headcount_above_enrolment_is_a_chinese_error(api, world, school, timed):
    user = world.users["teacher"]
    r = api(
        "post",
        f"{BASE}/activities",
        user,
        json={
            "school_id": school.pk,
            "status": "held",
            "kind": ActivityKind.DRILL,
            "drill_kind": "fire",
            "starts_at": local(days=-2, hour=10).isoformat(),
            "whole_school": True,
            "headcount": ENROLMENT + 1,
        },
    )
    assert r.status_code == 400
    assert r.json()["errors"] == {"headcount": [ENROLMENT_ERROR]}
    assert Activity.objects.count() == 1  # only the timed drill
    before = _unchanged(timed)
    r = api(
        "patch",
        f"{BASE}/activities/{timed.pk}/drill",
        user,
        json={"counted_headcount": ENROLMENT + 1},
    )
    assert r.status_code == 400
    assert r.json()["errors"] == {"counted_headcount": [ENROLMENT_ERROR]}
    assert _unchanged(timed) == before


def test_page_headcount_above_enrolment_is_a_chinese_error(client, world, timed):
    before = _unchanged(timed)
    client.force_login(world.users["teacher"])
    r = client.post(
        f"/drills/activities/{timed.pk}/drill/counts/",
        {"expected_headcount": str(ENROLMENT), "counted_headcount": str(ENROLMENT + 1)},
    )
    assert r.status_code == 400
    assert ENROLMENT_ERROR in r.content.decode()
    assert _unchanged(timed) == before
