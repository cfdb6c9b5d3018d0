"""The school scorecard page (issue 10 item 3): who may open it, bad input, the
indicators as their sources compute them, what is missing with links that lead to it, the
trend, and a bounded number of queries."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from huxiao.core.roles import OrgKind
from huxiao.hazards.models import Hazard
from huxiao.orgs.models import Organization
from huxiao.supervision import assessment_services as svc
from huxiao.supervision import indicators as registry

MARCH = "2025-03"
MAX_QUERIES = 85


def at(day: dt.date, hhmm: str = "09:00") -> dt.datetime:
    hour, minute = hhmm.split(":")
    return timezone.make_aware(dt.datetime.combine(day, dt.time(int(hour), int(minute))))


def url(school) -> str:
    return reverse("reports:scorecard", args=[school.pk if hasattr(school, "pk") else school])


def page(client, user, school, *, lang="en", **params):
    """The page as `user`, in English by default (the tests read its words)."""
    if lang:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    else:
        client.cookies.pop(settings.LANGUAGE_COOKIE_NAME, None)
    client.force_login(user)
    return client.get(url(school), params)


def text_of(response) -> str:
    return unescape(response.content.decode())


def gaps(response) -> list[tuple[str, str, str]]:
    """(area, title, link) of every item of "what is missing"."""
    html = text_of(response)
    found = []
    for item in re.findall(r'<li class="hx-sc-s\d"(.*?)</li>', html, re.S):
        area = re.search(r'data-area="([^"]*)"', item).group(1)
        title = re.search(r"<strong>(.*?)</strong>", item, re.S).group(1).strip()
        link = re.search(r'href="([^"]*)" data-testid="gap-link"', item)
        found.append((area, title, link.group(1) if link else ""))
    return found


def live_values(response) -> dict[str, str]:
    """source → the value shown for the chosen month ("" for no data)."""
    html = text_of(response)
    rows = re.findall(
        r'data-testid="indicator" data-source="([^"]*)".*?data-testid="live-value" '
        r'data-value="([^"]*)"',
        html,
        re.S,
    )
    return dict(rows)


@pytest.fixture
def cw(rworld):
    """`rworld` plus a monthly scheme of the town's education office over four sources."""
    w = rworld
    w.edu_office = Organization.objects.get(kind=OrgKind.EDUCATION_OFFICE, town=w.town)
    w.scheme = svc.scheme_create(
        actor=w.users["edu"],
        owner=w.edu_office,
        name="测试考核方案",
        indicators=[
            {"name": "逾期隐患", "source": "overdue_hazards", "weight": "40", "params": {}},
            {"name": "按期整改", "source": "hazards_closed_on_time", "weight": "30"},
            {"name": "月度自查", "source": "self_checks_held", "weight": "20"},
            {"name": "台账资料", "source": registry.MANUAL, "weight": "10"},
        ],
    )
    return w


def march_hazards(w):
    """At the end of March 2025: one hazard open past its deadline, one closed on time."""
    Hazard.objects.create(
        school=w.school,
        category="physical",
        title="围墙破损",
        description="测试",
        status="rectifying",
        deadline=dt.date(2025, 3, 10),
        reported_at=at(dt.date(2025, 3, 1)),
    )
    Hazard.objects.create(
        school=w.school,
        category="physical",
        title="灭火器过期",
        description="测试",
        status="closed",
        deadline=dt.date(2025, 3, 10),
        reported_at=at(dt.date(2025, 3, 1)),
        closed_at=at(dt.date(2025, 3, 5), "17:00"),
    )


# ------------------------------------------------------------------ scope


