"""Exports of the duty list pages (issue 10 item 5): the overview, a school's roster week,
monitoring-room log day, gaps, rounds and checkpoints hold the page's rows (the button
posts the page's school and week or day); refused like the page; round trip."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from huxiao.duty import gap_services, monitoring_services
from huxiao.duty.tests.duty_fixtures import live_shift, put_on
from huxiao.duty.tests.rounds_fixtures import build_rounds_world, walk
from huxiao.reports.models import Report
from huxiao.reports.tests.export_checks import (
    assert_export_is_the_page,
    cells,
    post_status,
    workbook_values,
)


@pytest.fixture
def records(world):
    w = build_rounds_world(world)
    now = timezone.now().replace(microsecond=0)
    walk(w, ["大门", "教学楼"], start=now - dt.timedelta(minutes=30))
    shift = live_shift(w.school)
    put_on(shift, w.users["guard"])
    gap_services.gap_flag(
        school=w.school, kind="shift_uncovered", shift=shift, starts_at=shift.starts_at
    )
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    monitoring_services.monitoring_add(
        actor=w.users["guard"],
        school_id=w.school.pk,
        watcher_name="值守员",
        period_start=timezone.make_aware(dt.datetime.combine(yesterday, dt.time(10))),
        period_end=timezone.make_aware(dt.datetime.combine(yesterday, dt.time(11))),
        observations="监控画面正常",
    )
    return w


def _pages(w):
    school = w.school.pk
    return {
        "duty.overview": (
            reverse("duty:overview"),
            lambda c: [r["school"].pk for r in c["rows"]],
            0,
        ),
        "duty.roster": (
            reverse("duty:roster", args=[school]),
            lambda c: [s.pk for d in c["days"] for s in (d.day, d.night) if s],
            0,
        ),
        "duty.monitoring": (
            reverse("duty:monitoring", args=[school])
            + f"?date={timezone.localdate() - dt.timedelta(days=1)}",
            lambda c: [e.pk for e in c["entries"]],
            0,
        ),
        "duty.gaps": (
            reverse("duty:gaps", args=[school]),
            lambda c: [g.pk for g in [*c["open_gaps"], *c["resolved"].object_list]],
            0,
        ),
        "duty.rounds": (
            reverse("duty:rounds", args=[school]),
            lambda c: [r.pk for d in c["days"] for r in d.rounds],
            4,
        ),
        "duty.checkpoints": (
            reverse("duty:checkpoints", args=[school]),
            lambda c: [cp.pk for cp in c["checkpoints"]],
            0,
        ),
    }


@pytest.mark.parametrize(
    "export, name",
    [
        ("duty.overview", "police"),
        ("duty.overview", "county"),
        ("duty.roster", "principal"),
        ("duty.monitoring", "edu"),
        ("duty.gaps", "police"),
        ("duty.rounds", "principal"),
        ("duty.checkpoints", "principal"),
    ],
)
def test_export_rows_are_the_pages_rows(records, client, export, name):
    url, shown_of, column = _pages(records)[export]
    user = records.users[name]
    assert assert_export_is_the_page(client, user, export, url, shown_of, column)


@pytest.mark.parametrize(
    "export", ["duty.roster", "duty.monitoring", "duty.gaps", "duty.rounds", "duty.checkpoints"]
)
@pytest.mark.parametrize(
    "name, query, status",
    [
        ("principal2", "school={school}", 404),
        ("principal", "school=x", 404),
        ("principal", f"school={2**70}", 404),
        ("principal", "", 404),
        ("nobody", "school={school}", None),  # as the page: 403 or 404
    ],
)
def test_export_refused_as_the_page(records, client, export, name, query, status):
    user = records.users[name]
    query = query.format(school=records.school.pk)
    if status is None:  # as the page: 403 for a role without the action, else 404
        client.force_login(user)
        status = client.get(_pages(records)[export][0]).status_code
        assert status in (403, 404)
    assert post_status(client, user, export, query) == status
    assert not Report.objects.exists()


def test_checkpoints_are_for_duty_planners(records, client):
    client.force_login(records.users["police"])
    url = reverse("duty:checkpoints", args=[records.school.pk])
    assert client.get(url).status_code == 403
    assert post_status(client, records.users["police"], "duty.checkpoints", "school=1") == 403


def test_export_round_trip(records, client, django_capture_on_commit_callbacks):
    values = workbook_values(
        client,
        records.users["principal"],
        "duty.rounds",
        f"school={records.school.pk}",
        django_capture_on_commit_callbacks,
    )
    found = cells(values)
    assert "大门、教学楼" in found and "校门" not in " ".join(map(str, found))
