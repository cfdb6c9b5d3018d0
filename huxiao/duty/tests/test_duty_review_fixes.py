"""Regression tests of the duty review's findings (ADR 0029): each one failed before its
fix (a 500, a double flag, a false flag, a wrong count, a roster entry nobody could keep)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from huxiao.core.roles import Role
from huxiao.duty import duty_api, duty_services, gap_services, rounds_services
from huxiao.duty import duty_selectors as sel
from huxiao.duty.choices import DutyRole, GapKind
from huxiao.duty.models import DutyAssignment, DutyGap, MonitoringLogEntry, PatrolRound
from huxiao.duty.tests.duty_fixtures import live_shift
from huxiao.duty.tests.rounds_fixtures import build_rounds_world, local, walk
from huxiao.orgs.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 3, 11)
NEXT = DAY + dt.timedelta(days=1)
RANGE_ERROR = "请选择 2000-01-01 至 2100-12-31 之间的日期。"


# ------------------------------------------------------------------ 1. a huge offset


def test_shift_list_huge_offset_is_an_empty_page(api, world):
    shift = live_shift(world.school)
    principal = world.users["principal"]
    r = api("get", f"/api/v1/duty/shifts?offset={10**20}", principal)
    assert r.status_code == 200
    assert r.json() == {"count": 1, "items": []}
    r = api("get", f"/api/v1/duty/shifts?limit={10**20}", principal)
    assert r.status_code == 200
    assert [s["id"] for s in r.json()["items"]] == [shift.pk]


# ------------------------------------------------------------------ 2. extreme dates


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1999-12-31", "2101-01-01"])
@pytest.mark.parametrize("path", ["/api/v1/duty/monitoring", "/api/v1/duty/rounds"])
def test_api_day_out_of_range_is_400(api, world, path, day):
    r = api("get", f"{path}?school_id={world.school.pk}&date={day}", world.users["principal"])
    assert r.status_code == 400
    assert r.json()["errors"] == {"date": [RANGE_ERROR]}


@pytest.mark.parametrize("query", ["date=9999-12-31", "date=2026-01-01&date_to=9999-12-31"])
def test_api_shift_list_dates_out_of_range_is_400(api, world, query):
    r = api("get", f"/api/v1/duty/shifts?{query}", world.users["principal"])
    assert r.status_code == 400
    assert set(r.json()["errors"]) <= {"date", "date_to"} and r.json()["errors"]


def test_api_week_out_of_range_is_400(api, world):
    r = api(
        "post",
        f"/api/v1/duty/schools/{world.school.pk}/weeks",
        world.users["principal"],
        json={"week_start": "0001-01-08"},
    )
    assert r.status_code == 400
    assert r.json()["errors"] == {"week_start": [RANGE_ERROR]}


@pytest.mark.parametrize("day", ["2000-01-01", "2100-12-31"])
def test_api_edge_dates_in_range_answer(api, world, day):
    for path in ("/api/v1/duty/monitoring", "/api/v1/duty/rounds"):
        r = api("get", f"{path}?school_id={world.school.pk}&date={day}", world.users["principal"])
        assert r.status_code == 200, path


@pytest.mark.parametrize("week", ["9999-12-31", "0001-01-01", "0001-01-02"])
def test_roster_page_out_of_range_week_shows_this_week(client, world, week):
    client.force_login(world.users["principal"])
    r = client.get(f"/duty/schools/{world.school.pk}/roster/?week={week}")
    assert r.status_code == 200
    assert r.context["monday"] == sel.monday_of(timezone.localdate())


@pytest.mark.parametrize("day", ["0001-01-01", "0001-01-02", "9999-12-31"])
def test_monitoring_page_out_of_range_date_shows_today(client, world, day):
    client.force_login(world.users["principal"])
    r = client.get(f"/duty/schools/{world.school.pk}/monitoring/?date={day}")
    assert r.status_code == 200
    assert r.context["day"] == timezone.localdate()


def test_parse_date_bounds():
    assert sel.parse_date("2000-01-01") == dt.date(2000, 1, 1)
    assert sel.parse_date("2100-12-31") == dt.date(2100, 12, 31)
    assert sel.parse_date("1999-12-31") is None
    assert sel.parse_date("9999-12-31") is None


# ------------------------------------------------------------------ 3. huge user ids


def test_assign_page_huge_user_id_is_a_field_error(client, world):
    shift = live_shift(world.school)
    client.force_login(world.users["principal"])
    prefix = f"assign-{shift.pk}"
    for raw in (str(10**30), str(2**63), "0", "-5"):
        r = client.post(
            f"/duty/shifts/{shift.pk}/assign/", {f"{prefix}-user": raw, f"{prefix}-role": "guard"}
        )
        assert r.status_code == 400, raw
    assert not DutyAssignment.objects.exists()


def test_assign_service_huge_user_id_is_a_field_error(world):
    shift = live_shift(world.school)
    with pytest.raises(ValidationError) as exc:
        duty_services.assignment_add(
            actor=world.users["principal"], shift_id=shift.pk, user=10**30, role=DutyRole.GUARD
        )
    assert set(exc.value.message_dict) == {"user"}


def test_monitoring_page_huge_watcher_is_a_field_error(client, world):
    client.force_login(world.users["guard"])
    now = timezone.localtime().replace(second=0, microsecond=0)
    r = client.post(
        f"/duty/schools/{world.school.pk}/monitoring/",
        {
            "watcher": str(10**30),
            "period_start": (now - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "period_end": now.strftime("%Y-%m-%dT%H:%M"),
            "observations": "正常",
        },
    )
    assert r.status_code == 400
    assert "watcher" in r.context["form"].errors
    assert not MonitoringLogEntry.objects.exists()


def test_is_member_and_keeps_duty_take_any_value(world):
    guard = world.users["guard"]
    assert sel.is_member(guard.pk, world.school.pk)
    for value in (10**30, 2**63, -1, 0, None, "x"):
        assert not sel.is_member(value, world.school.pk)
        assert not sel.keeps_duty(value, world.school.pk)


# ------------------------------------------------------------------ 4. one night, one gap


def test_night_gap_once_even_when_the_plan_window_changes(world):
    build_rounds_world(world)
    world.school.is_boarding = True
    world.school.save()
    first = rounds_services.rounds_check(now=local(NEXT, 12, 20))
    assert world.school.pk in first.night_missed
    duty_services.plan_save(
        actor=world.users["principal"],
        school_id=world.school.pk,
        day_starts="07:00",
        night_starts="19:00",
        check_in_grace_minutes=15,
        monitoring_max_gap_minutes=120,
        night_round_from="22:00",
        night_round_until="05:00",
    )
    # At 00:20 two days later the same night (of DAY) is judged again, by the new window.
    second = rounds_services.rounds_check(now=local(NEXT + dt.timedelta(days=1), 0, 20))
    assert second.night == DAY
    assert world.school.pk not in second.night_missed
    assert (
        DutyGap.objects.filter(
            school=world.school, kind=GapKind.NIGHT_ROUND_MISSED, day=DAY
        ).count()
        == 1
    )


def test_gap_flag_day_kinds_once_per_day_other_kinds_by_start(world):
    kw = {"school": world.school, "kind": GapKind.ROUNDS_MISSED, "day": DAY}
    assert gap_services.gap_flag(starts_at=local(DAY, 0), **kw) is not None
    assert gap_services.gap_flag(starts_at=local(DAY, 1), **kw) is None
    # Monitoring gaps are stretches of time: another start is another gap.
    for hour in (1, 5):
        assert (
            gap_services.gap_flag(
                school=world.school, kind=GapKind.MONITORING, starts_at=local(DAY, hour), day=DAY
            )
            is not None
        )


# ------------------------------------------------------------------ 5. rounds across midnight


def test_round_left_open_before_midnight_counts_for_its_day(world):
    build_rounds_world(world)
    for hour in (8, 10, 14, 16):
        walk(world, ["大门", "教学楼", "食堂"], start=local(DAY, hour))
    cps = world.cps[world.school.pk]
    guard = world.users["guard"]
    rounds_services.checkpoint_scan(actor=guard, code=cps["大门"].code, now=local(DAY, 23, 40))
    rounds_services.checkpoint_scan(actor=guard, code=cps["教学楼"].code, now=local(DAY, 23, 45))
    result = rounds_services.rounds_check(now=local(NEXT, 0, 20))
    assert world.school.pk not in result.rounds_missed
    assert not DutyGap.objects.filter(school=world.school, kind=GapKind.ROUNDS_MISSED).exists()
    late = PatrolRound.objects.get(started_at=local(DAY, 23, 40))
    assert late.finished_at == local(DAY, 23, 45)


def test_round_walked_across_midnight_is_judged_at_noon(world):
    build_rounds_world(world)
    for hour in (8, 10, 14, 16):
        walk(world, ["大门", "教学楼", "食堂"], start=local(DAY, hour))
    cps = world.cps[world.school.pk]
    guard = world.users["guard"]
    rounds_services.checkpoint_scan(actor=guard, code=cps["大门"].code, now=local(DAY, 23, 50))
    rounds_services.checkpoint_scan(actor=guard, code=cps["教学楼"].code, now=local(NEXT, 0, 5))
    night = rounds_services.rounds_check(now=local(NEXT, 0, 20))
    assert world.school.pk not in night.rounds_missed
    noon = rounds_services.rounds_check(now=local(NEXT, 12, 20))
    assert noon.day == DAY and world.school.pk not in noon.rounds_missed
    assert not DutyGap.objects.filter(school=world.school, kind=GapKind.ROUNDS_MISSED).exists()


def test_a_school_still_walking_is_flagged_at_noon_when_short(world):
    build_rounds_world(world)
    walk(world, ["大门", "教学楼"], start=local(DAY, 8))
    cps = world.cps[world.school.pk]
    guard = world.users["guard"]
    rounds_services.checkpoint_scan(actor=guard, code=cps["大门"].code, now=local(DAY, 23, 50))
    rounds_services.checkpoint_scan(actor=guard, code=cps["教学楼"].code, now=local(NEXT, 0, 5))
    assert world.school.pk not in rounds_services.rounds_check(now=local(NEXT, 0, 20)).rounds_missed
    noon = rounds_services.rounds_check(now=local(NEXT, 12, 20))
    assert world.school.pk in noon.rounds_missed
    gap = DutyGap.objects.get(school=world.school, kind=GapKind.ROUNDS_MISSED)
    assert gap.day == DAY and gap.detail["done"] == 2


# ------------------------------------------------------------------ 6. only those who keep duty


@pytest.fixture
def nurse(world):
    user = UserFactory(username="nurse")
    MembershipFactory(user=user, organization=world.school, role=Role.HEALTH_STAFF)
    return user


def test_a_member_who_does_not_keep_duty_cannot_be_rostered(world, nurse):
    shift = live_shift(world.school)
    with pytest.raises(ValidationError) as exc:
        duty_services.assignment_add(
            actor=world.users["principal"], shift_id=shift.pk, user=nurse.pk, role=DutyRole.LEADER
        )
    assert set(exc.value.message_dict) == {"user"}
    assert not DutyAssignment.objects.exists()
    # Those who keep duty still can.
    duty_services.assignment_add(
        actor=world.users["principal"],
        shift_id=shift.pk,
        user=world.users["teacher"].pk,
        role=DutyRole.STAFF,
    )
    assert DutyAssignment.objects.count() == 1


def test_api_and_page_refuse_a_member_who_does_not_keep_duty(api, client, world, nurse):
    shift = live_shift(world.school)
    principal = world.users["principal"]
    r = api(
        "post",
        f"/api/v1/duty/shifts/{shift.pk}/assignments",
        principal,
        json={"user_id": nurse.pk, "role": "leader"},
    )
    assert r.status_code == 400 and set(r.json()["errors"]) == {"user"}
    client.force_login(principal)
    r = client.get(f"/duty/schools/{world.school.pk}/roster/?week={shift.date.isoformat()}")
    form = next(
        s.assign_form for d in r.context["days"] for s in d.shifts.values() if s.pk == shift.pk
    )
    choices = {str(value) for value, _label in form.fields["user"].choices}
    assert str(nurse.pk) not in choices and str(world.users["guard"].pk) in choices
    prefix = f"assign-{shift.pk}"
    r = client.post(
        f"/duty/shifts/{shift.pk}/assign/",
        {f"{prefix}-user": str(nurse.pk), f"{prefix}-role": "leader"},
    )
    assert r.status_code == 400
    assert not DutyAssignment.objects.exists()


# ------------------------------------------------------------------ 7. a translated API error


def test_shift_list_range_error_is_translated(api, world, monkeypatch):
    monkeypatch.setattr(duty_api, "_", lambda message: f"«{message}»")
    r = api(
        "get", "/api/v1/duty/shifts?date=2026-01-10&date_to=2026-01-01", world.users["principal"]
    )
    assert r.status_code == 400
    assert r.json()["detail"] == "«date_to must be on or after date, at most 31 days later.»"


# ------------------------------------------------------------------ 8. counts of the daily job


def test_daily_check_counts_only_the_gaps_it_created(world):
    build_rounds_world(world)
    world.school.is_boarding = True
    world.school.save()
    first = rounds_services.rounds_check(now=local(NEXT, 12, 20))
    assert world.school.pk in first.rounds_missed and world.school.pk in first.night_missed
    again = rounds_services.rounds_check(now=local(NEXT, 12, 21))
    assert again.rounds_missed == [] and again.night_missed == []
    # Only what is created counts: with the night's gap gone, a rerun flags (and counts)
    # just that one again.
    DutyGap.objects.filter(kind=GapKind.NIGHT_ROUND_MISSED).delete()
    later = rounds_services.rounds_check(now=local(NEXT, 12, 22))
    assert later.rounds_missed == [] and later.night_missed == [world.school.pk]