@pytest.mark.parametrize(
    ("user", "school", "status"),
    [
        ("principal", "school", 200),
        ("teacher", "school", 200),
        ("guard", "school", 200),
        ("principal2", "school", 404),
        ("principal", "other_school", 404),
        ("edu", "school", 200),
        ("edu", "other_school", 200),
        ("edu", "far_school", 404),
        ("faredu", "school", 404),
        ("gov", "school", 200),
        ("county", "far_school", 200),
        ("countyedu", "school", 200),
        ("police", "school", 200),
        ("postofficer", "school", 200),
        ("postofficer", "other_school", 404),
        ("farpolice", "school", 404),
        ("farpolice", "far_school", 200),
        ("health", "school", 200),
        ("nobody", "school", 403),
    ],
)
def test_scope(client, cw, user, school, status):
    response = page(client, cw.users[user], getattr(cw, school))
    assert response.status_code == status
    if status == 200:
        assert getattr(cw, school).name in text_of(response)


def test_anonymous_goes_to_login(client, cw):
    response = client.get(url(cw.school))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("school_id", [0, 999_999_999, 2**63, 2**70])
def test_unknown_and_huge_ids_are_404(client, cw, school_id):
    assert page(client, cw.users["county"], school_id).status_code == 404


def test_a_non_school_organization_is_404(client, cw):
    assert page(client, cw.users["county"], cw.edu_office).status_code == 404


def test_junk_in_the_path_is_404(client, cw):
    client.force_login(cw.users["principal"])
    assert client.get("/reports/schools/abc/scorecard/").status_code == 404


@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("2999-01", "The month cannot be in the future."),
        ("hello", "Enter the month as YYYY-MM"),
        ("2025-13", "Enter the month as YYYY-MM"),
        ("1999-12", "Choose a month from 2000 on."),
    ],
)
def test_bad_month_is_400_with_the_reason(client, cw, month, message):
    response = page(client, cw.users["principal"], cw.school, month=month)
    assert response.status_code == 400
    assert message in text_of(response)


def test_bad_month_out_of_scope_is_still_404(client, cw):
    response = page(client, cw.users["principal"], cw.far_school, month="2999-01")
    assert response.status_code == 404


@pytest.mark.parametrize("scheme", ["abc", "-1", str(2**70), "999999999"])
def test_bad_scheme_is_404(client, cw, scheme):
    assert page(client, cw.users["principal"], cw.school, scheme=scheme).status_code == 404


def test_a_scheme_of_another_town_is_404(client, cw):
    far_office = Organization.objects.get(kind=OrgKind.EDUCATION_OFFICE, town=cw.other_town)
    other = svc.ensure_default_scheme(far_office)
    response = page(client, cw.users["principal"], cw.school, scheme=other.pk)
    assert response.status_code == 404
    # …while it is the far school's own scheme.
    assert page(client, cw.users["county"], cw.far_school, scheme=other.pk).status_code == 200


def test_my_scorecard(client, cw):
    client.force_login(cw.users["teacher"])
    response = client.get(reverse("reports:my_scorecard"))
    assert response.status_code == 302
    assert response["Location"] == url(cw.school)
    client.force_login(cw.users["edu"])
    assert client.get(reverse("reports:my_scorecard")).status_code == 404
    client.force_login(cw.users["nobody"])
    assert client.get(reverse("reports:my_scorecard")).status_code == 403
    client.logout()
    assert client.get(reverse("reports:my_scorecard")).status_code == 302


# ------------------------------------------------------------------ indicators and trend


def test_values_are_those_of_the_sources_and_of_the_assessment(client, cw):
    march_hazards(cw)
    response = page(client, cw.users["principal"], cw.school, month=MARCH)
    assert response.status_code == 200
    shown = live_values(response)
    start, end = dt.date(2025, 3, 1), dt.date(2025, 3, 31)
    for ind in cw.scheme.indicators.all():
        expected = registry.run_source(
            ind.source, [cw.school.pk], start, end, {**ind.params, "indicator_id": ind.pk}
        ).get(cw.school.pk)
        assert shown[ind.source] == ("" if expected is None else str(expected)), ind.source
    # Not a tautology: one hazard overdue at the end of March (20 points off), one of one
    # closed on time, no self-check in March, nothing scored by hand.
    assert shown == {
        "overdue_hazards": "80.00",
        "hazards_closed_on_time": "100.00",
        "self_checks_held": "0.00",
        "manual": "",
    }
    # …and the engine computes the same for March.
    run = svc.assessment_compute(
        actor=cw.users["edu"], scheme=cw.scheme, day=end, now=at(dt.date(2025, 4, 2))
    )
    result = run.results.get(school=cw.school)
    for ind in cw.scheme.indicators.all():
        detail = result.details[str(ind.pk)]
        assert shown[ind.source] == (detail["value"] or "")
    assert re.search(
        r'data-testid="live-total">\s*' + re.escape(str(result.score)), text_of(response)
    )


