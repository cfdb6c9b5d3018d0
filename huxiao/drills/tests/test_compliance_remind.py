"""Reminders before a deadline and flags after it (`activities_remind(now=)`), on the
hand-worked term with a controllable clock: who is told, once per school, rule and period,
and nothing on a second run. Also the open flags shown on the school's page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from huxiao.core.roles import OrgKind
from huxiao.drills import terms as T
from huxiao.drills.compliance_services import activities_remind
from huxiao.drills.models import ActivityFlag
from huxiao.drills.tests import compliance_fixtures as fx
from huxiao.notify.models import Delivery, Notification
from huxiao.orgs.models import Organization

pytestmark = pytest.mark.django_db


def morning(day: dt.date):
    return fx.at(day, 7, 30)


@pytest.fixture
def term_world(world):
    """The hand-worked term. Only world.school (with its town's education office) is in
    play: the other schools are switched off."""
    w = world
    w.term = fx.term(w.region)
    office = Organization.objects.get(kind=OrgKind.EDUCATION_OFFICE, town=w.town)
    w.school.education_office = office
    w.school.save()
    Organization.objects.filter(pk__in=[w.other_school.pk, w.far_school.pk]).update(is_active=False)
    fx.drill(w.school, dt.date(2026, 3, 4))  # week of 2 March; none in the week of 9 March
    return w


def flags(w):
    return set(ActivityFlag.objects.filter(school=w.school).values_list("rule", "period", "state"))


def inbox_users(notification) -> set[str]:
    return set(
        Delivery.objects.filter(notification=notification, recipient__isnull=False).values_list(
            "recipient__username", flat=True
        )
    )


def test_a_week_without_a_drill_is_flagged_to_the_school_and_its_office(term_world):
    w = term_world
    # Wednesday 25 March: the running week is not yet reminded (Thursday by default); the
    # last completed school week (9–15 March; 16–22 March was a holiday) had no drill.
    result = activities_remind(now=morning(dt.date(2026, 3, 25)))
    assert result == {"reminded": 0, "flagged": 1, "schools": [w.school.pk]}
    assert flags(w) == {("weekly_drill", "2026-W11", "flagged")}
    flag = ActivityFlag.objects.get(school=w.school)
    assert "2026-03-09" in flag.missing
    note = Notification.objects.get(event_type="drills.flag")
    assert inbox_users(note) == {"principal", "edu"}
    assert w.school.name in note.title
    # A second run the same morning sends nothing.
    assert activities_remind(now=morning(dt.date(2026, 3, 25)))["flagged"] == 0
    assert Notification.objects.count() == 1


def test_the_running_week_is_reminded_from_thursday(term_world):
    w = term_world
    activities_remind(now=morning(dt.date(2026, 3, 25)))
    result = activities_remind(now=morning(dt.date(2026, 3, 26)))
    assert result["reminded"] == 1 and result["flagged"] == 0
    assert ("weekly_drill", "2026-W13", "reminded") in flags(w)
    note = Notification.objects.get(event_type="drills.reminder")
    assert inbox_users(note) == {"principal"}  # the office is not told of reminders
    assert "2026-03-23" in note.body
    # Friday: already reminded this week.
    assert activities_remind(now=morning(dt.date(2026, 3, 27))) == {
        "reminded": 0,
        "flagged": 0,
        "schools": [],
    }


def test_a_drill_this_week_means_no_reminder(term_world):
    w = term_world
    fx.drill(w.school, dt.date(2026, 3, 24))
    activities_remind(now=morning(dt.date(2026, 3, 26)))
    assert ("weekly_drill", "2026-W13", "reminded") not in flags(w)


def test_per_term_rules_are_reminded_14_days_before_the_end(term_world):
    w = term_world
    key = T.term_key(w.term)
    activities_remind(now=morning(dt.date(2026, 4, 11)))  # 15 days before 26 April
    assert not {f for f in flags(w) if f[1] == key}
    fx.activity(w.school, "staff_training", dt.date(2026, 4, 1))
    activities_remind(now=morning(dt.date(2026, 4, 12)))
    per_term = {(rule, state) for rule, period, state in flags(w) if period == key}
    assert per_term == {
        ("safety_education_per_class", "reminded"),
        ("lvp_lecture", "reminded"),
        ("parent_meeting_lvp", "reminded"),
    }


def test_after_the_term_what_was_missed_is_flagged_once(term_world):
    w = term_world
    key = T.term_key(w.term)
    activities_remind(now=morning(dt.date(2026, 4, 12)))
    result = activities_remind(now=morning(fx.AFTER))
    assert result["flagged"] == 5  # four per-term rules and the last week (20–26 April)
    assert ("weekly_drill", "2026-W17", "flagged") in flags(w)
    assert ("staff_training", key, "flagged") in flags(w)
    # Later in the holiday the last term is still the one judged: nothing new.
    assert activities_remind(now=morning(dt.date(2026, 5, 20)))["flagged"] == 0


def test_open_flags_show_on_the_school_page_until_met(client, term_world):
    w = term_world
    activities_remind(now=morning(dt.date(2026, 3, 25)))
    client.force_login(w.users["principal"])
    url = reverse("drills:compliance_school", args=[w.school.pk]) + "?on=2026-03-25"
    html = client.get(url).content.decode()
    assert 'data-testid="flag" data-rule="weekly_drill" data-state="flagged"' in html
    # A drill recorded late for that week closes the flag.
    fx.drill(w.school, dt.date(2026, 3, 12))
    html = client.get(url).content.decode()
    assert 'data-testid="open-flags"' not in html
    assert 'data-testid="closed-flags"' in html


def test_flags_api_lists_them(api, term_world):
    w = term_world
    activities_remind(now=morning(dt.date(2026, 3, 25)))
    url = f"/api/v1/drills/compliance/schools/{w.school.pk}/flags?on=2026-03-25"
    response = api("GET", url, w.users["principal"])
    assert response.status_code == 200
    assert [(f["rule"], f["state"], f["is_open"]) for f in response.json()] == [
        ("weekly_drill", "flagged", True)
    ]
    assert api("GET", url, w.users["principal2"]).status_code == 404
    assert api("GET", url).status_code == 401
