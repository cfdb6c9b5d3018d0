"""Pages of compliance: who gets 200, 403 and 404 (anonymous, nobody, own school, another
school, police, town offices, county); what the school page shows; the overviews' rates,
drill-down and query counts; the home redirect; re-evaluation; the county's rule page."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from huxiao.audit.models import AuditEvent
from huxiao.security import compliance
from huxiao.security.models import ComplianceRule, SchoolCompliance
from huxiao.security.rules import ensure_rules
from huxiao.security.tests import compliance_fixtures as fx

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def evaluated(world):
    """world.school meets every rule; other_school lacks everything; both evaluated."""
    world.school.enrolment = 90
    world.school.save()
    fx.make_compliant(world.school)
    world.other_school.enrolment = 1600
    world.other_school.is_boarding = True
    world.other_school.save()
    for _ in range(3):
        fx.guard(world.other_school)
    compliance.evaluate_region(world.region.pk, now=fx.NOW)
    return world


def school_url(school):
    return reverse("security:compliance_school", args=[school.pk])


def town_url(town):
    return reverse("security:compliance_town", args=[town.pk])


COUNTY = reverse("security:compliance_county")
SCHOOLS = reverse("security:compliance_schools")
HOME = reverse("security:compliance_home")
RULES = reverse("security:rules")


def test_anonymous_goes_to_login(client, evaluated):
    for url in (school_url(evaluated.school), town_url(evaluated.town), COUNTY, SCHOOLS, HOME):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response["Location"]
    assert client.get(RULES).status_code == 302
    assert client.post(reverse("security:compliance_reevaluate", args=[1])).status_code == 302


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("principal", 200),
        ("guard", 200),
        ("teacher", 200),
        ("principal2", 404),
        ("police", 200),
        ("postofficer", 200),
        ("farpolice", 404),
        ("edu", 200),
        ("gov", 200),
        ("county", 200),
        ("nobody", 403),
    ],
)
def test_school_page_role_and_scope(client, evaluated, name, status):
    response = login(client, evaluated.users[name]).get(school_url(evaluated.school))
    assert response.status_code == status


def test_school_page_out_of_range_ids_are_404(client, evaluated):
    c = login(client, evaluated.users["county"])
    assert c.get(reverse("security:compliance_school", args=[2**63])).status_code == 404
    assert c.get(
        reverse("security:compliance_school", args=[evaluated.station.pk])
    ).status_code in (404,)


def test_school_page_shows_each_verdict_and_what_is_missing(client, evaluated):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = login(client, evaluated.users["principal2"]).get(school_url(evaluated.other_school))
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count('data-testid="verdict"') == 13
    assert 'data-rule="guards_staffing" data-verdict="fail"' in html
    assert "3 full-time guards at present" in html
    assert "1 more full-time guard needed" in html
    assert 'data-testid="missing-list"' in html
    assert 'data-value="0"' in html  # not compliant
    # The principal of a school may re-evaluate it; the fact pages are linked.
    assert 'data-testid="reevaluate"' in html
    school_id = evaluated.other_school.pk
    for name in ("security:personnel", "security:equipment", "security:defence", "duty:rounds"):
        assert reverse(name, args=[school_id]) in html


def test_school_page_of_a_compliant_school(client, evaluated):
    html = login(client, evaluated.users["guard"]).get(school_url(evaluated.school)).content
    html = html.decode()
    assert 'data-testid="nothing-missing"' in html
    assert 'data-testid="compliant" data-value="1"' in html
    assert 'data-testid="reevaluate"' not in html  # a guard keeps no records


def test_school_page_before_any_evaluation(client, world):
    html = login(client, world.users["principal"]).get(school_url(world.school)).content
    assert b'data-testid="never-evaluated"' in html


# ------------------------------------------------------------------ re-evaluate


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("principal", 302),
        ("county", 302),
        ("guard", 403),
        ("teacher", 403),
        ("police", 403),
        ("edu", 403),
        ("principal2", 404),
        ("farpolice", 404),
        ("nobody", 404),
    ],
)
def test_reevaluate_role_and_scope(client, world, name, status):
    url = reverse("security:compliance_reevaluate", args=[world.school.pk])
    response = login(client, world.users[name]).post(url)
    assert response.status_code == status
    assert SchoolCompliance.objects.filter(school=world.school).exists() is (status == 302)


def test_reevaluate_is_post_only(client, world):
    url = reverse("security:compliance_reevaluate", args=[world.school.pk])
    assert login(client, world.users["principal"]).get(url).status_code == 405


# ------------------------------------------------------------------ overviews


@pytest.mark.parametrize(
    ("name", "status", "schools"),
    [
        ("edu", 200, 2),
        ("gov", 200, 2),
        ("county", 200, 2),
        ("police", 200, 2),
        ("postofficer", 200, 1),
        ("farpolice", 404, None),
        ("principal", 403, None),
        ("guard", 403, None),
        ("nobody", 403, None),
    ],
)
def test_town_page_role_and_scope(client, evaluated, name, status, schools):
    response = login(client, evaluated.users[name]).get(town_url(evaluated.town))
    assert response.status_code == status
    if schools is not None:
        html = response.content.decode()
        assert html.count('data-testid="school-row"') == schools
        assert f'data-testid="rate-schools">{schools}<' in html


def test_town_page_rates_and_drill_down(client, evaluated):
    c = login(client, evaluated.users["edu"])
    html = c.get(town_url(evaluated.town)).content.decode()
    assert 'data-testid="rate-compliance">50.0%<' in html
    assert 'data-testid="rate-network">50.0%<' in html
    assert 'data-testid="rate-staffing">50.0%<' in html
    assert 'data-testid="rate-closed">' in html
    assert html.count('data-testid="rule-row"') == 13
    failing = c.get(town_url(evaluated.town), {"rule": "guards_staffing", "verdict": "fail"})
    assert failing.status_code == 200
    rows = failing.content.decode()
    assert rows.count('data-testid="school-row"') == 1
    assert f'data-school="{evaluated.other_school.pk}"' in rows
    # The rates stay those of the whole town.
    assert 'data-testid="rate-compliance">50.0%<' in rows
    bad = c.get(town_url(evaluated.town), {"rule": "no_such_rule", "verdict": "maybe"})
    assert bad.status_code == 400
    assert bad.content.decode().count('data-testid="school-row"') == 2


def test_town_page_of_an_unknown_town(client, evaluated):
    c = login(client, evaluated.users["county"])
    assert c.get(reverse("security:compliance_town", args=[10**9])).status_code == 404
    assert c.get(reverse("security:compliance_town", args=[2**63])).status_code == 404


def test_town_page_counts_schools_never_evaluated(client, world):
    html = login(client, world.users["edu"]).get(town_url(world.town)).content.decode()
    assert 'data-testid="rate-not-evaluated"' in html
    assert 'data-testid="rate-compliance">0.0%<' in html


def _town_queries(client, user, town) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(town_url(town)).status_code == 200
    return len(ctx.captured_queries)


def test_town_page_queries_do_not_grow_with_schools(client, evaluated):
    c = login(client, evaluated.users["edu"])
    _town_queries(c, evaluated.users["edu"], evaluated.town)
    few = _town_queries(c, evaluated.users["edu"], evaluated.town)
    for _ in range(10):
        fx.school(evaluated.town, enrolment=200)
    compliance.evaluate_region(evaluated.region.pk, now=fx.NOW)
    many = _town_queries(c, evaluated.users["edu"], evaluated.town)
    assert many == few, (few, many)


@pytest.mark.parametrize(
    ("name", "status", "towns"),
    [
        ("county", 200, 2),
        ("edu", 200, 1),
        ("police", 200, 1),
        ("farpolice", 200, 1),
        ("principal", 403, None),
        ("teacher", 403, None),
        ("nobody", 403, None),
    ],
)
def test_county_page_role_and_scope(client, evaluated, name, status, towns):
    response = login(client, evaluated.users[name]).get(COUNTY)
    assert response.status_code == status
    if towns is not None:
        assert response.content.decode().count('data-testid="town-row"') == towns


def test_county_page_links_the_rules_for_their_keepers(client, evaluated):
    assert (
        b'data-testid="edit-rules"' in login(client, evaluated.users["county"]).get(COUNTY).content
    )
    assert (
        b'data-testid="edit-rules"' not in login(client, evaluated.users["edu"]).get(COUNTY).content
    )


@pytest.mark.parametrize(
    ("name", "status", "schools"),
    [
        ("police", 200, 2),
        ("farpolice", 200, 1),
        ("county", 200, 3),
        ("principal", 403, None),
        ("nobody", 403, None),
    ],
)
def test_schools_list_role_and_scope(client, evaluated, name, status, schools):
    response = login(client, evaluated.users[name]).get(SCHOOLS)
    assert response.status_code == status
    if schools is not None:
        assert response.content.decode().count('data-testid="school-row"') == schools


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("principal", "school"),
        ("guard", "school"),
        ("edu", "town"),
        ("gov", "town"),
        ("county", "county"),
        ("police", "schools"),
        ("postofficer", "schools"),
    ],
)
def test_home_goes_to_the_widest_page(client, world, name, target):
    response = login(client, world.users[name]).get(HOME)
    assert response.status_code == 302
    expected = {
        "school": school_url(world.school),
        "town": town_url(world.town),
        "county": COUNTY,
        "schools": SCHOOLS,
    }[target]
    assert response["Location"] == expected


def test_home_for_nobody(client, world):
    assert login(client, world.users["nobody"]).get(HOME).status_code == 403


# ------------------------------------------------------------------ the rule page


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("county", 200),
        ("edu", 403),
        ("gov", 403),
        ("principal", 403),
        ("police", 403),
        ("nobody", 403),
    ],
)
def test_rule_page_role(client, world, name, status):
    c = login(client, world.users[name])
    assert c.get(RULES).status_code == status
    if status == 403:
        assert c.post(RULES, {"video_retention__min_days": "60"}).status_code == 403
        assert not ComplianceRule.objects.filter(params__has_key="min_days").exists()


def _form(region, **overrides) -> dict:
    """The rule form as the page sends it: every rule in force, every parameter as is."""
    from huxiao.security import rules as R

    data = {}
    for rule in ensure_rules(region):
        if rule.enabled:
            data[f"{rule.key}__enabled"] = "on"
        for name, value in R.effective_params(rule.key, rule.params).items():
            data[f"{rule.key}__{name}"] = str(value)
    for key, value in overrides.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def test_rule_page_saves_and_evaluates_after_commit(
    client, world, django_capture_on_commit_callbacks
):
    c = login(client, world.users["county"])
    page = c.get(RULES)
    assert page.content.decode().count('data-testid="rule"') == 13
    data = _form(world.region, video_retention__min_days="60", patrol_rounds__enabled=None)
    with django_capture_on_commit_callbacks(execute=True):
        response = c.post(RULES, data)
    assert response.status_code == 302
    rules = {r.key: r for r in ComplianceRule.objects.filter(region=world.region)}
    assert rules["video_retention"].params == {"min_days": 60}
    assert not rules["patrol_rounds"].enabled
    assert rules["guards_staffing"].params == {}  # defaults are not copied
    assert SchoolCompliance.objects.count() == 3
    assert not any(
        v["rule"] == "patrol_rounds" for row in SchoolCompliance.objects.all() for v in row.verdicts
    )
    events = AuditEvent.objects.filter(object_type="security.compliancerule")
    assert events.count() == 2
    # Nothing changed: nothing written, nothing evaluated.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert c.post(RULES, _form(world.region)).status_code == 302
    assert callbacks == [] and events.count() == 2


def test_rule_page_refuses_bad_values_and_writes_nothing(client, world):
    c = login(client, world.users["county"])
    ensure_rules(world.region)
    before = list(ComplianceRule.objects.order_by("pk").values_list("key", "enabled", "params"))
    for overrides, field in [
        ({"video_retention__min_days": "0"}, "video_retention__min_days"),
        ({"video_retention__min_days": "abc"}, "video_retention__min_days"),
        ({"video_networked__min_share": "101"}, "video_networked__min_share"),
        ({"guards_staffing__base_pupils": "50"}, "guards_staffing__base_pupils"),
        ({"guards_staffing__base_min": "2.5"}, "guards_staffing__base_min"),
    ]:
        data = _form(world.region, patrol_rounds__enabled=None, **overrides)
        response = c.post(RULES, data)
        assert response.status_code == 400, overrides
        assert f'data-field="{field}"' in response.content.decode(), overrides
    after = list(ComplianceRule.objects.order_by("pk").values_list("key", "enabled", "params"))
    assert after == before
    assert not ComplianceRule.objects.filter(enabled=False).exists()
    assert not SchoolCompliance.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_rule_page_reports_how_many_schools_were_evaluated(client, world):
    c = login(client, world.users["county"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = c.post(RULES, _form(world.region, video_retention__min_days="45"), follow=True)
    assert response.status_code == 200
    assert "Rules saved; 3 schools evaluated again." in response.content.decode()
    assert SchoolCompliance.objects.count() == 3
