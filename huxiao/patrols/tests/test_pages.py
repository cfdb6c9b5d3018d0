"""Gate-post, coverage, patrol and visit pages: role × scope for every page, the phone
check-in page (refusals with their reason, volunteers, car and lights), forms that fail
with 400 and the errors in place, navigation.

The clock is Monday 16:40 local time."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from huxiao.core.navigation import navigation_for
from huxiao.patrols import services
from huxiao.patrols.models import GatePost, GatePostStaff, PatrolLog, PoliceVisit, PostCheckIn
from huxiao.patrols.tests.conftest import MONDAY, at
from huxiao.patrols.tests.test_api import EVERYONE, expect

pytestmark = pytest.mark.django_db

NOW = at(MONDAY, "16:40")
LOGIN = "/accounts/login/"
POLICE_HERE = {"police", "officer", "postofficer"}
STAFFERS = {"police", "officer", "postofficer", "principal", "guard"}


@pytest.fixture
def data(posts, monkeypatch, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    w = posts
    w.check_in = services.post_check_in(
        actor=w.users["officer"],
        post=w.afternoon,
        now=at(MONDAY, "16:25"),
        photo=SimpleUploadedFile("p.jpg", b"\xff\xd8\xff\xe0" + b"2" * 64),
    )
    w.shift = w.check_in.shift
    w.visit = services.police_visit_create(
        actor=w.users["officer"], school=w.school, arrived_at=at(MONDAY, "09:00"), now=NOW
    )
    w.log = services.patrol_log_create(
        actor=w.users["officer"],
        started_at=at(MONDAY, "07:00"),
        ended_at=at(MONDAY, "08:30"),
        mode="car",
        dress="uniform",
        route="幸福路—建设路",
        school_ids=[w.school.pk],
        now=NOW,
    )
    return w


def get(client, world, who, url):
    if who != "anonymous":
        client.force_login(world.users[who])
    return client.get(url)


def post(client, world, who, url, data=None):
    if who != "anonymous":
        client.force_login(world.users[who])
    return client.post(url, data or {})


def with_login_redirect(table):
    return {who: (302 if who == "anonymous" else status) for who, status in table.items()}


PAGES = {
    "today": ("patrols:today", (), expect(200, elsewhere_status=200)),
    "posts": ("patrols:post_list", (), expect(200, elsewhere_status=200)),
    "post": ("patrols:post_detail", ("afternoon",), expect(200)),
    "shift": ("patrols:shift_detail", ("shift",), expect(200)),
    "coverage": ("patrols:coverage", (), expect(200, elsewhere_status=200)),
    "visits": ("patrols:visit_list", (), expect(200, elsewhere_status=200)),
    "visit": ("patrols:visit_detail", ("visit",), expect(200)),
    "photo": ("patrols:check_in_photo", ("check_in",), expect(200)),
    "post_new": (
        "patrols:post_new",
        (),
        expect(200, viewers={"police", "principal", "farpolice", "principal2"}, elsewhere=set()),
    ),
    "post_edit": (
        "patrols:post_edit",
        ("afternoon",),
        expect(200, viewers={"police", "principal"}),
    ),
    "check_in": (
        "patrols:check_in",
        ("afternoon",),
        expect(200, viewers=STAFFERS),
    ),
    "logs": (
        "patrols:log_list",
        (),
        expect(200, viewers=POLICE_HERE | {"farpolice"}, elsewhere=set()),
    ),
    "log_new": (
        "patrols:log_new",
        (),
        expect(200, viewers=POLICE_HERE | {"farpolice"}, elsewhere=set()),
    ),
    "log": (
        "patrols:log_detail",
        ("log",),
        expect(200, viewers=POLICE_HERE, elsewhere={"farpolice"}),
    ),
    "visit_new": (
        "patrols:visit_new",
        (),
        expect(200, viewers=POLICE_HERE | {"farpolice"}, elsewhere=set()),
    ),
}


def url_for(world, name, args):
    values = {
        "afternoon": world.afternoon.pk,
        "shift": world.shift.pk,
        "visit": world.visit.pk,
        "check_in": world.check_in.pk,
        "log": world.log.pk,
    }
    return reverse(name, args=[values[a] for a in args])


@pytest.mark.parametrize("who", EVERYONE)
@pytest.mark.parametrize("page", PAGES)
def test_page_matrix(client, data, page, who):
    name, args, table = PAGES[page]
    response = get(client, data, who, url_for(data, name, args))
    expected = with_login_redirect(table)[who]
    assert response.status_code == expected, (page, who)
    if expected == 302:
        assert response["Location"].startswith(LOGIN)


def test_pages_show_only_the_scope(client, data):
    body = get(client, data, "principal", reverse("patrols:post_list")).content.decode()
    assert "本园" in body and "同镇学校" not in body and "外镇学校" not in body
    body = get(client, data, "principal2", reverse("patrols:coverage")).content.decode()
    assert "同镇学校" in body and "本园" not in body
    body = get(client, data, "farpolice", reverse("patrols:today")).content.decode()
    assert "外镇学校" in body and "本园" not in body


def test_school_filter_out_of_scope_is_404(client, data):
    response = get(
        client, data, "principal", reverse("patrols:coverage") + f"?school={data.far_school.pk}"
    )
    assert response.status_code == 404
    response = get(client, data, "police", reverse("patrols:coverage") + "?school=x")
    assert response.status_code == 404


def test_huge_ids_are_404(client, data):
    response = get(client, data, "police", f"/patrols/posts/{2**64}/")
    assert response.status_code == 404


# ------------------------------------------------------------------ today and check-in


def test_today_offers_check_in_to_the_staff_and_shows_the_three(client, data):
    body = get(client, data, "guard", reverse("patrols:today")).content.decode()
    assert f'data-testid="check-in-{data.afternoon.pk}"' in body
    assert f'data-testid="police-{data.shift.pk}" data-on="1"' in body
    assert f'data-testid="car-{data.shift.pk}" data-on="0"' in body
    # The officer already checked in: no second button, a check-out instead.
    body = get(client, data, "officer", reverse("patrols:today")).content.decode()
    assert f'data-testid="check-in-{data.afternoon.pk}"' not in body
    assert f'data-testid="check-out-{data.check_in.pk}"' in body
    # The education office sees the posts but is not offered check-in.
    body = get(client, data, "edu", reverse("patrols:today")).content.decode()
    assert "check-in-" not in body and f'data-testid="shift-{data.shift.pk}"' in body


def test_check_in_page_accepts_and_redirects(client, data):
    response = post(
        client,
        data,
        "postofficer",
        reverse("patrols:check_in", args=[data.afternoon.pk]),
        {"vehicle_present": "on", "lights_on": "on", "latitude": "39.1", "longitude": "116.2"},
    )
    assert response.status_code == 302 and response["Location"] == reverse("patrols:today")
    c = PostCheckIn.objects.get(user=data.users["postofficer"])
    assert c.vehicle_present and c.lights_on and str(c.latitude) == "39.100000"
    data.shift.refresh_from_db()
    assert data.shift.police_lights


def test_check_in_page_refusal_is_409_with_the_reason(client, data):
    response = post(client, data, "guard", reverse("patrols:check_in", args=[data.morning.pk]))
    assert response.status_code == 409
    body = response.content.decode()
    assert 'data-testid="refusal" data-code="too_late"' in body and "08:00" in body
    response = post(client, data, "officer", reverse("patrols:check_in", args=[data.afternoon.pk]))
    assert response.status_code == 409 and 'data-code="duplicate"' in response.content.decode()


def test_check_in_page_field_errors_are_400(client, data):
    response = post(
        client,
        data,
        "postofficer",
        reverse("patrols:check_in", args=[data.afternoon.pk]),
        {"lights_on": "on"},
    )
    assert response.status_code == 400
    assert not PostCheckIn.objects.filter(user=data.users["postofficer"]).exists()


def test_check_in_page_car_only_for_police_and_volunteers_for_the_guard(client, data):
    body = get(client, data, "guard", reverse("patrols:check_in", args=[data.morning.pk]))
    html = body.content.decode()
    assert 'name="vehicle_present"' not in html and "王妈妈" in html
    body = get(client, data, "postofficer", reverse("patrols:check_in", args=[data.afternoon.pk]))
    assert 'name="vehicle_present"' in body.content.decode()


def test_check_out_and_vehicle_from_today(client, data):
    response = post(
        client,
        data,
        "officer",
        reverse("patrols:check_in_vehicle", args=[data.check_in.pk]),
        {"vehicle_present": "on"},
    )
    assert response.status_code == 302
    data.shift.refresh_from_db()
    assert data.shift.police_car and not data.shift.police_lights
    response = post(client, data, "police", reverse("patrols:check_out", args=[data.check_in.pk]))
    assert response.status_code == 403
    response = post(
        client, data, "farpolice", reverse("patrols:check_out", args=[data.check_in.pk])
    )
    assert response.status_code == 404
    response = post(client, data, "officer", reverse("patrols:check_out", args=[data.check_in.pk]))
    assert response.status_code == 302
    data.check_in.refresh_from_db()
    assert data.check_in.checked_out_at == NOW


def test_photo_is_served_to_the_scope_only(client, data):
    response = get(
        client, data, "principal", reverse("patrols:check_in_photo", args=[data.check_in.pk])
    )
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"\xff\xd8\xff")


# ------------------------------------------------------------------ plans


def test_plan_a_post_from_the_page(client, data):
    form = {
        "school": data.school.pk,
        "period": "noon",
        "location": "南门",
        "day0": "on",
        "day0_starts": "11:40",
        "day0_ends": "12:20",
        "day2": "on",
        "day2_starts": "11:40",
        "day2_ends": "12:20",
    }
    response = post(client, data, "principal", reverse("patrols:post_new"), form)
    assert response.status_code == 302
    created = GatePost.objects.get(school=data.school, period="noon")
    assert [w.weekday for w in created.windows.all()] == [0, 2]


def test_plan_form_errors_are_400_and_nothing_is_written(client, data):
    form = {
        "school": data.school.pk,
        "period": "noon",
        "location": "南门",
        "day0": "on",
        "day0_starts": "12:20",
        "day0_ends": "11:40",
    }
    response = post(client, data, "principal", reverse("patrols:post_new"), form)
    assert response.status_code == 400
    assert 'data-testid="post-errors"' in response.content.decode()
    form["school"] = data.far_school.pk  # out of scope: not a choice
    response = post(client, data, "principal", reverse("patrols:post_new"), form)
    assert response.status_code == 400
    assert not GatePost.objects.filter(period="noon").exists()


def test_edit_and_staff_from_the_page(client, data):
    form = {
        "location": "东门",
        "is_active": "on",
        "day1": "on",
        "day1_starts": "16:30",
        "day1_ends": "17:00",
    }
    response = post(
        client, data, "police", reverse("patrols:post_edit", args=[data.afternoon.pk]), form
    )
    assert response.status_code == 302
    data.afternoon.refresh_from_db()
    assert data.afternoon.location == "东门"
    response = post(
        client,
        data,
        "police",
        reverse("patrols:staff_add", args=[data.afternoon.pk]),
        {"kind": "militia", "name": "民兵李四", "weekdays": ["0", "4"]},
    )
    assert response.status_code == 302
    row = GatePostStaff.objects.get(name="民兵李四")
    assert row.weekdays == "04"
    response = post(
        client,
        data,
        "police",
        reverse("patrols:staff_add", args=[data.afternoon.pk]),
        {"kind": "militia"},
    )
    assert response.status_code == 400
    for who, status in (("officer", 403), ("principal2", 404), ("police", 302)):
        response = post(
            client, data, who, reverse("patrols:staff_remove", args=[data.afternoon.pk, row.pk])
        )
        assert response.status_code == status
    row.refresh_from_db()
    assert not row.is_active


@pytest.mark.parametrize("who", EVERYONE)
def test_write_pages_matrix(client, data, who):
    table = with_login_redirect(expect(302, viewers={"police", "principal"}))
    response = post(
        client,
        data,
        who,
        reverse("patrols:shift_cancel", args=[data.shift.pk]),
        {"reason": "放假"},
    )
    assert response.status_code == table[who]
    data.shift.refresh_from_db()
    assert (data.shift.cancelled_at is not None) == (table[who] == 302 and who != "anonymous")


# ------------------------------------------------------------------ visits and patrols


def test_visit_from_the_page_and_complete(client, data):
    response = post(
        client,
        data,
        "postofficer",
        reverse("patrols:visit_new"),
        {"school": data.school.pk, "arrived_at": "2025-03-03T15:00"},
    )
    assert response.status_code == 302
    visit = PoliceVisit.objects.get(officer=data.users["postofficer"])
    assert visit.is_open
    response = post(
        client,
        data,
        "postofficer",
        reverse("patrols:visit_complete", args=[visit.pk]),
        {"left_at": "2025-03-03T16:00"},
    )
    assert response.status_code == 400  # what was done is required
    response = post(
        client,
        data,
        "postofficer",
        reverse("patrols:visit_complete", args=[visit.pk]),
        {"left_at": "2025-03-03T16:00", "guidance_given": "指导开展防暴演练"},
    )
    assert response.status_code == 302
    visit.refresh_from_db()
    assert not visit.is_open and visit.left_at == at(MONDAY, "16:00")
    response = post(
        client,
        data,
        "police",
        reverse("patrols:visit_complete", args=[data.visit.pk]),
        {"guidance_given": "x", "left_at": "2025-03-03T16:00"},
    )
    assert response.status_code == 403


def test_visit_week_page(client, data):
    body = get(
        client, data, "police", reverse("patrols:visit_list") + "?week=2025-03-05"
    ).content.decode()
    assert f'data-testid="visit-count-{data.school.pk}">1 / 2' in body
    response = get(client, data, "police", reverse("patrols:visit_list") + "?week=2025-02-30")
    assert response.status_code == 400


def test_patrol_log_from_the_page(client, data):
    form = {
        "started_at": "2025-03-03T14:00",
        "ended_at": "2025-03-03T15:00",
        "mode": "foot",
        "dress": "plain_clothes",
        "route": "幸福路",
        "schools": [data.school.pk, data.other_school.pk],
        "suspicious_checked": "0",
    }
    response = post(client, data, "officer", reverse("patrols:log_new"), form)
    assert response.status_code == 302
    assert PatrolLog.objects.count() == 2
    form["schools"] = [data.far_school.pk]
    response = post(client, data, "officer", reverse("patrols:log_new"), form)
    assert response.status_code == 400


def test_coverage_page(client, data):
    response = get(
        client, data, "police", reverse("patrols:coverage") + "?since=2025-03-03&week=2025-03-03"
    )
    assert response.status_code == 200
    body = response.content.decode()
    for testid in (
        "coverage-grid",
        "coverage-by-station",
        "coverage-by-school",
        "coverage-by-period",
        "coverage-by-week",
    ):
        assert f'data-testid="{testid}"' in body
    assert 'data-testid="total-shifts">3<' in body
    response = get(client, data, "police", reverse("patrols:coverage") + "?since=2025-02-30")
    assert (
        response.status_code == 400
        and 'data-testid="coverage-error-since"' in response.content.decode()
    )


# ------------------------------------------------------------------ navigation


@pytest.mark.parametrize(
    ("who", "keys"),
    [
        ("police", {"patrols_posts", "patrols_coverage", "patrols_visits"}),
        ("guard", {"patrols_posts", "patrols_coverage", "patrols_visits"}),
        ("edu", {"patrols_posts", "patrols_coverage", "patrols_visits"}),
        ("teacher", set()),
        ("health", set()),
    ],
)
def test_navigation(data, who, keys):
    items = {i["key"] for i in navigation_for(data.users[who], None)}
    assert items & {"patrols_posts", "patrols_coverage", "patrols_visits"} == keys


@pytest.mark.parametrize("raw", ["²", "9" * 30, "-1", "abc"])
def test_a_strange_preselected_school_is_ignored_not_a_500(client, world, raw):
    client.force_login(world.users["principal"])
    assert client.get(reverse("patrols:post_new"), {"school": raw}).status_code == 200
    client.force_login(world.users["officer"])
    assert client.get(reverse("patrols:visit_new"), {"school": raw}).status_code == 200
