# ruff: noqa: F811 - pytest fixtures imported from fleet_fixtures are arguments here
"""Pages of the fleet by role × scope: the overview, buses, drivers, routes, stops and
riders; bad input is 400 with nothing written; a refused step is 409; the phone layout."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from huxiao.transport.models import Bus, Driver, DriverViolation, Route, RouteRider, RouteStop
from huxiao.transport.tests.fleet_fixtures import fleet, make_route  # noqa: F401

pytestmark = pytest.mark.django_db

READ = [
    ("principal", 200),
    ("security", 200),
    ("guard", 200),
    ("teacher", 200),
    ("principal2", 404),
    ("police", 200),
    ("officer", 200),
    ("postofficer", 200),
    ("farpolice", 404),
    ("edu", 200),
    ("gov", 200),
    ("county", 200),
    ("nobody", 403),
]
WRITE = [
    ("principal", 200),
    ("security", 200),
    ("guard", 403),
    ("teacher", 403),
    ("principal2", 404),
    ("police", 403),
    ("farpolice", 404),
    ("edu", 403),
    ("county", 403),
    ("nobody", 403),
]


def _get(client, user, url):
    client.force_login(user)
    return client.get(url)


def _school(w) -> str:
    return f"{reverse('transport:overview')}?school={w.school.pk}"


def _reads(w) -> list[str]:
    return [
        _school(w),
        reverse("transport:bus_detail", args=[w.bus.pk]),
        reverse("transport:driver_detail", args=[w.driver.pk]),
        reverse("transport:route_detail", args=[w.route.pk]),
    ]


def _forms(w) -> list[str]:
    return [
        reverse("transport:bus_new", args=[w.school.pk]),
        reverse("transport:bus_edit", args=[w.bus.pk]),
        reverse("transport:driver_new", args=[w.school.pk]),
        reverse("transport:driver_edit", args=[w.driver.pk]),
        reverse("transport:route_new", args=[w.school.pk]),
        reverse("transport:route_edit", args=[w.route.pk]),
        reverse("transport:route_stops", args=[w.route.pk]),
        reverse("transport:route_riders_add", args=[w.route.pk]),
        reverse("transport:rider_move", args=[w.riders[0].pk]),
    ]


def test_anonymous_goes_to_login(client, fleet):
    for url in [reverse("transport:overview"), *_reads(fleet), *_forms(fleet)]:
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"], url


@pytest.mark.parametrize(("name", "status"), READ)
def test_read_pages_scope(client, fleet, name, status):
    for url in _reads(fleet):
        response = _get(client, fleet.users[name], url)
        assert response.status_code == status, url
        if status == 200:
            content = response.content.decode()
            assert "冀AX3712" in content or "王师傅" in content


@pytest.mark.parametrize(("name", "status"), READ)
def test_school_page_content(client, fleet, name, status):
    response = _get(client, fleet.users[name], _school(fleet))
    if status != 200:
        return
    content = response.content.decode()
    for testid in ("route-list", "bus-list", "driver-list", "officer-list"):
        assert f'data-testid="{testid}"' in content
    assert "1号线" in content and "李老师" in content
    can_add = 'data-testid="bus-add"' in content
    assert can_add == (name in ("principal", "security"))


@pytest.mark.parametrize(("name", "status"), WRITE)
def test_form_pages_scope(client, fleet, name, status):
    for url in _forms(fleet):
        assert _get(client, fleet.users[name], url).status_code == status, url


def test_overview_for_offices_lists_schools(client, fleet):
    for name in ("police", "county", "edu"):
        response = _get(client, fleet.users[name], reverse("transport:overview"))
        content = response.content.decode()
        assert response.status_code == 200
        assert f'data-testid="fleet-school-{fleet.school.pk}"' in content
        assert f'data-testid="fleet-school-{fleet.other_school.pk}"' in content


def test_overview_for_a_school_member_is_their_school(client, fleet):
    response = _get(client, fleet.users["teacher"], reverse("transport:overview"))
    assert response.status_code == 200
    assert 'data-testid="fleet-school-title"' in response.content.decode()


@pytest.mark.parametrize("raw", ["abc", "0", "-1", str(2**63), str(10**30), ""])
def test_overview_bad_school_is_404(client, fleet, raw):
    response = _get(client, fleet.users["county"], f"{reverse('transport:overview')}?school={raw}")
    assert response.status_code == 404


def test_overview_nobody_is_403(client, fleet):
    assert _get(client, fleet.users["nobody"], reverse("transport:overview")).status_code == 403


def test_huge_ids_are_404(client, fleet):
    client.force_login(fleet.users["principal"])
    for name in ("bus_detail", "driver_detail", "route_detail", "route_stops", "rider_move"):
        assert client.get(reverse(f"transport:{name}", args=[2**63])).status_code == 404
    assert client.get(reverse("transport:bus_new", args=[10**20])).status_code == 404


# ------------------------------------------------------------------ buses and drivers

BUS = {
    "plate": "冀A·X5820",
    "seats": "35",
    "operator": "示范县公交公司",
    "permit_expires_on": "2027-01-31",
    "insurance_expires_on": "2026-12-31",
    "inspection_expires_on": "2026-09-30",
    "markings_compliant": "on",
}


def test_add_a_bus(client, fleet):
    client.force_login(fleet.users["security"])
    response = client.post(reverse("transport:bus_new", args=[fleet.school.pk]), BUS)
    assert response.status_code == 302
    bus = Bus.objects.get(plate="冀AX5820")
    assert response["Location"] == reverse("transport:bus_detail", args=[bus.pk])
    assert bus.markings_compliant and bus.seats == 35


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"plate": "冀AX3712"}, "plate"),
        ({"plate": "临A12345"}, "plate"),
        ({"seats": "0"}, "seats"),
        ({"seats": "99999999999999999999"}, "seats"),
        ({"seats": "abc"}, "seats"),
        ({"insurance_expires_on": "9999-12-31"}, "insurance_expires_on"),
        ({"insurance_expires_on": "1900-01-01"}, "insurance_expires_on"),
    ],
)
def test_add_bus_bad_input_is_400(client, fleet, change, field):
    client.force_login(fleet.users["principal"])
    response = client.post(reverse("transport:bus_new", args=[fleet.school.pk]), {**BUS, **change})
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert Bus.objects.count() == 2


def test_bus_retire_refused_while_on_a_route(client, fleet):
    client.force_login(fleet.users["principal"])
    response = client.post(
        reverse("transport:bus_retire", args=[fleet.bus.pk]), {"in_service": "0"}
    )
    assert response.status_code == 409
    assert 'data-testid="fleet-refusal"' in response.content.decode()
    assert Bus.objects.get(pk=fleet.bus.pk).is_active


def test_bus_retire_and_back(client, fleet):
    Route.objects.filter(pk=fleet.route.pk).update(bus=None)
    client.force_login(fleet.users["principal"])
    url = reverse("transport:bus_retire", args=[fleet.bus.pk])
    assert client.post(url, {"in_service": "0"}).status_code == 302
    assert not Bus.objects.get(pk=fleet.bus.pk).is_active
    assert client.post(url, {"in_service": "1"}).status_code == 302
    assert Bus.objects.get(pk=fleet.bus.pk).is_active


@pytest.mark.parametrize(("name", "status"), WRITE)
def test_post_actions_scope(client, fleet, name, status):
    client.force_login(fleet.users[name])
    violation = DriverViolation.objects.create(
        driver=fleet.driver, occurred_on=dt.date(2026, 1, 5), description="超速", points=3
    )
    spare = make_route(fleet.school, "空线")
    posts = [
        (reverse("transport:violation_delete", args=[violation.pk]), {}),
        (reverse("transport:rider_remove", args=[fleet.riders[0].pk]), {}),
        (reverse("transport:route_delete", args=[spare.pk]), {}),
    ]
    expected = 302 if status == 200 else status
    for url, data in posts:
        assert client.post(url, data).status_code == expected, url
    assert DriverViolation.objects.exists() == (status != 200)
    assert RouteRider.objects.filter(pk=fleet.riders[0].pk).exists() == (status != 200)
    assert Route.objects.filter(pk=spare.pk).exists() == (status != 200)


def test_add_driver_and_violation(client, fleet):
    client.force_login(fleet.users["principal"])
    response = client.post(
        reverse("transport:driver_new", args=[fleet.school.pk]),
        {
            "name": "刘师傅",
            "licence_class": "A1",
            "licence_expires_on": "2030-01-01",
            "health_checked_on": "2026-01-10",
        },
    )
    assert response.status_code == 302
    driver = Driver.objects.get(name="刘师傅")
    assert driver.health_check_expires_on == dt.date(2027, 1, 10)
    url = reverse("transport:violation_add", args=[driver.pk])
    bad = client.post(url, {"occurred_on": "2026-01-05", "description": "超速", "points": "13"})
    assert bad.status_code == 400 and "points" in bad.context["violation_form"].errors
    good = client.post(url, {"occurred_on": "2026-01-05", "description": "超速", "points": "3"})
    assert good.status_code == 302
    page = client.get(reverse("transport:driver_detail", args=[driver.pk])).content.decode()
    assert 'data-testid="badge-points"' in page and "超速" in page


def test_expired_driver_shows_danger_badge(client, fleet):
    Driver.objects.filter(pk=fleet.driver.pk).update(licence_expires_on=dt.date(2020, 1, 1))
    client.force_login(fleet.users["police"])
    page = client.get(reverse("transport:driver_detail", args=[fleet.driver.pk])).content.decode()
    assert 'data-testid="badge-expired-licence_expires_on"' in page
    route = client.get(reverse("transport:route_detail", args=[fleet.route.pk])).content.decode()
    assert 'data-testid="badge-expired-licence_expires_on"' in route


# ------------------------------------------------------------------ routes, stops, riders


def test_route_form_refuses_an_expired_driver(client, fleet):
    expired = Driver.objects.create(
        school=fleet.school,
        name="过期师傅",
        licence_class="B1",
        licence_expires_on=dt.date(2020, 1, 1),
    )
    client.force_login(fleet.users["principal"])
    # The retired/expired driver is not offered; posting them anyway is a field error.
    response = client.post(
        reverse("transport:route_edit", args=[fleet.route.pk]),
        {
            "name": "1号线",
            "bus": fleet.bus.pk,
            "driver": expired.pk,
            "safety_officer": fleet.staff.pk,
        },
    )
    assert response.status_code == 400
    assert "2020-01-01" in str(response.context["form"].errors["driver"])
    assert Route.objects.get(pk=fleet.route.pk).driver == fleet.driver


def test_route_new_then_stops(client, fleet):
    client.force_login(fleet.users["principal"])
    response = client.post(
        reverse("transport:route_new", args=[fleet.school.pk]), {"name": "2号线（西线）"}
    )
    route = Route.objects.get(name="2号线（西线）")
    assert response["Location"] == reverse("transport:route_stops", args=[route.pk])
    data = {
        "stops-TOTAL_FORMS": "3",
        "stops-INITIAL_FORMS": "0",
        "stops-0-name": "西关",
        "stops-0-morning_time": "07:05",
        "stops-1-name": "南街",
        "stops-1-morning_time": "07:15",
        "stops-2-name": "",
    }
    response = client.post(reverse("transport:route_stops", args=[route.pk]), data)
    assert response.status_code == 302
    assert list(route.stops.order_by("order").values_list("name", flat=True)) == ["西关", "南街"]


def test_stops_out_of_order_is_400(client, fleet):
    client.force_login(fleet.users["principal"])
    stops = fleet.stops
    data = {"stops-TOTAL_FORMS": "3", "stops-INITIAL_FORMS": "3"}
    for i, stop in enumerate(stops):
        data |= {
            f"stops-{i}-id": stop.pk,
            f"stops-{i}-position": str(i + 1),
            f"stops-{i}-name": stop.name,
            f"stops-{i}-morning_time": ["07:30", "07:20", "07:35"][i],
        }
    response = client.post(reverse("transport:route_stops", args=[fleet.route.pk]), data)
    assert response.status_code == 400
    assert 'data-testid="stops-errors"' in response.content.decode()
    assert RouteStop.objects.get(pk=stops[0].pk).morning_time == dt.time(7, 10)


def test_removing_a_stop_with_riders_is_409(client, fleet):
    client.force_login(fleet.users["principal"])
    data = {"stops-TOTAL_FORMS": "3", "stops-INITIAL_FORMS": "3"}
    for i, stop in enumerate(fleet.stops):
        data |= {f"stops-{i}-id": stop.pk, f"stops-{i}-name": stop.name}
    data["stops-0-remove"] = "on"
    response = client.post(reverse("transport:route_stops", args=[fleet.route.pk]), data)
    assert response.status_code == 409
    assert RouteStop.objects.filter(pk=fleet.stops[0].pk).exists()


def test_add_riders_page(client, fleet):
    client.force_login(fleet.users["security"])
    url = reverse("transport:route_riders_add", args=[fleet.route.pk])
    page = client.get(f"{url}?school_class={fleet.school_class.pk}")
    assert page.status_code == 200
    assert f'data-testid="child-{fleet.spare_child.pk}"' in page.content.decode()
    response = client.post(url, {"stop": fleet.stops[1].pk, "children": [fleet.spare_child.pk]})
    assert response.status_code == 302
    assert RouteRider.objects.get(child=fleet.spare_child).stop == fleet.stops[1]


def test_add_riders_child_on_another_route_is_400(client, fleet):
    other = make_route(fleet.school, "2号线")
    client.force_login(fleet.users["principal"])
    response = client.post(
        reverse("transport:route_riders_add", args=[other.pk]),
        {"stop": other.stops.first().pk, "children": [fleet.child.pk, fleet.spare_child.pk]},
    )
    assert response.status_code == 400
    message = str(response.context["form"].errors["children"])
    assert "王小明" in message and "1号线" in message
    assert not RouteRider.objects.filter(route=other).exists()


def test_add_riders_foreign_child_or_stop_is_400(client, fleet):
    other = make_route(fleet.school, "2号线")
    client.force_login(fleet.users["principal"])
    url = reverse("transport:route_riders_add", args=[fleet.route.pk])
    for data in (
        {"stop": fleet.stops[0].pk, "children": [fleet.other_child.pk]},
        {"stop": other.stops.first().pk, "children": [fleet.spare_child.pk]},
        {"stop": fleet.stops[0].pk, "children": [str(10**30)]},
        {"stop": "x", "children": []},
    ):
        assert client.post(url, data).status_code == 400, data
    assert RouteRider.objects.count() == 3


def test_move_rider_to_another_route(client, fleet):
    other = make_route(fleet.school, "2号线")
    target = other.stops.order_by("order").last()
    client.force_login(fleet.users["principal"])
    response = client.post(
        reverse("transport:rider_move", args=[fleet.riders[0].pk]), {"stop": target.pk}
    )
    assert response.status_code == 302
    rider = RouteRider.objects.get(pk=fleet.riders[0].pk)
    assert (rider.route, rider.stop) == (other, target)


def test_retired_route_page_and_refusals(client, fleet):
    client.force_login(fleet.users["principal"])
    url = reverse("transport:route_retire", args=[fleet.route.pk])
    assert client.post(url, {"in_service": "0"}).status_code == 302
    page = client.get(reverse("transport:route_detail", args=[fleet.route.pk])).content.decode()
    assert 'data-testid="former-riders"' in page and 'data-testid="route-reinstate"' in page
    assert (
        client.get(reverse("transport:route_riders_add", args=[fleet.route.pk])).status_code == 409
    )


def test_overload_is_shown_on_the_route(client, fleet):
    Bus.objects.filter(pk=fleet.bus.pk).update(seats=2)
    client.force_login(fleet.users["teacher"])
    page = client.get(reverse("transport:route_detail", args=[fleet.route.pk])).content.decode()
    assert 'data-testid="badge-overload"' in page


def test_school_page_queries_do_not_grow(client, fleet, django_assert_max_num_queries):
    for n in range(6):
        route = make_route(fleet.school, f"加线{n}", bus=fleet.bus, driver=fleet.driver)
        route.safety_officer = fleet.staff
        route.save()
    client.force_login(fleet.users["principal"])
    with django_assert_max_num_queries(25):
        assert client.get(_school(fleet)).status_code == 200


def test_add_riders_offers_one_class_at_first(client, fleet):
    from huxiao.people.tests.factories import ChildFactory, SchoolClassFactory

    second = SchoolClassFactory(school=fleet.school, name="中二班", grade="中班")
    elsewhere = ChildFactory(school_class=second, name="周小文")
    client.force_login(fleet.users["principal"])
    url = reverse("transport:route_riders_add", args=[fleet.route.pk])
    first_class = client.get(url)
    offered = {c[0] for c in first_class.context["form"].fields["children"].choices}
    # 中班 sorts before 小班: the first class is 中二班 alone.
    assert offered == {elsewhere.pk}
    everyone = client.get(f"{url}?school_class=")
    offered = {c[0] for c in everyone.context["form"].fields["children"].choices}
    assert {elsewhere.pk, fleet.spare_child.pk, fleet.child.pk} <= offered
    # A child already riding is offered with the route's name.
    assert "1号线" in dict(everyone.context["form"].fields["children"].choices)[fleet.child.pk]


def test_editing_a_retired_route_is_409(client, fleet):
    Route.objects.filter(pk=fleet.route.pk).update(is_active=False)
    client.force_login(fleet.users["principal"])
    response = client.post(reverse("transport:route_edit", args=[fleet.route.pk]), {"name": "新名"})
    assert response.status_code == 409
    assert 'data-testid="fleet-refusal"' in response.content.decode()
    assert Route.objects.get(pk=fleet.route.pk).name == "1号线"


def test_overview_for_a_police_station_with_one_school_is_a_list(client, fleet):
    response = _get(client, fleet.users["farpolice"], reverse("transport:overview"))
    content = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="fleet-empty"' in content and 'data-testid="without-fleet"' in content
