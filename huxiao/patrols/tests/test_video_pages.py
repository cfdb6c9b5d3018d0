"""Pages of the camera registry, video patrols and legal vice-principals: role × scope for
every page, forms that fail with 400 and change nothing, navigation, the school box."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from huxiao.core.navigation import navigation_for
from huxiao.patrols import lvp_services, video_services
from huxiao.patrols.models import Camera, LegalVicePrincipal, VideoPatrol
from huxiao.patrols.tests.video_fixtures import device_id, expect, now

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"
CAMERA_READERS = {"police", "officer", "postofficer", "principal", "guard", "edu", "gov", "county"}
PATROLLERS = {"police", "officer", "postofficer"}
VIEWERS = CAMERA_READERS | {"teacher", "health"}


def _status(expected):
    # Pages send the anonymous to the login page.
    return {who: (302 if who == "anonymous" else s) for who, s in expected.items()}


def call(client, world, who, method, url, data=None):
    if who != "anonymous":
        client.force_login(world.users[who])
    if method == "get":
        return client.get(url)
    return client.post(url, data or {})


@pytest.fixture
def pages(cams):
    w = cams
    w.patrol = video_services.video_patrol_create(
        actor=w.users["officer"],
        started_at=now() - dt.timedelta(minutes=30),
        ended_at=now() - dt.timedelta(minutes=10),
        observations=[{"camera_id": w.cam.pk, "seen": "正常"}],
    )
    w.lvp = lvp_services.lvp_assign(
        actor=w.users["police"],
        school=w.school,
        officer=w.users["officer"],
        term_start=dt.date(2025, 9, 1),
        appointment_no="示公字〔2025〕8号",
    )
    return w


@pytest.mark.parametrize(
    ("who", "status"),
    _status(expect({200: CAMERA_READERS | {"farpolice", "principal2"}})).items(),
)
def test_camera_list_page(pages, client, who, status):
    r = call(client, pages, who, "get", reverse("patrols:video_cameras"))
    assert r.status_code == status
    if status == 200:
        assert (pages.cam.device_id in r.content.decode()) == (who in CAMERA_READERS)
        assert pages.far_cam.device_id not in r.content.decode() or who in {"farpolice", "county"}


@pytest.mark.parametrize(
    ("who", "status"),
    _status(expect({200: {"police", "principal"}, 404: {"farpolice", "principal2"}})).items(),
)
def test_camera_edit_page(pages, client, who, status):
    url = reverse("patrols:video_camera_edit", args=[pages.cam.pk])
    assert call(client, pages, who, "get", url).status_code == status


def test_camera_edit_post(pages, client):
    url = reverse("patrols:video_camera_edit", args=[pages.cam.pk])
    data = {
        "device_id": pages.cam.device_id,
        "name": "正门新",
        "kind": "gate",
        "location": "",
        "is_online": "on",
        "is_active": "on",
    }
    r = call(client, pages, "principal", "post", url, data)
    assert r.status_code == 302
    pages.cam.refresh_from_db()
    assert pages.cam.name == "正门新" and not pages.cam.is_networked
    r = call(client, pages, "farpolice", "post", url, {**data, "name": "坏"})
    assert r.status_code == 404
    pages.cam.refresh_from_db()
    assert pages.cam.name == "正门新"


@pytest.mark.parametrize(
    ("who", "status"),
    _status(expect({200: {"police", "principal", "farpolice", "principal2"}})).items(),
)
def test_camera_new_page(pages, client, who, status):
    assert (
        call(client, pages, who, "get", reverse("patrols:video_camera_new")).status_code == status
    )


def test_camera_new_post(pages, client):
    url = reverse("patrols:video_camera_new")
    good = {
        "school": pages.school.pk,
        "device_id": device_id(),
        "name": "操场",
        "kind": "playground",
    }
    r = call(client, pages, "principal", "post", url, {**good, "device_id": "1234"})
    assert r.status_code == 400
    assert "20" in r.content.decode()
    assert not Camera.objects.filter(name="操场").exists()
    # Another school is not a choice.
    r = call(client, pages, "principal", "post", url, {**good, "school": pages.other_school.pk})
    assert r.status_code == 400
    r = call(client, pages, "principal", "post", url, good)
    assert r.status_code == 302
    assert Camera.objects.filter(name="操场", school=pages.school).exists()


@pytest.mark.parametrize(
    ("who", "status"), _status(expect({200: PATROLLERS | {"farpolice"}})).items()
)
def test_video_patrol_list_page(pages, client, who, status):
    r = call(client, pages, who, "get", reverse("patrols:video_patrols"))
    assert r.status_code == status


@pytest.mark.parametrize(
    ("who", "status"), _status(expect({200: PATROLLERS, 404: {"farpolice"}})).items()
)
def test_video_patrol_detail_page(pages, client, who, status):
    url = reverse("patrols:video_patrol_detail", args=[pages.patrol.pk])
    assert call(client, pages, who, "get", url).status_code == status


@pytest.mark.parametrize(
    ("who", "status"), _status(expect({200: PATROLLERS | {"farpolice"}})).items()
)
def test_video_patrol_new_page(pages, client, who, status):
    r = call(client, pages, who, "get", reverse("patrols:video_patrol_new"))
    assert r.status_code == status
    if status == 200:
        assert (f"camera-row-{pages.cam.pk}" in r.content.decode()) == (who in PATROLLERS)


def test_video_patrol_new_post(pages, client):
    url = reverse("patrols:video_patrol_new")
    end = now().astimezone()
    data = {
        "started_at": (end - dt.timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M"),
        "ended_at": end.strftime("%Y-%m-%dT%H:%M"),
        f"cam_{pages.cam.pk}_looked": "on",
        f"cam_{pages.cam.pk}_seen": "入园有序",
        f"cam_{pages.cam_offline.pk}_follow": "on",
    }
    before = VideoPatrol.objects.count()
    r = call(client, pages, "officer", "post", url, data)
    assert r.status_code == 400  # follow-up without a note
    assert VideoPatrol.objects.count() == before
    data[f"cam_{pages.cam_offline.pk}_note"] = "联系园方检修"
    r = call(client, pages, "officer", "post", url, data)
    assert r.status_code == 302, r.content.decode()[:2000]
    patrol = VideoPatrol.objects.latest("id")
    assert patrol.observations.filter(needs_follow_up=True).count() == 1
    # Nothing at all: refused.
    r = call(
        client,
        pages,
        "officer",
        "post",
        url,
        {"started_at": data["started_at"], "ended_at": data["ended_at"]},
    )
    assert r.status_code == 400


@pytest.mark.parametrize(
    ("who", "status"),
    _status(expect({200: VIEWERS | {"farpolice", "principal2"}})).items(),
)
def test_lvp_list_page(pages, client, who, status):
    r = call(client, pages, who, "get", reverse("patrols:lvp_list"))
    assert r.status_code == status
    if status == 200:
        assert ("示公字〔2025〕8号" in r.content.decode()) == (who in VIEWERS)


@pytest.mark.parametrize(("who", "status"), _status(expect({200: {"police", "farpolice"}})).items())
def test_lvp_new_page(pages, client, who, status):
    assert call(client, pages, who, "get", reverse("patrols:lvp_new")).status_code == status


def test_lvp_new_post(pages, client):
    url = reverse("patrols:lvp_new")
    data = {
        "school": pages.school.pk,
        "officer": pages.users["police"].pk,
        "term_start": "2025-09-01",
        "appointment_no": "X2",
    }
    r = call(client, pages, "police", "post", url, data)
    assert r.status_code == 400  # the kindergarten already has one
    assert "法制副校长" in r.content.decode() or "legal vice-principal" in r.content.decode()
    r = call(client, pages, "police", "post", url, {**data, "school": pages.other_school.pk})
    assert r.status_code == 302
    assert LegalVicePrincipal.objects.filter(school=pages.other_school, ended_at=None).exists()


@pytest.mark.parametrize(
    ("who", "status"),
    _status(
        expect({302: {"police"}, 403: VIEWERS - {"police"}, 404: {"farpolice", "principal2"}})
    ).items(),
)
def test_lvp_end_page(pages, client, who, status):
    r = call(client, pages, who, "post", reverse("patrols:lvp_end", args=[pages.lvp.pk]))
    assert r.status_code == status
    pages.lvp.refresh_from_db()
    assert pages.lvp.is_active is (who != "police")


def test_navigation(pages):
    def keys(who):
        return {item["key"] for item in navigation_for(pages.users[who], None)}

    assert {"patrols_video", "patrols_lvp"} <= keys("officer")
    assert {"patrols_video", "patrols_lvp"} <= keys("principal")
    assert "patrols_video" not in keys("guard")
    assert "patrols_video" not in keys("health") and "patrols_lvp" in keys("health")
    assert not {"patrols_video", "patrols_lvp"} & keys("nobody")


def test_school_lvp_box(pages):
    template = Template("{% load lvp_tags %}{% school_lvp school %}")
    for who, shown in (("principal", True), ("principal2", False)):
        request = RequestFactory().get("/")
        request.user = pages.users[who]
        html = template.render(Context({"request": request, "school": pages.school}))
        assert ("示公字〔2025〕8号" in html) is shown
