"""The compliance, calendar, rules and terms API: role × scope for every endpoint, the shape
of the answers, and bad input (400 with the field, never 500)."""

from __future__ import annotations

import datetime as dt

import pytest

from huxiao.drills.models import ActivityRule, Term
from huxiao.drills.tests import compliance_fixtures as fx
from huxiao.orgs.tests.factories import RegionFactory

pytestmark = pytest.mark.django_db

BASE = "/api/v1/drills"


@pytest.fixture
def judged(world):
    fx.term(world.region)
    fx.drill(world.school, dt.date(2026, 3, 4))
    return world


@pytest.mark.parametrize(
    ("name", "status"),
    [
        (None, 401),
        ("principal", 200),
        ("guard", 200),
        ("principal2", 404),
        ("police", 200),
        ("farpolice", 404),
        ("edu", 200),
        ("county", 200),
        ("nobody", 403),
    ],
)
def test_school_compliance_scope(api, judged, name, status):
    user = judged.users[name] if name else None
    url = f"{BASE}/compliance/schools/{judged.school.pk}?on=2026-03-26"
    response = api("GET", url, user)
    assert response.status_code == status
    if status == 200:
        body = response.json()
        assert body["term"]["starts_on"] == "2026-03-02" and body["term"]["is_default"] is False
        weekly = body["verdicts"][0]
        assert (weekly["rule"], weekly["verdict"]) == ("weekly_drill", "fail")
        assert weekly["missing_data"][0] == {
            "key": "week_short",
            "params": {"monday": "2026-03-09", "sunday": "2026-03-15", "done": 0, "min": 1},
        }
        assert weekly["deadline"] == "2026-03-29"
        assert body["is_compliant"] is False and body["missing_count"] == 1


@pytest.mark.parametrize(
    "url",
    [
        "/compliance/schools/0",
        "/compliance/schools/9223372036854775808",
        "/compliance/schools/abc",
        "/compliance/schools/{school}?on=2026-02-30",
        "/compliance/schools/{school}?on=0001-01-01",
        "/compliance/towns/{town}?rule=nope",
        "/compliance/towns/{town}?verdict=maybe",
        "/compliance/overview?on=x",
        "/calendar?month=2026-13",
        "/calendar?month=1700-01",
        "/calendar?month=march",
        "/calendar?school_id=-1",
        "/calendar?school_id=99999999999999999999999",
        "/rules?region_id=0",
        "/terms/9223372036854775808",
    ],
)
def test_bad_input_is_4xx(api, judged, url):
    url = url.format(school=judged.school.pk, town=judged.town.pk)
    response = api("GET", BASE + url, judged.users["county"])
    assert response.status_code in (400, 404, 422)
    assert response.status_code != 500


@pytest.mark.parametrize(
    ("name", "status", "schools"),
    [
        ("principal", 403, None),
        ("police", 200, 2),
        ("farpolice", 404, None),
        ("edu", 200, 2),
        ("county", 200, 2),
        ("nobody", 403, None),
    ],
)
def test_town_overview_scope(api, judged, name, status, schools):
    url = f"{BASE}/compliance/towns/{judged.town.pk}?on=2026-03-26&verdict=fail"
    response = api("GET", url, judged.users[name])
    assert response.status_code == status
    if schools:
        body = response.json()
        assert body["rates"]["schools"] == schools
        ids = {s["school_id"] for s in body["schools"]}
        assert ids == {judged.school.pk, judged.other_school.pk}
        lack = body["schools"][0]["lacking"][0]
        assert lack["rule"] == "weekly_drill" and lack["verdict"] == "fail"


@pytest.mark.parametrize(
    ("name", "status", "schools"),
    [
        (None, 401, None),
        ("principal", 403, None),
        ("police", 200, 2),
        ("county", 200, 3),
        ("nobody", 403, None),
    ],
)
def test_overview_scope(api, judged, name, status, schools):
    user = judged.users[name] if name else None
    response = api("GET", f"{BASE}/compliance/overview?on=2026-03-26", user)
    assert response.status_code == status
    if schools:
        body = response.json()
        assert body["rates"]["schools"] == schools and body["schools"] == []
        assert body["rates"]["rules"][0]["rule"] == "weekly_drill"


