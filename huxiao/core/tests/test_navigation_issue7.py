"""Every navigation entry answers for its user (no 403 behind a menu item), and the issue-7
entries are there for those who use them."""

from __future__ import annotations

import pytest

from huxiao.core.navigation import navigation_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "name", ["principal", "guard", "teacher", "police", "officer", "edu", "gov", "county"]
)
def test_every_menu_item_answers(world, client, name):
    user = world.users[name]
    client.force_login(user)
    for item in navigation_for(user, None):
        response = client.get(item["url"])
        assert response.status_code in (200, 302), (name, item["url"], response.status_code)


def test_issue7_entries(world):
    keys = {item["key"] for item in navigation_for(world.users["guard"], None)}
    assert {"duty", "rounds", "security_compliance"} <= keys
    keys = {item["key"] for item in navigation_for(world.users["county"], None)}
    assert {"security_compliance", "rules"} <= keys
    keys = {item["key"] for item in navigation_for(world.users["edu"], None)}
    assert "rules" not in keys  # a town office does not keep the county's rules
    keys = {item["key"] for item in navigation_for(world.users["police"], None)}
    assert "supervision_assessment" not in keys
