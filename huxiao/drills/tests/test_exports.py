"""Exports of the drills list pages (issue 10 item 5): activities, the compliance
overviews' schools (all, or one town's) and the school terms hold the page's rows for the
same filters; refused like the page; bad filters a message; round trip."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from huxiao.drills.choices import ActivityKind, ActivityStatus
from huxiao.drills.tests import compliance_fixtures as fx
from huxiao.drills.tests.activity_fixtures import make_activity
from huxiao.reports.models import Report
from huxiao.reports.tests.export_checks import (
    assert_export_is_the_page,
    cells,
    post_status,
    workbook_values,
)

ON = "on=2026-03-26"


@pytest.fixture
def records(world):
    fx.term(world.region)
    fx.drill(world.school, dt.date(2026, 3, 4))
    fx.drills(world.other_school, [dt.date(2026, 3, 4), dt.date(2026, 3, 11)])
    make_activity(world.school, kind=ActivityKind.LEGAL_LECTURE, status=ActivityStatus.PLANNED)
    make_activity(world.far_school, title="外镇演练")
    return world


def _cases(w):
    town_url = reverse("drills:compliance_town", args=[w.town.pk])
    overview = reverse("drills:compliance_overview")
    activities = reverse("drills:activity_list")
    return {
        # name: (export, user, page URL with its query)
        "own school": ("drills.activities", "principal", activities),
        "one school": ("drills.activities", "county", f"{activities}?school={w.school.pk}"),
        "kind": ("drills.activities", "police", f"{activities}?kind=drill"),
        "bad filter": ("drills.activities", "edu", f"{activities}?status=zzz"),
        "failing": ("drills.compliance", "county", f"{overview}?{ON}&verdict=fail"),
        "a town": ("drills.compliance", "edu", f"{town_url}?{ON}"),
        "terms": ("drills.terms", "county", reverse("drills:terms")),
    }


SHOWN = {
    "drills.activities": lambda c: [a.pk for a in c["page"].object_list],
    "drills.compliance": lambda c: [r.pk for r in c["overview"].rows],
    "drills.terms": lambda c: [t.pk for t in c["terms"]],
}


@pytest.mark.parametrize(
    "case", ["own school", "one school", "kind", "bad filter", "failing", "a town", "terms"]
)
def test_export_rows_are_the_pages_rows(records, client, case):
    export, name, url = _cases(records)[case]
    user = records.users[name]
    assert assert_export_is_the_page(client, user, export, url, SHOWN[export])


@pytest.mark.parametrize(
    "export, name, query, status",
    [
        ("drills.activities", "nobody", "", 403),
        ("drills.activities", "principal2", "school={school}", 404),
        ("drills.compliance", "principal", ON, 403),
        ("drills.compliance", "principal", "on=2026-13-01", 403),  # 403 before the bad date
        ("drills.compliance", "edu", "town={far_town}", 404),
        ("drills.compliance", "county", "town=x", 404),
        ("drills.terms", "edu", "", 403),
        ("drills.terms", "county", "region=999999999", 404),
        ("drills.compliance", "county", "on=2026-13-01", 302),  # a message, no job
    ],
)
def test_export_refused_as_the_page(records, client, export, name, query, status):
    query = query.format(school=records.school.pk, far_town=records.other_town.pk)
    assert post_status(client, records.users[name], export, query) == status
    assert not Report.objects.exists()


def test_export_round_trip(records, client, django_capture_on_commit_callbacks):
    values = workbook_values(
        client,
        records.users["county"],
        "drills.compliance",
        f"{ON}&verdict=fail",
        django_capture_on_commit_callbacks,
    )
    found = cells(values)
    assert "本园" in found and "同镇学校" not in found
