"""Exports of the health list pages (issue 10 item 5): each holds the page's rows for the
same school and filters; the police and other schools are refused like the page; children's
names only where the page lists them; round trip."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from huxiao.health.models import (
    AftercareTask,
    ClassSuspension,
    ClusterAlert,
    Disinfection,
    HealthContact,
    IllnessFollowUp,
    MonitoringPlan,
    OfficialStatement,
)
from huxiao.health.tests.response_fixtures import make_case
from huxiao.reports.models import Report
from huxiao.reports.tests.export_checks import (
    assert_export_is_the_page,
    assert_refused_like_the_page,
    cells,
    export_rows,
    post_status,
    workbook_values,
)


@pytest.fixture
def records(hworld):
    w = hworld
    now = timezone.now()
    today = timezone.localdate()
    w.case = make_case(w.school_class, w.child)
    w.other_case = make_case(w.other_class, w.other_child)
    for school, klass, child, key in (
        (w.school, w.school_class, w.child, "a"),
        (w.other_school, w.other_class, w.other_child, "b"),
    ):
        alert = ClusterAlert.objects.create(
            school=school,
            school_class=klass,
            kind="class_cluster",
            symptom_group="respiratory",
            key=key,
            window_start=today - dt.timedelta(days=2),
            window_end=today,
            child_count=1,
            raised_at=now,
        )
        alert.children.add(child)
    ClassSuspension.objects.create(
        school=w.school,
        scope="class",
        school_class=w.school_class,
        starts_on=today,
        ends_on=today + dt.timedelta(days=7),
        reason="聚集性发热",
        decided_at=now,
    )
    ClassSuspension.objects.create(
        school=w.school,
        scope="school",
        starts_on=today - dt.timedelta(days=30),
        ends_on=today - dt.timedelta(days=20),
        reason="流感",
        decided_at=now - dt.timedelta(days=30),
    )
    Disinfection.objects.create(
        school=w.school,
        kind="routine",
        area="classroom",
        method="擦拭",
        done_by_name="保洁员",
        done_at=now,
    )
    OfficialStatement.objects.create(
        school=w.school,
        text="本园一名幼儿发热，已按规定处置。",
        published_at=now,
        approved_by="园长",
    )
    AftercareTask.objects.create(
        case=w.case, kind="follow_up", description="随访观察", assignee=w.users["nurse"]
    )
    MonitoringPlan.objects.create(
        school=w.school,
        school_class=w.school_class,
        starts_on=today,
        ends_on=today + dt.timedelta(days=7),
    )
    MonitoringPlan.objects.create(
        school=w.school,
        school_class=w.school_class,
        starts_on=today - dt.timedelta(days=30),
        ends_on=today - dt.timedelta(days=20),
    )
    IllnessFollowUp.objects.create(
        school=w.school, child=w.child, first_day=today - dt.timedelta(days=2), diagnosis="感冒"
    )
    HealthContact.objects.create(
        school=w.school, party="school", name="王园长", phone="13800000000"
    )
    return w


def _pages(w):
    s = w.school.pk
    return {
        "health.cases": (reverse("health:cases"), lambda c: [x.pk for x in c["cases"]], 0),
        "health.alerts": (
            reverse("health:alerts"),
            lambda c: [a.pk for a in c["page"].object_list],
            0,
        ),
        "health.surveillance_town": (
            reverse("health:surveillance_town"),
            lambda c: [r.school.pk for r in c["page"].object_list],
            0,
        ),
        "health.surveillance": (
            reverse("health:surveillance", args=[s]),
            lambda c: [d.date for d in c["data"].days],
            0,
        ),
        "health.checks": (
            reverse("health:checks", args=[s]),
            lambda c: [r.school_class.pk for r in c["rows"]],
            0,
        ),
        "health.follow_ups": (
            reverse("health:follow_ups", args=[s]),
            lambda c: [r.follow_up.pk for r in c["rows"]] + [f.pk for f in c["returned"]],
            0,
        ),
        "health.suspensions": (
            reverse("health:suspensions"),
            lambda c: [x.pk for x in [*c["current"], *c["past"]]],
            0,
        ),
        "health.disinfections": (
            reverse("health:disinfections", args=[s]),
            lambda c: [d.pk for day in c["days"] for d in day.records],
            0,
        ),
        "health.statements": (
            reverse("health:statements", args=[s]),
            lambda c: [x.pk for x in c["statements"]],
            0,
        ),
        "health.aftercare": (
            reverse("health:aftercare"),
            lambda c: [t.pk for t in [*c["mine"], *c["others"]]],
            0,
        ),
        "health.monitoring": (
            reverse("health:monitoring", args=[s]),
            lambda c: [p.pk for p in [*c["current"], *c["past"]]],
            0,
        ),
        "health.directory": (
            reverse("health:directory", args=[s]),
            lambda c: [x.pk for g in c["groups"] for x in g["contacts"]],
            0,
        ),
    }


CASES = [
    ("health.cases", "health"),
    ("health.cases", "principal"),
    ("health.alerts", "health"),
    ("health.surveillance_town", "health"),
    ("health.surveillance", "principal"),
    ("health.checks", "nurse"),
    ("health.follow_ups", "nurse"),
    ("health.suspensions", "principal"),
    ("health.disinfections", "nurse"),
    ("health.statements", "principal"),
    ("health.aftercare", "nurse"),
    ("health.monitoring", "principal"),
    ("health.directory", "principal"),
]


@pytest.mark.parametrize("export, name", CASES)
def test_export_rows_are_the_pages_rows(records, client, export, name):
    url, shown_of, column = _pages(records)[export]
    user = records.users[name]
    assert assert_export_is_the_page(client, user, export, url, shown_of, column)


def test_a_school_sees_its_own(records):
    principal = records.users["principal"]
    assert [r[0] for r in export_rows(principal, "health.cases")] == [records.case.pk]
    alerts = export_rows(principal, "health.alerts")
    assert len(alerts) == 1 and "张三" not in alerts[0]


@pytest.mark.parametrize("export", sorted({e for e, _n in CASES}))
@pytest.mark.parametrize("name", ["police", "principal2"])
def test_export_refused_as_the_page(records, client, export, name):
    url = _pages(records)[export][0]
    query = f"school={records.school.pk}"
    page = assert_refused_like_the_page(client, records.users[name], export, url, query)
    if name == "police":
        assert page == 403 or export == "health.directory"  # police never read health data


def test_bad_input_is_refused(records, client):
    nurse = records.users["nurse"]
    for query in ("school=x", f"school={2**70}", ""):
        assert post_status(client, nurse, "health.follow_ups", query) == 404
    bad_days = f"school={records.school.pk}&days=x"
    assert post_status(client, nurse, "health.surveillance", bad_days) == 302  # a message
    assert post_status(client, records.users["police"], "health.surveillance", bad_days) == 403
    assert not Report.objects.exists()


def test_export_round_trip(records, client, django_capture_on_commit_callbacks):
    values = workbook_values(
        client,
        records.users["health"],
        "health.surveillance_town",
        "",
        django_capture_on_commit_callbacks,
    )
    found = cells(values)
    assert "本园" in found and "同镇学校" in found and "外镇学校" not in found
    assert "王小明" not in found  # an aggregate: no child's name
