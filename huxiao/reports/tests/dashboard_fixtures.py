"""Fixtures of the dashboard tests (test_dashboard_*.py): a fixed clock and a little of
everything each panel counts, in both towns, made through the apps' services where they
exist (alarms, hazards, listings, visits, gate posts, warnings, the register) and as rows
otherwise (stored compliance, a term and a drill, a cluster alert, a case, a suspension,
gate records).

The clock: NOW is Wednesday 25 November 2026, 10:00 local time; `timezone.now` answers NOW
for the whole test, so "today" and "this week" never depend on when the tests run."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from conftest import _user
from huxiao.core.roles import Role

TODAY = dt.date(2026, 11, 25)
MONDAY = TODAY - dt.timedelta(days=TODAY.weekday())


def at(day: dt.date, hhmm: str = "10:00") -> dt.datetime:
    hour, minute = hhmm.split(":")
    return timezone.make_aware(dt.datetime.combine(day, dt.time(int(hour), int(minute))))


NOW = at(TODAY)


@pytest.fixture
def clock(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    return NOW


def _alarms(w):
    from huxiao.alarms import services as alarms

    def raise_(school, user, when, *, drill=False):
        alarm, _created = alarms.alarm_raise(
            actor=user, school=school, kind="intrusion", drill=drill, now=when
        )
        return alarm

    guard, police = w.users["guard"], w.users["police"]
    answered = raise_(w.school, guard, at(TODAY, "08:00"))
    alarms.alarm_acknowledge(
        actor=police, alarm=answered, now=at(TODAY, "08:00") + dt.timedelta(seconds=40)
    )
    alarms.alarm_arrive(actor=police, alarm=answered, now=at(TODAY, "08:06"))
    quick = raise_(w.other_school, w.users["principal2"], at(TODAY, "09:00"))
    alarms.alarm_acknowledge(
        actor=police, alarm=quick, now=at(TODAY, "09:00") + dt.timedelta(seconds=20)
    )
    raise_(w.school, guard, at(TODAY, "09:40"))  # open, not acknowledged
    raise_(w.school, guard, at(TODAY, "09:10"), drill=True)
    raise_(w.school, guard, at(TODAY - dt.timedelta(days=1), "15:00"))  # yesterday
    raise_(w.far_school, w.users["farguard"], at(TODAY, "07:30"))


def _hazards(w):
    from huxiao.hazards import hazard_services as hs
    from huxiao.hazards import listing_services as ls

    def report(school, actor, title, deadline=None):
        return hs.hazard_report(
            actor=actor,
            school=school,
            category="physical",
            level="general",
            title=title,
            description="通道堆放杂物",
            deadline=deadline,
            now=at(MONDAY - dt.timedelta(days=7), "09:00"),
        )

    police = w.users["police"]
    report(w.school, police, "消防通道堵塞", deadline=TODAY + dt.timedelta(days=5))
    report(w.school, police, "围墙破损", deadline=TODAY - dt.timedelta(days=1))  # overdue
    report(w.other_school, police, "门卫室无人", deadline=TODAY - dt.timedelta(days=2))  # overdue
    report(w.far_school, w.users["farpolice"], "外镇隐患", deadline=TODAY - dt.timedelta(days=3))
    ls.listing_create(
        actor=w.users["gov"],
        school=w.school,
        title="校园周边流动摊贩长期占道",
        reason="多次整改不到位",
        deadline=TODAY + dt.timedelta(days=20),
        now=at(MONDAY, "11:00"),
    )


def _compliance(w):
    from huxiao.security.models import SchoolCompliance

    verdicts = [
        {"rule": "guards_staffing", "verdict": "pass"},
        {"rule": "alarm_networked", "verdict": "pass"},
    ]
    SchoolCompliance.objects.create(
        school=w.school,
        evaluated_at=NOW,
        is_compliant=True,
        is_networked=True,
        passed=2,
        verdicts=verdicts,
    )
    SchoolCompliance.objects.create(
        school=w.other_school,
        evaluated_at=NOW,
        is_compliant=False,
        is_networked=False,
        passed=1,
        failed=1,
        verdicts=[verdicts[0], {"rule": "alarm_networked", "verdict": "fail", "missing": []}],
    )
    # far_school: never evaluated (counts as not meeting, as on the overviews).


def _patrols(w):
    from huxiao.patrols import services as patrols
    from huxiao.patrols.choices import Period

    patrols.gate_post_create(
        actor=w.users["police"],
        school=w.school,
        period=Period.MORNING,
        location="正门",
        windows=[{"weekday": d, "starts": "07:30", "ends": "08:00"} for d in range(5)],
        now=at(MONDAY, "06:00"),
    )
    officer = w.users["officer"]
    for school, days in ((w.school, (0, 1)), (w.other_school, (1,))):
        for n in days:
            day = MONDAY + dt.timedelta(days=n)
            patrols.police_visit_create(
                actor=officer,
                school=school,
                arrived_at=at(day, "09:00"),
                left_at=at(day, "09:30"),
                information_collected="了解校园周边情况",
                now=at(day, "10:00"),
            )
    last_monday = MONDAY - dt.timedelta(days=7)
    for n in (0, 2):
        day = last_monday + dt.timedelta(days=n)
        patrols.police_visit_create(
            actor=officer,
            school=w.school,
            arrived_at=at(day, "09:00"),
            left_at=at(day, "09:30"),
            information_collected="了解校园周边情况",
            now=at(day, "10:00"),
        )


def _drills(w):
    from huxiao.drills.models import Activity, Term

    Term.objects.create(
        region=w.region,
        name="2026—2027学年第一学期",
        starts_on=dt.date(2026, 9, 1),
        ends_on=dt.date(2027, 1, 20),
        breaks=[],
    )
    Activity.objects.create(
        school=w.school,
        kind="drill",
        drill_kind="fire",
        status="held",
        title="消防疏散演练",
        date=MONDAY,
        starts_at=at(MONDAY, "10:00"),
        ends_at=at(MONDAY, "10:30"),
        whole_school=True,
    )


def _health(w):
    from huxiao.health.models import ClassSuspension, ClusterAlert, HealthCase

    ClusterAlert.objects.create(
        school=w.school,
        school_class=w.school_class,
        kind="class_cluster",
        symptom_group="fever",
        key=f"class_cluster:{w.school.pk}:{w.school_class.pk}:fever",
        window_start=TODAY - dt.timedelta(days=2),
        window_end=TODAY,
        child_count=3,
        raised_at=at(TODAY, "08:30"),
    )
    HealthCase.objects.create(
        school=w.school,
        school_class=w.school_class,
        child=w.child,
        symptoms=["fever"],
        onset_date=TODAY,
        reported_at=at(TODAY, "08:20"),
    )
    ClassSuspension.objects.create(
        school=w.other_school,
        scope="class",
        school_class=w.other_class,
        starts_on=TODAY - dt.timedelta(days=1),
        ends_on=TODAY + dt.timedelta(days=5),
        reason="疑似病例",
        decided_at=at(TODAY - dt.timedelta(days=1)),
    )
    ClassSuspension.objects.create(
        school=w.far_school,
        scope="class",
        school_class=w.far_class,
        starts_on=TODAY,
        ends_on=TODAY + dt.timedelta(days=5),
        reason="疑似病例",
        decided_at=at(TODAY, "07:00"),
    )


def _warnings(w):
    from huxiao.intel import warnings_services as warnings
    from huxiao.intel.models import EarlyWarningRecipient

    early = warnings.early_warning_issue(
        actor=w.users["police"],
        school_ids=[w.school.pk, w.other_school.pk],
        title="在逃人员预警",
        content="一名在逃人员可能在辖区出现",
        level="orange",
        valid_from=at(TODAY - dt.timedelta(days=1)),
        valid_until=at(TODAY + dt.timedelta(days=3)),
        now=at(TODAY - dt.timedelta(days=1)),
    )
    receipt = EarlyWarningRecipient.objects.get(warning=early, school=w.school)
    warnings.early_warning_acknowledge(actor=w.users["principal"], recipient=receipt, now=NOW)
    warnings.warning_sign_report(
        actor=w.users["guard"],
        school=w.school,
        category="suspicious_person",
        description="校门口有陌生男子连续三天徘徊",
        observed_place="东门",
        time_node="pickup_time",
        now=at(TODAY, "08:00"),
    )


def _gate(w):
    from huxiao.access.models import Interception, VehicleMovement, Visit

    for when in (at(TODAY, "08:10"), at(TODAY, "09:20"), at(TODAY - dt.timedelta(days=1))):
        Visit.objects.create(
            school=w.school, name="访客", purpose="business", status="left", checked_in_at=when
        )
    Visit.objects.create(
        school=w.far_school, name="外镇访客", purpose="business", status="left", checked_in_at=NOW
    )
    VehicleMovement.objects.create(
        school=w.other_school, plate="冀A12345", purpose="delivery", entered_at=at(TODAY, "07:50")
    )
    for when in (at(MONDAY, "08:00"), at(MONDAY - dt.timedelta(days=3))):
        Interception.objects.create(
            school=w.school,
            at=when,
            category="knife",
            item="管制刀具",
            carrier_kind="visitor",
            handling="confiscated",
        )


def _register(w):
    from huxiao.intel import services as register

    for name, level, number in (("甲某", "high", ""), ("乙某", "medium", "")):
        register.person_register(
            actor=w.users["police"],
            station=w.station,
            name=name,
            id_number=number,
            birth_date=dt.date(1980, 5, 1),
            category="revenge_threat",
            risk_level=level,
            related_schools=[w.school],
            responsible_officer=w.users["officer"],
        )


@pytest.fixture
def dash_world(rworld, clock, settings, tmp_path):
    """`rworld` (the town's health centre officer `health`, `faredu`, `countyedu` …) plus a
    guard at the far school (`farguard`) and the data above."""
    settings.MEDIA_ROOT = tmp_path
    w = rworld
    _user(w, "farguard", w.far_school, Role.GUARD)
    _alarms(w)
    _hazards(w)
    _compliance(w)
    _patrols(w)
    _drills(w)
    _health(w)
    _warnings(w)
    _gate(w)
    _register(w)
    return w
