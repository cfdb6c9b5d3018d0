"""The schools list exported to Excel (issue 10 item 5): the page's schools, in scope."""

from __future__ import annotations

import pytest
from django.urls import reverse

from huxiao.orgs.tests.export_helpers import button_on, export_ids, page, round_trip

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("who", ["county", "police", "principal", "principal2"])
def test_schools_export_holds_the_pages_schools(client, world, who):
    user = world.users[who]
    response = page(client, user, reverse("orgs:school_list"))
    assert button_on(response, "orgs.schools")
    listed = [s.pk for s in response.context["schools"]]
    assert export_ids(user, "orgs.schools") == listed
    if who.startswith("principal"):
        assert len(listed) == 1  # a school never sees another school


def test_schools_export_round_trip(client, world, django_capture_on_commit_callbacks):
    values = round_trip(
        client, world.users["edu"], "orgs.schools", "", django_capture_on_commit_callbacks
    )
    assert {"本园", "同镇学校"} <= set(values) and "外镇学校" not in values
