"""Exports of the classes, staff and children lists (issue 10 item 5): the page's rows for
the same filters, another school 404, resident ID numbers masked as on the page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from huxiao.orgs.tests.export_helpers import (
    button_on,
    export_ids,
    export_table,
    page,
    request_export,
    round_trip,
)
from huxiao.people.choices import StaffRole
from huxiao.people.tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

STAFF_NUMBER = "110101199003071234"
CHILD_NUMBER = "110101201901015678"


@pytest.fixture
def roster(world):
    w = world
    w.staff.set_id_number(STAFF_NUMBER)
    w.staff.save()
    w.guard_staff = StaffFactory(school=w.school, name="门卫老张", role=StaffRole.GUARD)
    w.child.set_id_number(CHILD_NUMBER)
    w.child.save()
    return w


def _lists(w):
    """(export, page url with its filters, export query, context key of the page's rows)."""
    school, cls = w.school.pk, w.school_class.pk
    return [
        (
            "people.classes",
            f"{reverse('people:class_list')}?school={school}",
            f"school={school}",
            "classes",
        ),
        (
            "people.staff",
            f"{reverse('people:staff_list')}?school={school}",
            f"school={school}",
            "staff_members",
        ),
        (
            "people.staff",
            f"{reverse('people:staff_list')}?school={school}&role=guard",
            f"school={school}&role=guard",
            "staff_members",
        ),
        ("people.children", reverse("people:class_detail", args=[cls]), f"class={cls}", "children"),
        (
            "people.children",
            f"{reverse('people:class_detail', args=[cls])}?q=小明",
            f"class={cls}&q=小明",
            "children",
        ),
    ]


@pytest.mark.parametrize("index", range(5))
def test_export_rows_are_the_pages_rows(client, roster, index):
    w = roster
    name, url, query, key = _lists(w)[index]
    user = w.users["principal"]
    response = page(client, user, url)
    assert button_on(response, name)
    listed = [obj.pk for obj in response.context[key]]
    assert listed and export_ids(user, name, query) == listed
    # another school of the town: as on the page, 404
    assert request_export(client, w.users["principal2"], name, query).status_code == 404


def test_filters_narrow_the_export(roster):
    w = roster
    user = w.users["principal"]
    school = w.school.pk
    assert export_ids(user, "people.staff", f"school={school}&role=guard") == [w.guard_staff.pk]
    assert export_ids(user, "people.children", f"class={w.school_class.pk}&q=无此人") == []


def test_the_default_school_is_the_users(roster):
    w = roster
    ids = export_ids(w.users["principal"], "people.staff", "")
    assert set(ids) == {w.staff.pk, w.guard_staff.pk}


@pytest.mark.parametrize(
    "query", ["", "class=abc", f"class={2**70}", "class=-1", "school=abc&class=x"]
)
def test_children_export_needs_a_visible_class(client, roster, query):
    assert (
        request_export(client, roster.users["principal"], "people.children", query).status_code
        == 404
    )


def test_id_numbers_stay_masked(roster):
    w = roster
    user = w.users["principal"]
    for name, query, masked in [
        ("people.staff", f"school={w.school.pk}", w.staff.id_number_masked),
        ("people.children", f"class={w.school_class.pk}", w.child.id_number_masked),
    ]:
        _columns, rows = export_table(user, name, query)
        cells = [str(c) for row in rows for c in row]
        assert masked in cells
        assert STAFF_NUMBER not in cells and CHILD_NUMBER not in cells


def test_staff_export_round_trip(client, roster, django_capture_on_commit_callbacks):
    w = roster
    values = round_trip(
        client,
        w.users["principal"],
        "people.staff",
        f"school={w.school.pk}",
        django_capture_on_commit_callbacks,
    )
    assert "李老师" in values and w.staff.id_number_masked in values
    assert STAFF_NUMBER not in "".join(str(v) for v in values)