def test_trend_takes_published_months_and_computes_the_others(client, cw):
    march_hazards(cw)
    edu = cw.users["edu"]
    svc.manual_score_set(
        actor=edu,
        indicator=cw.scheme.indicators.get(source=registry.MANUAL),
        school=cw.school,
        day=dt.date(2025, 3, 15),
        percent="90",
        now=at(dt.date(2025, 4, 2)),
    )
    run = svc.assessment_compute(
        actor=edu, scheme=cw.scheme, day=dt.date(2025, 3, 31), now=at(dt.date(2025, 4, 2))
    )
    svc.assessment_publish(actor=edu, run=run, now=at(dt.date(2025, 4, 2)))
    published = run.results.get(school=cw.school)
    # A hazard recorded late for March changes the live figure, not the published one.
    Hazard.objects.create(
        school=cw.school,
        category="physical",
        title="后补隐患",
        description="测试",
        status="rectifying",
        deadline=dt.date(2025, 3, 5),
        reported_at=at(dt.date(2025, 3, 2)),
    )
    response = page(client, cw.users["edu"], cw.school, month="2025-04")
    html = text_of(response)
    months = re.findall(r'data-testid="trend-month" data-published="(\d)">(\d{4}-\d\d)', html)
    assert months == [
        ("0", "2024-11"),
        ("0", "2024-12"),
        ("0", "2025-01"),
        ("0", "2025-02"),
        ("1", "2025-03"),
        ("0", "2025-04"),
    ]
    total_row = re.search(r'data-testid="trend-total">(.*?)</tr>', html, re.S).group(1)
    assert str(published.score) in total_row
    # The office sees the school's rank in the latest published run.
    assert 'data-testid="standing-rank"' in html
    assert re.search(r"<span class=\"hx-sc-score\">1</span> / \d", html)
    # April computed live: the late March hazard is still open and overdue in April.
    assert live_values(response)["overdue_hazards"] == "60.00"


def test_without_a_scheme_the_default_indicators_are_computed_live(client, cw):
    response = page(client, cw.users["county"], cw.far_school)
    html = text_of(response)
    assert 'data-testid="no-scheme"' in html
    shown = live_values(response)
    assert list(shown) == [source for _n, source, _w, _p in svc.DEFAULT_INDICATORS]
    assert shown[registry.MANUAL] == ""


def test_chinese_by_default_english_available(client, cw):
    html = text_of(page(client, cw.users["principal"], cw.school, lang=None))
    assert '<html lang="zh-hans"' in html
    assert "还缺什么" in html  # "What is missing"
    html = text_of(page(client, cw.users["principal"], cw.school))
    assert '<html lang="en"' in html
    assert "What is missing" in html and "Trend" in html
    assert 'id="scorecard-chart-data"' in html
    assert "vendor/echarts/echarts.min.js" in html


# ------------------------------------------------------------------ what is missing


def test_an_overdue_hazard_is_listed_with_a_link_that_shows_it_until_it_is_closed(client, cw):
    from huxiao.hazards.hazard_services import hazard_verify

    today = timezone.localdate()
    hazard = Hazard.objects.create(
        school=cw.school,
        category="physical",
        title="大门护栏松动",
        description="测试",
        status="submitted",
        deadline=today - dt.timedelta(days=3),
        reported_at=timezone.now() - dt.timedelta(days=10),
        reported_by=cw.users["edu"],
        owner=cw.users["principal"],
    )
    principal = cw.users["principal"]
    found = [g for g in gaps(page(client, principal, cw.school)) if g[0] == "hazards"]
    assert len(found) == 1
    _area, title, link = found[0]
    assert title.startswith("1 ")
    assert link.startswith(reverse("hazards:hazard_list")) and "overdue=on" in link
    listing = client.get(link)
    assert listing.status_code == 200
    assert "大门护栏松动" in text_of(listing)

    hazard_verify(actor=cw.users["edu"], hazard=hazard, note="已整改")
    assert [g for g in gaps(page(client, principal, cw.school)) if g[0] == "hazards"] == []


