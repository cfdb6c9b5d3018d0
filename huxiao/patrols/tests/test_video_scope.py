"""A video patrol across two jurisdictions: each reader sees the patrol's schools and
observations of their own jurisdiction only, in the API and on the pages (ADR 0020).

Station A (`station`) has the kindergarten (also covered by the campus post) and the other
school of the town; station B (`other_station`) has the far school."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse

from huxiao.core.roles import Role
from huxiao.orgs.tests.factories import MembershipFactory, UserFactory
from huxiao.patrols import video_selectors, video_services
from huxiao.patrols.tests.video_fixtures import camera, now

pytestmark = pytest.mark.django_db
PATH = "/api/v1/patrols/video/patrols"


@pytest.fixture
def split(people):
    """One patrol over a camera of each school; only station B's observation is flagged."""
    w = people
    # Police of both stations: how a patrol over two jurisdictions is logged at all.
    w.users["both"] = UserFactory(username="both")
    for station in (w.station, w.other_station):
        MembershipFactory(user=w.users["both"], organization=station, role=Role.POLICE_OFFICER)
    w.users["root"] = UserFactory(username="root", is_superuser=True, is_staff=True)
    w.cam_a = camera(w, name="本园正门")
    w.cam_a2 = camera(w, w.other_school, name="同镇东门")
    w.cam_b = camera(w, w.far_school, name="外镇北门")
    w.patrol = video_services.video_patrol_create(
        actor=w.users["both"],
        started_at=now() - dt.timedelta(minutes=30),
        ended_at=now() - dt.timedelta(minutes=10),
        observations=[
            {"camera_id": w.cam_a.pk, "seen": "本园秩序正常"},
            {"camera_id": w.cam_a2.pk, "seen": "同镇放学有序"},
            {
                "camera_id": w.cam_b.pk,
                "seen": "外镇门口有人徘徊",
                "needs_follow_up": True,
                "follow_up_note": "外镇民警核查",
            },
        ],
    )
    return w


# Who sees which schools of the patrol (by fixture attribute name).
SEES = {
    "police": ["school", "other_school"],
    "officer": ["school", "other_school"],
    "postofficer": ["school"],
    "farpolice": ["far_school"],
    "both": ["school", "other_school", "far_school"],
    "root": ["school", "other_school", "far_school"],
}
SEEN = {"school": "本园秩序正常", "other_school": "同镇放学有序", "far_school": "外镇门口有人徘徊"}


@pytest.mark.parametrize("who", SEES)
def test_api_detail_shows_only_the_readers_jurisdiction(split, api, who):
    r = api("get", f"{PATH}/{split.patrol.pk}", split.users[who])
    assert r.status_code == 200, r.content
    body = r.json()
    expected = {getattr(split, name).pk for name in SEES[who]}
    assert {s["id"] for s in body["schools"]} == expected
    assert {o["school_id"] for o in body["observations"]} == expected
    assert sorted(o["seen"] for o in body["observations"]) == sorted(
        SEEN[name] for name in SEES[who]
    )
    text = json.dumps(body, ensure_ascii=False)
    if "far_school" not in SEES[who]:
        assert "外镇" not in text  # neither the school, the camera nor the note
    else:
        assert "外镇民警核查" in text


@pytest.mark.parametrize("who", SEES)
def test_api_list_shows_only_the_readers_jurisdiction(split, api, who):
    r = api("get", PATH, split.users[who])
    assert r.status_code == 200
    [row] = r.json()["items"]
    assert len(row["observations"]) == len(SEES[who])
    assert len(row["schools"]) == len(SEES[who])


@pytest.mark.parametrize("who", SEES)
def test_follow_up_filter_counts_only_visible_observations(split, api, who):
    """Only station B's observation is flagged: station A is not sent to a patrol whose
    follow-up it cannot see."""
    r = api("get", f"{PATH}?follow_up=true", split.users[who])
    assert r.json()["count"] == (1 if "far_school" in SEES[who] else 0)


def test_school_filter_outside_the_jurisdiction_lists_nothing(split, api):
    r = api("get", f"{PATH}?school_id={split.far_school.pk}", split.users["police"])
    assert r.status_code == 200 and r.json()["count"] == 0
    r = api("get", f"{PATH}?school_id={split.school.pk}", split.users["farpolice"])
    assert r.status_code == 200 and r.json()["count"] == 0
    r = api("get", f"{PATH}?school_id={split.far_school.pk}", split.users["both"])
    assert r.json()["count"] == 1


@pytest.mark.parametrize("who", SEES)
def test_pages_show_only_the_readers_jurisdiction(split, client, who):
    client.force_login(split.users[who])
    detail = client.get(reverse("patrols:video_patrol_detail", args=[split.patrol.pk]))
    listing = client.get(reverse("patrols:video_patrols"))
    assert detail.status_code == 200 and listing.status_code == 200
    html = detail.content.decode() + listing.content.decode()
    for name, seen in SEEN.items():
        school = getattr(split, name)
        assert (seen in html) is (name in SEES[who]), (name, seen)
        assert (school.name in html) is (name in SEES[who]), school.name
    assert ("外镇北门" in html) is ("far_school" in SEES[who])


def test_selector_prefetch_is_scoped(split):
    [patrol] = video_selectors.video_patrol_list(actor=split.users["farpolice"])
    assert [o.camera.name for o in patrol.observations.all()] == ["外镇北门"]
    assert [s.pk for s in patrol.schools.all()] == [split.far_school.pk]
