"""Regressions of the UX review of duty (issue 7): the roster names the guards who cannot
be rostered for want of a login; "My duty" writes the log of the shift one is checked in
to; checkpoint codes typed by hand (unambiguous alphabet, normalised matching, old codes
still exact, plates in groups of four, the manual-entry error names the code); the demo
spreads the week over the school's people and writes night texts at night."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from huxiao.duty import checkpoint_services, rounds_services
from huxiao.duty.choices import DutyRole, ShiftKind
from huxiao.duty.models import Checkpoint, CheckpointScan, DutyLogEntry
from huxiao.duty.tests.duty_fixtures import live_shift, put_on
from huxiao.duty.tests.rounds_fixtures import build_rounds_world
from huxiao.people.choices import StaffRole
from huxiao.people.tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


# ------------------------------------------------------------------ 1. guards without a login


@pytest.fixture
def roster_world(world):
    shift = live_shift(world.school, hours=3)
    StaffFactory(school=world.school, name="王守门", role=StaffRole.GUARD, user=None)
    StaffFactory(school=world.school, name="赵保卫", role=StaffRole.SECURITY_OFFICER, user=None)
    StaffFactory(school=world.school, name="钱离职", role=StaffRole.GUARD, is_active=False)
    StaffFactory(school=world.school, name="孙老师", role=StaffRole.TEACHER, user=None)
    StaffFactory(
        school=world.school, name="周有号", role=StaffRole.GUARD, user=world.users["guard"]
    )
    StaffFactory(school=world.other_school, name="吴外校", role=StaffRole.GUARD, user=None)
    return world, shift


def test_roster_names_guards_without_a_login(roster_world, client):
    world, shift = roster_world
    client.force_login(world.users["principal"])
    r = client.get(reverse("duty:roster", args=[world.school.pk]))
    assert r.status_code == 200
    body = r.content.decode()
    notes = re.findall(r'data-testid="no-login-staff">(.*?)</p>', body, re.S)
    assert notes, "the note sits under the add form"
    note = notes[0]
    assert "王守门" in note and "赵保卫" in note
    for name in ("钱离职", "孙老师", "周有号", "吴外校"):
        assert name not in note
    assert f"{reverse('people:staff_list')}?school={world.school.pk}" in note


@pytest.mark.parametrize("who", ["guard", "police", "edu", "county"])
def test_only_planners_see_the_note(roster_world, client, who):
    world, _shift = roster_world
    client.force_login(world.users[who])
    r = client.get(reverse("duty:roster", args=[world.school.pk]))
    assert r.status_code == 200
    assert 'data-testid="no-login-staff"' not in r.content.decode()


def test_no_note_when_every_guard_has_a_login(world, client):
    live_shift(world.school, hours=3)
    client.force_login(world.users["principal"])
    r = client.get(reverse("duty:roster", args=[world.school.pk]))
    assert 'data-testid="no-login-staff"' not in r.content.decode()


# ------------------------------------------------------------------ 2. the log of "My duty"


@pytest.fixture
def day_and_night(world):
    """The guard checked out of the day shift (ends in 30 minutes) and in to the night
    (starts in 30 minutes, open for check-in)."""
    now = timezone.now()
    day = live_shift(world.school, start_minutes=-11 * 60 + 30, hours=11)
    night = live_shift(world.school, ShiftKind.NIGHT, start_minutes=30, hours=12)
    a_day = put_on(day, world.users["guard"], DutyRole.GUARD)
    a_day.checked_in_at = day.starts_at
    a_day.checked_out_at = now - dt.timedelta(minutes=5)
    a_day.save()
    a_night = put_on(night, world.users["guard"], DutyRole.GUARD)
    a_night.checked_in_at = now - dt.timedelta(minutes=2)
    a_night.save()
    return world, day, night


def test_my_duty_log_is_the_shift_checked_in_to(day_and_night, client):
    world, day, night = day_and_night
    client.force_login(world.users["guard"])
    body = client.get(reverse("duty:home")).content.decode()
    assert f'data-testid="current-panel" data-shift="{night.pk}"' in body
    assert reverse("duty:log_add", args=[night.pk]) in body
    assert reverse("duty:log_add", args=[day.pk]) not in body
    assert f'value="log-{night.pk}"' in body
    heading = re.search(r'data-testid="panel-shift">(.*?)</h2>', body, re.S).group(1)
    assert night.date.isoformat() in heading and str(night.get_kind_display()) in heading

    r = client.post(
        reverse("duty:log_add", args=[night.pk]),
        {
            "prefix": f"log-{night.pk}",
            f"log-{night.pk}-kind": "routine",
            f"log-{night.pk}-text": "夜班接班，一切正常。",
            "next": reverse("duty:home"),
        },
    )
    assert r.status_code == 302
    assert list(DutyLogEntry.objects.values_list("shift_id", flat=True)) == [night.pk]


def test_my_duty_errors_stay_on_the_posted_shift(day_and_night, client):
    world, _day, night = day_and_night
    client.force_login(world.users["guard"])
    r = client.post(
        reverse("duty:log_add", args=[night.pk]),
        {
            "prefix": f"log-{night.pk}",
            f"log-{night.pk}-kind": "routine",
            f"log-{night.pk}-text": "",
        },
    )
    assert r.status_code == 400
    body = r.content.decode()
    assert f'data-testid="current-panel" data-shift="{night.pk}"' in body
    assert 'class="hx-error"' in body or "aria-invalid" in body
    assert not DutyLogEntry.objects.exists()


def test_my_duty_without_check_in_shows_the_running_shift(world, client):
    running = live_shift(world.school, start_minutes=-60, hours=2)
    upcoming = live_shift(world.school, ShiftKind.NIGHT, start_minutes=30, hours=12)
    put_on(running, world.users["guard"])
    put_on(upcoming, world.users["guard"])
    client.force_login(world.users["guard"])
    body = client.get(reverse("duty:home")).content.decode()
    assert f'data-testid="current-panel" data-shift="{running.pk}"' in body


# ------------------------------------------------------------------ 3. checkpoint codes


@pytest.fixture
def rounds_world(world):
    return build_rounds_world(world)


def test_new_codes_are_unambiguous_upper_case():
    codes = {checkpoint_services.new_code() for _i in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert len(code) == 20
        assert re.fullmatch(r"[2-9A-HJ-NP-Z]{20}", code)
    assert len(checkpoint_services.CODE_ALPHABET) == 32  # 5 bits × 20 = 100 bits
    assert checkpoint_services.code_groups("ABCDEFGHJKLMNPQRSTUV") == "ABCD EFGH JKLM NPQR STUV"


def test_created_checkpoints_get_new_codes(rounds_world):
    code = rounds_world.cps[rounds_world.school.pk]["大门"].code
    assert re.fullmatch(r"[2-9A-HJ-NP-Z]{20}", code)


@pytest.mark.parametrize(
    "typed",
    [
        lambda c: c.lower(),
        lambda c: checkpoint_services.code_groups(c),
        lambda c: "-".join(checkpoint_services.code_groups(c).lower().split()),
        lambda c: f"  {c[:10]} - {c[10:]} ",
        lambda c: "".join(chr(ord(ch) + 0xFEE0) for ch in c),  # full-width
    ],
)
def test_typed_codes_are_normalised(rounds_world, client, typed):
    w = rounds_world
    code = w.cps[w.school.pk]["大门"].code
    client.force_login(w.users["guard"])
    r = client.post(reverse("duty:rounds", args=[w.school.pk]), {"code": typed(code)})
    assert r.status_code == 200
    assert 'data-testid="scan-ok"' in r.content.decode()
    assert CheckpointScan.objects.count() == 1


def test_old_codes_still_match_exactly_as_stored(rounds_world, client):
    w = rounds_world
    cp = w.cps[w.school.pk]["食堂"]
    Checkpoint.objects.filter(pk=cp.pk).update(code="aB3-_xYz9Qw8Er7Ty6Ui5Op4")
    client.force_login(w.users["guard"])
    url = reverse("duty:rounds", args=[w.school.pk])
    # Another case is another code for the old ones.
    r = client.post(url, {"code": "AB3-_XYZ9QW8ER7TY6UI5OP4"})
    assert r.status_code == 404
    r = client.post(url, {"code": " aB3-_xYz9Qw8Er7Ty6Ui5Op4 "})
    assert r.status_code == 200 and 'data-testid="scan-ok"' in r.content.decode()
    # The scan URL of an old plate still works.
    r = client.get(reverse("duty:scan", args=["aB3-_xYz9Qw8Er7Ty6Ui5Op4"]))
    assert r.status_code == 200
    assert CheckpointScan.objects.count() == 1


def test_manual_entry_error_names_the_code_not_the_qr(rounds_world, client):
    w = rounds_world
    client.force_login(w.users["guard"])
    url = reverse("duty:rounds", args=[w.school.pk])
    with translation.override(settings.LANGUAGE_CODE):
        typed_msg = escape(str(rounds_services._typed_unknown("X").message))
        qr_msg = escape(str(rounds_services.CheckpointUnknown().message))
    r = client.post(url, {"code": "ABCD EFGH JKLM NPQR STUV"})
    assert r.status_code == 404
    body = r.content.decode()
    assert typed_msg in body and qr_msg not in body
    # A scanner typing the plate's whole URL still hears about the QR.
    r = client.post(url, {"code": "http://testserver/duty/scan/ABCDEFGHJKLMNPQRSTUV/"})
    assert r.status_code == 404
    assert qr_msg in r.content.decode()
    # The QR page itself keeps its sentence.
    r = client.get(reverse("duty:scan", args=["ABCDEFGHJKLMNPQRSTUV"]))
    assert r.status_code == 404 and qr_msg in r.content.decode()
    assert not CheckpointScan.objects.exists()


def test_api_accepts_typed_codes(rounds_world, api):
    w = rounds_world
    code = w.cps[w.school.pk]["大门"].code
    r = api(
        "post",
        "/api/v1/duty/scans",
        user=w.users["guard"],
        json={"code": checkpoint_services.code_groups(code).lower()},
    )
    assert r.status_code == 201, r.content


def test_plates_print_the_code_in_groups_of_four(rounds_world, client):
    w = rounds_world
    cp = w.cps[w.school.pk]["大门"]
    client.force_login(w.users["principal"])
    r = client.get(reverse("duty:checkpoint_plates", args=[w.school.pk]) + f"?id={cp.pk}")
    assert r.status_code == 200
    assert checkpoint_services.code_groups(cp.code) in r.content.decode()


# ------------------------------------------------------------------ 4. the demo


def test_demo_spreads_the_week_and_writes_night_texts(settings):
    from huxiao.demo.township import load_demo_township
    from huxiao.duty.duty_demo import KINDERGARTEN, load_demo_duty
    from huxiao.duty.models import DutyAssignment, DutyShift, MonitoringLogEntry
    from huxiao.duty.monitoring_demo import load_demo_monitoring
    from huxiao.orgs.models import Organization
    from huxiao.security.models import DefenceProfile

    settings.DEMO_MODE = True
    load_demo_township()
    school = Organization.objects.get(name=KINDERGARTEN)
    DefenceProfile.objects.update_or_create(school=school, defaults={"monitoring_room": True})
    now = timezone.make_aware(dt.datetime(2026, 3, 11, 10, 0))  # a Wednesday
    load_demo_duty(now=now)
    load_demo_monitoring(now=now)

    monday = dt.date(2026, 3, 9)
    week = list(
        DutyShift.objects.filter(
            school=school, date__gte=monday, date__lte=monday + dt.timedelta(days=6)
        ).order_by("starts_at")
    )
    assert len(week) == 14
    people = {}
    for shift in week:
        ids = set(DutyAssignment.objects.filter(shift=shift).values_list("user_id", flat=True))
        assert ids, f"{shift} has nobody"
        people[shift.pk] = ids
    users = set().union(*people.values())
    assert len(users) >= 3
    for user in users:
        on = [s for s in week if user in people[s.pk]]
        assert len(on) < len(week) // 2 + 1, "nobody works most of the week's shifts"
    # Nobody works two shifts in a row (24 hours).
    for first, second in zip(week, week[1:], strict=False):
        assert not (people[first.pk] & people[second.pk]), (first, second)
    # Night stretches of the monitoring room read like the night.
    for entry in MonitoringLogEntry.objects.filter(school=school):
        hour = timezone.localtime(entry.period_start).hour
        if hour >= 20 or hour < 6:
            assert "接送" not in entry.observations, entry.period_start
