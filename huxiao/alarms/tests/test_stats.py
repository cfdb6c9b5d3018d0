"""Response-time statistics per school and per police station: the numbers, what counts
(drills, accidental presses, false alarms, the period), scope, the page and the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from huxiao.alarms import selectors, services
from huxiao.alarms.forms import ResponseStatsForm
from huxiao.core.roles import OrgKind, Role
from huxiao.core.scoping import clear_scope_cache
from huxiao.orgs.tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    SchoolFactory,
    UserFactory,
)

STATS_API = "/api/v1/alarms/stats"


@pytest.fixture
def health(world):
    centre = OrganizationFactory(kind=OrgKind.HEALTH_CENTRE, town=world.town, name="卫生院")
    user = UserFactory(username="healthofficer")
    MembershipFactory(user=user, organization=centre, role=Role.HEALTH_OFFICER)
    world.users["health"] = user
    return user


def _at(t0, seconds):
    return t0 + dt.timedelta(seconds=seconds)


def _raise(world, school=None, *, at, drill=False, guard=None):
    alarm, _ = services.alarm_raise(
        actor=guard or world.users["guard"],
        school=school or world.school,
        kind="intrusion",
        drill=drill,
        now=at,
    )
    return alarm


def _ack(world, alarm, after, police="police"):
    return services.alarm_acknowledge(
        actor=world.users[police], alarm=alarm, now=_at(alarm.raised_at, after)
    )


@pytest.fixture
def t0():
    return timezone.now() - dt.timedelta(days=1)


@pytest.fixture
def history(world, t0):
    """At world.school: two alarms acknowledged after 10 s and 30 s (the second reached
    on scene after 300 s), a false alarm cancelled late and never acknowledged, an
    accidental press cancelled within the window, a drill acknowledged after 100 s and an
    alarm 40 days ago. At other_school (same station): one alarm nobody acknowledged. At
    far_school (other station): one alarm acknowledged after 50 s."""
    first = _raise(world, at=t0)
    _ack(world, first, 10)
    second = _raise(world, at=_at(t0, 60))
    _ack(world, second, 30)
    services.alarm_arrive(actor=world.users["officer"], alarm=second, now=_at(t0, 360))
    false_alarm = _raise(world, at=_at(t0, 600))
    services.alarm_cancel(
        actor=world.users["guard"], alarm=false_alarm, reason="学生误触", now=_at(t0, 700)
    )
    accidental = _raise(world, at=_at(t0, 900))
    services.alarm_cancel(actor=world.users["guard"], alarm=accidental, now=_at(t0, 903))
    drill = _raise(world, at=_at(t0, 1200), drill=True)
    _ack(world, drill, 100)
    old = _raise(world, at=t0 - dt.timedelta(days=40))
    _ack(world, old, 5)
    _raise(world, world.other_school, at=_at(t0, 1500), guard=world.users["principal2"])
    far_guard = UserFactory(username="farguard")
    MembershipFactory(user=far_guard, organization=world.far_school, role=Role.GUARD)
    far = _raise(world, world.far_school, at=_at(t0, 1800), guard=far_guard)
    _ack(world, far, 50, police="farpolice")
    return world


def _rows(stats):
    return {row.name: row for row in stats.rows}


# ------------------------------------------------------------------ the numbers


def test_per_school_numbers(history):
    stats = selectors.response_stats(actor=history.users["county"], group_by="school")
    rows = _rows(stats)
    assert list(rows) == sorted(rows)
    school = rows["本园"]
    assert school.station_name == "派出所"
    # The accidental press is not an alarm; the false alarm is, and was never acknowledged.
    assert (school.alarms, school.acknowledged, school.not_acknowledged) == (3, 2, 1)
    assert (school.arrived, school.false_alarms, school.accidental_presses) == (1, 1, 1)
    assert school.ack_seconds_avg == 20.0
    assert school.ack_seconds_median == 20.0
    assert school.ack_seconds_max == 30.0
    assert school.arrival_seconds_avg == school.arrival_seconds_max == 300.0
    other = rows["同镇学校"]
    assert (other.alarms, other.acknowledged, other.not_acknowledged) == (1, 0, 1)
    assert other.ack_seconds_avg is None and other.ack_seconds_max is None
    assert other.ack_seconds_median is None
    assert rows["外镇学校"].ack_seconds_avg == 50.0
    total = stats.total
    assert (total.alarms, total.acknowledged, total.not_acknowledged) == (5, 3, 2)
    assert total.ack_seconds_avg == 30.0  # (10 + 30 + 50) / 3
    assert total.ack_seconds_median == 30.0
    assert total.ack_seconds_max == 50.0
    assert stats.medians_complete


def test_per_station_numbers_with_a_no_station_row(history, t0):
    lone = SchoolFactory(town=history.town, police_station=None, name="无所学校")
    lone_guard = UserFactory(username="loneguard")
    MembershipFactory(user=lone_guard, organization=lone, role=Role.GUARD)
    _raise(history, lone, at=_at(t0, 2000), guard=lone_guard)
    with translation.override("en"):
        stats = selectors.response_stats(actor=history.users["county"], group_by="station")
    rows = _rows(stats)
    station = rows["派出所"]
    assert station.group_id == history.station.pk
    assert (station.alarms, station.acknowledged, station.not_acknowledged) == (4, 2, 2)
    assert (station.ack_seconds_avg, station.ack_seconds_max) == (20.0, 30.0)
    assert rows["另一派出所"].ack_seconds_avg == 50.0
    # Schools without a police station share one row, listed last.
    assert stats.rows[-1].name == "No police station"
    assert stats.rows[-1].group_id is None and stats.rows[-1].alarms == 1
    assert stats.total.alarms == 6


def test_drills_are_left_out_unless_asked_for(history):
    county = history.users["county"]
    without = _rows(selectors.response_stats(actor=county))["本园"]
    with_drills = _rows(selectors.response_stats(actor=county, include_drills=True))["本园"]
    assert without.alarms == 3 and with_drills.alarms == 4
    assert with_drills.ack_seconds_max == 100.0
    assert with_drills.ack_seconds_median == 30.0  # 10, 30, 100


def test_the_period_bounds_are_half_open(history, t0):
    county = history.users["county"]
    first_alarm_at = t0
    just_after = selectors.response_stats(
        actor=county, since=first_alarm_at + dt.timedelta(microseconds=1), until=_at(t0, 600)
    )
    assert just_after.total.alarms == 1  # only the second alarm
    up_to = selectors.response_stats(actor=county, since=first_alarm_at, until=_at(t0, 60))
    assert up_to.total.alarms == 1  # the first one; the second was raised at `until`
    old = selectors.response_stats(
        actor=county, since=t0 - dt.timedelta(days=41), until=t0 - dt.timedelta(days=39)
    )
    assert old.total.alarms == 1 and old.total.ack_seconds_max == 5.0


def test_unknown_grouping_is_refused(world):
    with pytest.raises(ValueError):
        selectors.response_stats(actor=world.users["county"], group_by="town")


def test_query_count_does_not_grow_with_schools(history, t0):
    county = history.users["county"]

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            selectors.response_stats(actor=county, group_by="school")
        return len(ctx.captured_queries)

    before = queries()
    for n in range(3):
        school = SchoolFactory(town=history.town, police_station=history.station)
        guard = UserFactory(username=f"g{n}")
        MembershipFactory(user=guard, organization=school, role=Role.GUARD)
        _raise(history, school, at=_at(t0, 3000 + n), guard=guard)
    clear_scope_cache(county)
    assert queries() == before


# ------------------------------------------------------------------ the period filter


@pytest.mark.parametrize(
    "data, first, last",
    [
        ({}, dt.date(2026, 3, 16), dt.date(2026, 4, 14)),
        ({"period": "90d"}, dt.date(2026, 1, 15), dt.date(2026, 4, 14)),
        ({"period": "year"}, dt.date(2026, 1, 1), dt.date(2026, 4, 14)),
        (
            {"period": "custom", "since": "2025-02-01", "until": "2025-02-28"},
            dt.date(2025, 2, 1),
            dt.date(2025, 2, 28),
        ),
        ({"period": "custom", "since": "2026-04-01"}, dt.date(2026, 4, 1), dt.date(2026, 4, 14)),
        ({"period": "custom", "until": "2026-02-28"}, dt.date(2026, 1, 30), dt.date(2026, 2, 28)),
        # Dates without the custom period are ignored.
        ({"period": "30d", "since": "2020-01-01"}, dt.date(2026, 3, 16), dt.date(2026, 4, 14)),
    ],
)
def test_periods(data, first, last):
    form = ResponseStatsForm(data, today=dt.date(2026, 4, 14))
    assert form.is_valid(), form.errors
    assert (form.cleaned_data["first_day"], form.cleaned_data["last_day"]) == (first, last)
    since, until = form.selector_kwargs()["since"], form.selector_kwargs()["until"]
    assert timezone.localtime(since).date() == first
    assert timezone.localtime(until).date() == last + dt.timedelta(days=1)
    assert timezone.localtime(since).time() == dt.time.min


@pytest.mark.parametrize(
    "data, field",
    [
        ({"period": "custom"}, "since"),
        ({"period": "custom", "since": "2025-13-01", "until": "2025-12-31"}, "since"),
        ({"period": "custom", "since": "not a date", "until": "2025-12-31"}, "since"),
        ({"period": "custom", "since": "2025-03-01", "until": "2025-02-01"}, "until"),
        ({"period": "custom", "since": "0001-01-01", "until": "2025-02-01"}, "since"),
        ({"period": "custom", "until": "0001-01-05"}, "until"),
        ({"period": "custom", "since": "2025-01-01", "until": "9999-12-31"}, "until"),
        ({"period": "week"}, "period"),
    ],
)
def test_bad_periods(data, field):
    form = ResponseStatsForm(data, today=dt.date(2026, 4, 14))
    assert not form.is_valid()
    assert field in form.errors


# ------------------------------------------------------------------ scope


def test_each_sees_only_their_scope(history, health):
    users = history.users
    by_school = {
        name: set(_rows(selectors.response_stats(actor=users[name])))
        for name in ("police", "postofficer", "farpolice", "principal", "principal2", "edu")
    }
    assert by_school["police"] == {"本园", "同镇学校"}
    assert by_school["postofficer"] == {"本园"}
    assert by_school["farpolice"] == {"外镇学校"}
    assert by_school["principal"] == {"本园"}
    assert by_school["principal2"] == {"同镇学校"}
    assert by_school["edu"] == {"本园", "同镇学校"}
    far_station = selectors.response_stats(actor=users["farpolice"], group_by="station")
    assert [r.name for r in far_station.rows] == ["另一派出所"]
    assert far_station.total.alarms == 1
    for name in ("health", "nobody"):
        stats = selectors.response_stats(actor=users[name], group_by="station")
        assert stats.rows == [] and stats.total.alarms == 0


PAGE_STATUS = {
    "police": 200,
    "officer": 200,
    "postofficer": 200,
    "farpolice": 200,
    "principal": 200,
    "guard": 200,
    "principal2": 200,
    "edu": 200,
    "gov": 200,
    "county": 200,
    "health": 403,
    "nobody": 403,
}


@pytest.mark.parametrize("who", PAGE_STATUS)
def test_page_scope(client, history, health, who):
    client.force_login(history.users[who])
    response = client.get(reverse("alarms:stats"))
    assert response.status_code == PAGE_STATUS[who]
    if who == "farpolice":
        body = response.content.decode()
        assert "外镇学校" in body and "本园" not in body and "同镇学校" not in body


def test_page_anonymous_goes_to_login(client, world):
    response = client.get(reverse("alarms:stats"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("who", PAGE_STATUS)
def test_api_scope(api, history, health, who):
    response = api("get", f"{STATS_API}?group_by=school", history.users[who])
    assert response.status_code == PAGE_STATUS[who], response.content
    if who == "farpolice":
        assert [row["name"] for row in response.json()["rows"]] == ["外镇学校"]


def test_api_anonymous_is_401(api, world):
    assert api("get", STATS_API).status_code == 401


# ------------------------------------------------------------------ the API


def test_api_numbers_and_shape(api, history):
    police = history.users["police"]
    response = api("get", f"{STATS_API}?group_by=school", police)
    assert response.status_code == 200, response.content
    body = response.json()
    today = timezone.localdate()
    assert body["since"] == (today - dt.timedelta(days=29)).isoformat()
    assert body["until"] == today.isoformat()
    assert body["group_by"] == "school" and body["drills_included"] is False
    rows = {row["name"]: row for row in body["rows"]}
    assert set(rows) == {"本园", "同镇学校"}
    school = rows["本园"]
    assert school["id"] == history.school.pk
    assert (school["alarms"], school["acknowledged"], school["accidental_presses"]) == (3, 2, 1)
    assert (school["ack_seconds_avg"], school["ack_seconds_max"]) == (20.0, 30.0)
    assert school["arrival_seconds_median"] == 300.0
    assert body["total"]["alarms"] == 4 and body["total"]["id"] is None

    stations = api("get", f"{STATS_API}?group_by=station&drills=true", police).json()
    assert [row["id"] for row in stations["rows"]] == [history.station.pk]
    assert stations["drills_included"] is True
    assert stations["rows"][0]["alarms"] == 5
    assert stations["rows"][0]["ack_seconds_max"] == 100.0


def test_api_custom_dates(api, history, t0):
    police = history.users["police"]
    old_day = timezone.localtime(t0 - dt.timedelta(days=40)).date().isoformat()
    body = api("get", f"{STATS_API}?since={old_day}&until={old_day}", police).json()
    assert (body["since"], body["until"]) == (old_day, old_day)
    assert body["total"]["alarms"] == 1 and body["total"]["ack_seconds_avg"] == 5.0
    longer = api("get", f"{STATS_API}?period=90d", police).json()
    assert longer["total"]["alarms"] == 5


def test_stats_is_not_taken_for_an_alarm_id(api, world):
    # /alarms/{alarm_id} would answer 400 (not an integer) had it been declared first.
    response = api("get", STATS_API, world.users["police"])
    assert response.status_code == 200 and "rows" in response.json()


@pytest.mark.parametrize(
    "query, field, message",
    [
        ("group_by=town", "group_by", None),
        ("since=2025-02-30", "since", "请按 YYYY-MM-DD 输入日期"),
        ("since=2025-03-01&until=2025-02-01", "until", "结束日期不能早于开始日期"),
        ("since=0001-01-01&until=2025-02-01", "since", "2000-01-01"),
        ("until=0001-01-02", "until", "2000-01-01"),
        ("period=week", "period", None),
    ],
)
def test_api_bad_input_is_a_clear_400(api, world, query, field, message):
    response = api(
        "get", f"{STATS_API}?{query}", world.users["police"], HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert field in errors
    if message:
        assert message in " ".join(errors[field])


# ------------------------------------------------------------------ the page


def test_page_in_chinese_with_both_tables(client, history):
    client.force_login(history.users["county"])
    response = client.get(reverse("alarms:stats"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="stats-by-station"' in body and 'data-testid="stats-by-school"' in body
    for words in ("响应时间", "按派出所", "按学校", "未计入演练", "0:20", "0:30", "5:00"):
        assert words in body, words
    assert 'data-testid="stats-by-school-total"' in body


def test_page_counts_drills_when_asked(client, history):
    client.force_login(history.users["police"])
    body = client.get(reverse("alarms:stats"), {"drills": "on"}).content.decode()
    assert "已计入演练" in body
    assert "1:40" in body  # the drill, acknowledged after 100 s


@pytest.mark.parametrize(
    "query, message",
    [
        ({"period": "custom", "since": "2025-02-30", "until": "2025-03-01"}, "请按 YYYY-MM-DD"),
        ({"period": "custom", "since": "2025-03-01", "until": "2025-02-01"}, "结束日期不能早于"),
        ({"period": "custom", "since": "0001-01-01", "until": "2025-02-01"}, "2000-01-01"),
        ({"period": "custom", "until": "9999-12-31"}, "2100-12-31"),
        ({"period": "custom"}, "请选择开始日期"),
    ],
)
def test_page_bad_dates_give_a_clear_message(client, history, query, message):
    client.force_login(history.users["police"])
    response = client.get(reverse("alarms:stats"), query, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert 'data-testid="stats-by-school"' not in body


def test_console_links_to_the_statistics(client, world):
    client.force_login(world.users["police"])
    body = client.get(reverse("alarms:console")).content.decode()
    assert reverse("alarms:stats") in body
