"""The periodic jobs with a controllable clock: missed and late gate posts, and the ≥ 2
visits a week rule. Both tell the station commander, once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings

from huxiao.notify.models import Delivery, Notification
from huxiao.patrols import services, tasks
from huxiao.patrols.models import PoliceVisit, PostShift, VisitShortfall
from huxiao.patrols.tests.conftest import FRIDAY, MONDAY, at

pytestmark = pytest.mark.django_db


def inbox(user):
    return list(
        Delivery.objects.filter(recipient=user, channel="inbox")
        .select_related("notification")
        .order_by("id")
    )


def shift(post, day=MONDAY):
    return PostShift.objects.get(post=post, date=day)


# ------------------------------------------------------------------ missed and late posts


def test_nothing_before_start_plus_grace(posts):
    assert services.post_flags_sweep(now=at(MONDAY, "07:34")) == {"late": [], "missed": []}
    result = services.post_flags_sweep(now=at(MONDAY, "16:34"))
    assert result == {"late": [], "missed": [shift(posts.morning).pk]}


def test_nobody_at_the_post_is_told_during_the_peak_then_missed_at_the_end(posts):
    afternoon = shift(posts.afternoon)
    result = services.post_flags_sweep(now=at(MONDAY, "16:36"))
    assert afternoon.pk in result["late"] and afternoon.pk not in result["missed"]
    # Idempotent: a second run (or a second worker) tells nobody again.
    assert afternoon.pk not in services.post_flags_sweep(now=at(MONDAY, "16:41"))["late"]
    result = services.post_flags_sweep(now=at(MONDAY, "17:10"))
    assert afternoon.pk in result["missed"]
    assert services.post_flags_sweep(now=at(MONDAY, "17:15"))["missed"] == []
    afternoon.refresh_from_db()
    assert afternoon.late_flagged_at == at(MONDAY, "16:36")
    assert afternoon.missed_flagged_at == at(MONDAY, "17:10")

    mine = [
        d.notification
        for d in inbox(posts.users["police"])
        if d.notification.payload.get("shift_id") == afternoon.pk
    ]
    assert [n.event_type for n in mine] == ["patrols.post_late", "patrols.post_missed"]
    assert all("本园" in n.title for n in mine)
    # Only the commander of the school's own station; never the officer or another station.
    assert inbox(posts.users["officer"]) == []
    assert all("本园" not in d.notification.title for d in inbox(posts.users["farpolice"]))


def test_police_where_police_are_planned(posts):
    """A guard at the afternoon post does not stand in for the planned police."""
    services.post_check_in(
        actor=posts.users["guard"], post=posts.afternoon, now=at(MONDAY, "16:25")
    )
    result = services.post_flags_sweep(now=at(MONDAY, "16:40"))
    assert shift(posts.afternoon).pk in result["late"]
    body = Notification.objects.get(payload__shift_id=shift(posts.afternoon).pk).body
    assert "16:30" in body


def test_on_time_police_is_not_flagged_and_late_police_is(posts):
    services.post_check_in(
        actor=posts.users["officer"], post=posts.afternoon, now=at(MONDAY, "16:20")
    )
    tuesday = MONDAY + dt.timedelta(days=1)
    services.post_check_in(
        actor=posts.users["officer"], post=posts.afternoon, now=at(tuesday, "16:50")
    )
    services.post_flags_sweep(now=at(MONDAY, "17:30"))
    result = services.post_flags_sweep(now=at(tuesday, "17:30"))
    assert shift(posts.afternoon).late_flagged_at is None
    assert shift(posts.afternoon).missed_flagged_at is None
    late = shift(posts.afternoon, tuesday)
    assert late.pk in result["late"] and late.pk not in result["missed"]
    assert "16:50" in Notification.objects.get(payload__shift_id=late.pk).body


def test_guard_post_needs_anyone(posts):
    services.post_check_in(actor=posts.users["guard"], post=posts.morning, now=at(MONDAY, "07:29"))
    result = services.post_flags_sweep(now=at(MONDAY, "08:30"))
    assert shift(posts.morning).pk not in result["late"] + result["missed"]


def test_ended_without_anyone_is_only_missed(posts):
    result = services.post_flags_sweep(now=at(MONDAY, "18:00"))
    assert shift(posts.afternoon).pk in result["missed"]
    assert shift(posts.afternoon).pk not in result["late"]


def test_called_off_and_old_shifts_are_never_flagged(posts):
    services.shift_cancel(actor=posts.users["police"], shift=shift(posts.afternoon), reason="停课")
    result = services.post_flags_sweep(now=at(MONDAY, "18:00"))
    assert shift(posts.afternoon).pk not in result["missed"]
    # A first run a week later does not page about last week.
    later = MONDAY + dt.timedelta(days=7)
    result = services.post_flags_sweep(now=at(later, "06:00"))
    assert result == {"late": [], "missed": []}


def test_grace_is_a_setting(posts):
    with override_settings(PATROL_LATE_GRACE_MINUTES=15):
        assert services.post_flags_sweep(now=at(MONDAY, "16:40"))["late"] == []
        assert (
            shift(posts.afternoon).pk in services.post_flags_sweep(now=at(MONDAY, "16:46"))["late"]
        )


def test_sweep_creates_todays_shifts_when_the_night_job_did_not_run(posts):
    PostShift.objects.filter(date=MONDAY).delete()
    services.post_flags_sweep(now=at(MONDAY, "16:36"))
    assert PostShift.objects.filter(date=MONDAY).count() == 4


def test_the_huey_tasks_call_the_services(posts, monkeypatch):
    monkeypatch.setattr(services.timezone, "now", lambda: at(MONDAY, "17:30"))
    result = tasks.post_flags_sweep.call_local()
    assert shift(posts.afternoon).pk in result["missed"]
    assert tasks.visit_rule_check.call_local() == 0  # Monday: the rule waits for Friday
    assert tasks.shifts_generate.call_local() >= 0


# ------------------------------------------------------------------ the visit rule


def visit(world, who, school, when, **notes):
    return services.police_visit_create(
        actor=world.users[who],
        school=school,
        arrived_at=when,
        left_at=when + dt.timedelta(minutes=40),
        information_collected=notes.get("info", "了解门卫值守情况"),
        now=when + dt.timedelta(hours=1),
    )


def test_visit_rule_waits_until_friday_morning(posts):
    assert services.visits_flag_shortfalls(now=at(MONDAY, "10:00")) == []
    assert services.visits_flag_shortfalls(now=at(FRIDAY, "08:59")) == []
    assert not VisitShortfall.objects.exists()


def test_schools_short_by_friday_are_flagged_once(posts):
    visit(posts, "postofficer", posts.school, at(MONDAY, "09:00"))
    visit(posts, "officer", posts.school, at(MONDAY + dt.timedelta(days=2), "14:00"))
    visit(posts, "officer", posts.other_school, at(MONDAY + dt.timedelta(days=1), "10:00"))
    flagged = services.visits_flag_shortfalls(now=at(FRIDAY, "09:00"))
    assert {f.school_id for f in flagged} == {posts.other_school.pk, posts.far_school.pk}
    other = VisitShortfall.objects.get(school=posts.other_school)
    assert (other.visits_counted, other.required, other.week_start) == (1, 2, MONDAY)
    # Idempotent per school and week: later runs in the week flag nothing again.
    assert services.visits_flag_shortfalls(now=at(FRIDAY, "09:30")) == []
    assert services.visits_flag_shortfalls(now=at(MONDAY + dt.timedelta(days=6), "20:00")) == []
    assert VisitShortfall.objects.count() == 2

    police_titles = [d.notification.title for d in inbox(posts.users["police"])]
    assert len(police_titles) == 1 and "同镇学校" in police_titles[0]
    far_titles = [d.notification.title for d in inbox(posts.users["farpolice"])]
    assert len(far_titles) == 1 and "外镇学校" in far_titles[0]


def test_the_next_week_starts_again(posts):
    services.visits_flag_shortfalls(now=at(FRIDAY, "10:00"))
    next_friday = FRIDAY + dt.timedelta(days=7)
    flagged = services.visits_flag_shortfalls(now=at(next_friday, "10:00"))
    assert len(flagged) == 3
    assert VisitShortfall.objects.filter(week_start=MONDAY + dt.timedelta(days=7)).count() == 3


def test_visits_of_last_week_do_not_count(posts):
    sunday_before = MONDAY - dt.timedelta(days=1)
    for hhmm in ("09:00", "15:00"):
        PoliceVisit.objects.create(
            school=posts.school,
            officer=posts.users["officer"],
            arrived_at=at(sunday_before, hhmm),
            left_at=at(sunday_before, hhmm) + dt.timedelta(minutes=30),
            information_collected="x",
        )
    flagged = services.visits_flag_shortfalls(now=at(FRIDAY, "09:00"))
    assert posts.school.pk in {f.school_id for f in flagged}


def test_rule_is_configurable(posts):
    visit(posts, "officer", posts.school, at(MONDAY, "09:00"))
    with override_settings(PATROL_VISITS_PER_WEEK=1, PATROL_VISIT_FLAG_TIME="16:00"):
        assert services.visits_flag_shortfalls(now=at(FRIDAY, "15:00")) == []
        flagged = services.visits_flag_shortfalls(now=at(FRIDAY, "16:00"))
    assert posts.school.pk not in {f.school_id for f in flagged}
