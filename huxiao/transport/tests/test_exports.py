"""Exports of the transport lists (issue 10 item 5): the schools' fleets, one school's
buses, drivers and routes, bus checks and open findings, a school's trips and the trip
flags. Each holds the page's rows for the same filters; another school's is 404 (or left
out, where the page ignores a school out of scope)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from huxiao.orgs.tests.export_helpers import (
    button_on,
    export_ids,
    page,
    request_export,
    round_trip,
)
from huxiao.transport import inspection_services, trip_services
from huxiao.transport.tests.fleet_fixtures import fleet  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def moving(fleet):  # noqa: F811
    w = fleet
    # Started without its safety officer: the trip carries an open flag.
    w.trip = trip_services.trip_start(
        actor=w.users["teacher"],
        route_id=w.route.pk,
        direction="to_school",
        safety_officer_id=None,
    )
    # 23 riders counted on a bus of 19 seats: a check with an open finding.
    w.check = inspection_services.inspection_record(
        actor=w.users["officer"], plate="冀AX3712", riders_counted=23
    )
    return w


def _lists(w):
    """(export, user, page url, export query, the page's row ids from its context)."""
    s = w.school.pk
    fleet_page = f"{reverse('transport:overview')}?school={s}"

    def fleet_rows(key):
        return lambda c: [r.obj.pk for r in c[key]] + [o.pk for o in c[f"retired_{key}"]]

    return [
        (
            "transport.fleet",
            "police",
            reverse("transport:overview"),
            "",
            lambda c: [r.school.pk for r in c["rows"]],
        ),
        ("transport.buses", "principal", fleet_page, f"school={s}", fleet_rows("buses")),
        ("transport.drivers", "principal", fleet_page, f"school={s}", fleet_rows("drivers")),
        ("transport.routes", "principal", fleet_page, f"school={s}", fleet_rows("routes")),
        (
            "transport.inspections",
            "police",
            f"{reverse('transport:inspection_list')}?school={s}&kind={w.check.kind}",
            f"school={s}&kind={w.check.kind}",
            lambda c: [x.pk for x in c["checks"].object_list],
        ),
        (
            "transport.findings",
            "police",
            reverse("transport:inspection_list"),
            "",
            lambda c: [f.pk for f in c["findings"]],
        ),
        (
            "transport.trips",
            "teacher",
            reverse("transport:trips", args=[s]),
            f"school={s}",
            lambda c: [t.pk for t in c["trips"]],
        ),
        (
            "transport.trip_flags",
            "principal",
            f"{reverse('transport:trip_flags')}?school={s}",
            f"school={s}",
            lambda c: [f.pk for f in c["open_flags"]] + [f.pk for f in c["resolved"].object_list],
        ),
    ]


@pytest.mark.parametrize("index", range(8))
def test_export_rows_are_the_pages_rows(client, moving, index):
    w = moving
    name, who, url, query, page_ids = _lists(w)[index]
    user = w.users[who]
    response = page(client, user, url)
    assert button_on(response, name)
    listed = page_ids(response.context)
    assert listed and export_ids(user, name, query) == listed


@pytest.mark.parametrize(
    "name", ["transport.buses", "transport.drivers", "transport.routes", "transport.trips"]
)
def test_another_schools_fleet_or_trips_is_404(client, moving, name):
    w = moving
    other = w.users["principal2"]
    assert request_export(client, other, name, f"school={w.school.pk}").status_code == 404
    assert request_export(client, other, name, "school=abc").status_code == 404
    client.force_login(other)
    assert client.get(reverse("transport:trips", args=[w.school.pk])).status_code == 404


def test_another_school_never_gets_these_rows(client, moving):
    w = moving
    other = w.users["principal2"]
    # The check list ignores a school out of scope (as the page does): the other school's
    # own checks, never this one.
    assert w.check.pk not in export_ids(other, "transport.inspections", f"school={w.school.pk}")
    assert (
        request_export(client, other, "transport.trip_flags", f"school={w.school.pk}").status_code
        == 404
    )
    assert export_ids(other, "transport.trip_flags") == []
    assert w.school.pk not in export_ids(w.users["farpolice"], "transport.fleet")


def test_trip_flags_round_trip(client, moving, django_capture_on_commit_callbacks):
    w = moving
    values = round_trip(
        client, w.users["principal"], "transport.trip_flags", "", django_capture_on_commit_callbacks
    )
    assert "1号线" in values and "本园" in values
