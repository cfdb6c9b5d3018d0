"""The trip pages (ADR 0031 "Trips"): role × scope for each page, the phone journey of the
bus safety officer (start, tick, scan, end), refusals and errors in place, flags."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from huxiao.people.tests.factories import ChildFactory
from huxiao.transport import trip_services as services
from huxiao.transport.choices import TripStatus
from huxiao.transport.models import Boarding, Trip, TripFlag
from huxiao.transport.tests.trip_fixtures import make_line

pytestmark = pytest.mark.django_db


@pytest.fixture
def line(world):
    return make_line(world)


@pytest.fixture
def trip(world, line):
    return services.trip_start(
        actor=world.users["teacher"], route_id=line.route.pk, direction="to_school"
    )


def page(client, user, url, method="get", data=None):
    client.logout()
    if user is not None:
        client.force_login(user)
    return getattr(client, method)(url, data or {})


# ------------------------------------------------------------------ reads


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("principal", 302),
        ("teacher", 302),
        ("police", 200),
        ("county", 200),
        ("nobody", 403),
        (None, 302),
    ],
)
def test_trip_home(client, world, who, status):
    r = page(client, world.users.get(who), reverse("transport:trip_home"))
    assert r.status_code == status
    if who in ("principal", "teacher"):
        assert r.url == reverse("transport:trips", args=[world.school.pk])
    if status == 200:
        assert 'data-testid="school-row"' in r.content.decode()


@pytest.mark.parametrize(
    ("who", "status", "starts"),
    [
        ("principal", 200, True),
        ("teacher", 200, True),
        ("guard", 200, True),
        ("police", 200, False),
        ("county", 200, False),
        ("principal2", 404, False),
        ("farpolice", 404, False),
        ("nobody", 403, False),
    ],
)
def test_school_trips_page(client, world, line, trip, who, status, starts):
    r = page(client, world.users[who], reverse("transport:trips", args=[world.school.pk]))
    assert r.status_code == status
    if status == 200:
        html = r.content.decode()
        assert html.count('data-testid="trip-row"') == 1
        assert (f'data-testid="start-{line.route.pk}-from_school"' in html) is starts
        assert f'data-testid="start-{line.route.pk}-to_school"' not in html


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "bogus", "2026-02-30"])
def test_school_trips_bad_day_shows_today(client, world, day):
    r = page(
        client,
        world.users["principal"],
        reverse("transport:trips", args=[world.school.pk]) + f"?date={day}",
    )
    assert r.status_code == 200


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("principal", 200),
        ("police", 200),
        ("county", 200),
        ("principal2", 404),
        ("farpolice", 404),
        ("nobody", 403),
    ],
)
def test_trip_and_board_pages(client, world, line, trip, who, status):
    user = world.users[who]
    for name in ("transport:trip", "transport:trip_board"):
        r = page(client, user, reverse(name, args=[trip.pk]))
        assert r.status_code == status, name
    if status == 200:
        html = page(client, user, reverse("transport:trip_board", args=[trip.pk])).content.decode()
        assert html.count('data-testid="rider-') == len(line.children)
        assert (f'data-testid="board-{line.children[0].pk}"' in html) is (who == "principal")


def test_pages_need_a_login(client, world, trip):
    for url in (
        reverse("transport:trips", args=[world.school.pk]),
        reverse("transport:trip", args=[trip.pk]),
        reverse("transport:trip_board", args=[trip.pk]),
        reverse("transport:trip_flags"),
        reverse("transport:trip_start", args=[world.school.pk]),
    ):
        r = page(client, None, url)
        assert r.status_code == 302 and "login" in r.url


# ------------------------------------------------------------------ starting


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("teacher", 200),
        ("police", 403),
        ("county", 403),
        ("principal2", 404),
        ("nobody", 403),
    ],
)
def test_start_page_matrix(client, world, line, who, status):
    url = reverse("transport:trip_start", args=[world.school.pk])
    assert page(client, world.users[who], url).status_code == status
    r = page(
        client, world.users[who], url, "post", {"route": line.route.pk, "direction": "to_school"}
    )
    assert r.status_code in ({status} if status != 200 else {400})
    assert not Trip.objects.exists()


def start_data(line, **extra):
    return {
        "route": line.route.pk,
        "direction": "to_school",
        "bus": line.bus.pk,
        "driver": line.driver.pk,
        "safety_officer": line.officer.pk,
        **extra,
    }


def test_start_page_preselects_the_usual_ones(client, world, line):
    url = reverse("transport:trip_start", args=[world.school.pk])
    r = page(client, world.users["teacher"], url + f"?route={line.route.pk}&direction=from_school")
    html = r.content.decode()
    assert 'data-testid="start-form"' in html
    assert f'<option value="{line.bus.pk}" selected>' in html
    assert f'<option value="{line.officer.pk}" selected>' in html
    assert re.search(r'value="from_school"[^>]*checked', html)
    choose = page(client, world.users["teacher"], url).content.decode()
    assert f'data-testid="choose-route-{line.route.pk}"' in choose


def test_start_and_tick_on_a_phone(client, world, line):
    url = reverse("transport:trip_start", args=[world.school.pk])
    r = page(client, world.users["teacher"], url, "post", start_data(line))
    trip = Trip.objects.get()
    assert r.status_code == 302 and r.url == reverse("transport:trip_board", args=[trip.pk])
    first, second = line.children[:2]
    board = reverse("transport:trip_board_child", args=[trip.pk, first.pk])
    r = client.post(board, {"q": ""})
    assert r.status_code == 302 and r.url.endswith(f"#c{first.pk}")
    r = client.post(board)
    assert r.status_code == 400 and 'data-testid="refusal"' in r.content.decode()
    r = client.post(
        reverse("transport:trip_scan", args=[trip.pk]), {"code": second.name, "q": "乘车"}
    )
    assert r.status_code == 302 and "q=" in r.url
    html = client.get(r.url).content.decode()
    assert f'data-testid="alight-{second.pk}"' in html
    r = client.post(reverse("transport:trip_scan", args=[trip.pk]), {"code": "查无此人"})
    assert r.status_code == 400 and 'data-testid="error-code"' in r.content.decode()
    r = client.post(reverse("transport:trip_alight_child", args=[trip.pk, second.pk]))
    assert r.status_code == 302
    r = client.post(reverse("transport:trip_end", args=[trip.pk]))
    assert r.status_code == 302
    trip.refresh_from_db()
    assert trip.status == TripStatus.FINISHED
    assert TripFlag.objects.get().child == first
    html = client.get(reverse("transport:trip", args=[trip.pk])).content.decode()
    assert (
        'data-testid="open-flag"' in html
        and f'data-testid="resolve-{TripFlag.objects.get().pk}"' in html
    )
    assert 'data-testid="timeline-ended"' in html
    assert client.post(reverse("transport:trip_end", args=[trip.pk])).status_code == 409


def test_start_refused_shows_the_trip(client, world, line):
    url = reverse("transport:trip_start", args=[world.school.pk])
    r = page(client, world.users["teacher"], url, "post", start_data(line, safety_officer=""))
    trip = Trip.objects.get()
    assert trip.status == TripStatus.REFUSED
    assert r.status_code == 302 and r.url == reverse("transport:trip", args=[trip.pk])
    html = client.get(r.url).content.decode()
    assert 'data-testid="refuse-reason"' in html and 'data-testid="open-flag"' in html


def test_start_expired_driver_shows_the_error(client, world, line):
    line.driver.qualification_expires_on = line.driver.qualification_expires_on.replace(year=2020)
    line.driver.save()
    url = reverse("transport:trip_start", args=[world.school.pk])
    r = page(client, world.users["teacher"], url, "post", start_data(line))
    assert r.status_code == 400
    html = r.content.decode()
    assert 'data-testid="error-driver"' in html and "2020-01-01" in html
    assert not Trip.objects.exists()


def test_start_twice_is_409(client, world, line, trip):
    url = reverse("transport:trip_start", args=[world.school.pk])
    r = page(client, world.users["teacher"], url, "post", start_data(line))
    assert r.status_code == 409 and 'data-testid="refusal"' in r.content.decode()


@pytest.mark.parametrize(
    "extra",
    [
        {"riders": "-1"},
        {"riders": "999"},
        {"bus": "99999999999999999999"},
        {"direction": "x"},
        {"children": ["abc"]},
    ],
)
def test_start_bad_form_is_400(client, world, line, extra):
    url = reverse("transport:trip_start", args=[world.school.pk])
    r = page(client, world.users["teacher"], url, "post", start_data(line, **extra))
    assert r.status_code == 400
    assert not Trip.objects.exists()


def test_off_route_child_is_confirmed_on_the_page(client, world, trip):
    stranger = ChildFactory(school_class=world.school_class, name="临时乘车")
    client.force_login(world.users["teacher"])
    url = reverse("transport:trip_board_child", args=[trip.pk, stranger.pk])
    r = client.post(url)
    assert r.status_code == 400 and 'data-testid="confirm-off-route"' in r.content.decode()
    assert client.post(url, {"confirm": "1"}).status_code == 302
    assert Boarding.objects.get().stop is None


def test_full_bus_is_409_on_the_page(client, world):
    line = make_line(world, riders=2, seats=1)
    trip = services.trip_start(
        actor=world.users["teacher"], route_id=line.route.pk, direction="to_school"
    )
    client.force_login(world.users["teacher"])
    client.post(reverse("transport:trip_board_child", args=[trip.pk, line.children[0].pk]))
    r = client.post(reverse("transport:trip_board_child", args=[trip.pk, line.children[1].pk]))
    assert r.status_code == 409 and 'data-testid="refusal"' in r.content.decode()


@pytest.mark.parametrize(
    ("who", "status"), [("police", 403), ("county", 403), ("principal2", 404), ("nobody", 403)]
)
def test_tick_posts_refused(client, world, line, trip, who, status):
    client.force_login(world.users[who])
    child = line.children[0]
    for url in (
        reverse("transport:trip_board_child", args=[trip.pk, child.pk]),
        reverse("transport:trip_alight_child", args=[trip.pk, child.pk]),
        reverse("transport:trip_scan", args=[trip.pk]),
        reverse("transport:trip_alight_all", args=[trip.pk]),
        reverse("transport:trip_end", args=[trip.pk]),
    ):
        assert client.post(url, {"code": child.name}).status_code == status, url
    assert not Boarding.objects.exists()
    trip.refresh_from_db()
    assert trip.status == TripStatus.UNDERWAY


def test_huge_ids_in_urls_are_404(client, world):
    client.force_login(world.users["principal"])
    huge = 10**30
    assert client.get(f"/transport/trips/{huge}/").status_code == 404
    assert client.get(f"/transport/schools/{huge}/trips/").status_code == 404
    assert client.post(f"/transport/trips/{huge}/end/").status_code == 404
    assert client.post(f"/transport/trip-flags/{huge}/resolve/").status_code == 404


# ------------------------------------------------------------------ contacts and flags


def test_bus_contacts_section(client, world, line, trip):
    for child in line.children[:3]:
        services.boarding_board(actor=world.users["teacher"], trip_id=trip.pk, child_id=child.pk)
    client.force_login(world.users["police"])
    url = reverse("transport:trip", args=[trip.pk])
    html = client.get(url).content.decode()
    assert 'data-testid="contacts-form"' in html and 'data-testid="contact"' not in html
    day = trip.date.isoformat()
    r = client.get(url, {"contact_child": line.children[0].pk, "start": day, "end": day})
    assert r.content.decode().count('data-testid="contact"') == 2
    r = client.get(url, {"contact_child": line.children[0].pk, "start": day, "end": "1999-01-01"})
    assert r.status_code == 200 and 'data-testid="error-end"' in r.content.decode()
    r = client.get(url, {"contact_child": "x", "start": day, "end": day})
    assert r.status_code == 200 and 'data-testid="error-contact_child"' in r.content.decode()


@pytest.fixture
def flag(world, line):
    services.trip_start(
        actor=world.users["teacher"],
        route_id=line.route.pk,
        direction="to_school",
        safety_officer_id=None,
    )
    return TripFlag.objects.get()


@pytest.mark.parametrize(
    ("who", "count", "resolve"),
    [
        ("principal", 1, True),
        ("teacher", 1, True),
        ("guard", 1, False),
        ("police", 1, False),
        ("postofficer", 1, False),
        ("county", 1, False),
        ("principal2", 0, False),
        ("farpolice", 0, False),
    ],
)
def test_flags_page(client, world, flag, who, count, resolve):
    r = page(client, world.users[who], reverse("transport:trip_flags"))
    assert r.status_code == 200
    html = r.content.decode()
    assert html.count('data-testid="open-flag"') == count
    assert (f'data-testid="resolve-{flag.pk}"' in html) is resolve


def test_flags_page_scope(client, world, flag):
    url = reverse("transport:trip_flags")
    assert page(client, world.users["nobody"], url).status_code == 403
    assert (
        page(client, world.users["principal2"], url + f"?school={world.school.pk}").status_code
        == 404
    )
    r = page(client, world.users["police"], url + f"?school={world.other_school.pk}")
    assert r.status_code == 200 and 'data-testid="open-flag"' not in r.content.decode()


def test_resolve_on_the_flags_page(client, world, flag):
    url = reverse("transport:trip_flag_resolve", args=[flag.pk])
    key = f"resolve-{flag.pk}-resolution"
    r = page(client, world.users["guard"], url, "post", {key: "x"})
    assert r.status_code == 403
    r = page(client, world.users["principal2"], url, "post", {key: "x"})
    assert r.status_code == 404
    client.force_login(world.users["principal"])
    r = client.post(url, {key: "", "back": "flags"})
    assert r.status_code == 400 and 'data-testid="error-resolution"' in r.content.decode()
    r = client.post(url, {key: "", "back": "trip"})
    assert r.status_code == 400 and 'data-testid="trip-title"' in r.content.decode()
    r = client.post(url, {key: "已补派照管员", "back": "trip"})
    assert r.status_code == 302 and r.url == reverse("transport:trip", args=[flag.trip_id])
    assert client.post(url, {key: "x"}).status_code == 409
    html = client.get(reverse("transport:trip_flags")).content.decode()
    assert 'data-testid="resolved-flag"' in html and "已补派照管员" in html
