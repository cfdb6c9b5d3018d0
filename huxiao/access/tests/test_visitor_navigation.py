"""The gate's pages are one or two taps away: from the main navigation (by action) and from
the kiosk (header links and the thumb bar), each link shown only to whom may use it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from huxiao.core import roles
from huxiao.core.navigation import navigation_for
from huxiao.core.roles import Action, Role

pytestmark = pytest.mark.django_db

GATE_KEYS = {"gate", "pickup", "gate_passes"}


@pytest.mark.parametrize(
    ("who", "keys"),
    [
        ("guard", {"gate", "pickup"}),
        ("duty", {"gate", "pickup"}),
        ("principal", {"gate", "pickup", "gate_passes"}),
        ("security", {"gate", "pickup", "gate_passes"}),
        # Teachers hand their class over and keep its adults, but run no kiosk.
        ("teacher", {"pickup"}),
        ("police", set()),
        ("officer", set()),
        ("edu", set()),
        ("nobody", set()),
    ],
)
def test_main_navigation_by_action(gate, who, keys):
    items = {item["key"]: item["url"] for item in navigation_for(gate.users[who], None)}
    assert set(items) & GATE_KEYS == keys
    if "pickup" in keys:
        assert items["pickup"] == reverse("access:pickup_home")
    if "gate_passes" in keys:
        assert items["gate_passes"] == reverse("access:pass_list")


@pytest.mark.parametrize("who", ["teacher", "principal"])
def test_each_navigation_entry_opens(client, gate, who):
    client.force_login(gate.users[who])
    for item in navigation_for(gate.users[who], None):
        if item["key"] in GATE_KEYS:
            response = client.get(item["url"], follow=True)
            assert response.status_code == 200, item


KIOSK_ALL = {
    "link-vehicles": "access:vehicle_list",
    "link-pass-scan": "access:pass_scan",
    "link-contraband": "access:contraband_list",
    "link-vehicle-enter": "access:vehicle_enter",
}
KIOSK_RELEASE = {
    "link-pickup-scan": "access:pickup_scan",
    "link-pickup-classes": "access:pickup_home",
}
KIOSK_MANAGE = {"link-passes": "access:pass_list", "link-blocklist": "access:blocklist"}


def kiosk_html(client, gate, who) -> str:
    client.force_login(gate.users[who])
    response = client.get(reverse("access:kiosk", args=[gate.school.pk]))
    assert response.status_code == 200
    return response.content.decode()


def href_of(html: str, testid: str) -> str:
    import re

    found = re.search(rf'href="([^"]+)" data-testid="{testid}"', html)
    assert found, testid
    return found.group(1).replace("&amp;", "&")


@pytest.mark.parametrize(
    ("who", "manage"),
    [("guard", False), ("duty", False), ("principal", True), ("security", True)],
)
def test_kiosk_links_by_role_and_each_opens(client, gate, who, manage):
    html = kiosk_html(client, gate, who)
    expected = {**KIOSK_ALL, **KIOSK_RELEASE, **(KIOSK_MANAGE if manage else {})}
    for testid in expected:
        url = href_of(html, testid)
        response = client.get(url)
        assert response.status_code == 200, (testid, url)
    if not manage:
        for testid in KIOSK_MANAGE:
            assert f'data-testid="{testid}"' not in html


def test_the_guard_finds_pick_up_and_vehicles_in_chinese_at_thumb_reach(client, gate):
    html = kiosk_html(client, gate, "guard")
    bar = html[html.index('class="kiosk-scanbar"') :]
    # The thumb bar (bottom, sticky): vehicle entry and pick-up, in Chinese.
    assert 'data-testid="link-vehicle-enter"' in bar and "车辆入校登记" in bar
    assert 'data-testid="link-pickup-scan"' in bar and "接送" in bar
    assert href_of(html, "link-pickup-scan") == (
        reverse("access:pickup_scan") + f"?school={gate.school.pk}"
    )
    # The pick-up panel leads to the class lists (who is still waiting).
    assert 'data-testid="pickup-panel-classes"' in html
    classes = client.get(href_of(html, "pickup-panel-classes")).content.decode()
    assert reverse("access:pickup_waiting", args=[gate.school_class.pk]) in classes


def test_pick_up_links_need_release_child(client, gate, monkeypatch):
    monkeypatch.setitem(
        roles.ROLE_ACTIONS, Role.GUARD, roles.ROLE_ACTIONS[Role.GUARD] - {Action.RELEASE_CHILD}
    )
    html = kiosk_html(client, gate, "guard")
    for testid in [*KIOSK_RELEASE, "pickup-panel-classes"]:
        assert f'data-testid="{testid}"' not in html
    for testid in KIOSK_ALL:
        assert f'data-testid="{testid}"' in html
    assert "pickup" not in {i["key"] for i in navigation_for(gate.users["guard"], None)}
