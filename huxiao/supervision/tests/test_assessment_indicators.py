"""The indicator sources (supervision/indicators.py) on data written for the purpose: each
answers a percentage per school from the real tables, "no data" where there is nothing to
measure, and the sources of apps not built yet are unavailable and answer nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from huxiao.alarms.models import Alarm
from huxiao.hazards.models import ChecklistTemplate, Inspection, ListedSupervision
from huxiao.patrols.models import GatePost, PoliceVisit, PostShift
from huxiao.supervision import indicators as registry
from huxiao.supervision.models import Campaign, CampaignSchool
from huxiao.supervision.tests.assessment_fixtures import (
    MARCH_START,
    add_schools,
    at,
    hazard_row,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def aworld(sworld):
    return add_schools(sworld)


D = Decimal
END = dt.date(2025, 3, 31)


def run(key, w, params=None, end=END, schools=None):
    ids = schools or [w.school.pk, w.other_school.pk, w.school3.pk]
    return {k: v for k, v in registry.run_source(key, ids, MARCH_START, end, params or {}).items()}


def _inspection(school, kind, score, maximum, day, status="signed_off"):
    template = ChecklistTemplate.objects.filter(is_published=True).order_by("pk").first()
    return Inspection.objects.create(
        school=school,
        template=template,
        kind=kind,
        organization=school,
        planned_on=day,
        status=status,
        signed_off_at=at(day, "11:00") if status == "signed_off" else None,
        score=score,
        max_score=maximum,
    )


def test_registry_lists_sources_and_placeholders():
    keys = {s.key for s in registry.sources()}
    assert {
        "inspection_score",
        "hazards_closed_on_time",
        "overdue_hazards",
        "listed_supervision",
        "police_visits",
        "gate_posts_staffed",
        "alarm_response",
        "campaign_acceptance",
        "manual",
        "drills_held",
        "duty_gaps",
        "staffing_compliance",
    } <= keys
    assert registry.get_source("overdue_hazards").available
    # Issue 7 registered the real duty and staffing sources over their placeholders.
    assert registry.get_source("duty_gaps").available
    assert registry.get_source("staffing_compliance").available
    # Issue 8 registered the real drills source: no placeholder of DESIGN.md's apps is left.
    assert registry.get_source("drills_held").available
    assert not registry.get_source("future_app_placeholder").available
    with pytest.raises(ValueError):
        registry.indicator("manual", label="x")(lambda *a: {})


def test_placeholder_answers_no_data(aworld):
    assert run("future_app_placeholder", aworld) == {}
    assert registry.run_source("no_such_source", [aworld.school.pk], MARCH_START, END, {}) == {}


def test_inspection_score_mean_of_outside_inspections(aworld):
    w = aworld
    _inspection(w.school, "police", 90, 100, dt.date(2025, 3, 5))
    _inspection(w.school, "central_school", 40, 50, dt.date(2025, 3, 20))  # 80 %
    _inspection(w.school, "self_check", 10, 100, dt.date(2025, 3, 21))  # not counted
    _inspection(w.school, "police", 0, 100, dt.date(2025, 4, 1))  # after the period
    _inspection(w.other_school, "joint", 50, 100, dt.date(2025, 3, 6), status="in_progress")
    got = run("inspection_score", w)
    assert got == {w.school.pk: D("85.00")}
    with_self = run("inspection_score", w, {"self_checks": 1})
    assert with_self[w.school.pk] == D("60.00")  # (90 + 80 + 10) / 3


def test_self_checks_held_per_month(aworld):
    w = aworld
    _inspection(w.school, "self_check", 90, 100, dt.date(2025, 1, 10))
    _inspection(w.school, "self_check", 90, 100, dt.date(2025, 3, 10))
    quarter = registry.run_source(
        "self_checks_held", [w.school.pk, w.other_school.pk], dt.date(2025, 1, 1), END, {}
    )
    # Two of three months; the other school none of them (measured: a miss, not no data).
    assert quarter == {w.school.pk: D("66.67"), w.other_school.pk: D("0.00")}
    # While the month runs it counts only once done.
    running = registry.run_source(
        "self_checks_held", [w.school.pk, w.other_school.pk], MARCH_START, dt.date(2025, 3, 12), {}
    )
    assert running == {w.school.pk: D("100.00"), w.other_school.pk: None}


def test_hazards_closed_on_time(aworld):
    w = aworld
    hazard_row(w.school, deadline=dt.date(2025, 3, 10), closed=dt.date(2025, 3, 10))  # on time
    hazard_row(w.school, deadline=dt.date(2025, 3, 10), closed=dt.date(2025, 3, 12))  # late
    hazard_row(w.school, deadline=dt.date(2025, 2, 10), closed=dt.date(2025, 2, 12))  # before
    hazard_row(w.school, deadline=dt.date(2025, 3, 10))  # open: not counted here
    hazard_row(w.other_school, deadline=None, closed=dt.date(2025, 3, 3))  # no deadline: on time
    got = run("hazards_closed_on_time", w)
    assert got == {w.school.pk: D("50.00"), w.other_school.pk: D("100.00")}


def test_overdue_hazards_at_the_end_of_the_period(aworld):
    w = aworld
    for _ in range(6):
        hazard_row(w.school, deadline=dt.date(2025, 3, 1))
    hazard_row(w.other_school, deadline=dt.date(2025, 3, 20), closed=dt.date(2025, 3, 19))
    hazard_row(w.school3, deadline=dt.date(2025, 2, 1), closed=dt.date(2025, 2, 2))  # before
    got = run("overdue_hazards", w)
    assert got == {w.school.pk: D("0.00"), w.other_school.pk: D("100.00")}
    assert run("overdue_hazards", w, {"per_hazard": 10})[w.school.pk] == D("40.00")


def test_listed_supervision(aworld):
    w = aworld
    common = dict(title="挂牌", reason="重大隐患", supervising_org=w.gov_office, deadline=END)
    ListedSupervision.objects.create(school=w.school, listed_at=at(dt.date(2025, 3, 2)), **common)
    ListedSupervision.objects.create(
        school=w.other_school,
        listed_at=at(dt.date(2025, 2, 2)),
        lifted_at=at(dt.date(2025, 3, 20)),
        status="lifted",
        **common,
    )
    ListedSupervision.objects.create(
        school=w.school3,
        listed_at=at(dt.date(2025, 1, 2)),
        lifted_at=at(dt.date(2025, 2, 20)),
        status="lifted",
        **common,
    )
    got = run("listed_supervision", w)
    assert got == {w.school.pk: D("50.00"), w.other_school.pk: D("100.00")}


def test_police_visits_whole_weeks(aworld):
    w = aworld
    # March 2025: whole weeks from Monday 3rd to Sunday 30th — four of them.
    for day in (3, 5, 10, 12, 17, 24, 26, 31):
        PoliceVisit.objects.create(
            school=w.school, officer=w.users["postofficer"], arrived_at=at(dt.date(2025, 3, day))
        )
    no_station = w.school4
    no_station.police_station = None
    no_station.save()
    got = run("police_visits", w, schools=[w.school.pk, w.other_school.pk, no_station.pk])
    # Weeks of the 3rd, 10th and 24th met; the 17th had one visit; the 31st is next week's.
    assert got == {w.school.pk: D("75.00"), w.other_school.pk: D("0.00")}
    assert run("police_visits", w, end=dt.date(2025, 3, 8)) == {}  # no whole week yet


def test_gate_posts_staffed(aworld):
    w = aworld
    post = GatePost.objects.create(school=w.school, period="morning", location="正门")

    def shift(day, **kw):
        return PostShift.objects.create(
            post=post,
            school=w.school,
            period="morning",
            date=dt.date(2025, 3, day),
            week_start=dt.date(2025, 3, day) - dt.timedelta(days=dt.date(2025, 3, day).weekday()),
            starts_at=at(dt.date(2025, 3, day), "07:20"),
            ends_at=at(dt.date(2025, 3, day), "08:00"),
            **kw,
        )

    shift(3, expects_police=True, police_arrived_at=at(dt.date(2025, 3, 3), "07:21"))
    shift(4, expects_police=True, first_check_in_at=at(dt.date(2025, 3, 4), "07:21"))  # no police
    shift(5, first_check_in_at=at(dt.date(2025, 3, 5), "07:25"))
    shift(6, cancelled_at=at(dt.date(2025, 3, 5)))  # called off: not counted
    got = run("gate_posts_staffed", w)
    assert got == {w.school.pk: D("66.67")}


def test_alarm_response(aworld):
    w = aworld

    def alarm(minute, ack_seconds=None, **kw):
        raised = at(dt.date(2025, 3, 10), f"10:{minute:02d}")
        return Alarm.objects.create(
            school=w.school,
            kind="intrusion",
            source="button",
            raised_at=raised,
            cancel_window_ends_at=raised + dt.timedelta(seconds=10),
            acknowledged_at=raised + dt.timedelta(seconds=ack_seconds) if ack_seconds else None,
            **kw,
        )

    alarm(1, 30, status="acknowledged")
    alarm(2, 300, status="resolved")
    alarm(3, None)
    alarm(4, 5, is_drill=True)  # drills do not count
    alarm(5, None, status="cancelled")  # an accidental press
    alarm(6, 20, status="cancelled", is_false_alarm=True)  # a false alarm counts
    got = run("alarm_response", w)
    assert got == {w.school.pk: D("50.00")}  # 2 of 4 within 60 s; no alarm elsewhere: no data
    assert run("alarm_response", w, {"seconds": 600})[w.school.pk] == D("75.00")


def test_campaign_acceptance(aworld):
    w = aworld
    campaign = Campaign.objects.create(
        title="专项",
        owner=w.edu_office,
        self_check_due=dt.date(2025, 3, 5),
        spot_check_due=dt.date(2025, 3, 15),
        acceptance_due=dt.date(2025, 3, 25),
        status="running",
    )
    CampaignSchool.objects.create(
        campaign=campaign, school=w.school, status="accepted", accepted_at=at(dt.date(2025, 3, 24))
    )
    CampaignSchool.objects.create(
        campaign=campaign,
        school=w.other_school,
        status="accepted",
        accepted_at=at(dt.date(2025, 3, 28)),
    )
    CampaignSchool.objects.create(campaign=campaign, school=w.school3, status="submitted")
    got = run("campaign_acceptance", w)
    assert got == {w.school.pk: D("100.00"), w.other_school.pk: D("0.00"), w.school3.pk: D("0.00")}