def test_links_of_what_is_missing_open_pages_about_the_school(client, cw):
    """Never evaluated for security, no term for drills, no self-check: each link opens."""
    principal = cw.users["principal"]
    found = gaps(page(client, principal, cw.school))
    areas = {area for area, _t, _l in found}
    assert {"security", "inspections"} <= areas
    for area, _title, link in found:
        assert link, area
        response = client.get(link)
        assert response.status_code == 200, (area, link)
        assert cw.school.name in text_of(response), (area, link)


def test_police_never_see_health_and_nobody_sees_a_childs_name(client, cw):
    from huxiao.health.models import Absence

    Absence.objects.create(
        school=cw.school,
        school_class=cw.school_class,
        child=cw.child,
        date=timezone.localdate(),
        cause="unknown",
        recorded_at=timezone.now(),
    )
    principal = page(client, cw.users["principal"], cw.school)
    health = [g[1] for g in gaps(principal) if g[0] == "health"]
    # (Checks and attendance are asked on weekdays only: not counted here.)
    assert [t for t in health if "unknown cause" in t] == [
        "1 absence today with an unknown cause not followed up"
    ]
    assert cw.child.name not in text_of(principal)
    police = page(client, cw.users["police"], cw.school)
    assert [g for g in gaps(police) if g[0] == "health"] == []
    assert 'data-testid="hidden-areas"' in text_of(police)
    assert cw.child.name not in text_of(police)


def test_another_schools_gaps_never_show(client, cw):
    Hazard.objects.create(
        school=cw.other_school,
        category="physical",
        title="别校隐患",
        description="测试",
        status="rectifying",
        deadline=timezone.localdate() - dt.timedelta(days=5),
        reported_at=timezone.now() - dt.timedelta(days=9),
    )
    response = page(client, cw.users["edu"], cw.school)
    assert [g for g in gaps(response) if g[0] == "hazards"] == []
    assert "别校隐患" not in text_of(response)


# ------------------------------------------------------------------ cost


def test_queries_are_bounded_and_do_not_grow_with_the_data(
    client, cw, django_assert_max_num_queries
):
    """Six months computed live (nothing published) for a principal, who sees every area:
    the worst case."""
    principal = cw.users["principal"]
    client.force_login(principal)
    client.get(url(cw.school))  # warm the per-process caches (content types, rules)
    with django_assert_max_num_queries(MAX_QUERIES), CaptureQueriesContext(connection) as few:
        assert client.get(url(cw.school)).status_code == 200
    today = timezone.localdate()
    for n in range(15):
        Hazard.objects.create(
            school=cw.school,
            category="physical",
            title=f"隐患{n}",
            description="测试",
            status="rectifying",
            deadline=today - dt.timedelta(days=n % 3),
            reported_at=timezone.now() - dt.timedelta(days=40 + n),
        )
    with CaptureQueriesContext(connection) as many:
        assert client.get(url(cw.school)).status_code == 200
    print("scorecard queries:", len(few.captured_queries))
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_schools_pages_link_to_the_scorecard(client, cw):
    client.force_login(cw.users["edu"])
    detail = client.get(reverse("orgs:school_detail", args=[cw.school.pk]))
    assert f'href="{url(cw.school)}" data-testid="scorecard-link"' in text_of(detail)
    client.force_login(cw.users["principal"])
    results = client.get(reverse("supervision:assessment_school", args=[cw.school.pk]))
    assert f'href="{url(cw.school)}" data-testid="scorecard-link"' in text_of(results)
