"""Export of the incident list (issue 10 item 5): the page's rows, scope, round trip."""

from __future__ import annotations

import pytest
from django.urls import reverse

from huxiao.incidents.tests.factories import IncidentFactory
from huxiao.reports.tests.export_checks import assert_export_is_the_page, cells, workbook_values


@pytest.fixture
def incidents(world, incident):
    far = IncidentFactory(school=world.far_school, title="外镇事件")
    return incident, far


@pytest.mark.parametrize(
    "name, query",
    [("police", ""), ("county", ""), ("principal", "status=open"), ("principal2", "")],
)
def test_export_rows_are_the_pages_rows(world, incidents, client, name, query):
    shown = assert_export_is_the_page(
        client,
        world.users[name],
        "incidents.incidents",
        reverse("incidents:list") + "?" + query,
        lambda c: [i.pk for i in c["incidents"]],
    )
    own, far = incidents
    assert far.pk not in shown or name == "county"
    assert (own.pk in shown) == (name != "principal2")


def test_export_round_trip(world, incidents, client, django_capture_on_commit_callbacks):
    values = workbook_values(
        client, world.users["police"], "incidents.incidents", "", django_capture_on_commit_callbacks
    )
    found = cells(values)
    assert incidents[0].title in found and "外镇事件" not in found
