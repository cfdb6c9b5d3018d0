"""Pages of duty: who gets 200, 403 and 404 (anonymous, wrong role, another school, own
school, police station, town office, county); check-in and check-out on the phone page;
the log, handover, receive and close forms; the roster and the plan (409 with the reason,
400 with the errors in place, nothing written)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from huxiao.duty.choices import DutyRole, ShiftKind
from huxiao.duty.models import (
    DutyAssignment,
    DutyHandover,
    DutyLogEntry,
    DutyOpenItem,
    DutyPlan,
    DutyShift,
)
from huxiao.duty.tests.duty_fixtures import live_shift, put_on

pytestmark = pytest.mark.django_db
HOME = reverse("duty:home")
OVERVIEW = reverse("duty:overview")


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def shift(world):
    s = live_shift(world.school)
    put_on(s, world.users["guard"], DutyRole.GUARD)
    put_on(s, world.users["principal"], DutyRole.LEADER)
    return s


@pytest.fixture
def night(world, shift):
    n = live_shift(world.school, ShiftKind.NIGHT, start_minutes=300, hours=12)
    put_on(n, world.users["teacher"], DutyRole.STAFF)
    return n


# ------------------------------------------------------------------ scope matrix

READERS = [
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
    ("nobody", 404),
]


@pytest.mark.parametrize(("name", "status"), READERS)
def test_school_pages_scope(client, world, shift, name, status):
    c = login(client, world.users[name])
    for url in (
        reverse("duty:roster", args=[world.school.pk]),
        reverse("duty:plan", args=[world.school.pk]),
        reverse("duty:shift", args=[shift.pk]),
        reverse("duty:monitoring", args=[world.school.pk]),
        reverse("duty:gaps", args=[world.school.pk]),
    ):
        assert c.get(url).status_code == status, url


def test_anonymous_goes_to_login(client, world, shift):
    for url in (
        HOME,
        OVERVIEW,
        reverse("duty:roster", args=[world.school.pk]),
        reverse("duty:shift", args=[shift.pk]),
    ):
        assert client.get(url).status_code == 302
    response = client.post(reverse("duty:check_in", args=[shift.pk]))
    assert response.status_code == 302
    assert not DutyAssignment.objects.filter(checked_in_at__isnull=False).exists()


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("principal", 200),
        ("guard", 200),
        ("teacher", 200),
        ("principal2", 200),
        ("police", 403),
        ("gov", 403),
        ("county", 403),
        ("nobody", 403),
    ],
)
def test_home_needs_keep_duty(client, world, shift, name, status):
    response = login(client, world.users[name]).get(HOME)
    assert response.status_code == status
    if status == 200:
        page = response.content.decode()
        assert (f'data-testid="my-shift-{shift.pk}"' in page) is (name in ("principal", "guard"))


@pytest.mark.parametrize(
    ("name", "status", "rows"),
    [("principal", 200, 1), ("police", 200, 2), ("county", 200, 3), ("nobody", 403, 0)],
)
def test_overview_scope(client, world, shift, name, status, rows):
    response = login(client, world.users[name]).get(OVERVIEW)
    assert response.status_code == status
    if status == 200:
        assert response.content.decode().count('data-testid="school-row"') == rows


def test_bad_ids_are_404(client, world):
    c = login(client, world.users["principal"])
    assert c.get(f"/duty/shifts/{2**63}/").status_code == 404
    assert c.get("/duty/schools/999999/roster/").status_code == 404


# ------------------------------------------------------------------ check-in


def test_guard_checks_in_and_out_on_the_phone_page(client, world, shift):
    c = login(client, world.users["guard"])
    page = c.get(HOME).content.decode()
    assert 'data-testid="check-in"' in page
    response = c.post(reverse("duty:check_in", args=[shift.pk]), {"next": HOME})
    assert response.status_code == 302 and response["Location"] == HOME
    a = DutyAssignment.objects.get(user=world.users["guard"])
    assert a.checked_in_at is not None
    page = c.get(HOME).content.decode()
    assert 'data-testid="check-out"' in page and 'data-testid="checked-in"' in page
    c.post(reverse("duty:check_out", args=[shift.pk]), {"next": HOME})
    a.refresh_from_db()
    assert a.checked_out_at is not None


def test_check_in_refusals(client, world, shift):
    # Not on the roster: 403; another school: 404; police: 403.
    assert (
        login(client, world.users["teacher"])
        .post(reverse("duty:check_in", args=[shift.pk]))
        .status_code
        == 403
    )
    assert (
        login(client, world.users["principal2"])
        .post(reverse("duty:check_in", args=[shift.pk]))
        .status_code
        == 404
    )
    assert (
        login(client, world.users["police"])
        .post(reverse("duty:check_in", args=[shift.pk]))
        .status_code
        == 403
    )
    # Too early: 409 with the reason.
    later = live_shift(world.school, ShiftKind.NIGHT, start_minutes=180)
    put_on(later, world.users["guard"])
    response = login(client, world.users["guard"]).post(
        reverse("duty:check_in", args=[later.pk]), {"next": HOME}
    )
    assert response.status_code == 409 and 'data-testid="refusal"' in response.content.decode()
    # Check-out before check-in: 409.
    response = client.post(reverse("duty:check_out", args=[shift.pk]))
    assert response.status_code == 409
    assert not DutyAssignment.objects.filter(checked_in_at__isnull=False).exists()


def test_external_next_is_ignored(client, world, shift):
    response = login(client, world.users["guard"]).post(
        reverse("duty:check_in", args=[shift.pk]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("duty:shift", args=[shift.pk])


@pytest.mark.parametrize("next_url", ["-1", "home"])
def test_a_next_that_is_not_a_path_is_ignored(client, world, shift, next_url):
    """redirect() took it for the name of a view: a 500 after the check-in was saved
    (the same `next` crashed the inbox and the gate-post check-out, found by
    tests/fuzz/test_page_fuzz.py)."""
    response = login(client, world.users["guard"]).post(
        reverse("duty:check_in", args=[shift.pk]), {"next": next_url}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("duty:shift", args=[shift.pk])


# ------------------------------------------------------------------ log, handover, items


def test_log_from_home_and_shift_page(client, world, shift):
    c = login(client, world.users["guard"])
    response = c.post(
        reverse("duty:log_add", args=[shift.pk]),
        {
            "prefix": f"log-{shift.pk}",
            f"log-{shift.pk}-kind": "routine",
            f"log-{shift.pk}-text": "门岗正常",
            "next": HOME,
        },
    )
    assert response.status_code == 302
    response = c.post(
        reverse("duty:log_add", args=[shift.pk]), {"log-kind": "party", "log-text": ""}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-testid="error-text"' in page and 'data-testid="error-kind"' in page
    assert list(DutyLogEntry.objects.values_list("text", flat=True)) == ["门岗正常"]
    response = login(client, world.users["teacher"]).post(
        reverse("duty:log_add", args=[shift.pk]), {"log-kind": "routine", "log-text": "x"}
    )
    assert response.status_code == 403


def test_handover_receive_close(client, world, shift, night):
    c = login(client, world.users["guard"])
    page = c.get(reverse("duty:shift", args=[shift.pk])).content.decode()
    assert 'data-testid="handover-form"' in page
    response = c.post(
        reverse("duty:handover_create", args=[shift.pk]),
        {"handover-notes": "x" * 2001, "handover-open_items": "a"},
    )
    assert response.status_code == 400
    assert 'data-testid="error-notes"' in response.content.decode()
    assert not DutyHandover.objects.exists()
    response = c.post(
        reverse("duty:handover_create", args=[shift.pk]),
        {"handover-notes": "正常", "handover-open_items": "东门升降柱报修\n"},
    )
    assert response.status_code == 302
    response = c.post(reverse("duty:handover_create", args=[shift.pk]), {})
    assert response.status_code == 409
    handover = DutyHandover.objects.get()
    item = DutyOpenItem.objects.get()
    assert handover.to_shift == night and item.current_shift == night
    # Only the next shift's people receive.
    assert c.post(reverse("duty:handover_receive", args=[handover.pk])).status_code == 403
    t = login(client, world.users["teacher"])
    page = t.get(reverse("duty:shift", args=[night.pk])).content.decode()
    assert 'data-testid="receive-handover"' in page and 'data-testid="open-item"' in page
    assert t.post(reverse("duty:handover_receive", args=[handover.pk])).status_code == 302
    assert t.post(reverse("duty:handover_receive", args=[handover.pk])).status_code == 409
    url = reverse("duty:item_close", args=[item.pk])
    assert t.post(url, {f"close-{item.pk}-note": ""}).status_code == 400
    assert t.post(url, {f"close-{item.pk}-note": "已修好"}).status_code == 302
    item.refresh_from_db()
    assert item.closing_note == "已修好"
    assert t.post(url, {f"close-{item.pk}-note": "again"}).status_code == 409
    p2 = login(client, world.users["principal2"])
    assert p2.post(url, {f"close-{item.pk}-note": "x"}).status_code == 404


# ------------------------------------------------------------------ roster and plan


def test_roster_create_week_and_assign(client, world):
    c = login(client, world.users["principal"])
    url = reverse("duty:roster", args=[world.school.pk])
    assert 'data-testid="week-form"' in c.get(url).content.decode()
    monday = timezone.localdate() + dt.timedelta(days=7)
    monday -= dt.timedelta(days=monday.weekday())
    response = c.post(
        reverse("duty:roster_week_create", args=[world.school.pk]),
        {"week_start": monday.isoformat()},
    )
    assert response.status_code == 302
    assert DutyShift.objects.filter(school=world.school).count() == 14
    c.post(
        reverse("duty:roster_week_create", args=[world.school.pk]),
        {"week_start": monday.isoformat()},
    )
    assert DutyShift.objects.filter(school=world.school).count() == 14
    response = c.post(
        reverse("duty:roster_week_create", args=[world.school.pk]), {"week_start": "soon"}
    )
    assert response.status_code == 400
    assert 'data-testid="error-week_start"' in response.content.decode()
    shift = DutyShift.objects.filter(school=world.school).first()
    add = reverse("duty:assignment_add", args=[shift.pk])
    prefix = f"assign-{shift.pk}"
    ok = c.post(add, {f"{prefix}-user": world.users["guard"].pk, f"{prefix}-role": "guard"})
    assert ok.status_code == 302
    bad = c.post(add, {f"{prefix}-user": world.users["principal2"].pk, f"{prefix}-role": "guard"})
    assert bad.status_code == 400 and 'data-testid="error-user"' in bad.content.decode()
    assert DutyAssignment.objects.count() == 1
    page = c.get(f"{url}?week={monday}").content.decode()
    assert page.count('data-testid="assignment"') == 1
    a = DutyAssignment.objects.get()
    g = login(client, world.users["guard"])
    assert g.post(reverse("duty:assignment_remove", args=[a.pk])).status_code == 403
    assert g.post(add, {f"{prefix}-user": world.users["guard"].pk}).status_code == 403
    c = login(client, world.users["principal"])
    assert c.post(reverse("duty:assignment_remove", args=[a.pk])).status_code == 302
    assert not DutyAssignment.objects.exists()


@pytest.mark.parametrize("name", ["guard", "police", "county"])
def test_roster_writes_need_plan_duty(client, world, name):
    response = login(client, world.users[name]).post(
        reverse("duty:roster_week_create", args=[world.school.pk]),
        {"week_start": timezone.localdate().isoformat()},
    )
    assert response.status_code == 403
    assert not DutyShift.objects.exists()


def test_roster_write_other_school_is_404(client, world):
    response = login(client, world.users["principal2"]).post(
        reverse("duty:roster_week_create", args=[world.school.pk]),
        {"week_start": timezone.localdate().isoformat()},
    )
    assert response.status_code == 404


def test_plan_page(client, world):
    url = reverse("duty:plan", args=[world.school.pk])
    c = login(client, world.users["principal"])
    assert 'data-testid="plan-form"' in c.get(url).content.decode()
    data = {
        "day_starts": "07:30",
        "night_starts": "19:30",
        "check_in_grace_minutes": "10",
        "monitoring_max_gap_minutes": "90",
        "night_round_from": "21:00",
        "night_round_until": "05:00",
    }
    bad = c.post(url, {**data, "night_starts": "06:00", "check_in_grace_minutes": "-5"})
    assert bad.status_code == 400
    page = bad.content.decode()
    assert 'data-testid="error-night_starts"' in page
    assert 'data-testid="error-check_in_grace_minutes"' in page
    assert not DutyPlan.objects.exists()
    assert c.post(url, data).status_code == 302
    assert DutyPlan.objects.get().check_in_grace_minutes == 10
    police = login(client, world.users["police"])
    assert 'data-testid="plan-read"' in police.get(url).content.decode()
    assert police.post(url, data).status_code == 403
    assert login(client, world.users["guard"]).post(url, data).status_code == 403
