"""Alarm pages: role × scope for the console, the detail page and the raise page; what each
role is offered (navigation, the button on the school home page, actions)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from huxiao.alarms import services
from huxiao.alarms.choices import AlarmSource
from huxiao.core.roles import OrgKind, Role
from huxiao.orgs.tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

LOGIN_URL = "/accounts/login/"


@pytest.fixture
def people(world):
    """The world plus a health officer of the town and the school's health staff member."""
    health_centre = OrganizationFactory(kind=OrgKind.HEALTH_CENTRE, town=world.town, name="卫生院")
    world.users["health"] = UserFactory(username="health")
    MembershipFactory(
        user=world.users["health"], organization=health_centre, role=Role.HEALTH_OFFICER
    )
    world.users["nurse"] = UserFactory(username="nurse")
    MembershipFactory(user=world.users["nurse"], organization=world.school, role=Role.HEALTH_STAFF)
    return world


@pytest.fixture
def alarm(people):
    alarm, _ = services.alarm_raise(
        actor=people.users["guard"],
        school=people.school,
        kind="intrusion",
        location="大门",
        source=AlarmSource.BUTTON,
    )
    return alarm


def login(client, world, who):
    if who != "anonymous":
        client.force_login(world.users[who])
    return client


# ------------------------------------------------------------------ console

CONSOLE = {
    "police": 200,
    "officer": 200,
    "postofficer": 200,
    "farpolice": 200,  # their own jurisdiction's console, without this school's alarms
    "principal": 200,
    "guard": 200,
    "teacher": 200,
    "nurse": 200,
    "principal2": 200,
    "edu": 200,
    "gov": 200,
    "county": 200,
    "health": 403,
    "nobody": 403,
}


@pytest.mark.parametrize("who", CONSOLE)
def test_console_scope(client, people, alarm, who):
    response = login(client, people, who).get(reverse("alarms:console"))
    assert response.status_code == CONSOLE[who]


def test_console_anonymous_redirects_to_login(client, people):
    response = client.get(reverse("alarms:console"))
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("police", True),
        ("postofficer", True),
        ("principal", True),
        ("county", True),
        ("farpolice", False),
        ("principal2", False),
    ],
)
def test_console_starts_with_the_open_alarms_in_scope(client, people, alarm, who, sees):
    config = login(client, people, who).get(reverse("alarms:console")).context["config"]
    assert ([a["id"] for a in config["open"]] == [alarm.pk]) is sees
    assert (config["last_event_id"] == alarm.events.get().pk) is sees
    assert config["ws_url"].endswith("/ws/")
    assert config["api_url"] == "/api/v1/alarms"


def test_console_offers_responses_only_to_police(client, people, alarm):
    police = login(client, people, "police").get(reverse("alarms:console")).context["config"]
    assert people.school.pk in police["respond_school_ids"]
    client.logout()
    principal = login(client, people, "principal").get(reverse("alarms:console")).context["config"]
    assert principal["respond_school_ids"] == []


def test_console_lists_recently_closed_with_response_times(client, people, alarm):
    police = people.users["police"]
    services.alarm_acknowledge(actor=police, alarm=alarm)
    services.alarm_arrive(actor=police, alarm=alarm)
    services.alarm_resolve(actor=police, alarm=alarm, outcome="人员已带离")
    config = login(client, people, "police").get(reverse("alarms:console")).context["config"]
    assert config["open"] == []
    [closed] = config["closed"]
    assert closed["id"] == alarm.pk and closed["status"] == "resolved"
    assert closed["ack_seconds"] is not None and closed["arrival_seconds"] is not None


def test_console_keeps_the_most_urgent_open_alarms_past_its_limit(client, people, monkeypatch):
    """A county-wide drill can leave hundreds open: past the limit the page keeps real
    alarms before drills, unacknowledged ones before answered, the longest waiting first,
    and says how many are open."""
    from django.utils import timezone

    from huxiao.alarms import selectors

    police = people.users["police"]

    def raised(minutes_ago, *, drill=False, acknowledged=False):
        alarm, _ = services.alarm_raise(
            actor=people.users["guard"],
            school=people.school,
            kind="intrusion",
            location="大门",
            drill=drill,
            source=AlarmSource.BUTTON,
        )
        type(alarm).objects.filter(pk=alarm.pk).update(
            raised_at=timezone.now() - timezone.timedelta(minutes=minutes_ago)
        )
        if acknowledged:
            services.alarm_acknowledge(actor=police, alarm=alarm)
        return alarm.pk

    old_drill = raised(50, drill=True)
    answered_real = raised(40, acknowledged=True)
    new_real = raised(5)
    old_real = raised(30)
    new_drill = raised(1, drill=True)
    monkeypatch.setattr(selectors, "CONSOLE_OPEN_LIMIT", 3)
    config = login(client, people, "police").get(reverse("alarms:console")).context["config"]
    assert [a["id"] for a in config["open"]] == [old_real, new_real, answered_real]
    assert config["open_total"] == 5
    assert {old_drill, new_drill}.isdisjoint(a["id"] for a in config["open"])
    monkeypatch.setattr(selectors, "CONSOLE_OPEN_LIMIT", 10)
    config = client.get(reverse("alarms:console")).context["config"]
    assert [a["id"] for a in config["open"]] == [
        old_real,
        new_real,
        answered_real,
        old_drill,
        new_drill,
    ]
    assert config["open_total"] == 5
    # The HTTP catch-up and the socket's sync send the same list and total.
    monkeypatch.setattr(selectors, "CONSOLE_OPEN_LIMIT", 3)
    caught_up = client.get("/api/v1/alarms/events?since=0").json()
    assert [a["id"] for a in caught_up["open"]] == [old_real, new_real, answered_real]
    assert caught_up["open_total"] == 5


