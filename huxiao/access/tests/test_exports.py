"""Exports of the gate's list pages (issue 10 item 5): prohibited items, passes, vehicles
and the blocklist hold the page's rows for the same filters; scope, masking, round trip."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from huxiao.access import contraband_services, vehicle_services, visitor_services
from huxiao.access.choices import PassKind
from huxiao.access.tests.conftest import BLOCKED_ID
from huxiao.access.tests.pass_fixtures import issue
from huxiao.core.idcard import make_id_number
from huxiao.reports.models import Report
from huxiao.reports.tests.export_checks import (
    assert_export_is_the_page,
    cells,
    has_button,
    post_status,
    workbook_values,
)


@pytest.fixture
def records(gate):
    w = gate
    for school, who in ((w.school, "guard"), (w.other_school, "principal2")):
        contraband_services.interception_record(
            actor=w.users[who],
            school=school,
            category="knife",
            item="弹簧刀",
            carrier_kind="visitor",
            carrier_name="张某",
            handling="held",
        )
    contraband_services.interception_record(
        actor=w.users["guard"],
        school=w.school,
        category="other",
        item="打火机",
        carrier_kind="student",
        handling="returned",
    )
    issue(w, PassKind.STAFF)
    issue(w, PassKind.ONE_TIME)
    issue(w, PassKind.STAFF, school=w.other_school)
    left = vehicle_services.vehicle_enter(
        actor=w.users["guard"], school=w.school, plate="京B12345", purpose="staff"
    )
    vehicle_services.vehicle_exit(actor=w.users["guard"], movement=left)
    vehicle_services.vehicle_enter(
        actor=w.users["guard"], school=w.school, plate="京C12345", purpose="supplier"
    )
    visitor_services.blocked_visitor_add(
        actor=w.users["principal2"],
        school=w.other_school,
        name="外校禁入者",
        id_number=make_id_number("110103", dt.date(1988, 2, 3), 789),
        reason="法院禁止令",
    )
    return w


def _page(w, export):
    return {
        "access.contraband": (
            reverse("access:contraband_list"),
            lambda c: [r.pk for r in c["interceptions"]],
        ),
        "access.passes": (reverse("access:pass_list"), lambda c: [p.pk for p in c["passes"]]),
        "access.vehicles": (
            reverse("access:vehicle_list"),
            lambda c: [m.pk for m in [*c["inside"], *c["left"]]],
        ),
        "access.blocklist": (
            reverse("access:blocklist", args=[w.school.pk]),
            lambda c: [e.pk for e in c["entries"]],
        ),
    }[export]


@pytest.mark.parametrize(
    "export, name, query, n",
    [
        ("access.contraband", "guard", "", 2),
        ("access.contraband", "police", "school={school}&category=knife", 1),
        ("access.passes", "principal", "", 2),
        ("access.passes", "security", "kind=staff&state=valid", 1),
        ("access.vehicles", "guard", "", 2),
        ("access.blocklist", "principal", "school={school}", 1),
    ],
)
def test_export_rows_are_the_pages_rows(records, client, export, name, query, n):
    w = records
    url, shown_of = _page(w, export)
    query = query.format(school=w.school.pk)
    shown = assert_export_is_the_page(client, w.users[name], export, f"{url}?{query}", shown_of)
    assert len(shown) == n


@pytest.mark.parametrize(
    "export, name, query, status",
    [
        ("access.contraband", "principal2", "school={school}", 404),
        ("access.contraband", "edu", "", 403),
        ("access.passes", "guard", "", 403),
        ("access.vehicles", "principal2", "school={school}", 404),
        ("access.blocklist", "principal2", "school={school}", 404),
        ("access.blocklist", "guard", "school={school}", 403),
        ("access.blocklist", "principal", "school=x", 404),
        ("access.blocklist", "principal", f"school={2**70}", 404),
    ],
)
def test_export_refused_as_the_page(records, client, export, name, query, status):
    query = query.format(school=records.school.pk)
    assert post_status(client, records.users[name], export, query) == status
    assert not Report.objects.exists()


def test_several_schools_and_none_chosen_is_a_message(records, client):
    client.force_login(records.users["police"])
    page = client.get(reverse("access:contraband_list"))
    assert not has_button(page, "access.contraband")  # the page asks for a school
    assert post_status(client, records.users["police"], "access.contraband") == 302
    assert not Report.objects.exists()


def test_blocklist_round_trip_masks_id_numbers(records, client, django_capture_on_commit_callbacks):
    values = workbook_values(
        client,
        records.users["principal"],
        "access.blocklist",
        f"school={records.school.pk}",
        django_capture_on_commit_callbacks,
    )
    text = " ".join(str(c) for c in cells(values))
    assert "禁入者" in text and "外校禁入者" not in text
    masked = records.blocked.id_number_masked
    assert BLOCKED_ID not in text and masked in text and "*" in masked  # as on the page


def test_pass_export_says_a_departed_holders_pass_stopped(
    records, client, django_capture_on_commit_callbacks
):
    w = records
    type(w.staff).objects.filter(pk=w.staff.pk).update(is_active=False)
    values = workbook_values(
        client,
        w.users["principal"],
        "access.passes",
        f"school={w.school.pk}&state=holder_left",
        django_capture_on_commit_callbacks,
    )
    text = " ".join(str(c) for c in cells(values))
    assert "持证人已不在本校任职" in text  # the heading's filter and the row's state
    assert w.staff.name in text and "维修工" not in text
