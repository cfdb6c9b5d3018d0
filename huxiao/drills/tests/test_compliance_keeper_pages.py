"""Pages of the county's keepers: the activity rules and the school terms — who may (county
offices only), the forms' errors in place (400, nothing written), success redirects."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from huxiao.drills.models import ActivityRule, Term
from huxiao.drills.tests import compliance_fixtures as fx
from huxiao.orgs.tests.factories import RegionFactory

pytestmark = pytest.mark.django_db

RULES = reverse("drills:rules")
TERMS = reverse("drills:terms")
NEW = reverse("drills:term_new")


def login(client, user):
    client.force_login(user)
    return client


def test_anonymous_goes_to_login(client, world):
    term = fx.term(world.region)
    urls = [RULES, TERMS, NEW, reverse("drills:term_edit", args=[term.pk])]
    for url in urls:
        assert client.get(url).status_code == 302
    assert client.post(reverse("drills:term_delete", args=[term.pk])).status_code == 302
    assert Term.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("principal", 403),
        ("teacher", 403),
        ("police", 403),
        ("edu", 403),  # a town-level office
        ("gov", 403),
        ("county", 200),
        ("nobody", 403),
    ],
)
def test_keeper_pages_role(client, world, name, status):
    c = login(client, world.users[name])
    for url in (RULES, TERMS, NEW):
        assert c.get(url).status_code == status


def test_terms_page_says_the_default_calendar_applies(client, world):
    html = login(client, world.users["county"]).get(TERMS).content.decode()
    assert 'data-testid="default-calendar"' in html
    assert 'data-testid="term-row"' not in html


def test_enter_edit_and_delete_a_term(client, world):
    c = login(client, world.users["county"])
    response = c.post(
        NEW,
        {
            "name": "2026—2027学年第一学期",
            "starts_on": "2026-09-01",
            "ends_on": "2027-01-20",
            "breaks": "2026-10-01 2026-10-07\n2026-12-31至2027-01-01\n",
        },
    )
    assert response.status_code == 302
    term = Term.objects.get()
    assert term.breaks == [["2026-10-01", "2026-10-07"], ["2026-12-31", "2027-01-01"]]
    edit = reverse("drills:term_edit", args=[term.pk])
    html = c.get(edit).content.decode()
    assert "2026-10-01 2026-10-07" in html and 'value="2026-09-01"' in html
    response = c.post(
        edit,
        {"name": "秋季学期", "starts_on": "2026-09-01", "ends_on": "2027-01-15", "breaks": ""},
    )
    assert response.status_code == 302
    term.refresh_from_db()
    assert (term.name, term.ends_on, term.breaks) == ("秋季学期", dt.date(2027, 1, 15), [])
    assert c.post(reverse("drills:term_delete", args=[term.pk])).status_code == 302
    assert not Term.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"ends_on": "2026-08-01"}, "ends_on"),
        ({"starts_on": "2026-02-30"}, "starts_on"),
        ({"starts_on": "0202-09-01"}, "starts_on"),
        ({"breaks": "国庆节"}, "breaks"),
        ({"breaks": "2026-10-07 2026-10-01"}, "breaks"),
        ({"breaks": "2027-03-01 2027-03-02"}, "breaks"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_term_form_is_400_with_the_error_in_place(client, world, data, field):
    c = login(client, world.users["county"])
    good = {"name": "秋", "starts_on": "2026-09-01", "ends_on": "2027-01-20", "breaks": ""}
    response = c.post(NEW, {**good, **data})
    assert response.status_code == 400
    html = response.content.decode()
    assert f'data-field="{field}"' in html or 'data-testid="form-errors"' in html
    assert not Term.objects.exists()


def test_another_countys_term_is_404(client, world):
    other = fx.term(RegionFactory())
    c = login(client, world.users["county"])
    assert c.get(reverse("drills:term_edit", args=[other.pk])).status_code == 404
    assert c.post(reverse("drills:term_delete", args=[other.pk])).status_code == 404
    assert c.get(reverse("drills:term_edit", args=[2**63])).status_code == 404
    assert c.get(TERMS + f"?region={other.region_id}").status_code == 404
    assert c.get(RULES + "?region=99999999999999999999").status_code in (200, 404)
    assert Term.objects.filter(pk=other.pk).exists()


def _rule_post(**overrides) -> dict:
    data = {
        "weekly_drill__enabled": "on",
        "weekly_drill__min_per_week": "1",
        "weekly_drill__remind_weekday": "4",
    }
    for key in (
        "safety_education_per_class",
        "lvp_lecture",
        "parent_meeting_lvp",
        "staff_training",
    ):
        data[f"{key}__enabled"] = "on"
        data[f"{key}__min_per_term"] = "1"
        data[f"{key}__remind_days"] = "14"
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_rules_page_saves(client, world):
    c = login(client, world.users["county"])
    html = c.get(RULES).content.decode()
    assert html.count('data-testid="rule"') == 5
    response = c.post(
        RULES, _rule_post(weekly_drill__min_per_week="2", staff_training__enabled=None)
    )
    assert response.status_code == 302
    rows = {r.key: r for r in ActivityRule.objects.filter(region=world.region)}
    assert rows["weekly_drill"].params == {"min_per_week": 2}
    assert rows["staff_training"].enabled is False


@pytest.mark.parametrize("value", ["0", "8", "1.5", "abc", "99999999999999999999"])
def test_rules_page_out_of_bounds_is_400(client, world, value):
    c = login(client, world.users["county"])
    response = c.post(RULES, _rule_post(weekly_drill__min_per_week=value))
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-testid="error-summary"' in html
    assert 'data-field="weekly_drill__min_per_week"' in html
    assert not ActivityRule.objects.filter(params__has_key="min_per_week").exists()