# ------------------------------------------------------------------ detail

DETAIL = {
    "police": 200,
    "officer": 200,
    "postofficer": 200,
    "principal": 200,
    "guard": 200,
    "teacher": 200,
    "edu": 200,
    "gov": 200,
    "county": 200,
    "farpolice": 404,
    "principal2": 404,
    "health": 404,
    "nobody": 404,
}


@pytest.mark.parametrize("who", DETAIL)
def test_detail_scope(client, people, alarm, who):
    response = login(client, people, who).get(reverse("alarms:detail", args=[alarm.pk]))
    assert response.status_code == DETAIL[who]


def test_detail_anonymous_redirects_to_login(client, people, alarm):
    response = client.get(reverse("alarms:detail", args=[alarm.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)


def test_detail_missing_and_absurd_ids_are_404(client, people, alarm):
    login(client, people, "police")
    assert client.get(reverse("alarms:detail", args=[alarm.pk + 1000])).status_code == 404
    assert client.get(reverse("alarms:detail", args=[10**25])).status_code == 404


def test_detail_shows_the_full_timeline_and_response_times(client, people, alarm):
    police = people.users["police"]
    services.alarm_acknowledge(actor=police, alarm=alarm)
    services.alarm_dispatch(actor=police, alarm=alarm, units="巡逻车2号")
    services.alarm_arrive(actor=police, alarm=alarm)
    services.alarm_resolve(actor=police, alarm=alarm, outcome="已处置完毕")
    response = login(client, people, "principal").get(reverse("alarms:detail", args=[alarm.pk]))
    content = response.content.decode()
    types = [event.type for event, _details in response.context["timeline"]]
    assert types == [
        "alarm.raised",
        "alarm.acknowledged",
        "alarm.dispatched",
        "alarm.arrived",
        "alarm.resolved",
    ]
    assert "巡逻车2号" in content and "已处置完毕" in content
    assert content.count('data-event-id="') == 5
    times = dict(response.context["response_times"])
    assert all(seconds is not None for seconds in times.values())
    # The principal sees the record but may not respond or cancel a resolved alarm.
    assert response.context["config"] is None
    assert 'data-action="acknowledge"' not in content


def test_detail_offers_actions_by_role(client, people, alarm):
    url = reverse("alarms:detail", args=[alarm.pk])
    cases = {
        # who: (respond, cancel)
        "police": (True, False),
        "guard": (False, True),  # raised it
        "principal": (False, True),  # the school's leader
        "teacher": (False, False),
        "county": (False, False),
    }
    for who, (respond, cancel) in cases.items():
        client.logout()
        content = login(client, people, who).get(url).content.decode()
        assert ('data-action="acknowledge"' in content) is respond, who
        assert ('data-action="cancel"' in content) is cancel, who


# ------------------------------------------------------------------ raise page

RAISE = {
    "guard": 200,
    "principal": 200,
    "teacher": 200,
    "principal2": 200,
    "nurse": 403,
    "police": 403,
    "county": 403,
    "health": 403,
    "nobody": 403,
}


@pytest.mark.parametrize("who", RAISE)
def test_raise_page_scope(client, people, who):
    response = login(client, people, who).get(reverse("alarms:raise"))
    assert response.status_code == RAISE[who]


def test_raise_page_anonymous_redirects_to_login(client, people):
    response = client.get(reverse("alarms:raise"))
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)


def test_raise_page_is_for_the_users_school(client, people):
    response = login(client, people, "guard").get(reverse("alarms:raise"))
    assert response.context["school"] == people.school
    content = response.content.decode()
    assert 'data-testid="alarm-hold"' in content
    assert f'"school_id": {people.school.pk}' in content
    for kind in ("intrusion", "violence", "medical", "fire", "suspicious", "fight", "other"):
        assert f'data-testid="alarm-kind-{kind}"' in content


@pytest.mark.parametrize("query", ["school=abc", "school=99999999999999999999", "school=-1"])
def test_raise_page_bad_school_is_404(client, people, query):
    response = login(client, people, "guard").get(f"{reverse('alarms:raise')}?{query}")
    assert response.status_code == 404


def test_raise_page_for_another_school_is_404(client, people):
    login(client, people, "guard")
    url = f"{reverse('alarms:raise')}?school={people.other_school.pk}"
    assert client.get(url).status_code == 404


def test_raise_page_lets_a_person_of_two_schools_choose(client, people):
    MembershipFactory(
        user=people.users["guard"], organization=people.other_school, role=Role.DUTY_LEADER
    )
    login(client, people, "guard")
    response = client.get(f"{reverse('alarms:raise')}?school={people.other_school.pk}")
    assert response.status_code == 200
    assert response.context["school"] == people.other_school
    assert len(response.context["schools"]) == 2


# ------------------------------------------------------------------ what each role is offered


@pytest.mark.parametrize(
    ("who", "button"),
    [("guard", True), ("principal", True), ("teacher", True), ("nurse", False), ("police", False)],
)
def test_home_page_alarm_button(client, people, who, button):
    content = login(client, people, who).get(reverse("core:home")).content.decode()
    assert ('data-testid="alarm-button"' in content) is button


@pytest.mark.parametrize(
    ("who", "keys"),
    [
        ("guard", {"alarm_raise", "alarm_console"}),
        ("police", {"alarm_console"}),
        ("county", {"alarm_console"}),
        ("nurse", {"alarm_console"}),
        ("health", set()),
        ("nobody", set()),
    ],
)
def test_navigation_entries(client, people, who, keys):
    response = login(client, people, who).get(reverse("core:home"))
    offered = {item["key"] for item in response.context["nav_items"]}
    assert offered & {"alarm_raise", "alarm_console"} == keys