@pytest.mark.parametrize(
    ("name", "status"),
    [
        (None, 401),
        ("teacher", 200),
        ("principal2", 404),
        ("police", 200),
        ("farpolice", 404),
        ("edu", 200),
        ("county", 200),
        ("nobody", 403),
    ],
)
def test_calendar_scope(api, judged, name, status):
    user = judged.users[name] if name else None
    url = f"{BASE}/calendar?school_id={judged.school.pk}&month=2026-03"
    response = api("GET", url, user)
    assert response.status_code == status
    if status == 200:
        weeks = {w["week"]: w for w in response.json()["weeks"]}
        assert weeks["2026-W10"]["state"] == "held" and weeks["2026-W10"]["drills"] == 1
        assert weeks["2026-W11"]["state"] == "missing"
        assert weeks["2026-W12"]["school_week"] is False


@pytest.mark.parametrize(
    ("name", "status"),
    [(None, 401), ("principal", 403), ("police", 403), ("edu", 403), ("county", 200)],
)
def test_rules_and_terms_scope(api, judged, name, status):
    user = judged.users[name] if name else None
    assert api("GET", f"{BASE}/rules", user).status_code == status
    assert api("GET", f"{BASE}/terms", user).status_code == status
    response = api("PATCH", f"{BASE}/rules/weekly_drill", user, json={"enabled": False})
    assert response.status_code == (200 if status == 200 else status)
    created = api(
        "POST",
        f"{BASE}/terms",
        user,
        json={"name": "秋", "starts_on": "2026-09-01", "ends_on": "2027-01-20"},
    )
    assert created.status_code == (201 if status == 200 else status)
    assert Term.objects.count() == (2 if status == 200 else 1)


def test_rule_patch(api, judged):
    county = judged.users["county"]
    response = api(
        "PATCH", f"{BASE}/rules/weekly_drill", county, json={"params": {"min_per_week": 2}}
    )
    assert response.status_code == 200
    params = {p["name"]: p["value"] for p in response.json()["params"]}
    assert params == {"min_per_week": 2, "remind_weekday": 4}
    bad = api("PATCH", f"{BASE}/rules/weekly_drill", county, json={"params": {"min_per_week": 9}})
    assert bad.status_code == 400 and "weekly_drill__min_per_week" in bad.json()["errors"]
    assert api("PATCH", f"{BASE}/rules/nope", county, json={"enabled": False}).status_code == 404
    wrong = api("PATCH", f"{BASE}/rules/weekly_drill", county, json={"enabled": "no"})
    assert wrong.status_code == 400
    empty = api("PATCH", f"{BASE}/rules/weekly_drill", county, json={})
    assert empty.status_code == 400
    assert ActivityRule.objects.get(key="weekly_drill").params == {"min_per_week": 2}


def test_terms_crud(api, judged):
    county = judged.users["county"]
    body = {
        "name": "秋",
        "starts_on": "2026-09-01",
        "ends_on": "2027-01-20",
        "breaks": [{"first": "2026-10-01", "last": "2026-10-07"}],
    }
    created = api("POST", f"{BASE}/terms", county, json=body)
    assert created.status_code == 201
    term = created.json()
    assert term["breaks"] == [["2026-10-01", "2026-10-07"]]
    url = f"{BASE}/terms/{term['id']}"
    assert api("GET", url, county).json()["name"] == "秋"
    patched = api("PATCH", url, county, json={"ends_on": "2026-08-01"})
    assert patched.status_code == 400 and "ends_on" in patched.json()["errors"]
    assert api("PATCH", url, county, json={"name": "秋季"}).json()["name"] == "秋季"
    listing = api("GET", f"{BASE}/terms", county).json()
    assert listing["uses_default_calendar"] is False and len(listing["terms"]) == 2
    assert api("DELETE", url, county).status_code == 204
    assert api("DELETE", url, county).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": 5, "starts_on": [], "ends_on": {}},
        {"name": "秋", "starts_on": "2026-09-01", "ends_on": "2027-01-20", "breaks": "x"},
        {"name": "秋", "starts_on": "9999-99-99", "ends_on": "2027-01-20"},
    ],
)
def test_bad_term_bodies(api, judged, body):
    response = api("POST", f"{BASE}/terms", judged.users["county"], json=body)
    assert response.status_code == 400 and response.json()["errors"]
    assert Term.objects.count() == 1


def test_term_of_another_county_is_404(api, judged):
    other = fx.term(RegionFactory())
    county = judged.users["county"]
    assert api("GET", f"{BASE}/terms/{other.pk}", county).status_code == 404
    assert api("PATCH", f"{BASE}/terms/{other.pk}", county, json={"name": "x"}).status_code == 404
    assert api("GET", f"{BASE}/terms?region_id={other.region_id}", county).status_code == 404
