"""Exports of the alarm console and the response-time statistics (issue 10 item 5): the
pages' rows for the same period, scope, bad input, round trip."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from huxiao.alarms import services
from huxiao.reports.models import Report
from huxiao.reports.tests.export_checks import (
    assert_export_is_the_page,
    cells,
    export_rows,
    has_button,
    post_status,
    workbook_values,
)


@pytest.fixture
def alarms(world):
    now = timezone.now()

    def press(school, guard, minutes_ago):
        alarm, _ = services.alarm_raise(
            actor=guard,
            school=school,
            kind="intrusion",
            now=now - dt.timedelta(minutes=minutes_ago),
        )
        return alarm

    still_open = press(world.school, world.users["guard"], 5)
    resolved = press(world.school, world.users["guard"], 30)
    services.alarm_acknowledge(actor=world.users["police"], alarm=resolved)
    services.alarm_resolve(actor=world.users["police"], alarm=resolved, outcome="已处置")
    other = press(world.other_school, world.users["principal2"], 10)
    return still_open, resolved, other


@pytest.mark.parametrize("name, n", [("police", 3), ("principal", 2), ("principal2", 1)])
def test_console_export_is_the_consoles_alarms(world, alarms, client, name, n):
    def shown_of(context):
        config = context["config"]
        # The config sends the open alarms most urgent first; the page shows them newest
        # first (console.js insertCard), as the export does.
        shown_open = sorted(config["open"], key=lambda a: (a["raised_at"], a["id"]), reverse=True)
        return [a["id"] for a in [*shown_open, *config["closed"]]]

    url = reverse("alarms:console")
    shown = assert_export_is_the_page(client, world.users[name], "alarms.alarms", url, shown_of)
    assert len(shown) == n


@pytest.mark.parametrize("query", ["", "period=custom&since=2000-01-01", "drills=on"])
def test_stats_export_is_the_pages_tables(world, alarms, client, query):
    user = world.users["county"]
    client.force_login(user)
    page = client.get(reverse("alarms:stats") + "?" + query)
    assert page.status_code == 200 and has_button(page, "alarms.stats")
    shown = [r.name for r in page.context["by_station"].rows]
    shown += [r.name for r in page.context["by_school"].rows]
    if len(page.context["by_school"].rows) > 1:
        shown.append(page.context["by_school"].total.name)
    rows = export_rows(user, "alarms.stats", query)
    assert [r[1] for r in rows] == shown and "本园" in shown
    school_row = next(r for r in rows if r[1] == "本园")
    on_page = next(r for r in page.context["by_school"].rows if r.name == "本园")
    assert school_row[3] == on_page.alarms == 2 and school_row[4] == on_page.acknowledged == 1


def test_exports_refused_as_the_pages(world, alarms, client):
    assert post_status(client, world.users["nobody"], "alarms.alarms") == 403
    assert post_status(client, world.users["nobody"], "alarms.stats") == 403
    bad = "period=custom&since=2026-13-01"
    client.force_login(world.users["police"])
    assert client.get(reverse("alarms:stats") + "?" + bad).status_code == 400
    assert post_status(client, world.users["police"], "alarms.stats", bad) == 302
    assert not Report.objects.exists()  # a message, no job


def test_console_round_trip(world, alarms, client, django_capture_on_commit_callbacks):
    values = workbook_values(
        client, world.users["principal"], "alarms.alarms", "", django_capture_on_commit_callbacks
    )
    found = cells(values)
    assert "已处置" in found and "同镇学校" not in found
